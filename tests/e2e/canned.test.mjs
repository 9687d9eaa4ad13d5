// Canned responses (issue 4): `/` at the start of a word opens a picker that searches the
// account's responses as the agent types; the keyboard moves through it and chooses; the
// chosen text replaces the `/word` with Chatwoot's variables filled in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage } from './harness.mjs';

describe('canned responses', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let agent;
  let input;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await newPage(browser);
    await agent.goto(server.info.agentUrl);
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    input = agent.locator('[data-testid=composer-input]');
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  const options = () => agent.locator('[data-testid=canned-option]');

  test('/ opens the picker with the account\'s responses, and typing narrows it', async () => {
    await input.click();
    await input.pressSequentially('/');
    await agent.locator('[data-testid=canned-picker]').waitFor();
    await agent.waitForFunction(() => document.querySelectorAll('[data-testid=canned-option]').length >= 6);
    const all = await options().count();
    await input.pressSequentially('tha');
    // Chatwoot's ranking: a short-code prefix first, then matches in the content. Until the
    // answer for "tha" arrives, the list of an earlier keystroke stays: wait for this one's.
    await agent.waitForFunction((all) => {
      const texts = [...document.querySelectorAll('[data-testid=canned-option]')].map((o) => o.textContent);
      return texts.length < all && texts[0]?.startsWith('/thanks') && texts.every((t) => t.toLowerCase().includes('tha'));
    }, all);
    for (const text of await options().allTextContents()) assert.match(text.toLowerCase(), /tha/);
    // The field controls the list (a textarea cannot be a combobox, so no aria-expanded:
    // the active option is announced through aria-activedescendant).
    assert.equal(await input.getAttribute('aria-controls'), await agent.locator('[data-testid=canned-picker] [role=listbox], [data-testid=canned-picker][role=listbox]').first().getAttribute('id'));
  });

  test('the keyboard chooses, and the variables are filled', async () => {
    await input.fill('');
    await input.pressSequentially('Hi! /gree');
    await agent.waitForFunction(() => document.querySelector('[data-testid=canned-option]')?.textContent.startsWith('/greet'));
    assert.equal(await options().first().getAttribute('aria-selected'), 'true');
    await input.press('Enter');
    await agent.locator('[data-testid=canned-picker]').waitFor({ state: 'detached' });
    const text = await input.inputValue();
    assert.match(text, /^Hi! Hello Maya Chen, thanks for reaching out! I'm Alex Morgan and I'll help you today\.$/);
    // Enter chose the response; it did not send the message.
    assert.equal(await agent.locator('[data-testid=message]', { hasText: 'thanks for reaching out' }).count(), 0);
  });

  test('arrows move the highlight, Escape closes without changing the text', async () => {
    await input.fill('');
    await input.pressSequentially('/');
    await agent.waitForFunction(() => document.querySelectorAll('[data-testid=canned-option]').length >= 6);
    await input.press('ArrowDown');
    await input.press('ArrowDown');
    assert.equal(await options().nth(2).getAttribute('aria-selected'), 'true');
    const active = await input.getAttribute('aria-activedescendant');
    assert.equal(active, await options().nth(2).getAttribute('id'));
    await input.press('ArrowUp');
    assert.equal(await options().nth(1).getAttribute('aria-selected'), 'true');
    await input.press('Escape');
    await agent.locator('[data-testid=canned-picker]').waitFor({ state: 'detached' });
    assert.equal(await input.inputValue(), '/');
  });

  test('a URL or a date does not open it; a click on an option chooses it', async () => {
    await input.fill('');
    await input.pressSequentially('see https://x.example/a on 1/2');
    await agent.waitForTimeout(300);
    assert.equal(await agent.locator('[data-testid=canned-picker]').count(), 0);
    await input.pressSequentially(' /refu');
    await agent.waitForFunction(() => document.querySelector('[data-testid=canned-option]')?.textContent.startsWith('/refund'));
    await options().first().click();
    assert.equal(
      await input.inputValue(),
      'see https://x.example/a on 1/2 Refunds are processed within 5-7 business days after we receive the item.',
    );
  });

  test('no page errors', () => {
    assert.deepEqual(agent.errors, []);
  });
});
