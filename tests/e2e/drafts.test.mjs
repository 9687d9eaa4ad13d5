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

  test('sending clears the draft for good', async () => {
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
