// The example host page parley-server serves (issue 6): a dashboard of its own, under a
// deliberately hostile global stylesheet, with two chats, a <parley-chat> element and one
// mounted by mount(). Each is live on its own conversation; the host's CSS does not change
// Parley (computed styles and a screenshot against the same page without the hostile
// sheet) and Parley's does not change the host; the host hears sent, failed, unread and
// telemetry events by DOM event and by callback; conversations switch on the attribute
// and on the handle; unmounting closes the chat's socket.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { Server, launchBrowser, newPage, openCustomer, uniqueText } from './harness.mjs';

const VIEWPORT = { width: 1400, height: 900 };
const CONNECTED = '[data-testid=connection-state][data-state=connected]';
/// Share of pixels allowed to differ between the chat on the hostile page and on the plain
/// one (pixelmatch's per-pixel colour threshold 0.1): anti-aliasing noise only. A host
/// rule that reached Parley (a font, a size, a padding, a colour) changes far more.
const MAX_DIFF_SHARE = 0.001;

/// Websockets of a page that are open now (the cable of each mounted chat).
function trackSockets(page) {
  const open = new Set();
  page.on('websocket', (ws) => {
    open.add(ws);
    ws.on('close', () => open.delete(ws));
  });
  return open;
}

async function openExample(browser, server, query = '') {
  const page = await newPage(browser, { viewport: VIEWPORT });
  const sockets = trackSockets(page);
  await page.goto(`${server.baseUrl}/examples/embed/${query}`);
  for (const id of ['chat-a', 'chat-b']) {
    await page.locator(`#${id} ${CONNECTED}`).waitFor();
    await page.locator(`#${id} [data-testid=message]`).first().waitFor();
  }
  return { page, sockets };
}

/// Host events the page listed: `[{source, chat, name, detail}]`.
async function hostEvents(page) {
  return page.locator('#host-events li').evaluateAll((items) =>
    items.map((li) => ({ source: li.dataset.source, chat: li.dataset.chat, name: li.dataset.name, detail: JSON.parse(li.dataset.detail) })),
  );
}

async function waitForEvent(page, predicate, what) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await hostEvents(page)).filter(predicate);
    if (found.length > 0) return found;
    if (Date.now() > deadline) throw new Error(`the host did not hear ${what}; it heard: ${JSON.stringify(await hostEvents(page))}`);
    await page.waitForTimeout(100);
  }
}

async function send(page, chatId, text) {
  const input = page.locator(`#${chatId} [data-testid=composer-input]`);
  await input.fill(text);
  await input.press('Enter');
}

/// Computed styles of Parley's parts, for comparing the hostile page with the plain one.
async function parleyStyles(page, chatId) {
  return page.locator(`#${chatId}`).evaluate((host) => {
    const root = host.shadowRoot;
    const props = ['font-family', 'font-size', 'line-height', 'letter-spacing', 'text-transform', 'font-style', 'direction', 'color',
      'background-color', 'padding-top', 'padding-left', 'margin-top', 'display', 'box-sizing', 'border-top-width', 'width', 'height'];
    const pick = (el) => {
      if (!el) return null;
      const s = getComputedStyle(el);
      return Object.fromEntries(props.map((p) => [p, s.getPropertyValue(p)]));
    };
    return {
      root: pick(root.querySelector('.parley')),
      header: pick(root.querySelector('[data-testid=conversation-header]')),
      bubble: pick(root.querySelector('[data-testid=message] [data-testid=message-content]')),
      input: pick(root.querySelector('[data-testid=composer-input]')),
      send: pick(root.querySelector('[data-testid=send-button]')),
      row: pick(root.querySelector('.parley-row')),
    };
  });
}

async function screenshotOf(page, chatId) {
  // Nothing moving: no caret, no hover, the log settled at the bottom.
  await page.mouse.move(0, 0);
  await page.locator(`#${chatId}`).evaluate((host) => host.shadowRoot.activeElement?.blur());
  await page.waitForTimeout(700);
  return PNG.sync.read(await page.locator(`#${chatId}`).screenshot({ animations: 'disabled', caret: 'hide' }));
}

describe('the example host page', { timeout: 240_000 }, () => {
  let server;
  let browser;
  let host;
  let sockets;
  const chat = (id) => host.locator(`#${id}`);

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    // Opening the chats marks their conversations read: done once first, so that every page
    // after it (the hostile one, the plain one it is compared with) shows the same data.
    const { page: first } = await openExample(browser, server, '?plain');
    await first.context().close();
    ({ page: host, sockets } = await openExample(browser, server));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('two chats, the element and the mounted one, each live on its own conversation', async () => {
    assert.equal(await host.locator('#host-error').isHidden(), true);
    const header = async (id) => (await chat(id).locator('.parley-header').textContent()).trim();
    assert.match(await header('chat-a'), /#1\b/);
    assert.match(await header('chat-b'), /#2\b/);
    assert.equal(sockets.size, 2, 'one cable per chat');
    // Parley renders in each element's shadow root, not in the host's document.
    assert.equal(await host.evaluate(() => document.querySelectorAll('.parley, [data-testid]').length), 0);
    for (const id of ['chat-a', 'chat-b']) {
      assert.equal(await chat(id).evaluate((el) => el.shadowRoot?.querySelectorAll('[data-testid=chat-screen]').length), 1);
    }
  });

  test('the hostile stylesheet does not change Parley: same computed styles and same pixels as on the plain page', async () => {
    // The hostile sheet is really applied to the host's own elements.
    assert.equal(await host.locator('#host-probe').evaluate((p) => getComputedStyle(p).fontSize), '30px');
    assert.equal(await host.evaluate(() => getComputedStyle(document.documentElement).direction), 'rtl');
    const { page: plain } = await openExample(browser, server, '?plain');
    try {
      assert.equal(await plain.locator('#host-probe').evaluate((p) => getComputedStyle(p).fontSize), '14px', 'the plain page has no hostile sheet');
      for (const id of ['chat-a', 'chat-b']) {
        const hostile = await parleyStyles(host, id);
        assert.ok(hostile.send && hostile.input && hostile.bubble, `${id}: the parts are there`);
        assert.notEqual(hostile.send.display, 'none', `${id}: button { display: none } does not hide Parley's send button`);
        assert.equal(hostile.root['font-size'], '14px');
        assert.equal(hostile.root.direction, 'ltr');
        assert.deepEqual(hostile, await parleyStyles(plain, id), `${id}: every computed style as on the plain page`);
      }
      // The same conversation, the same data (both opened after it was read), the same
      // box: the pixels must agree.
      for (const id of ['chat-a', 'chat-b']) {
        const a = await screenshotOf(host, id);
        const b = await screenshotOf(plain, id);
        assert.deepEqual([a.width, a.height], [b.width, b.height], `${id}: same size`);
        const diff = new PNG({ width: a.width, height: a.height });
        const differing = pixelmatch(a.data, b.data, diff.data, a.width, a.height, { threshold: 0.1 });
        const share = differing / (a.width * a.height);
        if (process.env.PARLEY_E2E_SHOTS) {
          const { writeFileSync } = await import('node:fs');
          for (const [name, png] of [['hostile', a], ['plain', b], ['diff', diff]]) writeFileSync(`${process.env.PARLEY_E2E_SHOTS}/${id}-${name}.png`, PNG.sync.write(png));
        }
        console.log(`# ${id}: ${differing} of ${a.width * a.height} pixels differ (${(share * 100).toFixed(3)}%, allowed ${MAX_DIFF_SHARE * 100}%)`);
        assert.ok(share <= MAX_DIFF_SHARE, `${id}: ${differing} pixels differ between the hostile and the plain page`);
      }
    } finally {
      await plain.context().close();
    }
  });

  test("Parley's styles do not change the host's elements", async () => {
    // The same page with Parley's files refused: what the host's elements look like alone.
    const alone = await newPage(browser, { viewport: VIEWPORT });
    try {
      await alone.route('**/parley/**', (route) => route.abort());
      await alone.goto(`${server.baseUrl}/examples/embed/`);
      await alone.locator('#host-error').waitFor();
      const styles = (page) =>
        page.evaluate(() => {
          const pick = (el) => {
            const s = getComputedStyle(el);
            return [s.fontFamily, s.fontSize, s.lineHeight, s.color, s.backgroundColor, s.padding, s.margin, s.boxSizing, s.colorScheme, s.display];
          };
          return {
            html: pick(document.documentElement),
            body: pick(document.body),
            probe: pick(document.getElementById('host-probe')),
            title: pick(document.getElementById('host-title')),
            select: pick(document.getElementById('switch-a')),
            vars: getComputedStyle(document.documentElement).getPropertyValue('--parley-accent'),
          };
        });
      assert.deepEqual(await styles(host), await styles(alone));
      assert.equal((await styles(host)).vars, '', "Parley's custom properties stay inside its elements");
    } finally {
      await alone.context().close();
    }
  });

  test('a message sent in each chat goes to its own conversation, and the host hears message-sent', async () => {
    const customer = await openCustomer(browser, server);
    try {
      const textA = uniqueText('from the element');
      await send(host, 'chat-a', textA);
      await chat('chat-a').locator('[data-testid=message][data-status=sent], [data-testid=message][data-status=delivered], [data-testid=message][data-status=read]', { hasText: textA }).waitFor();
      // The customer of conversation 1 gets it.
      await customer.locator('#messages .msg[data-sender=agent] .msg-text', { hasText: textA }).waitFor();

      const textB = uniqueText('from the mounted chat');
      await send(host, 'chat-b', textB);
      // Confirmed by the server (a pending row is there before the request leaves).
      await chat('chat-b').locator('[data-testid=message][data-status=sent], [data-testid=message][data-status=delivered], [data-testid=message][data-status=read]', { hasText: textB }).waitFor();
      const conv2 = await server.api('/api/v1/accounts/1/conversations/2/messages');
      assert.ok(conv2.json.payload.some((m) => m.content === textB), 'conversation 2 on the server has it');
      await host.waitForTimeout(300);
      assert.equal(await chat('chat-b').locator('[data-testid=message]', { hasText: textA }).count(), 0);
      assert.equal(await chat('chat-a').locator('[data-testid=message]', { hasText: textB }).count(), 0);

      const sentA = await waitForEvent(host, (e) => e.chat === 'chat-a' && e.name === 'message-sent', "chat-a's message-sent");
      assert.equal(sentA.length, 1);
      assert.equal(sentA[0].detail.conversationId, 1);
      assert.equal(typeof sentA[0].detail.messageId, 'number');
      assert.match(sentA[0].detail.echoId, /^[0-9a-f-]{36}$/);
      const sentB = await waitForEvent(host, (e) => e.chat === 'chat-b' && e.name === 'message-sent', "chat-b's message-sent");
      assert.deepEqual(sentB.map((e) => e.source).sort(), ['callback', 'event'], 'by callback and by DOM event');
      assert.deepEqual(sentB[0].detail, sentB[1].detail);
      assert.equal(sentB[0].detail.conversationId, 2);
      assert.ok(conv2.json.payload.some((m) => m.id === sentB[0].detail.messageId), 'the id is the server message');
      // Telemetry too, by both ways; never the text.
      await waitForEvent(host, (e) => e.chat === 'chat-b' && e.source === 'callback' && e.name === 'message_sent', 'telemetry by callback');
      await waitForEvent(host, (e) => e.chat === 'chat-a' && e.source === 'event' && e.name === 'message_sent', 'telemetry by DOM event');
      const all = JSON.stringify(await hostEvents(host));
      assert.ok(!all.includes(textA) && !all.includes(textB), 'no message text in any event');
    } finally {
      await customer.context().close();
    }
  });

  test('a refused message: the host hears message-failed with the reason', async () => {
    const res = await server.api('/__parley/test/faults', { method: 'POST', body: { fail_next_posts: 1, fail_status: 422 } });
    assert.equal(res.status, 200);
    const text = uniqueText('refused');
    await send(host, 'chat-b', text);
    await chat('chat-b').locator('[data-testid=message][data-status=failed]', { hasText: text }).waitFor({ timeout: 10_000 });
    const failed = await waitForEvent(host, (e) => e.chat === 'chat-b' && e.name === 'message-failed', 'message-failed');
    assert.deepEqual(failed.map((e) => e.source).sort(), ['callback', 'event']);
    assert.equal(failed[0].detail.conversationId, 2);
    assert.match(failed[0].detail.echoId, /^[0-9a-f-]{36}$/);
    assert.ok(failed[0].detail.reason.length > 0, 'a reason in words');
    assert.ok(!JSON.stringify(failed).includes(text));
  });

  test('the customer writes while the agent has scrolled up: the right chat shows it, unread goes to 1, then back to 0 when read', async () => {
    const log = chat('chat-a').locator('[data-testid=message-list]');
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await chat('chat-a').locator('[data-testid=message-list]:not([data-at-latest])').waitFor();
    const text = uniqueText('customer while scrolled up');
    await server.customerSend(text);
    const unread = await waitForEvent(host, (e) => e.chat === 'chat-a' && e.name === 'unread-count' && e.detail.count === 1, 'unread-count 1');
    assert.equal(unread[0].detail.conversationId, 1);
    assert.equal((await hostEvents(host)).filter((e) => e.chat === 'chat-b' && e.name === 'unread-count').length, 0, 'not the other chat');
    await log.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await chat('chat-a').locator('[data-testid=message]', { hasText: text }).waitFor();
    await waitForEvent(host, (e) => e.chat === 'chat-a' && e.name === 'unread-count' && e.detail.count === 0, 'unread-count back to 0');
    assert.equal(await chat('chat-b').locator('[data-testid=message]', { hasText: text }).count(), 0);
  });

  test('the customer writes while the page is in the background: unread goes up, and back to 0 when the agent returns', async () => {
    // Real focus (Playwright otherwise reports every page focused), then another tab in front.
    const cdp = await host.context().newCDPSession(host);
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
    await host.bringToFront();
    const before = (await hostEvents(host)).length;
    const other = await host.context().newPage();
    try {
      await other.bringToFront();
      assert.equal(await host.evaluate(() => document.hasFocus()), false, 'the host page is in the background');
      await server.customerSend(uniqueText('while the agent is elsewhere'));
      await waitForEvent(
        host,
        (e, i) => i >= before && e.chat === 'chat-a' && e.name === 'unread-count' && e.detail.count === 1,
        'unread-count 1 in the background',
      );
    } finally {
      await other.close();
    }
    await host.bringToFront();
    await waitForEvent(
      host,
      (e, i) => i >= before && e.chat === 'chat-a' && e.name === 'unread-count' && e.detail.count === 0,
      'unread-count back to 0 on return',
    );
    const last = (await hostEvents(host)).filter((e) => e.chat === 'chat-a' && e.name === 'unread-count').at(-1);
    assert.equal(last.detail.count, 0, 'the last word is 0');
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: true });
    await cdp.detach();
  });

  test('the mounted chat tells its unread count by callback too', async () => {
    const log = chat('chat-b').locator('[data-testid=message-list]');
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await chat('chat-b').locator('[data-testid=message-list]:not([data-at-latest])').waitFor();
    // The demo customer writes in conversation 1; move chat-b there.
    await host.selectOption('#switch-b', '1');
    await chat('chat-b').locator('.parley-header', { hasText: '#1' }).waitFor();
    await chat('chat-b').locator(CONNECTED).waitFor();
    await chat('chat-b').locator('[data-testid=message-list]').evaluate((el) => {
      el.scrollTop = 0;
    });
    await chat('chat-b').locator('[data-testid=message-list]:not([data-at-latest])').waitFor();
    await server.customerSend(uniqueText('to the switched chat'));
    const heard = await waitForEvent(host, (e) => e.chat === 'chat-b' && e.name === 'unread-count' && e.detail.count === 1, "chat-b's unread-count");
    assert.deepEqual(heard.map((e) => e.source).sort(), ['callback', 'event']);
    await host.selectOption('#switch-b', '2');
    await chat('chat-b').locator('.parley-header', { hasText: '#2' }).waitFor();
  });

  test('conversations switch in place: on the element by its attribute, on the handle by setConversation()', async () => {
    await chat('chat-b').locator(CONNECTED).waitFor();
    const screenB = await chat('chat-b').evaluateHandle((el) => el.shadowRoot.querySelector('.parley'));
    await host.selectOption('#switch-a', '3');
    await chat('chat-a').locator('.parley-header', { hasText: '#3' }).waitFor();
    await chat('chat-a').locator(CONNECTED).waitFor();
    assert.equal(await host.evaluate(() => document.getElementById('chat-a').conversationId), 3);
    await host.evaluate(() => window.parleyExample.handle.setConversation(3));
    await chat('chat-b').locator('.parley-header', { hasText: '#3' }).waitFor();
    await chat('chat-b').locator(CONNECTED).waitFor();
    assert.equal(await host.evaluate(() => window.parleyExample.handle.conversationId), 3);
    // In place: the same root element, not a new mount.
    assert.equal(await chat('chat-b').evaluate((el, old) => el.shadowRoot.querySelector('.parley') === old, screenB), true);
    await waitUntil(() => sockets.size === 2, 'the old conversations closed their sockets');
    // Back to conversation 1, with a text typed in between: each conversation keeps its draft.
    const draft = uniqueText('draft for 3');
    await chat('chat-a').locator('[data-testid=composer-input]').fill(draft);
    await host.selectOption('#switch-a', '1');
    await chat('chat-a').locator('.parley-header', { hasText: '#1' }).waitFor();
    assert.equal(await chat('chat-a').locator('[data-testid=composer-input]').inputValue(), '');
    await host.selectOption('#switch-a', '3');
    await chat('chat-a').locator('.parley-header', { hasText: '#3' }).waitFor();
    assert.equal(await chat('chat-a').locator('[data-testid=composer-input]').inputValue(), draft);
    // A wrong id is refused with a message, the chat stays as it was.
    const error = await host.evaluate(() => {
      try {
        window.parleyExample.handle.setConversation(-4);
        return null;
      } catch (e) {
        return e.message;
      }
    });
    assert.match(error, /positive whole number/);
  });

  test('unmount() and removing the element take the chat away and close its socket', async () => {
    // The switches of the previous test leave one socket per chat.
    await chat('chat-a').locator(CONNECTED).waitFor();
    await waitUntil(() => sockets.size === 2, 'one socket per chat');
    await host.evaluate(() => window.parleyExample.handle.unmount());
    assert.equal(await chat('chat-b').evaluate((el) => el.shadowRoot.querySelectorAll('[data-testid=chat-screen]').length), 0);
    await waitUntil(() => sockets.size === 1, 'the mounted chat closed its socket');
    await host.evaluate(() => document.getElementById('chat-a').remove());
    await waitUntil(() => sockets.size === 0, "the element's chat closed its socket");
    assert.equal(await host.locator('#host-title').textContent(), 'Acme support dashboard');
  });

  test('no page errors', () => {
    // The 422 is the refused message's, made by the test.
    assert.deepEqual(host.errors.filter((e) => !/favicon|status of 422/.test(e)), []);
  });
});

async function waitUntil(condition, what) {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
