// Mount and unmount under load (issue 11): a host page mounts a chat, starts something that
// talks to the server (the history's first load, a conversation switch, a send, an upload, a
// resync after a reconnect), and unmounts it, or switches away, while that request is held in
// the air. Repeated ITERATIONS times: no page error and no panic, no request from the page
// once unmount() has returned, and afterwards a new mount still sends a message exactly once.
//
// ITERATIONS is 50 (the count), each of the five kinds ten times; on the project's
// 2-core machine the file took 40 s alone and 61 s beside another e2e run.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

const ITERATIONS = 50;
const CONNECTED = '[data-testid=connection-state][data-state=connected]';
/// How long a held request waits before it goes on to the server.
const HOLD_MS = 250;
/// How long the page is watched for requests after an unmount: past the held requests'
/// answers, which a chat still alive would act on (apply, retry, mark read, the next send).
const QUIET_MS = HOLD_MS + 250;

function hostHtml(token) {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body>
    <div id="chat" style="height: 500px"></div>
    <script type="module">
      const { default: init, mount } = await import('/parley/parley.js');
      await init({ module_or_path: '/parley/parley_bg.wasm' });
      window.mountChat = (conversationId) => {
        window.chat = mount(document.getElementById('chat'), { baseUrl: '', accountId: 1, conversationId, token: ${JSON.stringify(token)} });
      };
      window.unmountChat = () => { window.chat.unmount(); window.chat = null; };
      window.ready = true;
    </script></body></html>`;
}

describe('mounting, switching and unmounting while requests are in flight', { timeout: 240_000 }, () => {
  let server;
  let browser;
  let page;
  /// Requests and sockets of the page while `watching` (set once unmount() has returned).
  let watching = false;
  const late = [];
  /// Whether the test holds the chat's API requests in the air for HOLD_MS.
  let holding = false;
  /// The API requests the page made, in order (method and path with query).
  const seen = [];
  let phase = 'start';
  const traps = [];

  /// Waits for a request that `predicate` matches among those made since `seen[from]`.
  async function waitRequest(from, predicate, what) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (seen.slice(from).some(predicate)) return;
      if (Date.now() > deadline) throw new Error(`the chat made no ${what} request; it made: ${seen.slice(from).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async function mountConnected(conversationId) {
    await page.evaluate((id) => window.mountChat(id), conversationId);
    await page.locator(`#chat ${CONNECTED}`).waitFor();
    await page.locator('#chat [data-testid=message]').first().waitFor();
  }

  /// Unmounts, then watches the page for QUIET_MS: whatever it asks of the server then is late.
  async function unmountAndWatch(iteration, kind) {
    await page.evaluate(() => window.unmountChat());
    watching = `${iteration} (${kind})`;
    assert.equal(await page.locator('#chat').evaluate((el) => el.shadowRoot?.querySelectorAll('[data-testid=chat-screen]').length ?? 0), 0, 'the view is gone');
    await new Promise((r) => setTimeout(r, QUIET_MS));
    watching = false;
  }

  const isHistory = (conversationId) => (r) => r.startsWith(`GET /api/v1/accounts/1/conversations/${conversationId}/messages`) && !r.includes('after=');
  const isPost = (r) => /^POST \/api\/v1\/accounts\/1\/conversations\/\d+\/messages/.test(r);
  const isResync = (r) => /^GET \/api\/v1\/accounts\/1\/conversations\/\d+\/messages\?after=/.test(r);

  const kinds = {
    // The first history page is in the air.
    async 'history loading'() {
      holding = true;
      const from = seen.length;
      await page.evaluate(() => window.mountChat(1));
      await waitRequest(from, isHistory(1), 'history');
    },
    // Switched twice while the history of each is in the air.
    async 'switching while loading'() {
      await mountConnected(1);
      holding = true;
      let from = seen.length;
      await page.evaluate(() => window.chat.setConversation(2));
      await waitRequest(from, isHistory(2), 'history of conversation 2');
      from = seen.length;
      await page.evaluate(() => window.chat.setConversation(3));
      await waitRequest(from, isHistory(3), 'history of conversation 3');
    },
    async 'send in flight'() {
      await mountConnected(1);
      holding = true;
      const input = page.locator('#chat [data-testid=composer-input]');
      await input.fill(uniqueText('sent while unmounting'));
      const from = seen.length;
      await input.press('Enter');
      await waitRequest(from, isPost, 'message POST');
    },
    async 'upload in flight'() {
      await mountConnected(1);
      holding = true;
      await page.locator('#chat [data-testid=attach-input]').setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('uploaded while unmounting\n') });
      const input = page.locator('#chat [data-testid=composer-input]');
      await input.fill(uniqueText('upload while unmounting'));
      const from = seen.length;
      await input.press('Enter');
      await waitRequest(from, isPost, 'upload POST');
    },
    // The browser goes offline and back: the socket reconnects, and the chat fetches what it
    // missed (after=the newest id it has).
    async 'resync in flight'() {
      await mountConnected(1);
      holding = true;
      await page.evaluate(() => window.dispatchEvent(new Event('offline')));
      await page.locator(`#chat ${CONNECTED}`).waitFor({ state: 'detached' });
      const from = seen.length;
      await page.evaluate(() => window.dispatchEvent(new Event('online')));
      await waitRequest(from, isResync, 'resync');
    },
  };

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    page = await newPage(browser);
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin !== server.baseUrl) return;
      seen.push(`${r.method()} ${url.pathname}${url.search}`);
      if (watching) late.push(`after unmount ${watching}: ${r.method()} ${url.pathname}${url.search}`);
    });
    // Which iteration and step each error came in, for the report.
    page.on('pageerror', (err) => traps.push(`${phase}: ${err.message}\n${err.stack}`));
    page.on('websocket', (ws) => {
      if (watching) late.push(`after unmount ${watching}: websocket ${ws.url()}`);
    });
    await page.route('**/api/v1/accounts/**', async (route) => {
      if (holding) await new Promise((r) => setTimeout(r, HOLD_MS));
      // The page may have cancelled the request meanwhile (which is what an unmount should
      // do); continuing a cancelled request throws, and there is nothing left to continue.
      await route.continue().catch((e) => {
        if (!/cancel|abort|closed|disposed|handled/i.test(e.message)) throw e;
      });
    });
    // Whole stacks in the report of a trap (Chromium keeps 10 frames by default).
    await page.addInitScript(() => { Error.stackTraceLimit = 80; });
    await page.goto(`${server.baseUrl}/api/v1/host-page-of-the-test`);
    await page.setContent(hostHtml(server.info.agentToken));
    await page.waitForFunction(() => window.ready === true);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test(`${ITERATIONS} unmounts with a request in flight: no page error, no request after the unmount`, async () => {
    const names = Object.keys(kinds);
    const started = Date.now();
    for (let i = 0; i < ITERATIONS; i++) {
      const kind = names[i % names.length];
      holding = false;
      phase = `${i} ${kind}`;
      await kinds[kind]();
      phase = `${i} ${kind}, unmounting`;
      await unmountAndWatch(i, kind);
      phase = `${i} ${kind}, after`;
      holding = false;
      assert.deepEqual(late, [], `no request once unmount() returned (iteration ${i}, ${kind})`);
    }
    console.log(`# ${ITERATIONS} iterations in ${Date.now() - started} ms`);
  });

  test('the page still works afterwards: a new mount sends a message exactly once', async () => {
    holding = false;
    await mountConnected(1);
    const text = uniqueText('after the stress');
    const input = page.locator('#chat [data-testid=composer-input]');
    await input.fill(text);
    await input.press('Enter');
    const row = (status) => page.locator(`#chat [data-testid=message][data-status=${status}]`, { hasText: text });
    await row('sent').or(row('delivered')).or(row('read')).waitFor();
    const res = await server.api('/api/v1/accounts/1/conversations/1/messages');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.payload.filter((m) => m.content === text).length, 1, 'on the server once');
  });

  test('no page errors and no panics', () => {
    const refused = (e) => /Failed to load resource|favicon/.test(e);
    assert.deepEqual(page.errors.filter((e) => !refused(e)), [], traps.join('\n'));
  });
});
