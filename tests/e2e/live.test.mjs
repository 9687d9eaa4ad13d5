// The agent view live, in real Chromium: customer messages appear as they are sent; duplicated,
// reordered and delayed cable frames (the server's test controls) render once and in order;
// a server killed and restarted while the customer keeps sending leaves every message shown
// exactly once after the reconnect, without a reload; typing shows and clears both ways; read
// receipts turn to read when the customer page reads.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Server, agentMessageTexts, launchBrowser, newPage, uniqueText } from './harness.mjs';

const MESSAGE = '[data-testid=message]';
const CONNECTION = '[data-testid=connection-state]';
const TYPING = '[data-testid=typing-indicator]';

/** Every cable event the agent page received (filled by a listener on its WebSockets). */
const wire = [];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` until it returns a truthy value or `ms` pass; returns the last value. */
async function eventually(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(100);
  }
}

/** The agent's rows in display order: id, type, status and text. */
async function agentRows(page) {
  return page.locator(MESSAGE).evaluateAll((els) =>
    els.map((el) => ({
      id: el.dataset.id,
      type: el.dataset.type,
      status: el.dataset.status,
      text: (el.querySelector('[data-testid=message-content]')?.textContent ?? '').trim(),
    })),
  );
}

/** What the message log is doing, for failure reports: scroll place, pill, window. */
async function listState(page) {
  return page.evaluate(() => {
    const list = document.querySelector('[data-testid=message-list]');
    const pill = document.querySelector('[data-testid=new-messages-pill]');
    const rows = [...document.querySelectorAll('[data-testid=message]')];
    return JSON.stringify({
      connection: document.querySelector('[data-testid=connection-state]')?.dataset.state,
      scrollTop: list?.scrollTop,
      scrollHeight: list?.scrollHeight,
      clientHeight: list?.clientHeight,
      distanceFromBottom: list ? list.scrollHeight - list.scrollTop - list.clientHeight : null,
      pill: pill ? pill.textContent.trim() : null,
      renderedRows: rows.length,
      lastRendered: rows.at(-1)?.querySelector('[data-testid=message-content]')?.textContent.trim(),
      spacers: [...document.querySelectorAll('.parley-spacer')].map((el) => el.style.height),
    });
  });
}

/** Whether the row with exactly `text` is on screen inside the message log, with no pill. */
async function lastInView(page, text) {
  return page.evaluate((text) => {
    const list = document.querySelector('[data-testid=message-list]');
    if (!list || document.querySelector('[data-testid=new-messages-pill]')) return false;
    const row = [...list.querySelectorAll('[data-testid=message]')].find(
      (el) => el.querySelector('[data-testid=message-content]')?.textContent.trim() === text,
    );
    if (!row) return false;
    const r = row.getBoundingClientRect();
    const l = list.getBoundingClientRect();
    return r.bottom > l.top && r.top < l.bottom && r.bottom <= l.bottom + 2;
  }, text);
}

/** Asserts that no two rows of the agent share a data-id. */
async function assertNoDuplicateIds(page) {
  const ids = (await agentRows(page)).map((r) => r.id).filter(Boolean);
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.deepEqual(dup, [], `duplicate data-id among the agent's rows: ${dup.join(', ')}`);
}

/**
 * Waits until every one of `texts` is shown by the agent, then checks that each is shown
 * exactly once and in the order given (after a settle period, so a late duplicate counts).
 */
async function expectShownOnceInOrder(page, tag, texts, { timeoutMs = 20_000, settleMs = 1_500 } = {}) {
  const ours = async () => (await agentMessageTexts(page)).filter((t) => t.includes(tag));
  await eventually(
    async () => {
      const shown = await ours();
      return texts.every((t) => shown.includes(t));
    },
    timeoutMs,
    `the agent shows all of ${JSON.stringify(texts)} (shows ${JSON.stringify(await ours())})`,
  ).catch(async (e) => {
    e.message += `\n  shown: ${JSON.stringify(await ours())}\n  log: ${await listState(page)}\n  on the agent's wire: ${JSON.stringify(wire.filter((f) => f.content?.includes(tag)).map((f) => f.content.slice(tag.length + 1)))}`;
    throw e;
  });
  // Duplicated or delayed frames may still be on their way: give them time to do harm.
  await sleep(settleMs);
  assert.deepEqual(await ours(), texts, 'each message once, in the order sent');
  for (const text of texts) {
    assert.equal(await page.locator(MESSAGE, { hasText: text }).count(), 1, `one row for "${text}"`);
  }
  await assertNoDuplicateIds(page);
  // Shown means seen: the agent sat at the bottom and never scrolled, so the log must have
  // followed to the newest message (not left it below the fold behind a "new messages" pill).
  await eventually(() => lastInView(page, texts.at(-1)), 3_000, `the log follows to "${texts.at(-1)}"`).catch(async (e) => {
    e.message += `\n  log: ${await listState(page)}`;
    throw e;
  });
}

describe('the agent view live', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let agent;
  let customer;
  let accountId;
  let conversationId;

  /** message.created contents on the agent's wire carrying `tag`, in arrival order. */
  const wireCreated = (tag) => wire.filter((f) => f.event === 'message.created' && f.content?.includes(tag)).map((f) => f.content);

  async function setFaults(faults) {
    const res = await server.api('/__parley/test/faults', { method: 'POST', body: faults });
    assert.equal(res.status, 200, `faults answered ${res.status}: ${res.text}`);
    return res.json;
  }

  const resetFaults = () => setFaults({ cable_duplicate: false, cable_delay_ms: 0, cable_reorder: false });

  /** Sends `count` customer messages one after another (each awaits the server's answer). */
  async function customerBurst(tag, count, label) {
    const texts = [];
    for (let i = 1; i <= count; i++) {
      const text = `${tag} ${label} #${i}`;
      await server.customerSend(text);
      texts.push(text);
    }
    return texts;
  }

  /** The navigation count and a window marker: both change if the page reloads. */
  async function markNoReload(page) {
    await page.evaluate(() => {
      window.__e2eLiveMarker = 'live';
    });
    return page.evaluate(() => performance.getEntriesByType('navigation').length + ':' + history.length);
  }

  async function assertNotReloaded(page, before) {
    assert.equal(await page.evaluate(() => window.__e2eLiveMarker), 'live', 'the window marker survived: no reload');
    assert.equal(
      await page.evaluate(() => performance.getEntriesByType('navigation').length + ':' + history.length),
      before,
      'no navigation happened',
    );
  }

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await newPage(browser);
    customer = await newPage(browser);
    // Every cable frame the agent page receives, to prove the injected faults are real.
    agent.on('websocket', (ws) => {
      ws.on('framereceived', ({ payload }) => {
        try {
          const frame = JSON.parse(String(payload));
          const m = frame.message;
          if (m?.event) wire.push({ event: m.event, id: m.data?.id, content: m.data?.content, at: Date.now() });
        } catch {
          // not JSON: not ours to judge
        }
      });
    });
    const url = new URL(server.info.agentUrl);
    [, accountId, conversationId] = url.pathname.match(/\/accounts\/(\d+)\/conversations\/(\d+)/).map(Number);
    await agent.goto(server.info.agentUrl);
    await agent.locator('[data-testid=chat-screen]').waitFor();
    await agent.locator(MESSAGE).first().waitFor();
    await agent.locator(`${CONNECTION}[data-state=connected]`).waitFor({ timeout: 20_000 });
  });

  // Every test starts from a log that follows the bottom, as an agent would leave it: if an
  // earlier test left the "new messages" pill behind (an app failure that test reports), the
  // agent clicks it, so that one failure does not cascade into the tests after it.
  beforeEach(async () => {
    const pill = agent?.locator('[data-testid=new-messages-pill]');
    if (!agent) return;
    if ((await pill.count()) > 0) {
      await pill.click();
      await pill.waitFor({ state: 'detached', timeout: 5_000 });
    }
    // Left short of the bottom without a pill: the agent scrolls down.
    await agent.locator('[data-testid=message-list]').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await agent.locator('[data-testid=message-list][data-at-latest]').waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('customer messages appear live, once each', async () => {
    const marker = await markNoReload(agent);
    const tag = uniqueText('plain');
    const texts = await customerBurst(tag, 3, 'live');
    await expectShownOnceInOrder(agent, tag, texts, { settleMs: 500 });
    const rows = (await agentRows(agent)).filter((r) => r.text.includes(tag));
    for (const row of rows) {
      assert.equal(row.type, 'incoming', `"${row.text}" is an incoming row`);
      assert.match(row.id ?? '', /^\d+$/, `"${row.text}" carries its server id`);
    }
    await assertNotReloaded(agent, marker);
  });

  test('duplicated and reordered cable frames render once, in the order sent', async () => {
    const marker = await markNoReload(agent);
    const faults = await setFaults({ cable_duplicate: true, cable_reorder: true });
    assert.equal(faults.cable_duplicate, true);
    assert.equal(faults.cable_reorder, true);
    try {
      const tag = uniqueText('dup+reorder');
      const texts = await customerBurst(tag, 6, 'burst');
      await expectShownOnceInOrder(agent, tag, texts, { settleMs: 2_000 });
      // The faults were real on the agent's wire: every frame twice, and not in send order.
      const arrived = wireCreated(tag);
      for (const text of texts) {
        assert.ok(arrived.filter((a) => a === text).length >= 2, `fault precondition: "${text}" arrived duplicated on the wire (${JSON.stringify(arrived)})`);
      }
      const firstArrival = arrived.filter((a, i) => arrived.indexOf(a) === i);
      assert.notDeepEqual(firstArrival, texts, `fault precondition: the wire order was shuffled (${JSON.stringify(firstArrival)})`);
      await assertNotReloaded(agent, marker);
    } finally {
      await resetFaults();
    }
  });

  test('delayed cable frames still render once, in the order sent', async () => {
    const marker = await markNoReload(agent);
    // Long enough that the burst and the look at the log fit inside it on a slow machine
    // (a burst takes well under a second; the test fails, not skips, if it took longer).
    const DELAY_MS = 6_000;
    const faults = await setFaults({ cable_delay_ms: DELAY_MS, cable_duplicate: true });
    assert.equal(faults.cable_delay_ms, DELAY_MS);
    try {
      const tag = uniqueText('delayed');
      const started = Date.now();
      const texts = await customerBurst(tag, 6, 'slow');
      const sentBy = Date.now();
      // The delay is real: nothing can be shown before the frames are released.
      const early = (await agentMessageTexts(agent)).filter((t) => t.includes(tag));
      const lookedBy = Date.now() - started;
      assert.ok(lookedBy < DELAY_MS - 500, `the burst and the look took ${lookedBy} ms, not inside the ${DELAY_MS} ms hold`);
      assert.deepEqual(early, [], `frames held back ${DELAY_MS} ms are not shown ${lookedBy} ms after the first send (no other path delivers them)`);
      await expectShownOnceInOrder(agent, tag, texts, { settleMs: 2_500 });
      // The faults were real on the wire: nothing about this burst arrived before the hold.
      const frames = wire.filter((f) => f.event === 'message.created' && f.content?.includes(tag));
      assert.ok(frames.length >= texts.length, 'fault precondition: the burst arrived on the wire');
      assert.ok(frames[0].at - started >= DELAY_MS - 100, `fault precondition: the first frame came ${frames[0].at - started} ms after the first send`);
      assert.ok(frames.at(-1).at - sentBy >= DELAY_MS - 1_000, 'fault precondition: the last frame came late');
      await assertNotReloaded(agent, marker);
    } finally {
      await resetFaults();
    }
  });

  test('server killed and restarted while the customer keeps sending: every message once, in order, no reload', async (t) => {
    await agent.locator(`${CONNECTION}[data-state=connected]`).waitFor();
    const marker = await markNoReload(agent);
    const tag = uniqueText('restart');
    // From here on the agent's new cable connections go through the test: refused (opened and
    // closed at once, as a server that is not there yet) until `cableBack`, then passed
    // through with every frame recorded. So the messages sent after the restart are sent
    // while the agent is certainly not subscribed: they can only come by the resync.
    let cableBack = false;
    let refused = 0;
    let passed = 0;
    await agent.routeWebSocket(/\/cable/, (ws) => {
      if (!cableBack) {
        refused += 1;
        ws.close();
        return;
      }
      passed += 1;
      const server = ws.connectToServer();
      server.onMessage((payload) => {
        try {
          const m = JSON.parse(String(payload)).message;
          if (m?.event) wire.push({ event: m.event, id: m.data?.id, content: m.data?.content, at: Date.now() });
        } catch {
          // not JSON: not ours to judge
        }
        ws.send(payload);
      });
    });

    // Seen live before anything happens.
    const beforeKill = await customerBurst(tag, 2, 'before');
    await expectShownOnceInOrder(agent, tag, beforeKill, { settleMs: 200 });

    // Sent right before the kill: the cable may die before their broadcasts are delivered.
    const atKill = await customerBurst(tag, 3, 'at-kill');
    await server.stop();
    await agent.locator(`${CONNECTION}[data-state=reconnecting]`).waitFor({ timeout: 15_000 });

    await server.restart({ samePort: true });
    // The server is back, the agent is not: its reconnects are refused.
    const afterRestart = await customerBurst(tag, 3, 'after-restart');
    assert.notEqual(await agent.locator(CONNECTION).getAttribute('data-state'), 'connected', 'the agent was not connected when the post-restart messages were sent');
    cableBack = true;

    await agent.locator(`${CONNECTION}[data-state=connected]`).waitFor({ timeout: 40_000 });
    // And live again once connected.
    const afterConnect = await customerBurst(tag, 2, 'after-connect');

    const all = [...beforeKill, ...atKill, ...afterRestart, ...afterConnect];
    await expectShownOnceInOrder(agent, tag, all, { timeoutMs: 20_000, settleMs: 1_500 });
    const live = new Set(wireCreated(tag));
    t.diagnostic(`reconnects refused while the cable was held back: ${refused}`);
    assert.ok(passed >= 1, 'the reconnect went through the gate (so the gate held the agent off)');
    assert.deepEqual(afterRestart.filter((x) => live.has(x)), [], 'the messages sent while the agent was away never came on its cable: they were shown by the resync');
    assert.deepEqual(afterConnect.filter((x) => !live.has(x)), [], 'fault precondition: the messages after the reconnect came live, so the wire record is complete');
    await assertNotReloaded(agent, marker);
  });

  test('typing: the customer typing shows on the agent and clears; the agent typing shows on the customer page', async () => {
    const conv = await server.api(`/api/v1/accounts/${accountId}/conversations/${conversationId}`);
    assert.equal(conv.status, 200, conv.text);
    const contactName = conv.json?.meta?.sender?.name;
    assert.ok(contactName, 'the conversation names its contact');
    const profile = await server.api('/api/v1/profile');
    assert.equal(profile.status, 200, profile.text);
    const agentNames = [profile.json.available_name, profile.json.name].filter(Boolean);

    await customer.goto(server.info.customerUrl);
    await customer.locator('#conn[data-state=connected]').waitFor({ timeout: 20_000 });
    await agent.locator(`${CONNECTION}[data-state=connected]`).waitFor();

    const indicator = agent.locator(TYPING);
    assert.equal((await indicator.textContent()).trim(), '', 'nobody types at first');

    // 1. The customer types: the agent sees who; it clears after the customer goes idle (4 s).
    await customer.locator('#input').click();
    await customer.locator('#input').pressSequentially('hel', { delay: 30 });
    await eventually(async () => (await indicator.textContent()).includes(`${contactName} is typing`), 10_000, `the agent shows "${contactName} is typing…" (shows "${await indicator.textContent()}")`);
    const typedAt = Date.now();
    await eventually(async () => (await indicator.textContent()).trim() === '', 12_000, `the typing indicator clears after the customer stops (shows "${await indicator.textContent()}")`);
    // Cleared by the customer's idle `off`, not the 30 s expiry.
    assert.ok(Date.now() - typedAt < 12_000);

    // 2. The customer types again and sends: the indicator clears with the message.
    await customer.locator('#input').pressSequentially(' there', { delay: 30 });
    await eventually(async () => (await indicator.textContent()).includes(`${contactName} is typing`), 10_000, 'the indicator shows again');
    const text = uniqueText('typed by the customer');
    await customer.locator('#input').fill(text);
    await customer.locator('#input').press('Enter');
    await agent.locator(MESSAGE, { hasText: text }).waitFor();
    await eventually(async () => (await indicator.textContent()).trim() === '', 3_000, `the indicator clears when the customer sends (shows "${await indicator.textContent()}")`);

    // 3. The agent types in the composer: the customer page says the agent is typing.
    const customerTyping = customer.locator('#typing');
    assert.equal((await customerTyping.textContent()).trim(), '');
    const composer = agent.locator('[data-testid=composer-input]');
    await composer.click();
    await composer.pressSequentially('Let me check', { delay: 30 });
    await eventually(
      async () => {
        const shown = (await customerTyping.textContent()).trim();
        return /is typing/.test(shown) && agentNames.some((n) => shown.includes(n));
      },
      10_000,
      `the customer page shows that ${agentNames[0]} is typing (shows "${await customerTyping.textContent()}")`,
    );
    // The agent goes idle: `off` after 4 s clears it on the customer page.
    await eventually(async () => (await customerTyping.textContent()).trim() === '', 12_000, `the customer page clears the agent's typing after idle (shows "${await customerTyping.textContent()}")`);
    await composer.fill('');
  });

  test('read receipts: the agent row turns read when the customer page reads', async () => {
    // The customer page must not be watching while the agent sends.
    await customer.goto('about:blank');
    const marker = await markNoReload(agent);
    const text = uniqueText('please read this');
    const input = agent.locator('[data-testid=composer-input]');
    await input.fill(text);
    await input.press('Enter');
    const row = agent.locator(MESSAGE, { hasText: text });
    await agent
      .locator(`${MESSAGE}[data-status=sent]`, { hasText: text })
      .or(agent.locator(`${MESSAGE}[data-status=delivered]`, { hasText: text }))
      .waitFor();
    assert.match((await row.getAttribute('data-id')) ?? '', /^\d+$/, 'confirmed with a server id');
    await sleep(1_000);
    assert.notEqual(await row.getAttribute('data-status'), 'read', 'not read while the customer page is closed');

    // The customer opens the page: it loads the messages and marks the conversation read.
    await customer.goto(server.info.customerUrl);
    await customer.locator('#messages .msg[data-sender=agent] .msg-text', { hasText: text }).waitFor();
    await agent.locator(`${MESSAGE}[data-status=read]`, { hasText: text }).waitFor({ timeout: 10_000 });

    // With the customer page open, the next reply turns read as soon as it arrives there.
    const second = uniqueText('read on arrival');
    await input.fill(second);
    await input.press('Enter');
    await customer.locator('#messages .msg[data-sender=agent] .msg-text', { hasText: second }).waitFor();
    await agent.locator(`${MESSAGE}[data-status=read]`, { hasText: second }).waitFor({ timeout: 10_000 });
    assert.equal(await agent.locator(MESSAGE, { hasText: second }).count(), 1);
    await assertNotReloaded(agent, marker);
  });

  test('no page errors on the agent page', () => {
    const benign = (e) => /favicon|ERR_CONNECTION_REFUSED|WebSocket connection|Failed to load resource|parley: /.test(e);
    assert.deepEqual(agent.errors.filter((e) => !benign(e)), [], 'agent page errors');
    assert.deepEqual(customer.errors.filter((e) => !benign(e)), [], 'customer page errors');
  });
});
