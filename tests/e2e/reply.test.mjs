// Reply-to (issue 4): the agent replies to a specific message; the composer shows what is
// replied to; the sent message carries `content_attributes.in_reply_to` and shows a quote
// that brings the original into view; another agent's page shows the quote live.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, confirmedRow, launchBrowser, openAgent, openCustomer, uniqueText } from './harness.mjs';

const MESSAGE = '[data-testid=message]';

describe('replying to a message', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let agent;
  let watcher;
  let customer;
  const question = uniqueText('which adapter fits');
  const answer = uniqueText('the USB-C one');

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await openAgent(browser, server);
    watcher = await openAgent(browser, server);
    customer = await openCustomer(browser, server);
    await server.customerSend(question);
    await agent.locator(MESSAGE, { hasText: question }).waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('Reply shows what is replied to in the composer, and Escape cancels it', async () => {
    const original = agent.locator(MESSAGE, { hasText: question });
    await original.hover();
    await original.locator('[data-testid=reply-message]').click();
    const banner = agent.locator('[data-testid=replying-to]');
    await banner.waitFor();
    assert.match(await banner.textContent(), new RegExp(question.split(' ')[0]));
    const input = agent.locator('[data-testid=composer-input]');
    assert.equal(await agent.evaluate(() => document.activeElement?.dataset.testid), 'composer-input', 'the caret is in the composer');
    await input.press('Escape');
    await banner.waitFor({ state: 'detached' });
  });

  test('the reply carries in_reply_to and shows a quote, on every agent page', async () => {
    const original = agent.locator(MESSAGE, { hasText: question });
    const originalId = await original.getAttribute('data-id');
    await original.hover();
    await original.locator('[data-testid=reply-message]').click();
    const input = agent.locator('[data-testid=composer-input]');
    await input.fill(answer);
    await input.press('Enter');
    await agent.locator('[data-testid=replying-to]').waitFor({ state: 'detached' });
    const reply = agent.locator(MESSAGE, { hasText: answer });
    await reply.locator(`[data-testid=reply-quote][data-reply-to="${originalId}"]`).waitFor();
    assert.match(await reply.locator('[data-testid=reply-quote]').textContent(), /which adapter fits/);
    await confirmedRow(agent, answer).waitFor();
    const res = await server.api('/api/v1/accounts/1/conversations/1/messages');
    const stored = res.json.payload.find((m) => m.content === answer);
    assert.equal(String(stored.content_attributes.in_reply_to), originalId);
    await watcher.locator(MESSAGE, { hasText: answer }).locator(`[data-testid=reply-quote][data-reply-to="${originalId}"]`).waitFor();
    // The customer gets the reply live too.
    await customer.locator('#messages .msg .msg-text', { hasText: answer }).waitFor();
  });

  test('a click on the quote brings an old original back into view', async () => {
    // Reply to the first message of the conversation, at the top of the history.
    const list = agent.locator('[data-testid=message-list]');
    await list.evaluate((el) => {
      el.scrollTop = 0;
    });
    await agent.locator('.parley-history-edge', { hasText: 'Start of the conversation' }).waitFor();
    const firstId = await agent.locator(`${MESSAGE}[data-type=incoming]`).first().getAttribute('data-id');
    // By its id from here: the virtualized window may still move, and `.first()` with it.
    const first = agent.locator(`${MESSAGE}[data-id="${firstId}"]`);
    await first.hover();
    await first.locator('[data-testid=reply-message]').click();
    const text = uniqueText('about your first message');
    const input = agent.locator('[data-testid=composer-input]');
    await input.fill(text);
    await input.press('Enter');
    // The own send brings the log to the bottom, where the reply is; the original is far up.
    const quote = agent.locator(MESSAGE, { hasText: text }).locator(`[data-testid=reply-quote][data-reply-to="${firstId}"]`);
    await quote.waitFor();
    const inView = (id) =>
      agent.evaluate((id) => {
        const row = document.querySelector(`[data-testid=message][data-id="${id}"]`);
        if (!row) return false;
        const list = row.closest('[data-testid=message-list]').getBoundingClientRect();
        const r = row.getBoundingClientRect();
        return r.top >= list.top && r.bottom <= list.bottom;
      }, id);
    await agent.waitForFunction(() => {
      const el = document.querySelector('[data-testid=message-list]');
      return el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    });
    assert.equal(await inView(firstId), false, 'the original is out of view before the click');
    await quote.click();
    await agent.waitForFunction((id) => {
      const row = document.querySelector(`[data-testid=message][data-id="${id}"]`);
      if (!row) return false;
      const list = row.closest('[data-testid=message-list]').getBoundingClientRect();
      const r = row.getBoundingClientRect();
      return r.top >= list.top && r.bottom <= list.bottom;
    }, firstId);
  });

  test('no page errors', () => {
    assert.deepEqual([...agent.errors, ...watcher.errors, ...customer.errors].filter((e) => !/favicon/.test(e)), []);
  });
});
