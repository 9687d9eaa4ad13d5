// Embedding (issue 2 §4, issue 4's telemetry, issue 6's events out): a host page of its
// own imports the wasm module, calls mount(element, config) with an onTelemetry callback,
// chats, switches nothing on the host, and unmount() removes the chat cleanly.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AGENT_TOKEN, DIST, Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

async function builtAssets() {
  const html = await readFile(path.join(DIST, 'index.html'), 'utf8');
  const js = html.match(/\/parley-[0-9a-f]+\.js/)?.[0];
  const css = html.match(/\/parley-[0-9a-f]+\.css/)?.[0];
  const wasm = html.match(/\/parley-[0-9a-f]+_bg\.wasm/)?.[0];
  assert.ok(js && css && wasm, 'dist/index.html names the module, its wasm and the stylesheet');
  return { js, css, wasm };
}

describe('embedded with mount()', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let host;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    host = await newPage(browser);
    const { js, css, wasm } = await builtAssets();
    // A host page of the test's own, on the server's origin: a plain page of the server
    // (a JSON 404, no Parley in it, no CSP) replaced by the host's markup.
    await host.goto(`${server.baseUrl}/api/v1/host-page-of-the-test`).catch(() => {});
    await host.setContent(`<!doctype html><html><head><link rel="stylesheet" href="${css}"></head><body>
          <h1 id="host-title">Host dashboard</h1>
          <div id="chat" style="height: 600px"></div>
          <script type="module">
            import init, { mount } from '${js}';
            await init({ module_or_path: '${wasm}' });
            window.events = [];
            window.domEvents = [];
            document.getElementById('chat').addEventListener('parley:telemetry', (e) => window.domEvents.push(e.detail));
            window.chat = mount(document.getElementById('chat'), {
              baseUrl: '', accountId: 1, conversationId: 1, token: '${AGENT_TOKEN}',
              onTelemetry: (e) => window.events.push(e),
            });
            window.mounted = true;
          </script></body></html>`);
    await host.waitForFunction(() => window.mounted === true);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('the chat mounts into the host element and goes live', async () => {
    const chat = host.locator('#chat [data-testid=chat-screen]');
    await chat.waitFor();
    await host.locator('#chat [data-testid=message]').first().waitFor();
    await host.locator('#chat [data-testid=connection-state][data-state=connected]').waitFor();
    assert.equal(await host.locator('#host-title').textContent(), 'Host dashboard', 'the host page is untouched');
  });

  test('sending and choosing a canned response reach onTelemetry, without the text', async () => {
    const input = host.locator('#chat [data-testid=composer-input]');
    const text = uniqueText('sent from an embedded chat');
    await input.fill(text);
    await input.press('Enter');
    await host.locator('#chat [data-testid=message]', { hasText: text }).waitFor();
    await input.pressSequentially('/thanks');
    await host.waitForFunction(() => document.querySelector('[data-testid=canned-option]')?.textContent.startsWith('/thanks'));
    await input.press('Enter');
    const events = await host.evaluate(() => window.events);
    const sent = events.find((e) => e.name === 'message_sent');
    assert.deepEqual(sent, { name: 'message_sent', conversation_id: 1, message_type: 'reply', private: false, character_count: [...text].length });
    const canned = events.find((e) => e.name === 'canned_response_used');
    assert.equal(canned?.short_code, 'thanks');
    assert.ok(!JSON.stringify(events).includes(text), 'no message text in telemetry');
    // The same events, as DOM CustomEvents on the element the host mounted into.
    assert.deepEqual(await host.evaluate(() => window.domEvents), events);
  });

  test('unmount() removes the chat and closes its connection', async () => {
    await host.evaluate(() => window.chat.unmount());
    assert.equal(await host.locator('#chat [data-testid=chat-screen]').count(), 0);
    assert.equal(await host.locator('#host-title').textContent(), 'Host dashboard');
  });

  test('no page errors', () => {
    // The 404 of the page the host markup replaced is the test's own doing.
    assert.deepEqual(host.errors.filter((e) => !/favicon|host-page-of-the-test/.test(e)), []);
  });
});
