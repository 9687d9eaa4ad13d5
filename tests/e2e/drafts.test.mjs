// Drafts (issue 4): unsent text is kept per conversation and per mode (reply, private
// note), survives a reload, and clears when sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

describe('drafts', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let agent;
  const input = () => agent.locator('[data-testid=composer-input]');
  const open = async (conversation) => {
    const url = new URL(server.info.agentUrl);
    url.pathname = `/app/accounts/1/conversations/${conversation}`;
    await agent.goto(url.href);
    await agent.locator('[data-testid=chat-screen]').waitFor();
    await agent.locator('[data-testid=message]').first().waitFor();
  };

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await newPage(browser);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  const reply = uniqueText('half-written reply');
  const note = uniqueText('half-written note');

  test('a reply and a note, each kept through a reload', async () => {
    await open(1);
    await input().pressSequentially(reply);
    await agent.locator('[data-testid=mode-private]').click();
    assert.equal(await input().inputValue(), '', 'the note starts from its own (empty) draft');
    await input().pressSequentially(note);
    await agent.reload();
    await agent.locator('[data-testid=chat-screen]').waitFor();
    await agent.waitForFunction((t) => document.querySelector('[data-testid=composer-input]').value === t, reply);
    await agent.locator('[data-testid=mode-private]').click();
    assert.equal(await input().inputValue(), note);
    await agent.locator('[data-testid=mode-reply]').click();
    assert.equal(await input().inputValue(), reply);
  });

  test('drafts belong to their conversation', async () => {
    await open(2);
    assert.equal(await input().inputValue(), '');
    await open(1);
    await agent.waitForFunction((t) => document.querySelector('[data-testid=composer-input]').value === t, reply);
  });

  test('near the limit a counter appears; over it the send is refused and the text kept', async () => {
    await open(2);
    const counter = agent.locator('.parley-counter');
    assert.equal(await counter.isVisible(), false, 'no counter for a short text');
    assert.equal((await counter.textContent()).trim(), '', 'nor its text');
    const near = 'a'.repeat(140_001);
    await input().fill(near);
    await counter.waitFor();
    assert.equal((await counter.textContent()).trim(), '140,001 / 150,000');
    await input().fill(`${near}${'b'.repeat(10_000)}`);
    await agent.locator('.parley-counter.parley-counter-over').waitFor();
    assert.equal((await counter.textContent()).trim(), '150,001 / 150,000');
    assert.equal(await agent.locator('[data-testid=send-button]').isDisabled(), true);
    assert.equal(
      (await agent.locator('[data-testid=composer-error]').textContent()).trim(),
      'This message is 1 character over the 150,000-character limit. Shorten it to send.',
    );
    await input().press('Enter');
    assert.equal((await input().inputValue()).length, 150_001, 'Enter sends nothing and keeps every character');
    await input().fill('');
    await counter.waitFor({ state: 'hidden' });
    assert.equal(await agent.locator('[data-testid=composer-error]').isVisible(), false, 'the explanation goes with it');
  });

  test('sending clears the draft for good', async () => {
    await open(1);
    await input().press('Enter');
    await agent.locator('[data-testid=message]', { hasText: reply }).waitFor();
    assert.equal(await input().inputValue(), '');
    await agent.reload();
    await agent.locator('[data-testid=chat-screen]').waitFor();
    await agent.locator('[data-testid=message]', { hasText: reply }).waitFor();
    assert.equal(await input().inputValue(), '');
    // The note's draft is still there.
    await agent.locator('[data-testid=mode-private]').click();
    assert.equal(await input().inputValue(), note);
  });
});
