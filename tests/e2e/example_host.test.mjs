// The example host page parley-server serves (issue 6): a dashboard of its own with two
// chats mounted by mount(), one per conversation, each live and on its own conversation,
// and the host hearing the events by callback and by DOM event.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

describe('the example host page', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let host;
  const chat = (id) => host.locator(`#${id}`);

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    host = await newPage(browser, { viewport: { width: 1400, height: 900 } });
    await host.goto(`${server.baseUrl}/examples/embed/`);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('two chats mount, each live on its own conversation', async () => {
    for (const id of ['chat-a', 'chat-b']) {
      await chat(id).locator('[data-testid=connection-state][data-state=connected]').waitFor();
      await chat(id).locator('[data-testid=message]').first().waitFor();
    }
    const a = (await chat('chat-a').locator('[data-testid=conversation-header]').textContent()).trim();
    const b = (await chat('chat-b').locator('[data-testid=conversation-header]').textContent()).trim();
    assert.notEqual(a, b, 'two conversations, two contacts');
    assert.equal(await host.locator('#host-error').isHidden(), true);
  });

  test('a message sent in one chat stays in its conversation, and the host hears it twice', async () => {
    const text = uniqueText('from the first embedded chat');
    const input = chat('chat-a').locator('[data-testid=composer-input]');
    await input.fill(text);
    await input.press('Enter');
    await chat('chat-a').locator('[data-testid=message]', { hasText: text }).waitFor();
    await host.waitForTimeout(500);
    assert.equal(await chat('chat-b').locator('[data-testid=message]', { hasText: text }).count(), 0);
    await host.locator('#host-events li[data-source=callback][data-name=message_sent]').waitFor();
    await host.locator('#host-events li[data-source=event][data-name=message_sent]').waitFor();
  });

  test('no page errors', () => {
    assert.deepEqual(host.errors.filter((e) => !/favicon/.test(e)), []);
  });
});
