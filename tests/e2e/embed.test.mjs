// Embedding (issue 2 §4, issue 4's telemetry, issue 6): a host page of its own loads only
// the module from parley-server's stable paths (no stylesheet of Parley's in the page),
// calls mount(element, config) with an onTelemetry callback, chats, and unmount() removes
// the chat cleanly. Themes: dark by config and by prefers-color-scheme, light by config
// against a dark preference, and the host's custom properties on the element.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGENT_TOKEN, Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

/// A host page of the test's own, on the server's origin: a plain page of the server (a
/// JSON 404, no Parley in it, no CSP) replaced by the host's markup. `chats` are
/// `{id, style, config}`; each is mounted into a div, its handle at `window.chats[id]`.
async function hostPage(browser, server, chats, { colorScheme = 'light' } = {}) {
  const page = await newPage(browser);
  await page.emulateMedia({ colorScheme });
  page.openSockets = new Set();
  page.on('websocket', (ws) => {
    page.openSockets.add(ws);
    ws.on('close', () => page.openSockets.delete(ws));
  });
  await page.goto(`${server.baseUrl}/api/v1/host-page-of-the-test`);
  const divs = chats.map((c) => `<div id="${c.id}" style="height: 600px; ${c.style ?? ''}"></div>`).join('\n');
  await page.setContent(`<!doctype html><html><head></head><body>
        <h1 id="host-title">Host dashboard</h1>
        ${divs}
        <script type="module">
          import init, { mount } from '/parley/parley.js';
          await init({ module_or_path: '/parley/parley_bg.wasm' });
          window.events = [];
          window.domEvents = [];
          window.chats = {};
          for (const { id, config } of ${JSON.stringify(chats)}) {
            const element = document.getElementById(id);
            element.addEventListener('parley:telemetry', (e) => window.domEvents.push(e.detail));
            window.chats[id] = mount(element, {
              baseUrl: '', accountId: 1, token: '${AGENT_TOKEN}', ...config,
              onTelemetry: (e) => window.events.push(e),
            });
          }
          window.mounted = true;
        </script></body></html>`);
  await page.waitForFunction(() => window.mounted === true);
  for (const c of chats) await page.locator(`#${c.id} [data-testid=message]`).first().waitFor();
  return page;
}

/// Computed colours of one chat's parts.
async function colours(page, id) {
  return page.locator(`#${id}`).evaluate((host) => {
    const root = host.shadowRoot;
    const bg = (selector) => getComputedStyle(root.querySelector(selector)).backgroundColor;
    return {
      root: bg('.parley'),
      text: getComputedStyle(root.querySelector('.parley')).color,
      incoming: bg('.parley-message-incoming .parley-bubble'),
      outgoing: bg('.parley-message-outgoing .parley-bubble'),
      composer: bg('.parley-composer-box'),
      send: bg('[data-testid=send-button]'),
    };
  });
}

// style/parley.css's defaults, light and dark (docs/theming.md).
const LIGHT = {
  root: 'rgb(246, 247, 251)',
  text: 'rgb(27, 33, 48)',
  incoming: 'rgb(255, 255, 255)',
  outgoing: 'rgb(24, 97, 208)',
  composer: 'rgb(255, 255, 255)',
  send: 'rgb(26, 100, 216)',
};
const DARK = {
  root: 'rgb(15, 19, 26)',
  text: 'rgb(230, 233, 240)',
  incoming: 'rgb(31, 37, 49)',
  outgoing: 'rgb(40, 96, 196)',
  composer: 'rgb(23, 28, 37)',
  send: 'rgb(92, 154, 255)',
};

describe('embedded with mount()', { timeout: 180_000 }, () => {
  let server;
  let browser;
  let host;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    host = await hostPage(browser, server, [{ id: 'chat', config: { conversationId: 1 } }]);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('the chat mounts into the host element and goes live', async () => {
    const chat = host.locator('#chat [data-testid=chat-screen]');
    await chat.waitFor();
    await host.locator('#chat [data-testid=connection-state][data-state=connected]').waitFor();
    assert.equal(await host.locator('#host-title').textContent(), 'Host dashboard', 'the host page is untouched');
    // Styled with no stylesheet of Parley's in the page: the sheet is inside the shadow root.
    assert.equal(await host.evaluate(() => document.styleSheets.length), 0);
    assert.deepEqual(await colours(host, 'chat'), LIGHT);
  });

  test('sending and choosing a canned response reach onTelemetry, without the text', async () => {
    const input = host.locator('#chat [data-testid=composer-input]');
    const text = uniqueText('sent from an embedded chat');
    await input.fill(text);
    await input.press('Enter');
    await host.locator('#chat [data-testid=message]', { hasText: text }).waitFor();
    await input.pressSequentially('/thanks');
    // The list of an earlier keystroke stays until the answer for "thanks" arrives.
    await host.waitForFunction(() => {
      const options = [...document.getElementById('chat').shadowRoot.querySelectorAll('[data-testid=canned-option]')];
      return options[0]?.textContent.startsWith('/thanks') && options.every((o) => o.textContent.toLowerCase().includes('thanks'));
    });
    await input.press('Enter');
    const events = await host.evaluate(() => window.events);
    const sent = events.find((e) => e.name === 'message_sent');
    assert.deepEqual(sent, { name: 'message_sent', conversation_id: 1, message_type: 'reply', private: false, character_count: [...text].length });
    const canned = events.find((e) => e.name === 'canned_response_used');
    assert.equal(canned?.short_code, 'thanks');
    assert.ok(!JSON.stringify(events).includes(text), 'no message text in telemetry');
    // The same events, as DOM CustomEvents on the element the host mounted into.
    assert.deepEqual(await host.evaluate(() => window.domEvents), events);
  });

  test('a config without a conversation, with a wrong one, or a second mount into the same element is refused in words', async () => {
    const errors = await host.evaluate(async () => {
      const { mount } = await import('/parley/parley.js');
      const attempt = (config) => {
        try {
          mount(document.createElement('div'), config);
          return null;
        } catch (e) {
          return e.message;
        }
      };
      let twice = null;
      try {
        mount(document.getElementById('chat'), { baseUrl: '', conversationId: 2 });
      } catch (e) {
        twice = e.message;
      }
      return [attempt({ baseUrl: '' }), attempt({ conversationId: 0 }), attempt({ conversationId: 'x' }), twice];
    });
    assert.match(errors[0], /conversationId is required/);
    assert.match(errors[1], /positive whole number/);
    assert.ok(errors[2], 'a text id is refused');
    assert.match(errors[3], /already mounted in this element; unmount\(\) it first/);
    assert.equal(await host.locator('#chat [data-testid=chat-screen]').count(), 1, 'the chat mounted there is untouched');
  });

  test('unmount() removes the chat and closes its connection', async () => {
    assert.equal(host.openSockets.size, 1, "the chat's cable");
    await host.evaluate(() => window.chats.chat.unmount());
    assert.equal(await host.locator('#chat [data-testid=chat-screen]').count(), 0);
    for (let i = 0; i < 50 && host.openSockets.size > 0; i++) await host.waitForTimeout(100);
    assert.equal(host.openSockets.size, 0, 'the socket is closed');
    assert.equal(await host.locator('#host-title').textContent(), 'Host dashboard');
    // Mounted again into the same element: its shadow root is reused.
    await host.evaluate(async (token) => {
      const { mount } = await import('/parley/parley.js');
      window.chats.chat = mount(document.getElementById('chat'), { baseUrl: '', accountId: 1, conversationId: 2, token });
    }, AGENT_TOKEN);
    await host.locator('#chat [data-testid=connection-state][data-state=connected]').waitFor();
    assert.equal(await host.locator('#chat [data-testid=chat-screen]').count(), 1);
  });

  test('switching or unmounting while focus is in the log or the composer leaves no error', async () => {
    // The focused element leaves with the chat; its focus events come after the chat's
    // state is gone (they used to reach it: a wasm panic, "unreachable").
    await host.locator('#chat [data-testid=reply-message]').last().focus();
    await host.evaluate(() => window.chats.chat.setConversation(1));
    await host.locator('#chat .parley-header', { hasText: '#1' }).waitFor();
    await host.locator('#chat [data-testid=composer-input]').pressSequentially('half a thought');
    await host.evaluate(() => window.chats.chat.setConversation(2));
    await host.locator('#chat .parley-header', { hasText: '#2' }).waitFor();
    await host.locator('#chat [data-testid=reply-message]').last().focus();
    // Unmounted, no page error; then mounted again for what follows.
    const unmountAndRemount = async () => {
      await host.evaluate(() => window.chats.chat.unmount());
      await host.waitForTimeout(300);
      assert.deepEqual(host.errors.filter((e) => e.startsWith('pageerror')), []);
      await host.evaluate(async (token) => {
        const { mount } = await import('/parley/parley.js');
        window.chats.chat = mount(document.getElementById('chat'), { baseUrl: '', accountId: 1, conversationId: 2, token });
      }, AGENT_TOKEN);
      await host.locator('#chat [data-testid=connection-state][data-state=connected]').waitFor();
    };
    await unmountAndRemount();
    await host.locator('#chat [data-testid=composer-input]').pressSequentially('/tha');
    await unmountAndRemount();
  });

  test('a host that drops the handle keeps its chat, through garbage collections', async () => {
    await host.evaluate(async (token) => {
      const { mount } = await import('/parley/parley.js');
      const element = document.createElement('div');
      element.id = 'kept';
      element.style.height = '400px';
      document.body.appendChild(element);
      // The handle is not kept anywhere.
      mount(element, { baseUrl: '', accountId: 1, conversationId: 1, token });
    }, AGENT_TOKEN);
    await host.locator('#kept [data-testid=connection-state][data-state=connected]').waitFor();
    const cdp = await host.context().newCDPSession(host);
    for (let i = 0; i < 3; i++) {
      await cdp.send('HeapProfiler.collectGarbage');
      // Finalizers run after the collection, as tasks.
      await host.waitForTimeout(300);
    }
    assert.equal(await host.locator('#kept [data-testid=chat-screen]').count(), 1, 'the chat is still there');
    await host.locator('#kept [data-testid=connection-state][data-state=connected]').waitFor();
  });

  test('no page errors', () => {
    // The 404 of the page the host markup replaced is the test's own doing.
    assert.deepEqual(host.errors.filter((e) => !/favicon|host-page-of-the-test/.test(e)), []);
  });
});

describe('themes', { timeout: 180_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test("dark by the config's theme, on a light page; light and dark side by side", async () => {
    const page = await hostPage(browser, server, [
      { id: 'dark', config: { conversationId: 1, theme: 'dark' } },
      { id: 'auto', config: { conversationId: 2 } },
    ]);
    assert.deepEqual(await colours(page, 'dark'), DARK);
    assert.deepEqual(await colours(page, 'auto'), LIGHT, 'auto follows the light preference');
    assert.deepEqual(page.errors.filter((e) => !/favicon|host-page-of-the-test/.test(e)), []);
    await page.context().close();
  });

  test("dark by prefers-color-scheme; the config's light wins over it", async () => {
    const page = await hostPage(
      browser,
      server,
      [
        { id: 'auto', config: { conversationId: 1, theme: 'auto' } },
        { id: 'light', config: { conversationId: 2, theme: 'light' } },
      ],
      { colorScheme: 'dark' },
    );
    assert.deepEqual(await colours(page, 'auto'), DARK);
    assert.deepEqual(await colours(page, 'light'), LIGHT);
    // The preference changing while the chat is open: it follows.
    await page.emulateMedia({ colorScheme: 'light' });
    // (The send button's colour changes with a short transition: wait for its end. The
    // chats are in shadow roots, whose animations the document does not list.)
    await page.waitForFunction(() =>
      [...document.querySelectorAll('div')]
        .filter((d) => d.shadowRoot)
        .every((d) => d.shadowRoot.getAnimations().every((a) => !(a instanceof CSSTransition))),
    );
    assert.deepEqual(await colours(page, 'auto'), LIGHT);
    await page.context().close();
  });

  test("the host's custom properties on the element restyle Parley, in both themes", async () => {
    const page = await hostPage(browser, server, [
      { id: 'red', style: '--parley-accent: rgb(200, 0, 0); --parley-radius: 3px; --parley-font: monospace', config: { conversationId: 1 } },
      { id: 'dark-red', style: '--parley-accent: rgb(200, 0, 0)', config: { conversationId: 2, theme: 'dark' } },
    ]);
    for (const id of ['red', 'dark-red']) {
      assert.equal((await colours(page, id)).send, 'rgb(200, 0, 0)', `${id}: the send button takes the host's accent`);
    }
    const looks = await page.locator('#red').evaluate((host) => {
      const root = host.shadowRoot;
      return {
        radius: getComputedStyle(root.querySelector('.parley-composer-box')).borderTopLeftRadius,
        font: getComputedStyle(root.querySelector('.parley')).fontFamily,
      };
    });
    assert.deepEqual(looks, { radius: '3px', font: 'monospace' });
    // The rest of the dark theme stays.
    assert.equal((await colours(page, 'dark-red')).root, DARK.root);
    await page.context().close();
  });
});

describe('the <parley-chat> element, loaded from another origin', { timeout: 120_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await Server.start({ demo: true });
    // The test's host page is answered by Playwright, which Chromium does not count as a
    // loopback address: its local-network permission prompt (which nobody can answer in a
    // headless run) is turned off. Cross-origin rules (CORS) still apply.
    browser = await launchBrowser(['--disable-features=LocalNetworkAccessChecks']);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('the module and the wasm load cross-origin; an element it cannot show says why, in it and by parley:error', async () => {
    const page = await newPage(browser);
    // The host page on localhost, Parley's files on 127.0.0.1: two origins.
    const parley = server.baseUrl;
    const hostOrigin = parley.replace('127.0.0.1', 'localhost');
    // A real HTML document of the host's (Playwright answers it; nothing of Parley's in it).
    const html = `<!doctype html><html><body>
        <parley-chat id="broken" base-url="${parley}" account="1" token="${AGENT_TOKEN}" conversation="not a number" style="display:block;height:300px"></parley-chat>
        <script>
          window.errors = [];
          document.addEventListener('parley:error', (e) => window.errors.push({ id: e.target.id, message: e.detail.message }));
        </script>
        <script type="module" src="${parley}/parley/parley-element.js"></script>
      </body></html>`;
    await page.route(`${hostOrigin}/host.html`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
    // The wasm held back a moment: meanwhile the element says it is loading.
    let releaseWasm;
    const wasmHeld = new Promise((resolve) => {
      releaseWasm = resolve;
    });
    await page.route('**/parley/parley_bg.wasm', async (route) => {
      await wasmHeld;
      await route.continue();
    });
    await page.goto(`${hostOrigin}/host.html`);
    const loading = page.locator('#broken [role=status]');
    await loading.waitFor();
    assert.equal((await loading.textContent()).trim(), 'Loading the chat…');
    releaseWasm();
    await page.waitForFunction(() => window.errors.length > 0).catch((e) => {
      throw new Error(`${e.message}; page errors: ${page.errors.join(" | ")}`);
    });
    const errors = await page.evaluate(() => window.errors);
    assert.equal(errors[0].id, 'broken');
    assert.match(errors[0].message, /conversationId is required/);
    const shown = page.locator('#broken [role=alert]');
    assert.match(await shown.textContent(), /conversationId is required/);
    assert.equal(await shown.isVisible(), true);
    // Given a conversation, the same element mounts a chat (whose API calls need the
    // API to allow this origin, which parley-server's agent API does not: not awaited).
    await page.locator('#broken').evaluate((el) => el.setAttribute('conversation', '1'));
    await page.locator('#broken .parley').waitFor();
    assert.equal(await page.locator('#broken [role=alert]', { hasText: 'conversationId' }).count(), 0);
    await page.context().close();
  });
});
