// One host page, two chats, one server, two accounts (issue 11): the demo server's account 1
// (Alex, the default token) and account 2 (Globex, Sam, signed in for his own token) both have
// a conversation 1. A chat per account with the same conversation id is its own session: it
// sends through its own account exactly once, shows only its own account's messages, and a
// reload with a message queued in each sends each to the account it was typed for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

const CONNECTED = '[data-testid=connection-state][data-state=connected]';
const CONVERSATION = 1;
/// The seeded first message of each account's conversation 1 (server/src/demo.rs).
const GLOBEX_FIRST = 'Hello from Globex! Is my invoice ready?';

function hostHtml(server, chats) {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body>
    <div id="chat-a" style="height: 420px"></div>
    <div id="chat-b" style="height: 420px"></div>
    <script type="module">
      const { default: init, mount } = await import('/parley/parley.js');
      await init({ module_or_path: '/parley/parley_bg.wasm' });
      const chats = ${JSON.stringify(chats)};
      window.chats = {
        a: mount(document.getElementById('chat-a'), chats.a),
        b: mount(document.getElementById('chat-b'), chats.b),
      };
      window.mounted = true;
    </script></body></html>`;
}

describe('two chats on one host page against one server with two accounts', { timeout: 180_000 }, () => {
  let server;
  let browser;
  let page;
  let tokenA;
  let tokenB;

  async function loadHost() {
    const chat = (accountId, token) => ({ baseUrl: '', accountId, conversationId: CONVERSATION, token });
    // A plain page of the server replaced by the host's markup: the host lives on Parley's
    // origin, so Chromium counts it as a local address and allows its WebSockets.
    await page.goto(`${server.baseUrl}/api/v1/host-page-of-the-test`);
    await page.setContent(hostHtml(server, { a: chat(1, tokenA), b: chat(2, tokenB) }));
    await page.waitForFunction(() => window.mounted === true);
    for (const id of ['chat-a', 'chat-b']) {
      await page.locator(`#${id} ${CONNECTED}`).waitFor();
      await page.locator(`#${id} [data-testid=message]`).first().waitFor();
    }
  }

  async function send(chatId, text) {
    const input = page.locator(`#${chatId} [data-testid=composer-input]`);
    await input.fill(text);
    await input.press('Enter');
  }

  function confirmed(chatId, text) {
    const row = (status) => page.locator(`#${chatId} [data-testid=message][data-status=${status}]`, { hasText: text });
    return row('sent').or(row('delivered')).or(row('read'));
  }

  /// How many messages of `text` the account's conversation 1 holds, read with that account's
  /// agent token.
  async function storedOn(accountId, token, text) {
    const res = await server.api(`/api/v1/accounts/${accountId}/conversations/${CONVERSATION}/messages`, { token });
    assert.equal(res.status, 200, res.text);
    return res.json.payload.filter((m) => m.content === text).length;
  }

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

  before(async () => {
    server = await Server.start({ demo: true });
    tokenA = server.info.agentToken;
    const signIn = await server.api('/auth/sign_in', { method: 'POST', body: { email: 'sam@parley.test', password: 'parley-demo' }, token: null });
    assert.equal(signIn.status, 200, `Sam (account 2) signs in: ${signIn.text}`);
    tokenB = signIn.json.data.access_token;
    assert.ok(tokenB && tokenB !== tokenA, 'Sam has a token of his own');
    // Each token reaches only its own account.
    assert.equal((await server.api(`/api/v1/accounts/2/conversations/${CONVERSATION}/messages`, { token: tokenA })).status, 401);
    assert.equal((await server.api(`/api/v1/accounts/1/conversations/${CONVERSATION}/messages`, { token: tokenB })).status, 401);
    browser = await launchBrowser();
    page = await newPage(browser, { viewport: { width: 1000, height: 900 } });
    await loadHost();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test("each chat shows its own account's conversation", async () => {
    await page.locator('#chat-b [data-testid=message]', { hasText: GLOBEX_FIRST }).waitFor();
    assert.equal(await page.locator('#chat-a [data-testid=message]', { hasText: GLOBEX_FIRST }).count(), 0, "chat A does not show account 2's history");
  });

  test('each chat sends through its own account exactly once and shows only its own messages', async () => {
    const textA = uniqueText('typed in chat A (account 1)');
    const textB = uniqueText('typed in chat B (account 2)');
    await send('chat-a', textA);
    await send('chat-b', textB);
    await confirmed('chat-a', textA).waitFor();
    await confirmed('chat-b', textB).waitFor();
    assert.equal(await storedOn(1, tokenA, textA), 1, "A's message is on account 1 once");
    assert.equal(await storedOn(2, tokenB, textB), 1, "B's message is on account 2 once");
    assert.equal(await storedOn(1, tokenA, textB), 0, "B's message never reached account 1");
    assert.equal(await storedOn(2, tokenB, textA), 0, "A's message never reached account 2");
    assert.equal(await page.locator('#chat-a [data-testid=message]', { hasText: textB }).count(), 0, "chat A does not show B's message");
    assert.equal(await page.locator('#chat-b [data-testid=message]', { hasText: textA }).count(), 0, "chat B does not show A's message");
    // A customer's message on account 1's conversation reaches only chat A (both are
    // subscribed to the same server's cable).
    const customer = uniqueText('customer on account 1');
    await server.customerSend(customer);
    await page.locator('#chat-a [data-testid=message]', { hasText: customer }).waitFor();
    assert.equal(await page.locator('#chat-b [data-testid=message]', { hasText: customer }).count(), 0, "chat B does not show account 1's customer");
  });

  test('a reload with a message queued in each chat sends each to its own account', async () => {
    const pattern = '**/api/v1/accounts/*/conversations/*/messages';
    const posts = [];
    await page.route(pattern, (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      posts.push(new URL(route.request().url()).pathname);
      return route.abort('internetdisconnected');
    });
    const textA = uniqueText('queued in A (account 1)');
    const textB = uniqueText('queued in B (account 2)');
    await send('chat-a', textA);
    await send('chat-b', textB);
    await page.locator('#chat-a [data-testid=message][data-status=sending]', { hasText: textA }).waitFor();
    await page.locator('#chat-b [data-testid=message][data-status=sending]', { hasText: textB }).waitFor();
    await eventually(async () => new Set(posts.map((p) => p.split('/')[4])).size, 2, 'both chats tried their account');
    await page.unroute(pattern);
    await loadHost();
    await confirmed('chat-a', textA).waitFor();
    await confirmed('chat-b', textB).waitFor();
    await eventually(() => storedOn(1, tokenA, textA), 1, "A's queued message on account 1");
    await eventually(() => storedOn(2, tokenB, textB), 1, "B's queued message on account 2");
    assert.equal(await storedOn(1, tokenA, textB), 0, "B's queued message never reached account 1");
    assert.equal(await storedOn(2, tokenB, textA), 0, "A's queued message never reached account 2");
    assert.equal(await page.locator('#chat-a [data-testid=message]', { hasText: textB }).count(), 0);
    assert.equal(await page.locator('#chat-b [data-testid=message]', { hasText: textA }).count(), 0);
  });

  test('no page errors', () => {
    const refused = (e) => /Failed to load resource|ERR_INTERNET_DISCONNECTED|favicon/.test(e);
    assert.deepEqual(page.errors.filter((e) => !refused(e)), []);
  });
});
