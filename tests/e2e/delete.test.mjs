// Deleting a sent message (issue 4): only the agent's own, only after confirming; the
// server soft-deletes it as Chatwoot does, and everyone watching sees it deleted, live.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, agentSend, confirmedRow, launchBrowser, openAgent, openCustomer, uniqueText } from './harness.mjs';

const MESSAGE = '[data-testid=message]';

describe('deleting a sent message', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let agent;
  let watcher;
  let customer;
  const text = uniqueText('sent by mistake');

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await openAgent(browser, server);
    watcher = await openAgent(browser, server);
    customer = await openCustomer(browser, server);
    await agentSend(agent, text);
    await confirmedRow(agent, text).waitFor();
    await customer.locator('#messages .msg .msg-text', { hasText: text }).waitFor();
    await watcher.locator(MESSAGE, { hasText: text }).waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test("only the agent's own sent messages offer Delete", async () => {
    const own = agent.locator(MESSAGE, { hasText: text });
    assert.equal(await own.locator('[data-testid=delete-message]').count(), 1);
    // The customer's messages do not.
    const theirs = agent.locator(`${MESSAGE}[data-type=incoming]`).first();
    assert.equal(await theirs.locator('[data-testid=delete-message]').count(), 0);
  });

  test('from the keyboard: the confirmation opens on Cancel, Escape closes it and focus goes back to Delete', async () => {
    const row = agent.locator(MESSAGE, { hasText: text });
    const del = row.locator('[data-testid=delete-message]');
    await del.focus();
    await agent.keyboard.press('Enter');
    await row.locator('[data-testid=confirm-delete]').waitFor();
    assert.equal(await agent.evaluate(() => document.activeElement?.dataset.testid), 'cancel-delete', 'the safe answer has the focus');
    await agent.keyboard.press('Escape');
    await del.waitFor();
    assert.equal(await agent.evaluate(() => document.activeElement?.dataset.testid), 'delete-message');
    assert.equal(await row.locator('[data-testid=confirm-delete]').count(), 0);
    // Space on Cancel does the same.
    await agent.keyboard.press('Enter');
    await row.locator('[data-testid=cancel-delete]').waitFor();
    await agent.keyboard.press(' ');
    await del.waitFor();
    assert.equal(await agent.evaluate(() => document.activeElement?.dataset.testid), 'delete-message');
  });

  test('Cancel keeps it; Delete after confirming deletes it for everyone, live', async () => {
    const row = agent.locator(MESSAGE, { hasText: text });
    await row.hover();
    await row.locator('[data-testid=delete-message]').click();
    await row.locator('[data-testid=cancel-delete]').click();
    assert.equal(await row.locator('[data-testid=delete-message]').count(), 1, 'cancelled: still there');

    const id = await row.getAttribute('data-id');
    await row.hover();
    await row.locator('[data-testid=delete-message]').click();
    await row.locator('[data-testid=confirm-delete]').click();
    const deleted = (page) => page.locator(`${MESSAGE}.parley-message-deleted[data-id="${id}"]`);
    await deleted(agent).waitFor();
    assert.match(await deleted(agent).textContent(), /This message was deleted/);
    assert.equal(await deleted(agent).locator('[data-testid=delete-message]').count(), 0, 'nothing left to delete');
    // Another agent's page and the customer's page see it live.
    await deleted(watcher).waitFor();
    await customer.locator('#messages .msg .msg-text', { hasText: 'This message was deleted' }).waitFor();
    assert.equal(await customer.locator('#messages .msg .msg-text', { hasText: text }).count(), 0);
    // And the server holds it deleted.
    const res = await server.api('/api/v1/accounts/1/conversations/1/messages');
    const m = res.json.payload.find((x) => String(x.id) === id);
    assert.equal(m.content_attributes.deleted, true);
  });

  test('no page errors', () => {
    assert.deepEqual([...agent.errors, ...watcher.errors, ...customer.errors].filter((e) => !/favicon/.test(e)), []);
  });
});
