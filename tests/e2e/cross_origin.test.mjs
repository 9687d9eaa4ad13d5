// Embedding on another origin (issue 6): a host dashboard on one origin mounts Parley from a
// parley-server on another. With `--api-cors` (Chatwoot's ENABLE_API_CORS) the chat loads,
// stays live and sends; without it the agent reads why, and what the server must allow.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGENT_TOKEN, Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

/// A host page on `host`'s origin (one of its plain pages, replaced by the host's markup)
/// that loads Parley's module from `api` and mounts a chat against it.
async function hostPageOn(browser, host, api) {
  const page = await newPage(browser);
  await page.goto(`${host.baseUrl}/api/v1/host-page-of-the-test`);
  await page.setContent(`<!doctype html><html><head></head><body>
        <h1 id="host-title">Host dashboard</h1>
        <div id="chat" style="height: 600px"></div>
        <script type="module">
          const api = ${JSON.stringify(api.baseUrl)};
          const { default: init, mount } = await import(api + '/parley/parley.js');
          await init({ module_or_path: api + '/parley/parley_bg.wasm' });
          window.chat = mount(document.getElementById('chat'), {
            baseUrl: api, accountId: 1, conversationId: 1, token: ${JSON.stringify(AGENT_TOKEN)},
          });
          window.mounted = true;
        </script></body></html>`);
  await page.waitForFunction(() => window.mounted === true);
  return page;
}

describe('embedded on another origin', { timeout: 120_000 }, () => {
  let withCors;
  let withoutCors;
  let browser;
  const pages = [];

  before(async () => {
    [withCors, withoutCors] = await Promise.all([
      Server.start({ demo: true, extraArgs: ['--api-cors'] }),
      Server.start({ demo: true }),
    ]);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await Promise.all([withCors?.dispose(), withoutCors?.dispose()]);
  });

  test('against a server that allows other origins, the chat loads, stays live and sends', async () => {
    const page = await hostPageOn(browser, withoutCors, withCors);
    pages.push(page);
    assert.notEqual(new URL(page.url()).origin, new URL(withCors.baseUrl).origin, 'two origins');
    await page.locator('#chat [data-testid=message]').first().waitFor();
    await page.locator('#chat [data-testid=connection-state][data-state=connected]').waitFor();
    const text = uniqueText('sent from another origin');
    const input = page.locator('#chat [data-testid=composer-input]');
    await input.fill(text);
    await input.press('Enter');
    await page.locator('#chat [data-testid=message][data-status=sent]', { hasText: text }).waitFor();
    const res = await withCors.api('/api/v1/accounts/1/conversations/1/messages');
    assert.equal(res.json.payload.filter((m) => m.content === text).length, 1, 'on the server once');
    // A customer's reply arrives live over the cable (no origin check, no CORS needed).
    const reply = uniqueText('customer reply across origins');
    await withCors.customerSend(reply);
    await page.locator('#chat [data-testid=message]', { hasText: reply }).waitFor();
  });

  test('against a server that does not, the agent reads why and what the server must allow', async () => {
    const page = await hostPageOn(browser, withCors, withoutCors);
    pages.push(page);
    const error = page.locator('#chat [data-testid=sign-in-error]');
    await error.waitFor();
    const words = await error.textContent();
    assert.match(words, new RegExp(`Can't reach the server at ${withoutCors.baseUrl} from this page \\(${new URL(withCors.baseUrl).origin}\\)`));
    assert.match(words, /ENABLE_API_CORS=true/);
    assert.match(words, /--api-cors/);
    assert.equal(await page.locator('#host-title').textContent(), 'Host dashboard', 'the host page is untouched');
  });

  test('no page errors but the refused requests', () => {
    const refused = (e) => /CORS|Access-Control|Failed to load resource|ERR_FAILED|favicon/.test(e);
    for (const page of pages) assert.deepEqual(page.errors.filter((e) => !refused(e)), []);
  });
});
