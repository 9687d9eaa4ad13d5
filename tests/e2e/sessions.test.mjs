// One host page, two chats, two servers (issue 11): a dashboard mounts a chat against each of
// two parley-servers (both with --api-cors), each with its own agent token and the same
// conversation id. Each chat is its own session: it sends through its own server exactly
// once, shows only its own messages and typing, keeps working when the other unmounts, and a
// reload with messages queued in both sends each to the server it was typed for. The tokens
// handed to mount() are never written to the host's storage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

const TOKEN_A = 'e2e-session-a-token-0123456789';
const TOKEN_B = 'e2e-session-b-token-9876543210';
const CONNECTED = '[data-testid=connection-state][data-state=connected]';

/// The host's page: one chat per server, mounted by script, on server A's origin (so B is
/// another origin).
function hostHtml(a, b, conversationId) {
  const chat = (server, token) => ({ baseUrl: server.baseUrl, accountId: 1, conversationId, token });
  return `<!doctype html><html><head><meta charset="utf-8"></head><body>
    <div id="chat-a" style="height: 420px"></div>
    <div id="chat-b" style="height: 420px"></div>
    <script type="module">
      const { default: init, mount } = await import(${JSON.stringify(a.baseUrl)} + '/parley/parley.js');
      await init({ module_or_path: ${JSON.stringify(a.baseUrl)} + '/parley/parley_bg.wasm' });
      window.chats = {
        a: mount(document.getElementById('chat-a'), ${JSON.stringify(chat(a, TOKEN_A))}),
        b: mount(document.getElementById('chat-b'), ${JSON.stringify(chat(b, TOKEN_B))}),
      };
      window.mounted = true;
    </script></body></html>`;
}

/// Loads the host page in `page`: a plain page of server A replaced by the host's markup (a
/// page the test fulfilled itself would not count as a local address, and Chromium would
/// refuse its WebSockets to 127.0.0.1). Loading it again is the host's reload: the old
/// document and its wasm go, a new one starts from what the browser kept.
async function loadHost(page, a, b, conversationId) {
  await page.goto(`${a.baseUrl}/api/v1/host-page-of-the-test`);
  await page.setContent(hostHtml(a, b, conversationId));
  await page.waitForFunction(() => window.mounted === true);
  await waitConnected(page);
}

async function waitConnected(page) {
  for (const id of ['chat-a', 'chat-b']) {
    await page.locator(`#${id} ${CONNECTED}`).waitFor();
    await page.locator(`#${id} [data-testid=message]`).first().waitFor();
  }
}

async function send(page, chatId, text) {
  const input = page.locator(`#${chatId} [data-testid=composer-input]`);
  await input.fill(text);
  await input.press('Enter');
}

function confirmed(page, chatId, text) {
  const row = (status) => page.locator(`#${chatId} [data-testid=message][data-status=${status}]`, { hasText: text });
  return row('sent').or(row('delivered')).or(row('read'));
}

async function storedOn(server, token, conversationId, text) {
  const res = await server.api(`/api/v1/accounts/1/conversations/${conversationId}/messages`, { token });
  assert.equal(res.status, 200, res.text);
  return res.json.payload.filter((m) => m.content === text).length;
}

/// Waits until `count()` is `want` (polled; fails with `what` past the deadline).
async function eventually(count, want, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await count();
    if (last === want) return;
    if (Date.now() > deadline) throw new Error(`${what}: ${last}, expected ${want}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/// Every string the host's origins keep: localStorage, sessionStorage and every IndexedDB
/// record (JSON), for looking for a token in it.
async function hostStorage(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const s of [localStorage, sessionStorage]) {
      for (let i = 0; i < s.length; i++) out.push(`${s.key(i)}=${s.getItem(s.key(i))}`);
    }
    const request = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    for (const { name } of await indexedDB.databases()) {
      out.push(`db ${name}`);
      const db = await request(indexedDB.open(name));
      for (const store of db.objectStoreNames) {
        const values = await request(db.transaction(store).objectStore(store).getAll());
        for (const v of values) out.push(v instanceof Blob ? `blob ${v.size}` : JSON.stringify(v));
      }
      db.close();
    }
    return out;
  });
}

describe('two chats on one host page against two servers', { timeout: 180_000 }, () => {
  let a;
  let b;
  let browser;
  let page;
  let conversationId;

  before(async () => {
    [a, b] = await Promise.all([
      Server.start({ demo: true, agentToken: TOKEN_A, extraArgs: ['--api-cors'] }),
      Server.start({ demo: true, agentToken: TOKEN_B, extraArgs: ['--api-cors'] }),
    ]);
    conversationId = Number(a.customerIds().conversation);
    assert.equal(Number(b.customerIds().conversation), conversationId, 'the same conversation id on both servers');
    browser = await launchBrowser();
    page = await newPage(browser, { viewport: { width: 1000, height: 900 } });
    await loadHost(page, a, b, conversationId);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await Promise.all([a?.dispose(), b?.dispose()]);
  });

  test('each chat sends through its own server exactly once and shows only its own messages', async () => {
    const textA = uniqueText('typed in chat A');
    const textB = uniqueText('typed in chat B');
    await send(page, 'chat-a', textA);
    await send(page, 'chat-b', textB);
    await confirmed(page, 'chat-a', textA).waitFor();
    await confirmed(page, 'chat-b', textB).waitFor();
    assert.equal(await storedOn(a, TOKEN_A, conversationId, textA), 1, "A's message is on server A once");
    assert.equal(await storedOn(b, TOKEN_B, conversationId, textB), 1, "B's message is on server B once");
    assert.equal(await storedOn(a, TOKEN_A, conversationId, textB), 0, "B's message never reached server A");
    assert.equal(await storedOn(b, TOKEN_B, conversationId, textA), 0, "A's message never reached server B");
    assert.equal(await page.locator('#chat-a [data-testid=message]', { hasText: textB }).count(), 0, "chat A does not show B's message");
    assert.equal(await page.locator('#chat-b [data-testid=message]', { hasText: textA }).count(), 0, "chat B does not show A's message");
    // A customer's message on each server reaches only the chat of that server.
    const fromA = uniqueText('customer on A');
    const fromB = uniqueText('customer on B');
    await a.customerSend(fromA);
    await b.customerSend(fromB);
    await page.locator('#chat-a [data-testid=message]', { hasText: fromA }).waitFor();
    await page.locator('#chat-b [data-testid=message]', { hasText: fromB }).waitFor();
    assert.equal(await page.locator('#chat-a [data-testid=message]', { hasText: fromB }).count(), 0);
    assert.equal(await page.locator('#chat-b [data-testid=message]', { hasText: fromA }).count(), 0);
  });

  test("each chat shows only its own server's typing", async () => {
    const { inbox, contact } = a.customerIds();
    const res = await a.api(`/public/api/v1/inboxes/${inbox}/contacts/${contact}/conversations/${conversationId}/toggle_typing`, {
      method: 'POST', body: { typing_status: 'on' }, token: null,
    });
    assert.equal(res.status, 200, res.text);
    await page.locator('#chat-a [data-testid=typing-indicator]', { hasText: /typing/ }).waitFor();
    assert.equal((await page.locator('#chat-b [data-testid=typing-indicator]').textContent()).trim(), '', "chat B shows no typing from server A");
    await a.api(`/public/api/v1/inboxes/${inbox}/contacts/${contact}/conversations/${conversationId}/toggle_typing`, {
      method: 'POST', body: { typing_status: 'off' }, token: null,
    });
  });

  test('the tokens given to mount() are never written to the host page’s storage', async () => {
    const kept = await hostStorage(page);
    assert.ok(kept.some((k) => k.startsWith('db parley-outbox')), `the outbox is in IndexedDB (kept: ${kept.join(' | ').slice(0, 500)})`);
    for (const token of [TOKEN_A, TOKEN_B]) {
      assert.deepEqual(kept.filter((k) => k.includes(token)), [], 'no token in localStorage, sessionStorage or IndexedDB');
    }
  });

  test('a reload with messages queued in both chats sends each to its own server', async () => {
    // Both servers' message POSTs fail before they leave: the messages stay in the outbox.
    const posts = [];
    await page.route('**/api/v1/accounts/1/conversations/*/messages', (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      posts.push(route.request().url());
      return route.abort('internetdisconnected');
    });
    const textA = uniqueText('queued in A');
    const textB = uniqueText('queued in B');
    await send(page, 'chat-a', textA);
    await send(page, 'chat-b', textB);
    await page.locator('#chat-a [data-testid=message][data-status=sending]', { hasText: textA }).waitFor();
    await page.locator('#chat-b [data-testid=message][data-status=sending]', { hasText: textB }).waitFor();
    await eventually(async () => new Set(posts.map((u) => new URL(u).origin)).size, 2, 'both chats tried their server');
    await page.unroute('**/api/v1/accounts/1/conversations/*/messages');
    await loadHost(page, a, b, conversationId);
    await confirmed(page, 'chat-a', textA).waitFor();
    await confirmed(page, 'chat-b', textB).waitFor();
    await eventually(() => storedOn(a, TOKEN_A, conversationId, textA), 1, "A's queued message on server A");
    await eventually(() => storedOn(b, TOKEN_B, conversationId, textB), 1, "B's queued message on server B");
    assert.equal(await storedOn(a, TOKEN_A, conversationId, textB), 0, "B's queued message never reached server A");
    assert.equal(await storedOn(b, TOKEN_B, conversationId, textA), 0, "A's queued message never reached server B");
    assert.equal(await page.locator('#chat-a [data-testid=message]', { hasText: textB }).count(), 0);
    assert.equal(await page.locator('#chat-b [data-testid=message]', { hasText: textA }).count(), 0);
  });

  test('a chat keeps working when the other unmounts', async () => {
    await page.evaluate(() => window.chats.a.unmount());
    assert.equal(await page.locator('#chat-a').evaluate((el) => el.shadowRoot.querySelectorAll('[data-testid=chat-screen]').length), 0);
    const text = uniqueText('after A unmounted');
    await send(page, 'chat-b', text);
    await confirmed(page, 'chat-b', text).waitFor();
    assert.equal(await storedOn(b, TOKEN_B, conversationId, text), 1, 'on server B once');
    assert.equal(await storedOn(a, TOKEN_A, conversationId, text), 0, 'never on server A');
    const reply = uniqueText('customer on B after A unmounted');
    await b.customerSend(reply);
    await page.locator('#chat-b [data-testid=message]', { hasText: reply }).waitFor();
  });

  test('no page errors', () => {
    const refused = (e) => /Failed to load resource|ERR_INTERNET_DISCONNECTED|favicon/.test(e);
    assert.deepEqual(page.errors.filter((e) => !refused(e)), []);
  });
});
