// The standalone app's routes (src/ui/routes.rs, in place of leptos_router for the bundle
// budget): the URL decides the screen, a click on a conversation in the list opens it in the
// page (no reload: the wasm and its state stay), Back and Forward follow the history, and an
// address that is no route of the app says so.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage } from './harness.mjs';

describe('routes of the standalone app', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let page;
  let ids;
  let base;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    page = await newPage(browser);
    page.setDefaultTimeout(20_000);
    const m = new URL(server.info.agentUrl).pathname.match(/accounts\/(\d+)\/conversations\/(\d+)/);
    ids = { account: m[1], conversation: m[2] };
    base = new URL(server.info.agentUrl).origin;
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  /** A mark on the page's window: gone after any reload, so its presence proves none came. */
  const markWindow = () => page.evaluate(() => (window.__parleyRoutesMark = true));
  const stillMarked = () => page.evaluate(() => window.__parleyRoutesMark === true);

  test('a click on a conversation in the list opens it in the page; Back and Forward follow', async () => {
    await page.goto(`${base}/app/accounts/${ids.account}/conversations`);
    const link = page.locator(`a[href$="/conversations/${ids.conversation}"]`);
    await link.waitFor();
    assert.equal(await page.locator('[data-testid=chat-screen]').count(), 0, 'the list, not a conversation');
    await markWindow();
    await link.click();
    await page.locator('[data-testid=chat-screen]').waitFor();
    await page.locator('[data-testid=message]').first().waitFor();
    assert.equal(new URL(page.url()).pathname, `/app/accounts/${ids.account}/conversations/${ids.conversation}`);
    assert.ok(await stillMarked(), 'opened in the page, not by a reload');

    await page.goBack();
    await link.waitFor();
    await page.locator('[data-testid=chat-screen]').waitFor({ state: 'detached' });
    assert.equal(new URL(page.url()).pathname, `/app/accounts/${ids.account}/conversations`);
    assert.ok(await stillMarked(), 'Back stayed in the page');

    await page.goForward();
    await page.locator('[data-testid=chat-screen]').waitFor();
    assert.ok(await stillMarked(), 'Forward stayed in the page');
  });

  test('signed in, the sign-in routes go on to the account’s conversations', async () => {
    for (const path of ['/app', '/app/', '/app/login']) {
      await page.goto(`${base}${path}`);
      await page.waitForURL((url) => url.pathname === `/app/accounts/${ids.account}/conversations`);
      await page.locator(`a[href$="/conversations/${ids.conversation}"]`).waitFor();
    }
  });

  test('an address that is no route, or an id that is no number, shows "Nothing here"', async () => {
    for (const path of ['/app/nowhere', `/app/accounts/x/conversations`, `/app/accounts/${ids.account}/conversations/one`]) {
      await page.goto(`${base}${path}`);
      const empty = page.locator('.parley-empty-state');
      await empty.waitFor();
      assert.match(await empty.textContent(), /Nothing here/, path);
      assert.equal(await page.locator('[data-testid=chat-screen]').count(), 0, path);
    }
  });
});
