// Issue 5, showing attachments: the demo history's image shows as a thumbnail whose box is
// reserved before it loads, and its PDF as a chip with name, size and a download link that
// serves the file.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage } from './harness.mjs';

describe('attachments in the log', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let agent;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await newPage(browser);
    await agent.goto(server.info.agentUrl);
    await agent.locator('[data-testid=message]').first().waitFor();
    // The demo's attachments are at the start of the conversation.
    await agent.locator('[data-testid=message-list]').evaluate((el) => {
      el.scrollTop = 0;
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('an image is a thumbnail with its box reserved, and it loads', async () => {
    const link = agent.locator('[data-testid=attachment-image]').first();
    await link.waitFor();
    const img = await link.locator('img').evaluate(async (el) => {
      if (!el.complete) await new Promise((r) => el.addEventListener('load', r, { once: true }));
      return { w: el.getAttribute('width'), h: el.getAttribute('height'), natural: el.naturalWidth, alt: el.alt, src: el.getAttribute('src') };
    });
    assert.ok(Number(img.w) > 0 && Number(img.h) > 0, `reserved box ${img.w}x${img.h}`);
    assert.ok(img.natural > 0, 'the image loaded');
    assert.match(img.alt, /^Image: /);
    assert.match(img.src, /^(https?:\/\/|\/)/);
    // A button that opens the lightbox (tests/e2e/lightbox.test.mjs), not a link away.
    assert.equal(await link.evaluate((el) => el.tagName), 'BUTTON');
  });

  test('a file is a chip with name, size and a download that serves it', async () => {
    const chip = agent.locator('[data-testid=attachment-file]').first();
    await chip.waitFor();
    const text = await chip.textContent();
    assert.match(text, /replacement-order-48213\.pdf/);
    assert.match(text, /\d+ (B|KB|MB)/);
    const href = await chip.locator('a').getAttribute('href');
    const res = await fetch(new URL(href, server.baseUrl));
    assert.equal(res.status, 200);
    // Served as a download, never rendered on the server's origin.
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.subarray(0, 5).toString(), '%PDF-', 'the stored file comes back');
  });

  test('no page errors', () => {
    assert.deepEqual(agent.errors, []);
  });
});
