// Issue 3, long conversations: a 10,000-message history opens at the bottom with a bounded
// DOM, day separators and the unread divider are rows, older history loads upward without
// moving what the agent reads, and a message arriving while the agent reads above shows a
// "new messages" pill instead of yanking the view.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, makeLongConversation, newPage, uniqueText } from './harness.mjs';

const MESSAGE = '[data-testid=message]';
const COUNT = 10_000;
/// The list renders at most this many rows (src/ui/message_list.rs MAX_ROWS).
const MAX_ROWS = 120;

describe('a 10,000-message conversation', { timeout: 240_000 }, () => {
  let server;
  let browser;
  let agent;
  let long;

  before(async () => {
    server = await Server.start({ demo: true });
    long = await makeLongConversation(server, COUNT);
    browser = await launchBrowser();
    agent = await newPage(browser);
    const url = new URL(server.info.agentUrl);
    url.pathname = `/app/accounts/1/conversations/${long.conversation_id}`;
    await agent.goto(url.href);
    await agent.locator(`${MESSAGE}[data-id="${long.last_message_id}"]`).waitFor();
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  const listBox = () =>
    agent.locator('[data-testid=message-list]').evaluate((el) => ({
      scrollTop: el.scrollTop,
      scrollHeight: el.scrollHeight,
      clientHeight: el.clientHeight,
      rows: el.querySelectorAll('.parley-row').length,
      messages: el.querySelectorAll('[data-testid=message]').length,
    }));

  const inView = (id) =>
    agent.locator(`${MESSAGE}[data-id="${id}"]`).evaluate((el) => {
      const list = el.closest('[data-testid=message-list]').getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.bottom > list.top && r.top < list.bottom;
    });

  test('opens at the newest message, with the unread divider above the unread part', async () => {
    assert.ok(await inView(long.last_message_id), 'the newest message is on screen');
    const box = await listBox();
    assert.ok(box.scrollHeight - box.scrollTop - box.clientHeight < 60, `at the bottom: ${JSON.stringify(box)}`);
    // The seed leaves the last five messages unread; three of them are the customer's.
    const divider = agent.locator('[data-testid=unread-divider]');
    assert.equal((await divider.textContent()).trim(), '3 unread messages');
  });

  test('the DOM holds a bounded window of rows, not the history', async () => {
    const box = await listBox();
    assert.ok(box.rows <= MAX_ROWS, `${box.rows} rows in the DOM`);
    assert.ok(box.messages >= 5, `${box.messages} messages rendered`);
    // Scroll up through what is loaded, half a screen at a time (stopping short of the
    // history trigger): the window moves with the view and stays bounded, and the top of
    // what is loaded opens with its day, a separator row like any other.
    const seen = await agent.locator('[data-testid=message-list]').evaluate(async (el) => {
      const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const steps = [];
      for (let y = el.scrollHeight; y > 800; y -= el.clientHeight / 2) {
        el.scrollTop = y - el.clientHeight;
        await frame();
        steps.push({
          rows: el.querySelectorAll('.parley-row').length,
          first: el.querySelector('[data-testid=message]')?.dataset.id,
          separators: el.querySelectorAll('[data-testid=day-separator]').length,
        });
      }
      return steps;
    });
    assert.ok(seen.length >= 2, `scrolled in ${seen.length} steps`);
    for (const s of seen) assert.ok(s.rows <= MAX_ROWS, `${s.rows} rows while scrolling`);
    assert.notEqual(seen[0].first, seen.at(-1).first, 'rows were swapped as the view moved');
    assert.ok(seen.at(-1).separators >= 1, `a day separator near the top: ${JSON.stringify(seen.at(-1))}`);
  });

  test('older history loads upward and the message being read stays where it was', async () => {
    const list = agent.locator('[data-testid=message-list]');
    const frames = () => agent.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    // Until the log has stopped moving: the scroll position and the rows unchanged over
    // five frames (rows rendered by a scroll are measured and settled a frame or two later).
    const still = () =>
      agent.evaluate(async () => {
        const el = document.querySelector('[data-testid=message-list]');
        const snap = () => JSON.stringify([el.scrollTop, el.scrollHeight, [...el.querySelectorAll('[data-testid=message]')].map((r) => [r.dataset.id, Math.round(r.getBoundingClientRect().top)])]);
        let last = snap();
        for (let same = 0, i = 0; same < 5 && i < 300; i++) {
          await new Promise((r) => requestAnimationFrame(r));
          const now = snap();
          same = now === last ? same + 1 : 0;
          last = now;
        }
      });
    for (let page = 0; page < 3; page++) {
      const loaded = await agent.evaluate(() => document.querySelector('[data-testid=message-list]').scrollHeight);
      // Read a message a little below the history trigger...
      await list.evaluate((el) => {
        el.scrollTop = 1000;
      });
      await still();
      const anchor = await list.evaluate((el) => {
        const top = el.getBoundingClientRect().top;
        const row = [...el.querySelectorAll('[data-testid=message]')].find((r) => r.getBoundingClientRect().top > top + 20);
        return { id: row.dataset.id, y: row.getBoundingClientRect().top, scrollTop: el.scrollTop };
      });
      // ...then scroll up into the trigger: the page lands above, and the message must be
      // lower by exactly the distance scrolled, not pushed down by the new rows.
      const scrolled = await list.evaluate((el) => {
        el.scrollTop = 300;
        return el.scrollTop;
      });
      await agent.waitForFunction((h) => document.querySelector('[data-testid=message-list]').scrollHeight > h + 500, loaded);
      await still();
      const y = await agent.locator(`${MESSAGE}[data-id="${anchor.id}"]`).evaluate((el) => el.getBoundingClientRect().top);
      const expected = anchor.y + (anchor.scrollTop - scrolled);
      assert.ok(Math.abs(y - expected) < 2, `page ${page}: message ${anchor.id} at ${y}, expected ${expected}`);
    }
    const box = await listBox();
    assert.ok(box.rows <= MAX_ROWS, `${box.rows} rows after loading history`);
  });

  test('a message arriving while the agent reads above shows a pill, not a jump', async () => {
    const list = agent.locator('[data-testid=message-list]');
    const before = await list.evaluate((el) => el.scrollTop);
    const text = uniqueText('while you were reading');
    await server.customerSend(text, { conversationId: long.conversation_id });
    const pill = agent.locator('[data-testid=new-messages-pill]');
    await pill.waitFor();
    assert.equal((await pill.textContent()).replace('↓', '').trim(), '1 new message');
    assert.ok(Math.abs((await list.evaluate((el) => el.scrollTop)) - before) < 4, 'the view did not move');
    // The live region announces it for screen readers.
    await agent.waitForFunction(
      (t) => document.querySelector('[data-testid=announcer]').textContent.includes(t),
      text,
    );
    await pill.click();
    await agent.locator(MESSAGE, { hasText: text }).waitFor();
    await agent.waitForFunction(() => !document.querySelector('[data-testid=new-messages-pill]'));
  });

  test('at the bottom, a new message scrolls into view by itself', async () => {
    const text = uniqueText('follow me');
    await server.customerSend(text, { conversationId: long.conversation_id });
    const row = agent.locator(MESSAGE, { hasText: text });
    await row.waitFor();
    const id = await row.getAttribute('data-id');
    await agent.waitForFunction(
      (id) => {
        const el = document.querySelector(`[data-testid=message][data-id="${id}"]`);
        const list = el.closest('[data-testid=message-list]').getBoundingClientRect();
        return el.getBoundingClientRect().bottom <= list.bottom + 1;
      },
      id,
    );
    assert.equal(await agent.locator('[data-testid=new-messages-pill]').count(), 0);
  });

  test('focus on a row\'s button stays there while the rows above change', async () => {
    // A keyboard user on a message's Reply button scrolls up: rows enter above, the rows
    // that stay are moved in the DOM, and focus must not fall to the page.
    const result = await agent.evaluate(async () => {
      const list = document.querySelector('[data-testid=message-list]');
      const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50))));
      const outcomes = [];
      for (const delta of [-200, -400, -400]) {
        const buttons = [...list.querySelectorAll('[data-testid=reply-message]')];
        const button = buttons[Math.floor(buttons.length / 2)];
        if (!button) return { error: 'no Reply button in the log' };
        button.focus({ preventScroll: true });
        const before = list.scrollTop;
        list.scrollTop += delta;
        await frames();
        await new Promise((r) => setTimeout(r, 50)); // past the keeper's check of a real blur
        outcomes.push({ kept: document.activeElement === button, moved: list.scrollTop - before });
      }
      return { outcomes };
    });
    assert.ok(!result.error, result.error);
    for (const [i, o] of result.outcomes.entries()) {
      assert.ok(o.kept, `scroll ${i + 1} (${o.moved} px): focus stays on the Reply button (${JSON.stringify(result.outcomes)})`);
    }
    // A real blur is not undone: focus taken to the page stays there.
    await agent.evaluate(() => document.activeElement.blur());
    await agent.locator('[data-testid=message-list]').evaluate((el) => { el.scrollTop -= 400; });
    await agent.waitForTimeout(200);
    assert.equal(await agent.evaluate(() => document.activeElement.tagName), 'BODY');
  });

  test('no page errors', () => {
    assert.deepEqual(agent.errors.filter((e) => !/favicon/.test(e)), []);
  });
});
