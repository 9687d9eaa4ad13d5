// Issue 16, points 1 to 4: what a real Chatwoot holds is shown with its meaning. A fake
// Chatwoot (tests/e2e/fake_upstream.mjs) in front of a real parley-server adds, to one
// conversation, a message of every content type, attachment type and sender, and reactions,
// shaped as Chatwoot's source writes them (each notes the file it follows); the app talks to
// it through `parley-server --upstream`. Each renders its meaning, in order, with no page
// error; reactions sit on the message they answer; axe finds nothing serious in the blocks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seriousViolations } from './audit.mjs';
import { FakeUpstream } from './fake_upstream.mjs';
import { Server, launchBrowser, makeLongConversation, newPage } from './harness.mjs';

const MESSAGE = '[data-testid=message]';
const BASE_ID = 2_000_000;

/** Chatwoot's sender shapes (`push_event_data` of each model, CONTRACTS.md §3.3). */
const SENDERS = (fake) => ({
  // Contact: its thumbnail is an expired file, so the avatar falls back to initials.
  contact: { id: 71, name: 'Rita Gomez', type: 'contact', thumbnail: `${fake}/rails/active_storage/blobs/redirect/expired-avatar.png` },
  other: { id: 72, name: 'Sam Lee', type: 'contact', thumbnail: '' },
  user: { id: 1, name: 'Agent Ann', available_name: 'Ann', avatar_url: '', type: 'user', thumbnail: '' },
  bot: { id: 9, name: 'Helper Bot', avatar_url: '', type: 'agent_bot' },
  captain: { id: 4, name: 'Captain', avatar_url: '', description: 'AI', type: 'captain_assistant' },
});

/** The rich messages, oldest first: [key, message fields, sender]. */
function shapes(fake) {
  const S = SENDERS(fake);
  const file = (name) => `${fake}/rails/active_storage/blobs/redirect/${name}`;
  return [
    // `Message#content_type` input_select (bot, message_type 3 template): items, submitted_values.
    ['select', { message_type: 3, content_type: 'input_select', content: 'Which plan?', content_attributes: {
      items: [{ title: 'Basic', value: 'basic' }, { title: 'Pro', value: 'pro' }],
      submitted_values: [{ title: 'Pro', value: 'pro' }],
    } }, S.bot],
    // cards (`ContentAttributeValidator`): media_url, title, description, actions link|postback.
    ['cards', { message_type: 1, content_type: 'cards', content: '', content_attributes: { items: [{
      media_url: file('expired-card.png'), title: 'Red shoe', description: 'Size 42',
      actions: [
        { type: 'link', text: 'Buy', uri: 'https://shop.example.com/shoe' },
        { type: 'link', text: 'Evil', uri: 'javascript:alert(1)' },
        { type: 'postback', text: 'More', payload: 'MORE' },
      ],
    }] } }, S.bot],
    // form: items [{name, label, type}], submitted_values [{name, value}] (dashboard Form.vue).
    ['form', { message_type: 3, content_type: 'form', content: 'Tell us more', content_attributes: {
      items: [{ name: 'email', label: 'Your email', type: 'email' }, { name: 'topic', label: 'Topic', type: 'text' }],
      submitted_values: [{ name: 'email', value: 'rita@example.com' }, { name: 'topic', value: 'Billing' }],
    } }, null],
    // article: items [{title, description, link}] (Captain's reply here).
    ['article', { message_type: 1, content_type: 'article', content: 'These may help', content_attributes: {
      items: [{ title: 'Reset a password', description: 'Three steps', link: 'https://help.example.com/reset' }],
    } }, S.captain],
    // incoming_email: content_attributes.email from MailPresenter#serialized_data.
    ['email', { message_type: 0, content_type: 'incoming_email', content: 'Please send the invoice again.', content_attributes: { email: {
      subject: 'Invoice 42', from: ['rita@example.com'], to: ['support@example.com'], cc: ['boss@example.com'], bcc: null,
      html_content: {
        full: '<p>Please send the invoice again.</p><img src="https://tracker.example.com/p.gif">'
          + '<img src="x" onerror="parent.document.body.dataset.pwned=1"><script>parent.document.body.dataset.pwned=1</script>',
        reply: '<p>Please send the invoice again.</p>',
      },
      text_content: { full: 'Please send the invoice again.\n> On Monday...', reply: 'Please send the invoice again.', quoted: '> On Monday you wrote: here it is' },
    } } }, S.contact],
    // input_csat: display_type, submitted_values.csat_survey_response (dashboard CSAT.vue).
    ['csat', { message_type: 3, content_type: 'input_csat', content: 'Please rate the conversation', content_attributes: {
      display_type: 'star', submitted_values: { csat_survey_response: { rating: 4, feedback_message: 'Quick and kind' } },
    } }, null],
    // integrations: Dyte (`Integrations::Dyte::ProcessorService`).
    ['integration', { message_type: 1, content_type: 'integrations', content: 'Ann started a video call', content_attributes: { type: 'dyte', data: { meeting_id: 'm-1' } } }, S.user],
    // input_email template (`MessageTemplates::Template::EmailCollect`) answered.
    ['input_email', { message_type: 3, content_type: 'input_email', content: 'Get notified by email', content_attributes: { submitted_email: 'rita@example.com' } }, null],
    // Attachment#push_event_data location_metadata.
    ['location', { message_type: 0, content: '', attachments: [{ id: 801, file_type: 'location', account_id: 1, coordinates_lat: 48.8584, coordinates_long: 2.2945, fallback_title: 'Eiffel Tower, Paris', data_url: null }] }, S.contact],
    // contact_metadata: the name is the message's content (dashboard Contact.vue).
    ['contact', { message_type: 0, content: 'Bob Stone', attachments: [{ id: 802, file_type: 'contact', account_id: 1, fallback_title: '+33 6 12 34 56 78', meta: {} }] }, S.contact],
    // audio with transcribed_text; its file is gone (a labelled chip), the transcript stays.
    ['audio', { message_type: 0, content: '', attachments: [{ id: 803, file_type: 'audio', account_id: 1, data_url: file('expired-voice.ogg'), thumb_url: '', file_size: 2048, transcribed_text: 'Please call me back after five' }] }, S.contact],
    // fallback_data: a link the channel could not show otherwise.
    ['fallback', { message_type: 0, content: '', attachments: [{ id: 804, file_type: 'fallback', account_id: 1, fallback_title: 'Shared post', data_url: 'https://instagram.com/p/abc' }] }, S.contact],
    // story_mention (`image_type: story_mention`, data_url = external_url, expired).
    ['story', { message_type: 0, content: '', content_attributes: { image_type: 'story_mention' }, attachments: [{ id: 805, file_type: 'story_mention', account_id: 1, data_url: file('expired-story.jpg'), thumb_url: file('expired-story.jpg') }] }, S.contact],
    // A system message without a sender.
    ['system', { message_type: 2, content: 'Conversation was assigned to Ann by Automation' }, null],
    // A content type this client does not know.
    ['unknown', { message_type: 0, content_type: 'hologram', content: 'a hologram' }, S.contact],
    // Reactions (WhatsApp/Instagram): is_reaction + in_reply_to, content = the emoji.
    ['r1', { message_type: 0, content: '👍', content_attributes: { is_reaction: true, in_reply_to: BASE_ID + 1 } }, S.contact],
    ['r2', { message_type: 0, content: '❤️', content_attributes: { is_reaction: true, in_reply_to: BASE_ID + 1 } }, S.other],
    ['r3', { message_type: 0, content: '👍', content_attributes: { is_reaction: true, in_reply_to: BASE_ID + 1 } }, S.other],
  ];
}

const KEYS = shapes('').map(([key]) => key);
const ID = Object.fromEntries(KEYS.map((key, i) => [key, BASE_ID + 1 + i]));

function messagesOf(fake, conversationId, now) {
  const list = shapes(fake);
  return list.map(([, fields, sender], i) => {
    const m = {
      id: BASE_ID + 1 + i, content: '', inbox_id: 1, conversation_id: conversationId, message_type: 0,
      content_type: 'text', status: 'sent', content_attributes: {}, created_at: now - list.length + i,
      private: false, source_id: null, ...fields,
    };
    if (sender) m.sender = sender;
    for (const a of m.attachments ?? []) a.message_id = m.id;
    return m;
  });
}

describe('every kind of content a Chatwoot holds', { timeout: 240_000 }, () => {
  let upstream;
  let fake;
  let proxy;
  let browser;
  let agent;
  let conv;
  const trackerRequests = [];

  before(async () => {
    fake = new FakeUpstream();
    await fake.start();
    upstream = await Server.start({ demo: true, extraArgs: ['--public-url', fake.url] });
    fake.target = new URL(upstream.baseUrl);
    conv = await makeLongConversation(upstream, 3);
    const c = conv.conversation_id;
    const base = '/api/v1/accounts/1/conversations';
    fake.rewriter = (url) => {
      if (url.pathname === `${base}/${c}/messages` && !url.searchParams.has('before')) {
        const after = Number(url.searchParams.get('after') ?? 0);
        return (body, now) => ({ ...body, payload: body.payload.concat(messagesOf(fake.url, c, now).filter((m) => m.id > after)) });
      }
      return null;
    };
    proxy = await Server.start({ demo: false, agentToken: null, testControls: false, extraArgs: ['--upstream', fake.url] });
    browser = await launchBrowser();
    // Tall enough that the virtualized log keeps every row of this short conversation in the page.
    agent = await newPage(browser, { viewport: { width: 1100, height: 2600 } });
    agent.on('request', (r) => { if (r.url().includes('tracker.example.com')) trackerRequests.push(r.url()); });
    await agent.goto(`${proxy.baseUrl}/app/accounts/1/conversations/${c}`);
    await agent.locator('input[name=email]').fill(upstream.info.agentEmail);
    const password = agent.locator('input[name=password]');
    await password.fill(upstream.info.agentPassword);
    await password.evaluate((el) => el.form.requestSubmit());
    await agent.locator('[data-testid=chat-screen]').waitFor();
    await agent.locator(`${MESSAGE}[data-id="${ID.unknown}"]`).waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await proxy?.dispose();
    await fake?.stop();
    await upstream?.dispose();
  });

  const row = (key) => agent.locator(`${MESSAGE}[data-id="${ID[key]}"]`);
  const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

  test('the rows come in order, reactions not among them', async () => {
    const ids = await agent.locator(MESSAGE).evaluateAll((els) => els.map((e) => Number(e.dataset.id)));
    const ours = ids.filter((id) => id > BASE_ID);
    const expected = KEYS.filter((k) => !k.startsWith('r')).map((k) => ID[k]);
    assert.deepEqual(ours, expected);
  });

  test('input_select shows the options and the choice', async () => {
    const block = row('select').locator('[data-testid=block-select]');
    assert.deepEqual(await block.locator('li').allTextContents().then((l) => l.map((s) => s.replace('Chosen:', '').trim())), ['Basic', 'Pro']);
    assert.equal(await block.locator('li[data-chosen]').count(), 1);
    assert.match(await text(block.locator('li[data-chosen]')), /Pro/);
    assert.equal(await text(block.locator('[data-testid=block-answer]')), 'Customer chose: Pro');
    assert.equal(await text(row('select').locator('[data-testid=sender-tag]')), 'Bot');
    assert.equal(await row('select').getAttribute('data-sender'), 'agent_bot');
  });

  test('cards show title, description, safe links only, and a chip for an image that fails', async () => {
    const card = row('cards').locator('[data-testid=block-cards] li');
    assert.match(await text(card), /Red shoe.*Size 42/);
    const buy = card.locator('a', { hasText: 'Buy' });
    assert.equal(await buy.getAttribute('href'), 'https://shop.example.com/shoe');
    assert.equal(await buy.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await card.locator('a', { hasText: 'Evil' }).count(), 0, 'a javascript: URL is no link');
    await card.getByText('Evil').waitFor();
    await card.getByText('More').waitFor();
    // The picture is gone: the browser shows its label (the alt text) in its place.
    const image = card.locator('img');
    assert.equal(await image.getAttribute('alt'), 'Red shoe');
    await image.evaluate((img) => new Promise((resolve) => {
      if (img.complete) resolve();
      else img.addEventListener('error', resolve, { once: true });
    }));
    assert.equal(await image.evaluate((img) => img.naturalWidth), 0, 'the expired picture did not load');
  });

  test('a form shows the submitted values under their labels', async () => {
    const block = row('form').locator('[data-testid=block-form]');
    assert.deepEqual(await block.locator('dt').allTextContents(), ['Your email', 'Topic']);
    assert.deepEqual(await block.locator('dd').allTextContents(), ['rita@example.com', 'Billing']);
    assert.equal(await row('form').getAttribute('data-sender'), 'none');
  });

  test('an article links, from the Captain assistant', async () => {
    const link = row('article').locator('[data-testid=block-articles] a');
    assert.equal(await text(link), 'Reset a password');
    assert.equal(await link.getAttribute('href'), 'https://help.example.com/reset');
    assert.equal(await text(row('article').locator('[data-testid=sender-tag]')), 'AI assistant');
  });

  test('an incoming email shows subject, addresses, text and its quoted history collapsed', async () => {
    const email = row('email').locator('[data-testid=block-email]');
    assert.match(await text(email.locator('.parley-email-subject')), /Invoice 42/);
    assert.deepEqual(await email.locator('dt').allTextContents(), ['From', 'To', 'Cc']);
    assert.deepEqual(await email.locator('dd').allTextContents(), ['rita@example.com', 'support@example.com', 'boss@example.com']);
    assert.equal(await text(row('email').locator('[data-testid=message-content]')), 'Please send the invoice again.');
    const quoted = email.locator('details', { hasText: 'Quoted history' });
    assert.equal(await quoted.getAttribute('open'), null, 'collapsed');
    assert.equal(await quoted.locator('p').isVisible(), false);
    await quoted.locator('summary').click();
    await quoted.locator('p', { hasText: 'On Monday you wrote' }).waitFor();
    assert.equal(await agent.locator('img[src*="tracker.example.com"]').count(), 0, 'no remote image of the HTML part');
  });

  test('the HTML part opens on demand, sandboxed: no script, no remote image', async () => {
    const email = row('email').locator('[data-testid=block-email]');
    const toggle = email.locator('[data-testid=email-html-toggle]');
    const frame = email.locator('[data-testid=email-html]');
    assert.equal(await toggle.getAttribute('open'), null, 'closed until the agent asks');
    assert.equal(await frame.isVisible(), false);
    await toggle.locator('summary').click();
    await frame.waitFor();
    const sandbox = await frame.getAttribute('sandbox');
    assert.ok(!/allow-scripts|allow-same-origin/.test(sandbox), `sandbox="${sandbox}"`);
    await frame.contentFrame().locator('p', { hasText: 'Please send the invoice again.' }).waitFor();
    // The page's own handler would run if the markup's script or onerror did.
    assert.equal(await agent.evaluate(() => document.body.dataset.pwned), undefined);
    assert.deepEqual(trackerRequests, [], 'the tracking pixel was never requested');
    await toggle.locator('summary').click();
    await frame.waitFor({ state: 'hidden' });
  });

  test('CSAT shows the rating as stars and the feedback', async () => {
    const csat = row('csat').locator('[data-testid=block-csat]');
    assert.equal(await csat.getAttribute('data-rating'), '4');
    assert.equal(await csat.locator('[role=img]').getAttribute('aria-label'), 'Rated 4 out of 5');
    assert.equal(await text(csat.locator('[role=img]')), '★★★★☆');
    assert.match(await text(csat), /Quick and kind/);
  });

  test('integrations and input_email say what they are', async () => {
    assert.equal(await text(row('integration').locator('[data-testid=block-integration]')), 'Video call (dyte)');
    assert.equal(await text(row('input_email').locator('[data-testid=block-input-email]')), 'Email given: rita@example.com');
    assert.equal(await row('input_email').getAttribute('data-type'), 'template');
  });

  test('a location is a name and a map link, with no map tile fetched', async () => {
    const place = row('location').locator('[data-testid=attachment-location]');
    assert.match(await text(place), /Eiffel Tower, Paris/);
    const link = place.locator('a');
    assert.equal(await link.getAttribute('href'), 'https://www.openstreetmap.org/?mlat=48.858400&mlon=2.294500#map=16/48.858400/2.294500');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await place.locator('img, iframe, canvas').count(), 0);
  });

  test('a contact shows name and phone, calls and copies', async () => {
    const card = row('contact').locator('[data-testid=attachment-contact]');
    assert.match(await text(card), /Bob Stone.*\+33 6 12 34 56 78/);
    assert.equal(await card.locator('a').getAttribute('href'), 'tel:+33612345678');
    await agent.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: proxy.baseUrl });
    await card.locator('[data-testid=copy-contact]').click();
    await card.locator('[data-testid=copy-contact]', { hasText: 'Copied' }).waitFor();
    assert.equal(await agent.evaluate(() => navigator.clipboard.readText()), 'Bob Stone\n+33 6 12 34 56 78');
  });

  test('a voice note whose file is gone is a labelled chip and keeps its transcript', async () => {
    await row('audio').locator('[data-testid=attachment-file]').waitFor();
    assert.equal(await text(row('audio').locator('[data-testid=attachment-transcript]')), 'Transcript: Please call me back after five');
  });

  test('a fallback is a titled link; an expired story is a labelled chip', async () => {
    const link = row('fallback').locator('[data-testid=attachment-link] a');
    assert.equal(await text(link), 'Shared post');
    assert.equal(await link.getAttribute('href'), 'https://instagram.com/p/abc');
    const story = row('story').locator('[data-testid=attachment-file] .parley-file-name');
    await story.waitFor();
    assert.equal(await text(story), 'Mentioned you in a story');
  });

  test('senders: none for a system message; an avatar that fails shows initials', async () => {
    assert.equal(await row('system').getAttribute('data-sender'), 'none');
    assert.equal(await row('integration').getAttribute('data-sender'), 'user');
    const avatar = row('email').locator('.parley-avatar');
    await agent.waitForFunction((id) => document.querySelector(`[data-testid=message][data-id="${id}"] .parley-avatar`)?.tagName === 'SPAN', ID.email);
    assert.equal(await text(avatar), 'RG');
  });

  test('an unknown content type keeps its text and says it is not supported here', async () => {
    assert.equal(await text(row('unknown').locator('[data-testid=message-content]')), 'a hologram');
    assert.equal(await text(row('unknown').locator('[data-testid=message-unsupported]')), 'Not supported here');
  });

  test('reactions group as chips on the message they answer', async () => {
    const chips = row('select').locator('[data-testid=reactions] li');
    assert.deepEqual(await chips.locator('[aria-hidden]').allTextContents(), ['👍 2', '❤️ 1']);
    assert.equal(await chips.first().getAttribute('title'), '👍 from Rita Gomez, Sam Lee (2)');
  });

  test('over the live cable, a reaction joins its message and a new block renders', async () => {
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    const now = Math.floor(Date.now() / 1000) + 120;
    const S = SENDERS(fake.url);
    const push = (id, fields, sender) => fake.push('message.created', {
      id, content: '', account_id: 1, inbox_id: 1, conversation_id: conv.conversation_id, message_type: 0,
      created_at: now, updated_at: new Date().toISOString(), private: false, status: 'sent', source_id: null,
      content_type: 'text', content_attributes: {}, sender_type: 'Contact', sender_id: sender.id,
      external_source_ids: {}, additional_attributes: {}, processed_message_content: null, sentiment: {},
      conversation: { assignee_id: null, unread_count: 1, last_activity_at: now }, sender, ...fields,
    });
    assert.ok(push(BASE_ID + 900, { content: '🎉', content_attributes: { is_reaction: true, in_reply_to: ID.location } }, S.contact) > 0);
    await row('location').locator('[data-testid=reactions] li', { hasText: '🎉 1' }).waitFor();
    assert.equal(await agent.locator(`${MESSAGE}[data-id="${BASE_ID + 900}"]`).count(), 0, 'no row of its own');
    push(BASE_ID + 901, { message_type: 3, content_type: 'input_csat', content: 'Rate us', content_attributes: {
      display_type: 'emoji', submitted_values: { csat_survey_response: { rating: 5 } },
    } }, S.bot);
    const live = agent.locator(`${MESSAGE}[data-id="${BASE_ID + 901}"] [data-testid=block-csat] [role=img]`);
    await live.waitFor();
    assert.equal(await text(live), '😍');
  });

  test('axe finds no serious violation in the blocks, light and dark', async () => {
    for (const scheme of ['light', 'dark']) {
      await agent.emulateMedia({ colorScheme: scheme });
      const found = await seriousViolations(agent);
      assert.deepEqual(found, [], `${scheme}: ${found.map((v) => `${v.id} ${v.nodes.join('; ')}`).join('\n')}`);
    }
    await agent.emulateMedia({ colorScheme: 'light' });
  });

  test('no page errors', () => {
    // The expired files answer 404 on purpose: the browser logs each failed load.
    // The email's markup is refused by the frame's policy and sandbox, which the browser logs.
    const expected = (e) => /favicon|WebSocket connection|expired-[a-z]+\.(png|jpg|ogg)|\(about:srcdoc\)$/.test(e);
    assert.deepEqual(agent.errors.filter((e) => !expected(e)), []);
  });
});
