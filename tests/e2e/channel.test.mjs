// Issue 16, points 6 and 7: what a channel (WhatsApp, ...) does to a conversation. A fake
// Chatwoot (tests/e2e/fake_upstream.mjs) in front of a real parley-server says what
// parley-server never does; the app talks to it through `parley-server --upstream`.
// 7: outside the reply window Chatwoot's conversation says `can_reply: false`: the composer says
// why and writes private notes only; a `conversation.updated` on the cable (or a reload) that
// says `can_reply: true` opens replies again.
// 6: a reply the channel failed to deliver shows Chatwoot's `external_error`; Retry calls
// `POST .../messages/{id}/retry`; `message.updated` moves the status on live.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seriousViolations } from './audit.mjs';
import { FakeUpstream } from './fake_upstream.mjs';
import { Server, launchBrowser, makeLongConversation, newPage } from './harness.mjs';

/** The fake Chatwoot, which also notes every request that passes (method and path). */
class RecordingUpstream extends FakeUpstream {
  constructor() {
    super();
    this.requests = [];
  }

  forward(req, res) {
    const path = new URL(req.url, 'http://x').pathname;
    this.requests.push(`${req.method} ${path}`);
    if (this.refuseRetry && req.method === 'POST' && path.endsWith('/retry')) {
      // Chatwoot's `render_could_not_create_error`.
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Could not create' }));
      return;
    }
    super.forward(req, res);
  }
}

// As WhatsApp Cloud words a message outside the window (`content_attributes.external_error`).
const CHANNEL_ERROR = '(#131047) Re-engagement message: more than 24 hours have passed';
const CLOSED = "The customer's reply window has closed (it opens again when they write): only private notes can be written.";

describe('the reply window', { timeout: 180_000 }, () => {
  let upstream;
  let fake;
  let proxy;
  let browser;
  let agent;
  let conv;
  // What the fake Chatwoot says of the conversation's window on a REST load.
  let canReply = false;
  // A reply the channel refused, while the fake Chatwoot says so.
  let failed = null;
  let failing = true;

  before(async () => {
    fake = new RecordingUpstream();
    await fake.start();
    upstream = await Server.start({ demo: true, extraArgs: ['--public-url', fake.url] });
    fake.target = new URL(upstream.baseUrl);
    conv = await makeLongConversation(upstream, 3);
    const path = `/api/v1/accounts/1/conversations/${conv.conversation_id}`;
    const res = await upstream.api(`${path}/messages`, { method: 'POST', body: { content: 'a reply the channel refused', private: false } });
    assert.equal(res.status, 200, res.text);
    failed = res.json;
    const refuse = (m) => (failing && m.id === failed.id
      ? { ...m, status: 'failed', content_attributes: { external_error: CHANNEL_ERROR } }
      : m);
    fake.rewriter = (url) => {
      if (url.pathname === path) return (body) => ({ ...body, can_reply: canReply });
      if (url.pathname === `${path}/messages`) return (body) => ({ ...body, payload: body.payload.map(refuse) });
      return null;
    };
    proxy = await Server.start({ demo: false, agentToken: null, testControls: false, extraArgs: ['--upstream', fake.url] });
    browser = await launchBrowser();
    agent = await newPage(browser);
    await agent.goto(`${proxy.baseUrl}/app/accounts/1/conversations/${conv.conversation_id}`);
    await agent.locator('input[name=email]').fill(upstream.info.agentEmail);
    const password = agent.locator('input[name=password]');
    await password.fill(upstream.info.agentPassword);
    await password.evaluate((el) => el.form.requestSubmit());
    await agent.locator('[data-testid=chat-screen]').waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await proxy?.dispose();
    await fake?.stop();
    await upstream?.dispose();
  });

  const notice = () => agent.locator('[data-testid=reply-window-closed]');
  const replyMode = () => agent.locator('[data-testid=mode-reply]');
  const privateMode = () => agent.locator('[data-testid=mode-private]');

  /** `conversation.updated` as Chatwoot broadcasts it (`push_event_data` + account_id). */
  const updated = (can_reply) => fake.push('conversation.updated', {
    id: conv.conversation_id, account_id: 1, inbox_id: 1, status: 'open', can_reply,
    additional_attributes: {}, custom_attributes: {}, labels: [], messages: [], unread_count: 0,
    meta: { sender: { id: 5, name: 'Ada', type: 'contact' }, channel: 'Channel::Whatsapp' },
  });

  test('can_reply false: the composer says why and writes private notes only', async () => {
    await notice().waitFor();
    assert.equal((await notice().textContent()).trim(), CLOSED);
    assert.equal(await privateMode().getAttribute('aria-pressed'), 'true');
    assert.equal(await replyMode().isDisabled(), true, 'the reply mode cannot be chosen');
    assert.equal(await replyMode().getAttribute('aria-describedby'), 'parley-reply-closed');
    for (const scheme of ['light', 'dark']) {
      await agent.emulateMedia({ colorScheme: scheme });
      const found = await seriousViolations(agent);
      assert.deepEqual(found, [], `${scheme}: ${found.map((v) => `${v.id} ${v.nodes.join('; ')}`).join('\n')}`);
    }
    await agent.emulateMedia({ colorScheme: 'light' });

    // What is written goes out as a private note.
    const input = agent.locator('[data-testid=composer-input]');
    await input.fill('a note while the window is closed');
    await input.press('Enter');
    const row = agent.locator('[data-testid=message]', { hasText: 'a note while the window is closed' });
    // Confirmed by the server (a row with a server id), and private.
    await agent.locator('[data-testid=message][data-status=sent][data-private=true]', { hasText: 'a note while the window is closed' }).waitFor();
    assert.equal(await row.count(), 1);
    const res = await upstream.api(`/api/v1/accounts/1/conversations/${conv.conversation_id}/messages`);
    const sent = res.json.payload.find((m) => m.content === 'a note while the window is closed');
    assert.equal(sent?.private, true, 'the server holds it as a private note');
  });

  test('conversation.updated with can_reply true opens replies again, false closes them', async () => {
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    assert.ok(updated(true) > 0, 'the cable event reached the app');
    await notice().waitFor({ state: 'hidden' });
    assert.equal(await replyMode().isDisabled(), false);
    // The window, not the agent, chose the notes: the composer is back to replies.
    await agent.locator('[data-testid=mode-reply][aria-pressed=true]').waitFor();

    assert.ok(updated(false) > 0);
    await notice().waitFor();
    await agent.locator('[data-testid=mode-private][aria-pressed=true]').waitFor();
    assert.equal(await replyMode().isDisabled(), true);
  });

  test('a reload with can_reply true allows replies', async () => {
    canReply = true;
    await agent.reload();
    await agent.locator('[data-testid=chat-screen]').waitFor();
    await agent.locator('[data-testid=composer-input]').waitFor();
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    assert.equal(await notice().isVisible(), false);
    assert.equal(await replyMode().isDisabled(), false);
    assert.equal(await replyMode().getAttribute('aria-pressed'), 'true');
  });

  test('a reply the channel failed shows its error, and Retry asks Chatwoot to send it again', async () => {
    const row = agent.locator(`[data-testid=message][data-id="${failed.id}"]`);
    await row.locator('.parley-message-error', { hasText: CHANNEL_ERROR }).waitFor();
    assert.equal(await row.getAttribute('data-status'), 'failed');
    const retryPath = `POST /api/v1/accounts/1/conversations/${conv.conversation_id}/messages/${failed.id}/retry`;

    // Chatwoot refuses: the row says so in words and stays failed, with Retry.
    fake.refuseRetry = true;
    await row.locator('[data-testid=channel-retry]').click();
    await row.locator('[data-testid=channel-retry-error]', { hasText: "Couldn't retry:" }).waitFor();
    assert.equal(await row.getAttribute('data-status'), 'failed');
    assert.equal(fake.requests.filter((r) => r === retryPath).length, 1);

    fake.refuseRetry = false;
    failing = false;
    await row.locator('[data-testid=channel-retry]').click();
    await agent.locator(`[data-testid=message][data-id="${failed.id}"][data-status=sent]`).waitFor();
    assert.equal(await row.locator('.parley-message-error').count(), 0, 'the error went with the retry');
    assert.equal(await row.locator('[data-testid=channel-retry]').count(), 0);
    assert.equal(fake.requests.filter((r) => r === retryPath).length, 2, fake.requests.filter((r) => r.startsWith('POST')).join('\n'));
  });

  test('delivered and read follow message.updated live', async () => {
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    for (const status of ['delivered', 'read']) {
      assert.ok(fake.push('message.updated', { ...failed, account_id: 1, status, content_attributes: {} }) > 0);
      await agent.locator(`[data-testid=message][data-id="${failed.id}"][data-status=${status}]`).waitFor();
    }
  });

  test('no page errors', () => {
    // The refused retry answers 422 on purpose: the browser logs the failed load.
    const expected = (e) => /favicon|WebSocket connection|status of 422 .*\/retry\)$/.test(e);
    assert.deepEqual(agent.errors.filter((e) => !expected(e)), []);
  });
});
