// Issue 10 (point 2) and issue 16 (point 9): one message never breaks more than its own row.
// A conversation whose latest messages are malformed (content_attributes nested 125 levels,
// an unknown content type, fields of the wrong type, a message that does not read whole, a
// 150,000-character adversarial text) opens, lists and scrolls with no page error, and the
// same over the live cable.
//
// parley-server refuses such input from customers, so the messages come from a small fake
// upstream: a node server in front of a real parley-server that forwards everything (REST
// and the cable) and adds the malformed messages to one conversation's pages, and pushes
// cable frames of its own. The app talks to it through `parley-server --upstream`, as it
// would to a real Chatwoot.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeUpstream } from './fake_upstream.mjs';
import { Server, launchBrowser, makeLongConversation, newPage } from './harness.mjs';

const MESSAGE = '[data-testid=message]';
const ID = {
  adversarial: 1_000_001,
  unknownType: 1_000_002,
  wrongTypes: 1_000_003,
  unreadable: 1_000_004,
  deep: 1_000_005,
  liveDeep: 1_000_006,
  liveUnreadable: 1_000_007,
};
// The autolinker's worst case from issue 10, at Chatwoot's content limit.
const ADVERSARIAL = `http://a${')'.repeat(150_000 - 'http://a'.length)}`;

/** `levels` nested objects: serde_json's limit is 128 levels for the whole document. */
function nested(levels) {
  let v = {};
  for (let i = 0; i < levels; i += 1) v = { a: v };
  return v;
}

const SENDER = { id: 1, name: 'Malformed Customer', type: 'contact', thumbnail: '' };

function message(conversationId, id, createdAt, fields) {
  return {
    id, content: '', account_id: 1, inbox_id: 1, conversation_id: conversationId, message_type: 0,
    content_type: 'text', status: 'sent', content_attributes: {}, created_at: createdAt,
    private: false, source_id: null, sender: SENDER, ...fields,
  };
}

/** The malformed messages, newest last, all newer than the conversation's own. */
function malformedMessages(conversationId, now) {
  return [
    message(conversationId, ID.adversarial, now - 4, { content: ADVERSARIAL }),
    message(conversationId, ID.unknownType, now - 3, {
      content: 'a hologram of a cat', content_type: 'hologram', content_attributes: { hologram: { frames: 3 } },
    }),
    message(conversationId, ID.wrongTypes, now - 2, {
      id: String(ID.wrongTypes),
      content: 'wrong field types',
      created_at: new Date((now - 2) * 1000).toISOString(),
      conversation_id: String(conversationId),
      message_type: '0',
      private: 'false',
      status: null,
      inbox_id: null,
      echo_id: 12345,
      unknown_key: { anything: [1, { deeper: true }] },
      sender: { ...SENDER, id: String(SENDER.id), blocked: null },
      attachments: [{ id: '9', message_id: String(ID.wrongTypes), file_type: 'hologram', account_id: '1', data_url: '', thumb_url: '', file_size: '2048' }],
    }),
    message(conversationId, ID.unreadable, now - 1, {
      content: 'partly unreadable', attachments: 'not a list', message_type: null,
    }),
    message(conversationId, ID.deep, now, { content: 'deep nesting', content_attributes: nested(125) }),
  ];
}

/** The fake upstream (`fake_upstream.mjs`), adding the malformed messages to conversation
 * `conversationId`. */
class MalformingUpstream extends FakeUpstream {
  /** How to change the JSON answer of `url`, or null to pass it through. */
  rewriter(url) {
    const c = this.conversationId;
    const latest = (now) => malformedMessages(c, now).at(-1);
    const base = '/api/v1/accounts/1/conversations';
    if (url.pathname === base) {
      return (body, now) => {
        for (const conv of body.data.payload) {
          if (conv.id !== c) continue;
          conv.messages = [latest(now)];
          conv.last_non_activity_message = latest(now);
        }
        return body;
      };
    }
    if (url.pathname === `${base}/${c}`) {
      return (body, now) => ({ ...body, messages: [latest(now)], last_non_activity_message: latest(now) });
    }
    if (url.pathname === `${base}/${c}/messages` && !url.searchParams.has('before')) {
      const after = Number(url.searchParams.get('after') ?? 0);
      return (body, now) => ({
        ...body,
        payload: body.payload.concat(malformedMessages(c, now).filter((m) => Number(m.id) > after)),
      });
    }
    return null;
  }
}

describe('a conversation whose latest messages are malformed', { timeout: 240_000 }, () => {
  let upstream;
  let fake;
  let proxy;
  let browser;
  let agent;
  let long;
  let chatUrl;

  before(async () => {
    // The fake listens first: the real server writes its file URLs from its --public-url
    // (never a request's Host), which must be the fake's origin, as a Chatwoot's are its own;
    // the proxy in front rewrites them to its origin.
    fake = new MalformingUpstream();
    await fake.start();
    upstream = await Server.start({ demo: true, extraArgs: ['--public-url', fake.url] });
    fake.target = new URL(upstream.baseUrl);
    long = await makeLongConversation(upstream, 120);
    fake.conversationId = long.conversation_id;
    proxy = await Server.start({ demo: false, agentToken: null, testControls: false, extraArgs: ['--upstream', fake.url] });
    browser = await launchBrowser();
    agent = await newPage(browser);
    chatUrl = `${proxy.baseUrl}/app/accounts/1/conversations/${long.conversation_id}`;
    await agent.goto(chatUrl);
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

  const row = (id) => agent.locator(`${MESSAGE}[data-id="${id}"]`);

  /** Scrolls the log to its end until the row of `id` is on screen (the log opens at the
   * unread divider, and keeps only a window of rows in the page). */
  const scrollToNewest = (id) => agent.waitForFunction((rowId) => {
    // Not before the app has opened the log: opening moves the scroll position itself.
    const list = document.querySelector('[data-testid=message-list][data-opened]');
    if (!list) return false;
    list.scrollTop = list.scrollHeight;
    const el = list.querySelector(`[data-testid=message][data-id="${rowId}"]`);
    if (!el) return false;
    const box = list.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return r.bottom > box.top && r.top < box.bottom;
  }, id, { timeout: 60_000, polling: 200 });

  test('it opens, and every malformed message is a readable row', async () => {
    await scrollToNewest(ID.deep);
    assert.equal(await agent.locator('.parley-load-error').count(), 0, 'no load error');
    assert.equal((await row(ID.deep).locator('[data-testid=message-content]').textContent()).trim(), 'deep nesting');
    assert.equal(await row(ID.deep).getAttribute('data-type'), 'incoming');
    assert.equal(await row(ID.deep).locator('[data-testid=message-unsupported]').count(), 0, 'it reads whole');

    const unknown = row(ID.unknownType);
    assert.equal((await unknown.locator('[data-testid=message-content]').textContent()).trim(), 'a hologram of a cat');
    assert.equal((await unknown.locator('[data-testid=message-unsupported]').textContent()).trim(), 'Not supported here');

    const wrong = row(ID.wrongTypes);
    assert.equal((await wrong.locator('[data-testid=message-content]').textContent()).trim(), 'wrong field types');
    assert.equal(await wrong.getAttribute('data-type'), 'incoming');
    assert.equal((await wrong.locator('[data-testid=message-sender]').textContent()).trim(), 'Malformed Customer');
    assert.match(await wrong.locator('[data-testid=message-time]').getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
    assert.equal(await wrong.locator('[data-testid=message-unsupported]').count(), 0, 'plain types of another kind read');
    await wrong.locator('[data-testid=attachment-file]').waitFor();

    const unreadable = row(ID.unreadable);
    assert.equal((await unreadable.locator('[data-testid=message-content]').textContent()).trim(), 'partly unreadable');
    assert.equal((await unreadable.locator('[data-testid=message-unsupported]').textContent()).trim(), 'Unsupported message');
    assert.equal(await unreadable.getAttribute('data-type'), 'incoming', "a contact's message stays on the contact's side");

    const adversarial = row(ID.adversarial);
    await adversarial.waitFor();
    const length = await adversarial.locator('[data-testid=message-content]').evaluate((el) => el.textContent.length);
    assert.ok(length >= 150_000, `the long text is shown whole (${length} characters)`);
  });

  test('it scrolls to the oldest message and back to the newest', async () => {
    await agent.waitForFunction((id) => {
      const list = document.querySelector('[data-testid=message-list]');
      if (!list) return false;
      list.scrollTop = 0;
      return list.querySelector(`[data-testid=message][data-id="${id}"]`) !== null;
    }, long.first_message_id, { timeout: 90_000, polling: 200 });
    await scrollToNewest(ID.deep);
  });

  test('malformed messages over the live cable become rows too', async () => {
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    const now = Math.floor(Date.now() / 1000) + 120;
    const c = long.conversation_id;
    assert.ok(fake.push('message.created', message(c, ID.liveDeep, now, { content: 'live deep nesting', content_attributes: nested(125) })) > 0, 'a live subscription to push to');
    await row(ID.liveDeep).waitFor();
    assert.equal((await row(ID.liveDeep).locator('[data-testid=message-content]').textContent()).trim(), 'live deep nesting');

    fake.push('message.created', message(c, ID.liveUnreadable, now + 1, { content: 'live unreadable', attachments: { not: 'a list' }, message_type: null }));
    const unreadable = row(ID.liveUnreadable);
    await unreadable.waitFor();
    assert.equal((await unreadable.locator('[data-testid=message-unsupported]').textContent()).trim(), 'Unsupported message');
    assert.equal((await unreadable.locator('[data-testid=message-content]').textContent()).trim(), 'live unreadable');
  });

  test('the conversation list lists it, with its malformed latest message', async () => {
    await agent.goto(`${proxy.baseUrl}/app/accounts/1/conversations`);
    const link = agent.locator(`[data-testid=conversation-list] a[href$="/conversations/${long.conversation_id}"]`);
    await link.waitFor();
    assert.equal((await link.locator('.parley-preview').textContent()).trim(), 'deep nesting');
    assert.equal(await agent.locator('.parley-load-error').count(), 0, 'no load error');
    await link.click();
    await agent.locator('[data-testid=chat-screen]').waitFor();
    await scrollToNewest(ID.deep);
  });

  test('no page errors', () => {
    const benign = (e) => /favicon|WebSocket connection/.test(e);
    assert.deepEqual(agent.errors.filter((e) => !benign(e)), []);
  });
});
