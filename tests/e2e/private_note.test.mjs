// Private notes (issue 4's composer modes, issue 3's `is_private` typing): a note is shown
// to the agent as a private note and never reaches the customer; typing while writing one
// is sent with `is_private: true`, which the customer's page ignores.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

const MESSAGE = '[data-testid=message]';

describe('private notes', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let agent;
  let customer;
  /** Every cable frame the customer's page received, parsed. */
  const customerFrames = [];

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await newPage(browser);
    customer = await newPage(browser);
    customer.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        try {
          customerFrames.push(JSON.parse(payload));
        } catch {
          // not JSON: not ours
        }
      }),
    );
    await customer.goto(server.info.customerUrl);
    await customer.locator('#conn[data-state=connected]').waitFor();
    await agent.goto(server.info.agentUrl);
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  const typingEvents = () =>
    customerFrames
      .map((f) => f.message)
      .filter((m) => m && typeof m === 'object' && String(m.event).startsWith('conversation.typing_'));

  test('typing a note is sent as private, and the customer hears nothing of it', async () => {
    const typingPosts = [];
    agent.on('request', (req) => {
      if (req.url().endsWith('/toggle_typing_status')) typingPosts.push(JSON.parse(req.postData()));
    });
    await agent.locator('[data-testid=mode-private]').click();
    assert.equal(await agent.locator('[data-testid=mode-private]').getAttribute('aria-pressed'), 'true');
    await agent.locator('[data-testid=composer-input]').pressSequentially('checking the warehouse', { delay: 20 });
    await agent.waitForFunction(() => true);
    const deadline = Date.now() + 5_000;
    while (!typingPosts.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(typingPosts[0], { typing_status: 'on', is_private: true }, 'typing in a note is private');
    assert.equal(typingPosts.filter((p) => p.typing_status === 'on').length, 1, 'one "on" per burst');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(typingEvents(), [], 'no typing frame reached the customer');
    assert.equal((await customer.locator('#typing').textContent()).trim(), '', 'the customer sees no typing');
  });

  test('a note shows as private to the agent and never reaches the customer', async () => {
    const note = uniqueText('internal: refund approved');
    const input = agent.locator('[data-testid=composer-input]');
    await input.fill(note);
    await input.press('Enter');
    const row = agent.locator(MESSAGE, { hasText: note });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-private'), 'true');
    assert.match(await row.textContent(), /Private note/);
    await agent.locator(`${MESSAGE}[data-private=true][data-id]:not([data-id=""])`, { hasText: note }).waitFor();

    // A reply after it does reach the customer: once it is there, the note had its chance.
    await agent.locator('[data-testid=mode-reply]').click();
    const reply = uniqueText('your refund is on its way');
    await input.fill(reply);
    await input.press('Enter');
    await customer.locator('#messages .msg .msg-text', { hasText: reply }).waitFor();
    assert.equal(await customer.locator('#messages', { hasText: note }).count(), 0, 'the note is not on the customer page');
    assert.ok(!customerFrames.some((f) => JSON.stringify(f).includes(note)), 'no frame to the customer carried the note');
    // And after a reload of the customer page, its history has no note either.
    await customer.reload();
    await customer.locator('#messages .msg .msg-text', { hasText: reply }).waitFor();
    assert.equal(await customer.locator('#messages', { hasText: note }).count(), 0);
  });

  test('no page errors', () => {
    assert.deepEqual([...agent.errors, ...customer.errors].filter((e) => !/favicon/.test(e)), []);
  });
});
