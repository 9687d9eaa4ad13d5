// Issue 6, a real Chatwoot behind a same-origin proxy: one parley-server in --upstream mode
// in front of another (standing in for Chatwoot). The agent signs in and chats through the
// proxy, the customer talks to the upstream directly; messages, typing and files cross the
// proxy both ways, live.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage, uniqueText } from './harness.mjs';

const MESSAGE = '[data-testid=message]';

describe('through a same-origin proxy (--upstream)', { timeout: 180_000 }, () => {
  let upstream;
  let proxy;
  let browser;
  let agent;
  let customer;
  let agentPath;

  before(async () => {
    upstream = await Server.start({ demo: true });
    agentPath = new URL(upstream.info.agentUrl).pathname;
    proxy = await Server.start({
      demo: false,
      agentToken: null,
      testControls: false,
      extraArgs: ['--upstream', upstream.baseUrl],
    });
    browser = await launchBrowser();
    agent = await newPage(browser);
    customer = await newPage(browser);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await proxy?.dispose();
    await upstream?.dispose();
  });

  test('the agent signs in through the proxy and opens the conversation', async () => {
    await agent.goto(proxy.baseUrl + agentPath);
    await agent.locator('input[name=email]').fill(upstream.info.agentEmail);
    const password = agent.locator('input[name=password]');
    await password.fill(upstream.info.agentPassword);
    await password.evaluate((el) => el.form.requestSubmit());
    await agent.locator('[data-testid=chat-screen]').waitFor();
    await agent.locator(MESSAGE).first().waitFor();
    // The live connection is the proxied /cable.
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    assert.equal(new URL(agent.url()).origin, proxy.baseUrl, 'the app stays on the proxy origin');
  });

  test('agent → customer and customer → agent, live, through the proxy', async () => {
    await customer.goto(upstream.info.customerUrl);
    await customer.locator('#conn[data-state=connected]').waitFor();

    const out = uniqueText('through the proxy');
    const input = agent.locator('[data-testid=composer-input]');
    await input.fill(out);
    await input.press('Enter');
    await agent.locator(`${MESSAGE}[data-status=sent]`, { hasText: out }).or(agent.locator(`${MESSAGE}[data-status=delivered]`, { hasText: out })).or(agent.locator(`${MESSAGE}[data-status=read]`, { hasText: out })).waitFor();
    await customer.locator('#messages .msg .msg-text', { hasText: out }).waitFor();

    const back = uniqueText('back through the proxy');
    await customer.locator('#input').fill(back);
    await customer.locator('#send').click();
    const row = agent.locator(MESSAGE, { hasText: back });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-type'), 'incoming');
    assert.equal(await row.count(), 1);
  });

  test('the customer typing shows for the agent through the proxied cable', async () => {
    await customer.locator('#input').pressSequentially('typing…', { delay: 30 });
    await agent.locator('[data-testid=typing-indicator]', { hasText: /typing/ }).waitFor();
  });

  test('attachments load through the proxy', async () => {
    await agent.locator('[data-testid=message-list]').evaluate((el) => {
      el.scrollTop = 0;
    });
    const img = agent.locator('[data-testid=attachment-image] img').first();
    await img.waitFor();
    const loaded = await img.evaluate(async (el) => {
      if (!el.complete) await new Promise((r) => el.addEventListener('load', r, { once: true }));
      return { natural: el.naturalWidth, src: el.currentSrc };
    });
    assert.ok(loaded.natural > 0, 'the image loaded');
    assert.equal(new URL(loaded.src).origin, proxy.baseUrl, 'file URLs are rewritten to the proxy origin');
  });

  test("the proxied cable keeps ActionCable's subprotocol and speaks it", async () => {
    const opened = await agent.evaluate(() => new Promise((resolve, reject) => {
      const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/cable`, ['actioncable-v1-json', 'actioncable-unsupported']);
      ws.onmessage = (e) => {
        resolve({ protocol: ws.protocol, first: JSON.parse(e.data).type });
        ws.close();
      };
      ws.onerror = () => reject(new Error('the cable failed'));
      setTimeout(() => reject(new Error('no frame within 5 s')), 5_000);
    }));
    assert.deepEqual(opened, { protocol: 'actioncable-v1-json', first: 'welcome' });
  });

  test('an upstream that is down gets a clear error, not a hang', async () => {
    await upstream.stop();
    try {
      const started = Date.now();
      const res = await proxy.api('/api/v1/profile', { token: upstream.info.agentToken });
      // Refused at once: a bad gateway (504 is for an upstream that is slow, not gone).
      assert.equal(res.status, 502, `status ${res.status}: ${res.text}`);
      assert.equal(res.json?.error, `The Chatwoot server at ${new URL(upstream.baseUrl).host} could not be reached`);
      assert.ok(Date.now() - started < 10_000, 'answered promptly');
    } finally {
      await upstream.start();
    }
  });

  test('no page errors on the agent side', () => {
    const benign = (e) => /favicon|WebSocket connection|ERR_CONNECTION_REFUSED|502|504/.test(e);
    assert.deepEqual(agent.errors.filter((e) => !benign(e)), []);
  });
});
