// Issue 2 §5: the built app served by parley-server, driven in real Chromium, talks to the
// customer page served by the same server; messages go both ways live, and history survives
// a reload and a server restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGENT_TOKEN, Server, agentMessageTexts, launchBrowser, newPage, uniqueText } from './harness.mjs';

const MESSAGE = '[data-testid=message]';

describe('agent and customer chat live', { timeout: 180_000 }, () => {
  let server;
  let browser;
  let agent;
  let customer;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await newPage(browser);
    customer = await newPage(browser);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('the server prints the fixed start-up lines', () => {
    const info = server.info;
    assert.equal(info.agentEmail, 'agent@parley.test');
    assert.equal(info.agentToken, AGENT_TOKEN, '--agent-token sets the printed token');
    assert.ok(info.agentPassword, 'agent password line');
    assert.match(info.agentUrl, /^http:\/\/127\.0\.0\.1:\d+\/app\/accounts\/\d+\/conversations\/\d+$/);
    assert.match(info.customerUrl, /^http:\/\/127\.0\.0\.1:\d+\/customer\/\?/);
    const ids = server.customerIds();
    assert.ok(ids.inbox && ids.contact && ids.conversation, `customer url carries inbox, contact, conversation: ${info.customerUrl}`);
    assert.notEqual(new URL(info.listeningOn).port, '0', '--port 0 prints the real port');
  });

  test('the agent url opens straight into the seeded conversation (no sign-in in demo mode)', async () => {
    await agent.goto(server.info.agentUrl);
    await agent.locator('[data-testid=chat-screen]').waitFor();
    assert.equal(await agent.locator('[data-testid=sign-in-form]').count(), 0, 'no sign-in form in demo mode');
    await agent.locator(MESSAGE).first().waitFor();
    const header = (await agent.locator('[data-testid=conversation-header]').textContent()).trim();
    assert.ok(header.length > 0, 'the header names the contact');
    assert.equal(await agent.locator('[data-testid=message-list]').getAttribute('role'), 'log');
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    // Every row carries the attributes the contract promises.
    const rows = await agent.locator(MESSAGE).evaluateAll((els) =>
      els.map((el) => ({ id: el.dataset.id, type: el.dataset.type, status: el.dataset.status, private: el.dataset.private })),
    );
    for (const row of rows) {
      assert.ok(['incoming', 'outgoing', 'activity', 'template'].includes(row.type), `data-type ${row.type}`);
      assert.ok(['true', 'false'].includes(row.private), `data-private ${row.private}`);
      assert.match(row.id, /^\d+$/, 'seeded rows have server ids');
    }
  });

  test('the customer page connects', async () => {
    await customer.goto(server.info.customerUrl);
    await customer.locator('#conn[data-state=connected]').waitFor();
    await customer.locator('#messages .msg').first().waitFor();
  });

  test('agent → customer: Enter sends, the row turns sent, the customer sees it live', async () => {
    const text = uniqueText('hello from the agent');
    const input = agent.locator('[data-testid=composer-input]');
    await input.fill(text);
    await input.press('Enter');
    const row = agent.locator(MESSAGE, { hasText: text });
    await row.waitFor();
    assert.equal(await row.count(), 1, 'one row for one send');
    assert.equal(await row.getAttribute('data-type'), 'outgoing');
    assert.match((await row.getAttribute('data-echo-id')) ?? '', /^[0-9a-f-]{36}$/, 'optimistic row carries its echo_id');
    await agent.locator(`${MESSAGE}[data-status=sent]`, { hasText: text }).or(agent.locator(`${MESSAGE}[data-status=delivered]`, { hasText: text })).or(agent.locator(`${MESSAGE}[data-status=read]`, { hasText: text })).waitFor();
    assert.match(await row.getAttribute('data-id'), /^\d+$/, 'confirmed row has its server id');
    assert.equal(await input.inputValue(), '', 'the composer is cleared after sending');

    const seen = customer.locator('#messages .msg[data-sender=agent] .msg-text', { hasText: text });
    await seen.waitFor();
    assert.equal(await seen.count(), 1, 'the customer sees it once');
    assert.equal(await agent.locator(MESSAGE, { hasText: text }).count(), 1, 'still one row after the cable echo');
  });

  test('customer → agent: the agent sees it live, without reloading', async () => {
    // A marker on the window dies with a reload: if it survives, the row came in live.
    await agent.evaluate(() => {
      window.__e2eNoReload = true;
    });
    const text = uniqueText('hello from the customer');
    await customer.locator('#input').fill(text);
    await customer.locator('#send').click();
    await customer.locator('#messages .msg[data-sender=customer] .msg-text', { hasText: text }).waitFor();

    const row = agent.locator(MESSAGE, { hasText: text });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-type'), 'incoming');
    assert.equal(await row.count(), 1);
    assert.equal(await agent.evaluate(() => window.__e2eNoReload === true), true, 'the agent page was not reloaded');
  });

  test('a reload of the agent page shows the same history', async () => {
    const before = await agentMessageTexts(agent);
    assert.ok(before.length >= 2);
    await agent.reload();
    await agent.locator('[data-testid=chat-screen]').waitFor();
    const last = before[before.length - 1];
    await agent.locator(MESSAGE, { hasText: last }).waitFor();
    const afterReload = await agentMessageTexts(agent);
    // The list is virtualized: how many older rows are rendered above the newest depends
    // on the layout of the moment. The newest rows, all that both renders hold, are the same.
    const n = Math.min(before.length, afterReload.length);
    assert.ok(n >= 8, `both renders show the newest rows (${before.length} and ${afterReload.length})`);
    assert.deepEqual(afterReload.slice(-n), before.slice(-n), 'same rows in the same order after a reload');
  });

  test('history survives a server restart on the same data dir', async () => {
    const before = await agentMessageTexts(agent);
    await server.restart({ samePort: true });
    await agent.reload();
    await agent.locator('[data-testid=chat-screen]').waitFor();
    await agent.locator(MESSAGE, { hasText: before[before.length - 1] }).waitFor();
    // Virtualized, as above: the newest rows that both renders hold are the same.
    const afterRestart = await agentMessageTexts(agent);
    const n = Math.min(before.length, afterRestart.length);
    assert.ok(n >= 8, `both renders show the newest rows (${before.length} and ${afterRestart.length})`);
    assert.deepEqual(afterRestart.slice(-n), before.slice(-n), 'same rows in the same order after a restart');
    // The customer page sees the agent's earlier message after its own reload too.
    await customer.reload();
    await customer.locator('#conn[data-state=connected]').waitFor();
    const customerTexts = await customer.locator('#messages .msg .msg-text').allTextContents();
    assert.ok(customerTexts.some((t) => t.includes('hello from the agent')), 'customer history kept');
  });

  test('no page errors on either side', () => {
    const benign = (e) => /favicon|ERR_CONNECTION_REFUSED|WebSocket connection/.test(e);
    assert.deepEqual(agent.errors.filter((e) => !benign(e)), [], 'agent page errors');
    assert.deepEqual(customer.errors.filter((e) => !benign(e)), [], 'customer page errors');
  });
});
