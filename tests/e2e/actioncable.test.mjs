// Issue 2 §3: the official @rails/actioncable client works against parley-server's /cable
// unchanged. It runs inside Chromium (its real home: a browser WebSocket, document, timers), in
// two versions: the current release and 6.1.3, the one Chatwoot's own dashboard ships.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

const require = createRequire(import.meta.url);
const CLIENTS = {
  current: require.resolve('@rails/actioncable/app/assets/javascripts/actioncable.js'),
  'chatwoot (6.1.3)': require.resolve('actioncable-chatwoot/app/assets/javascripts/action_cable.js'),
};

/** Opens a blank page with one ActionCable build loaded as the global `ActionCable`. */
async function pageWithClient(browser, file) {
  const page = await newPage(browser);
  await page.goto('about:blank');
  await page.addScriptTag({ path: file });
  assert.equal(await page.evaluate(() => typeof window.ActionCable?.createConsumer), 'function');
  return page;
}

/** Subscribes to RoomChannel in the page; resolves when the callbacks say what happened. */
function subscribe(page, cableUrl, params) {
  return page.evaluate(
    ({ cableUrl, params }) => {
      window.__events = [];
      window.__consumer = window.ActionCable.createConsumer(cableUrl);
      window.__subscription = window.__consumer.subscriptions.create(
        { channel: 'RoomChannel', ...params },
        {
          connected() {
            window.__state = 'connected';
          },
          rejected() {
            window.__state = 'rejected';
          },
          received(data) {
            window.__events.push(data);
          },
        },
      );
    },
    { cableUrl, params },
  );
}

for (const [label, file] of Object.entries(CLIENTS)) {
  describe(`@rails/actioncable ${label} against /cable`, { timeout: 120_000 }, () => {
    let server;
    let browser;
    let profile;

    before(async () => {
      server = await Server.start({ demo: true });
      // about:blank counts as a public page to Chromium's local-network-access checks, which
      // then block its WebSocket to 127.0.0.1; the client under test is not what they guard.
      browser = await launchBrowser(['--disable-features=LocalNetworkAccessChecks']);
      const res = await server.api('/api/v1/profile');
      assert.equal(res.status, 200, `GET /api/v1/profile: ${res.text}`);
      profile = res.json;
    });

    after(async () => {
      await browser?.close().catch(() => {});
      await server?.dispose();
    });

    test('profile carries what a RoomChannel subscription needs', () => {
      assert.equal(typeof profile.pubsub_token, 'string');
      assert.ok(profile.pubsub_token.length > 0);
      assert.equal(typeof profile.id, 'number');
      assert.equal(typeof profile.account_id, 'number');
    });

    test('subscribes with the pubsub_token and receives message.created when the customer sends', async () => {
      const page = await pageWithClient(browser, file);
      const cableUrl = server.baseUrl.replace(/^http/, 'ws') + '/cable';
      await subscribe(page, cableUrl, {
        pubsub_token: profile.pubsub_token,
        account_id: profile.account_id,
        user_id: profile.id,
      });
      await page.waitForFunction(() => window.__state === 'connected', null, { timeout: 10_000 });

      const text = uniqueText('cable check');
      const sent = await server.customerSend(text);
      const handle = await page.waitForFunction(
        (text) => window.__events.find((e) => e.event === 'message.created' && e.data?.content === text),
        text,
        { timeout: 10_000 },
      );
      const event = await handle.jsonValue();
      assert.equal(event.data.id, sent.id, 'the broadcast carries the stored message id');
      assert.equal(event.data.account_id, profile.account_id);
      assert.equal(event.data.message_type, 0, 'incoming');
      assert.equal(typeof event.data.conversation_id, 'number');
      assert.equal(typeof event.data.created_at, 'number', 'push payloads carry unix seconds');
      assert.equal(event.data.sender?.type, 'contact');

      // update_presence is answered with presence.update, keyed by string ids.
      await page.evaluate(() => window.__subscription.perform('update_presence'));
      const presence = await (
        await page.waitForFunction(() => window.__events.find((e) => e.event === 'presence.update'), null, { timeout: 10_000 })
      ).jsonValue();
      assert.equal(presence.data.account_id, profile.account_id);
      assert.equal(typeof presence.data.users, 'object');
      await page.evaluate(() => window.__consumer.disconnect());
      await page.context().close();
    });

    test('a bad pubsub_token gets no confirmation and no events', async () => {
      const page = await pageWithClient(browser, file);
      const cableUrl = server.baseUrl.replace(/^http/, 'ws') + '/cable';
      await subscribe(page, cableUrl, { pubsub_token: 'not-a-token', account_id: profile.account_id, user_id: profile.id });
      // Chatwoot sends neither confirm nor reject for a bad token: wait out a few pings.
      await page.waitForTimeout(4_000);
      await server.customerSend(uniqueText('not for a stranger'));
      await page.waitForTimeout(1_000);
      const state = await page.evaluate(() => window.__state ?? 'none');
      assert.ok(['none', 'rejected'].includes(state), `a bad token must not be confirmed (got ${state})`);
      assert.deepEqual(await page.evaluate(() => window.__events), []);
      // Meanwhile the connection itself stays up on the server's 3 s pings (the client drops
      // a connection after 6 s without one).
      const link = await page.evaluate(() => ({
        open: window.__consumer.connection.isOpen(),
        sincePing: Date.now() - window.__consumer.connection.monitor.pingedAt,
      }));
      assert.equal(link.open, true, 'connection still open');
      assert.ok(link.sincePing < 6_000, `last ping ${link.sincePing} ms ago (the client gives up at 6 s)`);
      await page.evaluate(() => window.__consumer.disconnect());
      await page.context().close();
    });
  });
}
