// Issue 2 §4 sign-in: outside demo mode the page carries no token, so the app asks the agent to
// sign in (email + password through POST /auth/sign_in, or a pasted access token), keeps the
// session across reloads and offers sign-out; a wrong password gets its own message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGENT_TOKEN, Server, launchBrowser, newPage } from './harness.mjs';

/** Submits the form an input belongs to, the way pressing its submit button would. */
async function submitFormOf(input) {
  await input.evaluate((el) => el.form.requestSubmit());
}

describe('sign-in outside demo mode', { timeout: 180_000 }, () => {
  let server;
  let browser;
  let page;
  let agentPath;
  /** What the demo start printed: outside demo mode the server prints no credentials. */
  let demoInfo;

  before(async () => {
    // Seed the demo data once, then serve the same data dir without --demo: the injected
    // config then has no token and the app must ask for one.
    server = await Server.start({ demo: true });
    demoInfo = server.info;
    agentPath = new URL(server.info.agentUrl).pathname;
    await server.restart({ demo: false, agentToken: null, samePort: false });
    browser = await launchBrowser();
    page = await newPage(browser);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('without --demo the server prints no demo urls and no credentials, and keeps the stored token', async () => {
    assert.equal(server.info.agentUrl, undefined);
    assert.equal(server.info.customerUrl, undefined);
    assert.equal(server.info.agentToken, undefined, 'no token printed without --demo');
    assert.equal(server.info.agentPassword, undefined, 'no password printed without --demo');
    const res = await server.api('/api/v1/profile', { token: AGENT_TOKEN });
    assert.equal(res.status, 200, 'the token set by --agent-token is still valid');
  });

  test('the served config carries no token outside demo mode', async () => {
    const res = await fetch(server.baseUrl + agentPath);
    assert.equal(res.status, 200);
    const html = await res.text();
    const m = html.match(/<script id="parley-config" type="application\/json">(.*?)<\/script>/s);
    assert.ok(m, 'config block injected');
    const config = JSON.parse(m[1]);
    assert.equal(config.token, undefined);
    assert.equal(config.accountId, 1);
  });

  test('a wrong password shows sign-in-error', async () => {
    await page.goto(server.baseUrl + agentPath);
    await page.locator('[data-testid=sign-in-form]').first().waitFor();
    await page.locator('input[name=email]').fill(server.info.agentEmail);
    const password = page.locator('input[name=password]');
    await password.fill('definitely-not-the-password');
    await submitFormOf(password);
    const error = page.locator('[data-testid=sign-in-error]');
    await error.waitFor();
    assert.match(await error.textContent(), /Wrong email or password/);
    assert.equal(await page.locator('[data-testid=chat-screen]').count(), 0);
  });

  test('a wrong pasted token shows sign-in-error', async () => {
    await page.goto(server.baseUrl + agentPath);
    const token = page.locator('input[name=token]');
    await token.fill('not-a-token');
    await submitFormOf(token);
    const error = page.locator('[data-testid=sign-in-error]');
    await error.waitFor();
    assert.match(await error.textContent(), /access token was not accepted/);
    assert.equal(await page.locator('[data-testid=chat-screen]').count(), 0);
  });

  test('the right password opens the conversation, and the session survives a reload', async () => {
    await page.goto(server.baseUrl + agentPath);
    await page.locator('input[name=email]').fill(server.info.agentEmail);
    const password = page.locator('input[name=password]');
    await password.fill(demoInfo.agentPassword);
    await submitFormOf(password);
    await page.locator('[data-testid=chat-screen]').waitFor();
    await page.locator('[data-testid=message]').first().waitFor();
    await page.reload();
    await page.locator('[data-testid=chat-screen]').waitFor();
    assert.equal(await page.locator('[data-testid=sign-in-form]').count(), 0, 'still signed in after a reload');
  });

  test('sign-out returns to the sign-in form, and a pasted token signs in again', async () => {
    await page.locator('[data-testid=sign-out]').click();
    await page.locator('[data-testid=sign-in-form]').first().waitFor();
    await page.reload();
    await page.locator('[data-testid=sign-in-form]').first().waitFor();
    const token = page.locator('input[name=token]');
    await token.fill(AGENT_TOKEN);
    await submitFormOf(token);
    // Signing in from the login route may land on the conversation list; the form must go.
    await page.locator('[data-testid=sign-in-form]').waitFor({ state: 'detached' });
    await page.goto(server.baseUrl + agentPath);
    await page.locator('[data-testid=chat-screen]').waitFor();
    await page.locator('[data-testid=message]').first().waitFor();
  });

  test('an expired session says so, and asks to sign in again', async () => {
    // Signed in (previous test); the server now hands the agent a new token, so the
    // stored one is dead.
    await server.restart({ demo: false, agentToken: 'a-brand-new-agent-token-0123', samePort: true });
    await page.goto(server.baseUrl + agentPath);
    await page.locator('[data-testid=sign-in-form]').first().waitFor();
    assert.match(await page.locator('[data-testid=sign-in-error]').textContent(), /session has expired/);
  });

  test('an unreachable server gets its own message, and nothing typed is lost', async () => {
    await page.goto(server.baseUrl + agentPath);
    await page.locator('input[name=email]').fill(server.info.agentEmail);
    const password = page.locator('input[name=password]');
    await password.fill('typed before the server went away');
    await server.stop();
    try {
      await submitFormOf(password);
      const error = page.locator('[data-testid=sign-in-error]');
      await error.waitFor();
      assert.match(await error.textContent(), /Can't reach the server/);
      assert.equal(await page.locator('input[name=email]').inputValue(), server.info.agentEmail);
    } finally {
      await server.start();
    }
  });
});
