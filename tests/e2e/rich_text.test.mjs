// Rich text (issue 6, behind the `richTextEditor` flag, on in the demo): a toolbar and the
// usual shortcuts edit the composer's markdown (what Chatwoot stores) as one undoable edit
// each; the preview shows it as the customer will; the customer receives the formatting.
// Without the flag there is no toolbar and the shortcuts type nothing special.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AGENT_TOKEN, DIST, Server, launchBrowser, newPage, openAgent, openCustomer, uniqueText, confirmedRow } from './harness.mjs';

describe('rich text editor', { timeout: 150_000 }, () => {
  let server;
  let browser;
  let agent;
  let input;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await openAgent(browser, server);
    input = agent.locator('[data-testid=composer-input]');
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  /** Types `text` and selects the characters from `from` to `to`. */
  async function typeAndSelect(text, from, to) {
    await input.fill(text);
    await input.evaluate((el, [a, b]) => el.setSelectionRange(a, b), [from, to]);
  }

  const selected = () => input.evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd));

  test('Ctrl+B, I, E and K format the selection; pressing again takes it off', async () => {
    await typeAndSelect('please check this now', 7, 17);
    await input.press('Control+b');
    assert.equal(await input.inputValue(), 'please **check this** now');
    assert.equal(await selected(), 'check this', 'the words stay selected');
    await input.press('Control+i');
    assert.equal(await input.inputValue(), 'please ***check this*** now');
    await input.press('Control+b');
    assert.equal(await input.inputValue(), 'please *check this* now');
    await input.press('Control+i');
    assert.equal(await input.inputValue(), 'please check this now');

    await typeAndSelect('run npm ci first', 4, 10);
    await input.press('Control+e');
    assert.equal(await input.inputValue(), 'run `npm ci` first');

    await typeAndSelect('see the docs', 4, 12);
    await input.press('Control+k');
    assert.equal(await input.inputValue(), 'see [the docs](https://)');
    assert.equal(await selected(), 'https://', 'the address is selected, ready to type over');
    await agent.keyboard.type('https://docs.example.com');
    assert.equal(await input.inputValue(), 'see [the docs](https://docs.example.com)');
  });

  test('each command is one edit that Ctrl+Z undoes', async () => {
    await input.fill('');
    await input.focus();
    await agent.keyboard.type('undo me');
    await input.evaluate((el) => el.setSelectionRange(0, 7));
    await input.press('Control+b');
    assert.equal(await input.inputValue(), '**undo me**');
    await input.press('Control+z');
    assert.equal(await input.inputValue(), 'undo me');
  });

  test('the toolbar: a mouse click keeps the selection, arrows move between buttons', async () => {
    await typeAndSelect('milk\neggs\nbread', 0, 15);
    await agent.locator('[data-testid=format-bulleted-list]').click();
    assert.equal(await input.inputValue(), '- milk\n- eggs\n- bread');
    await agent.locator('[data-testid=format-numbered-list]').click();
    assert.equal(await input.inputValue(), '1. milk\n2. eggs\n3. bread');
    await typeAndSelect('a wise word', 0, 11);
    await agent.locator('[data-testid=format-quote]').click();
    assert.equal(await input.inputValue(), '> a wise word');

    // One tab stop; the arrows move, Enter applies, focus goes back to the text.
    const toolbar = agent.locator('[data-testid=format-toolbar]');
    assert.equal(await toolbar.getAttribute('role'), 'toolbar');
    assert.equal(await toolbar.locator('button[tabindex="0"]').count(), 1);
    await typeAndSelect('strike me', 0, 9);
    await agent.locator('[data-testid=format-bold]').focus();
    await agent.keyboard.press('ArrowRight');
    await agent.keyboard.press('ArrowRight');
    assert.equal(await agent.evaluate(() => document.activeElement.dataset.testid), 'format-strikethrough');
    await agent.keyboard.press('Enter');
    assert.equal(await input.inputValue(), '~~strike me~~');
    assert.equal(await agent.evaluate(() => document.activeElement.dataset.testid), 'composer-input');
  });

  test('the preview shows what the customer will see, and the customer sees it', async () => {
    const word = uniqueText('bold');
    const customer = await openCustomer(browser, server);
    await input.fill(`**${word}** and [a link](https://example.com/help)`);
    const preview = agent.locator('[data-testid=composer-preview]');
    await preview.waitFor();
    assert.equal(await preview.locator('strong').textContent(), word);
    assert.equal(await preview.locator('a').getAttribute('href'), 'https://example.com/help');
    await input.press('Enter');
    await confirmedRow(agent, word).waitFor();
    await preview.waitFor({ state: 'detached' });
    // The agent's row and the customer's page both show bold and a link.
    assert.equal(await confirmedRow(agent, word).locator('strong').textContent(), word);
    const bubble = customer.locator('strong', { hasText: word });
    await bubble.waitFor();
    await customer.close();
  });

  test('plain text needs no preview', async () => {
    await input.fill('just words, no formatting');
    await agent.waitForTimeout(100);
    assert.equal(await agent.locator('[data-testid=composer-preview]').count(), 0);
    await input.fill('');
  });
});

describe('rich text editor turned off', { timeout: 90_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('no toolbar, no preview, Ctrl+B does not format', async () => {
    const html = await readFile(path.join(DIST, 'index.html'), 'utf8');
    const js = html.match(/\/parley-[0-9a-f]+\.js/)[0];
    const css = html.match(/\/parley-[0-9a-f]+\.css/)[0];
    const wasm = html.match(/\/parley-[0-9a-f]+_bg\.wasm/)[0];
    const host = await newPage(browser);
    await host.goto(`${server.baseUrl}/api/v1/host-page-of-the-test`);
    await host.setContent(`<!doctype html><html><head><link rel="stylesheet" href="${css}"></head><body>
      <div id="chat" style="height: 600px"></div>
      <script type="module">
        import init, { mount } from '${js}';
        await init({ module_or_path: '${wasm}' });
        window.chat = mount(document.getElementById('chat'), { baseUrl: '', accountId: 1, conversationId: 1, token: '${AGENT_TOKEN}' });
        window.mounted = true;
      </script></body></html>`);
    await host.waitForFunction(() => window.mounted === true);
    await host.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    const input = host.locator('[data-testid=composer-input]');
    await input.fill('**stays as typed**');
    await input.evaluate((el) => el.setSelectionRange(2, 6));
    await input.press('Control+b');
    assert.equal(await input.inputValue(), '**stays as typed**');
    assert.equal(await host.locator('[data-testid=format-toolbar]').count(), 0);
    assert.equal(await host.locator('[data-testid=composer-preview]').count(), 0);
  });
});
