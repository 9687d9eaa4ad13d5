// Editing a sent message (issue 4): parley-server's edit extension; the agent edits their
// own message in place, it shows "edited" with what it said before, and watchers (another
// agent page, the customer) see the new text live. Against a backend without the
// extension (a real Chatwoot answers 404 to the capabilities), no Edit is offered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, agentSend, confirmedRow, launchBrowser, newPage, openAgent, openCustomer, uniqueText } from './harness.mjs';

const MESSAGE = '[data-testid=message]';

describe('editing a sent message', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let agent;
  let watcher;
  let customer;
  const before_ = uniqueText('the parcel ships on Monday');
  const after_ = uniqueText('the parcel ships on Tuesday');

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await openAgent(browser, server);
    watcher = await openAgent(browser, server);
    customer = await openCustomer(browser, server);
    await agentSend(agent, before_);
    await customer.locator('#messages .msg .msg-text', { hasText: before_ }).waitFor();
    // The customer may see it before the agent's row is confirmed (and has its id).
    await confirmedRow(agent, before_).waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('Edit, then Enter saves: the row says "edited", watchers see it live', async () => {
    const row = agent.locator(MESSAGE, { hasText: before_ });
    const id = await row.getAttribute('data-id');
    assert.match(id, /^\d+$/, 'a confirmed row');
    await row.hover();
    await row.locator('[data-testid=edit-message]').click();
    const box = agent.locator('[data-testid=message-editor] textarea');
    await box.waitFor();
    assert.equal(await box.inputValue(), before_);
    await box.fill(after_);
    await box.press('Enter');
    const edited = agent.locator(`${MESSAGE}[data-id="${id}"]`);
    await edited.locator('[data-testid=edited]').waitFor();
    assert.match(await edited.locator('[data-testid=message-content]').textContent(), /Tuesday/);
    assert.match(await edited.locator('[data-testid=edited]').getAttribute('title'), /Monday/);
    await watcher.locator(`${MESSAGE}[data-id="${id}"]`, { hasText: after_ }).locator('[data-testid=edited]').waitFor();
    await customer.locator('#messages .msg .msg-text', { hasText: after_ }).waitFor();
    const res = await server.api('/api/v1/accounts/1/conversations/1/messages');
    const m = res.json.payload.find((x) => String(x.id) === id);
    assert.equal(m.content, after_);
    assert.equal(m.content_attributes.edited.previous.at(-1).content, before_);
  });

  test('Escape cancels without a change', async () => {
    const row = agent.locator(MESSAGE, { hasText: after_ });
    await row.hover();
    await row.locator('[data-testid=edit-message]').click();
    const box = agent.locator('[data-testid=message-editor] textarea');
    await box.fill('never saved');
    await box.press('Escape');
    await agent.locator('[data-testid=message-editor]').waitFor({ state: 'detached' });
    assert.match(await row.locator('[data-testid=message-content]').textContent(), /Tuesday/);
  });

  test('a message still in the outbox can be edited, and goes out as edited, once', async () => {
    const page = await openAgent(browser, server);
    const typed = uniqueText('typed offline with a tpyo');
    const fixed = uniqueText('typed offline, fixed');
    await page.context().setOffline(true);
    try {
      // Until the app knows it is offline the row would say "sending", with no Edit.
      await page.locator('[data-testid=connection-state][data-state=offline]').waitFor();
      const input = page.locator('[data-testid=composer-input]');
      await input.fill(typed);
      await input.press('Enter');
      const row = page.locator(`${MESSAGE}[data-status=queued]`, { hasText: typed });
      await row.waitFor();
      await row.hover();
      await row.locator('[data-testid=edit-message]').click();
      const box = page.locator('[data-testid=message-editor] textarea');
      await box.fill(fixed);
      await box.press('Enter');
      await page.locator(`${MESSAGE}[data-status=queued]`, { hasText: fixed }).waitFor();
    } finally {
      await page.context().setOffline(false);
    }
    await confirmedRow(page, fixed).waitFor({ timeout: 30_000 });
    const res = await server.api('/api/v1/accounts/1/conversations/1/messages');
    assert.equal(res.json.payload.filter((m) => m.content === fixed).length, 1, 'the edited text, once');
    assert.equal(res.json.payload.filter((m) => m.content === typed).length, 0, 'never the first text');
    await page.context().close();
  });

  test('against a backend without the extension, no Edit is offered', async () => {
    const page = await newPage(browser);
    // What a real Chatwoot answers to the capabilities endpoint.
    await page.route('**/api/v1/parley/capabilities', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"Resource could not be found"}' }),
    );
    await page.goto(server.info.agentUrl);
    const row = page.locator(MESSAGE, { hasText: after_ });
    await row.waitFor();
    await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    await row.hover();
    await row.locator('[data-testid=delete-message]').waitFor();
    assert.equal(await row.locator('[data-testid=edit-message]').count(), 0);
    await page.context().close();
  });

  test('no page errors', () => {
    assert.deepEqual([...agent.errors, ...watcher.errors, ...customer.errors].filter((e) => !/favicon/.test(e)), []);
  });
});
