// Issue 5, sending attachments, in real Chromium against parley-server: a 30 MB file goes
// up with a real progress bar and arrives byte for byte (sha256 of what the server serves);
// a 41 MB file and a refused type are stopped before anything is uploaded, with the file
// named and the reason, and the text typed so far kept; Cancel in the middle of an upload
// leaves no message on the server; a server failing twice then succeeding delivers once, and
// a response dropped after the server stored the files makes no second copy (echo_id);
// three failures mark it failed with Retry; a file queued offline survives a reload (its
// Blob in IndexedDB) and arrives when the network is back; drop and paste fill the tray
// with previews; telemetry reports each delivered file without its name.
//
// Upload speed is limited with Chromium's own network emulation (CDP), so that progress
// and a cancel in the middle are seen on loopback.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AGENT_TOKEN, DIST, Server, launchBrowser, newPage, uniqueText } from './harness.mjs';
import { seriousViolations } from './audit.mjs';
import { recordProgress, throttleUpload, waitConfirmed } from './uploads.mjs';

const MB = 1024 * 1024;
const MESSAGE = '[data-testid=message]';
const CONNECTED = '[data-testid=connection-state][data-state=connected]';

describe('sending attachments', { timeout: 600_000 }, () => {
  let server;
  let browser;
  let dir;
  let ids;
  let big;
  let bigSha;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    const m = new URL(server.info.agentUrl).pathname.match(/accounts\/(\d+)\/conversations\/(\d+)/);
    ids = { account: m[1], conversation: m[2] };
    dir = await mkdtemp(path.join(tmpdir(), 'parley-upload-'));
    // Random bytes: nothing along the way can compress or guess them.
    const bytes = randomBytes(30 * MB);
    bigSha = createHash('sha256').update(bytes).digest('hex');
    big = path.join(dir, 'thirty-megabytes.pdf');
    await writeFile(big, bytes);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function openAgent() {
    const page = await newPage(browser);
    await page.goto(server.info.agentUrl);
    await page.locator(CONNECTED).waitFor({ timeout: 20_000 });
    return page;
  }

  async function faults(body) {
    const res = await server.api('/__parley/test/faults', { method: 'POST', body });
    assert.equal(res.status, 200, `faults: ${res.text}`);
    return res.json;
  }

  async function serverMessages() {
    const res = await server.api(`/api/v1/accounts/${ids.account}/conversations/${ids.conversation}/messages`);
    assert.equal(res.status, 200, res.text);
    return res.json.payload;
  }

  async function onServer(caption) {
    return (await serverMessages()).filter((m) => m.content === caption);
  }

  /** sha256 of the file the server serves for an attachment. */
  async function servedSha(attachment) {
    const res = await fetch(new URL(attachment.data_url, server.baseUrl));
    assert.equal(res.status, 200, `GET ${attachment.data_url}`);
    return createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex');
  }

  async function attach(page, files) {
    await page.locator('[data-testid=attach-input]').setInputFiles(files);
  }

  async function sendCaption(page, caption) {
    const input = page.locator('[data-testid=composer-input]');
    await input.fill(caption);
    await input.press('Enter');
    await page.locator(MESSAGE, { hasText: caption }).first().waitFor();
  }

  test('a 30 MB file shows its progress and arrives intact', async () => {
    const page = await openAgent();
    const caption = uniqueText('thirty megabytes');
    await attach(page, big);
    const item = page.locator('[data-testid=tray-item]');
    await item.waitFor();
    assert.match(await item.textContent(), /thirty-megabytes\.pdf.*30\.0 MB/);
    // 30 MB at 12 MB/s: a few seconds of visible progress.
    await throttleUpload(page, 12 * MB);
    await recordProgress(page);
    await sendCaption(page, caption);
    assert.equal(await page.locator('[data-testid=tray-item]').count(), 0, 'the tray is emptied once queued');
    const bar = page.locator(`${MESSAGE} [data-testid=upload-progress]`);
    await bar.waitFor();
    assert.equal(await bar.getAttribute('role'), 'progressbar');
    await waitConfirmed(page, caption, 60_000);
    const seen = await page.evaluate(() => window.progressSeen);
    const middle = seen.filter((v) => v > 0 && v < 100);
    assert.ok(middle.length >= 3, `progress moved through the middle: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'progress never goes back');
    // The row now shows the server's attachment, and the server has it byte for byte.
    await page.locator(MESSAGE, { hasText: caption }).locator('[data-testid=attachment-file]').waitFor();
    const stored = await onServer(caption);
    assert.equal(stored.length, 1, 'one message');
    assert.equal(stored[0].attachments?.length, 1);
    assert.equal(stored[0].attachments[0].file_size, 30 * MB);
    assert.equal(await servedSha(stored[0].attachments[0]), bigSha, 'the served file is the file picked');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('a 41 MB file and a refused type are stopped before upload; the text typed stays', async () => {
    const page = await openAgent();
    const tooBig = path.join(dir, 'too-big.pdf');
    await writeFile(tooBig, '');
    await truncate(tooBig, 41 * MB);
    const exe = path.join(dir, 'tool.exe');
    await writeFile(exe, 'MZ not really a program');
    const ok = path.join(dir, 'notes.txt');
    await writeFile(ok, 'fine');
    const posts = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && /\/messages$/.test(new URL(r.url()).pathname)) posts.push(r.url());
    });
    const input = page.locator('[data-testid=composer-input]');
    const text = uniqueText('kept while files are refused');
    await input.fill(text);
    await attach(page, [tooBig, exe, ok]);
    const refused = page.locator('[data-testid=attachment-refused]');
    await refused.waitFor();
    const notes = (await refused.locator('li').allTextContents()).map((t) => t.trim());
    assert.deepEqual(notes, [
      '“too-big.pdf” is 41.0 MB, over the 40 MB limit per file.',
      "“tool.exe” can't be sent: this type of file is not accepted.",
    ]);
    assert.equal(await refused.getAttribute('role'), 'alert');
    // The accepted one joined; the text is untouched; nothing went to the server.
    assert.deepEqual(await page.locator('[data-testid=tray-name]').allTextContents(), ['notes.txt']);
    assert.equal(await input.inputValue(), text);
    assert.deepEqual(posts, []);
    // Removing the accepted file leaves nothing to send and the text still there.
    await page.locator('[data-testid=tray-remove]').click();
    assert.equal(await page.locator('[data-testid=tray-item]').count(), 0);
    assert.equal(await input.inputValue(), text);
    assert.deepEqual(posts, []);
    await page.close();
  });

  test('the attach button opens the picker; of 16 files the 16th is named and not added', async () => {
    const page = await openAgent();
    const files = [];
    for (let i = 1; i <= 16; i++) {
      const f = path.join(dir, `file-${i}.txt`);
      await writeFile(f, `file ${i}`);
      files.push(f);
    }
    // Through the visible button: it opens the browser's own picker, for several files.
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach files' }).click()]);
    assert.equal(chooser.isMultiple(), true);
    await chooser.setFiles(files);
    await page.locator('[data-testid=attachment-refused]').waitFor();
    assert.equal(await page.locator('[data-testid=tray-item]').count(), 15);
    assert.match(
      await page.locator('[data-testid=attachment-refused]').textContent(),
      /“file-16\.txt” was not added: a message can carry at most 15 files\./,
    );
    await page.close();
  });

  test('Cancel in the middle of an upload leaves no message on the server', async () => {
    const page = await openAgent();
    const caption = uniqueText('cancelled upload');
    await attach(page, big);
    await page.locator('[data-testid=tray-item]').waitFor();
    // 30 MB at 2 MB/s: about 15 s, cancelled after the first few percent.
    const cdp = await throttleUpload(page, 2 * MB);
    await sendCaption(page, caption);
    const row = page.locator(MESSAGE, { hasText: caption });
    await page.waitForFunction(() => {
      const bar = document.querySelector('[data-testid=upload-progress]');
      const v = Number(bar?.getAttribute('aria-valuenow'));
      return v >= 3 && v < 50;
    }, null, { timeout: 20_000 });
    await row.locator('[data-testid=upload-cancel]').click();
    await row.waitFor({ state: 'detached', timeout: 5_000 });
    // Back to full speed: nothing the page might still hold may reach the server now.
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.waitForTimeout(3_000);
    assert.deepEqual(await onServer(caption), [], 'no message on the server');
    assert.equal(await row.count(), 0, 'and none in the log');
    // The files left the browser's storage with the message.
    const blobs = await page.evaluate(async () => {
      const info = (await indexedDB.databases()).find((d) => d.name.startsWith('parley-outbox.v1'));
      const db = await new Promise((resolve, reject) => {
        const req = indexedDB.open(info.name);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const n = await new Promise((resolve) => {
        const req = db.transaction('blobs').objectStore('blobs').count();
        req.onsuccess = () => resolve(req.result);
      });
      db.close();
      return n;
    });
    assert.equal(blobs, 0, 'no Blob left in IndexedDB');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('once the body is out the row says Processing… and offers no Cancel', async () => {
    const page = await openAgent();
    const caption = uniqueText('processing');
    const file = path.join(dir, 'processing.txt');
    await writeFile(file, randomBytes(128 * 1024));
    // The server holds the message for 3 s after the whole body has arrived.
    await faults({ upload_hold_ms: 3_000 });
    try {
      await attach(page, file);
      await sendCaption(page, caption);
      const row = page.locator(MESSAGE, { hasText: caption });
      await row.locator('[data-testid=upload-processing]').waitFor({ timeout: 10_000 });
      assert.equal((await row.locator('[data-testid=upload-processing]').textContent()).trim(), 'Processing…');
      assert.equal(await row.locator('[data-testid=upload-cancel]').count(), 0, 'no Cancel once the server may hold it');
      await waitConfirmed(page, caption);
      assert.equal(await row.locator('[data-testid=upload-processing]').count(), 0);
      assert.equal((await onServer(caption)).length, 1);
    } finally {
      await faults({ upload_hold_ms: 0 });
    }
    await page.close();
  });

  test('a server failing twice then succeeding delivers the message once', async () => {
    const page = await openAgent();
    const caption = uniqueText('after two failures');
    const file = path.join(dir, 'retry-me.csv');
    const bytes = randomBytes(256 * 1024);
    await writeFile(file, bytes);
    await faults({ upload_fail_next: 2 });
    await attach(page, file);
    await page.locator('[data-testid=tray-item]').waitFor();
    await sendCaption(page, caption);
    await waitConfirmed(page, caption);
    assert.equal((await faults({})).upload_fail_next, 0, 'both injected failures were used');
    const stored = await onServer(caption);
    assert.equal(stored.length, 1, 'delivered exactly once');
    assert.equal(await servedSha(stored[0].attachments[0]), createHash('sha256').update(bytes).digest('hex'));
    await page.close();
  });

  test('a response dropped after the server stored the files makes no duplicate', async () => {
    const page = await openAgent();
    const caption = uniqueText('dropped upload response');
    const file = path.join(dir, 'dropped.txt');
    await writeFile(file, 'stored once');
    await faults({ drop_next_responses: 1 });
    await attach(page, file);
    await sendCaption(page, caption);
    await waitConfirmed(page, caption);
    assert.equal((await faults({})).drop_next_responses, 0, 'the response was dropped');
    // Whatever retried (Chromium itself, or the outbox with the same echo_id), one message.
    await page.waitForTimeout(1_500);
    assert.equal((await onServer(caption)).length, 1);
    assert.equal(await page.locator(MESSAGE, { hasText: caption }).count(), 1);
    await page.close();
  });

  test('three failures mark it failed with the reason and Retry, which then delivers it', async () => {
    const page = await openAgent();
    const caption = uniqueText('three failures');
    const file = path.join(dir, 'fails.txt');
    await writeFile(file, 'three strikes');
    await faults({ upload_fail_next: 3 });
    await attach(page, file);
    await sendCaption(page, caption);
    const row = page.locator(`${MESSAGE}[data-status=failed]`, { hasText: caption });
    await row.waitFor({ timeout: 20_000 });
    assert.match(await row.locator('[role=alert]').textContent(), /Not sent after 3 attempts: The server answered with an error \(500\)\./);
    assert.equal((await faults({})).upload_fail_next, 0, 'exactly three attempts');
    assert.deepEqual(await onServer(caption), []);
    await row.locator('[data-testid=retry-button]').click();
    await waitConfirmed(page, caption);
    assert.equal((await onServer(caption)).length, 1);
    await page.close();
  });

  test('a file queued offline survives a reload and arrives when the network is back', async () => {
    const page = await openAgent();
    const context = page.context();
    const caption = uniqueText('queued file');
    const file = path.join(dir, 'offline.txt');
    const bytes = randomBytes(64 * 1024);
    await writeFile(file, bytes);
    await context.setOffline(true);
    await page.locator('[data-testid=connection-state][data-state=offline]').waitFor({ timeout: 10_000 });
    await attach(page, file);
    await sendCaption(page, caption);
    await page.locator(`${MESSAGE}[data-status=queued]`, { hasText: caption }).waitFor();
    // The page is served by the server: it goes down first, so that coming online sends
    // nothing before the reload.
    await server.stop();
    await context.setOffline(false);
    // The server is down: the reload ends on the browser's error page.
    await assert.rejects(page.reload({ timeout: 10_000 }), /ERR_CONNECTION_REFUSED/);
    server.options.port = Number(new URL(server.info.listeningOn).port);
    await server.start();
    for (let attempt = 0; ; attempt++) {
      try {
        await page.goto(server.info.agentUrl);
        break;
      } catch (e) {
        if (attempt >= 3 || !/interrupted by another navigation/.test(e.message)) throw e;
        await page.waitForTimeout(250);
      }
    }
    await waitConfirmed(page, caption);
    const stored = await onServer(caption);
    assert.equal(stored.length, 1);
    assert.equal(stored[0].attachments[0].file_size, bytes.length);
    assert.equal(await servedSha(stored[0].attachments[0]), createHash('sha256').update(bytes).digest('hex'), 'the Blob kept in IndexedDB is the file');
    await page.close();
  });

  test('dropping files on the conversation and pasting an image fill the tray with previews', async () => {
    const page = await openAgent();
    const screen = page.locator('[data-testid=chat-screen]');
    // A drag of files shows the drop hint; the drop adds them.
    await page.evaluate(async () => {
      const canvas = Object.assign(document.createElement('canvas'), { width: 24, height: 16 });
      canvas.getContext('2d').fillRect(0, 0, 24, 16);
      const png = await new Promise((r) => canvas.toBlob(r, 'image/png'));
      window.dropped = new DataTransfer();
      window.dropped.items.add(new File([png], 'dropped.png', { type: 'image/png' }));
      window.dropped.items.add(new File(['a,b\n1,2\n'], 'table.csv', { type: 'text/csv' }));
      const target = document.querySelector('[data-testid=message-list]');
      target.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: window.dropped }));
      target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: window.dropped }));
    });
    await screen.locator('[data-testid=drop-hint]').waitFor();
    await page.evaluate(() => {
      const target = document.querySelector('[data-testid=message-list]');
      target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: window.dropped }));
    });
    await screen.locator('[data-testid=drop-hint]').waitFor({ state: 'detached' });
    assert.deepEqual(await page.locator('[data-testid=tray-name]').allTextContents(), ['dropped.png', 'table.csv']);
    // The image is a real thumbnail from an object URL; the CSV an icon with its size.
    const thumb = page.locator('[data-testid=tray-image]');
    const loaded = await thumb.evaluate(async (img) => {
      if (!img.complete) await new Promise((r) => img.addEventListener('load', r, { once: true }));
      return { src: img.getAttribute('src'), width: img.naturalWidth };
    });
    assert.match(loaded.src, /^blob:/);
    assert.equal(loaded.width, 24);
    assert.match(await page.locator('[data-testid=tray-item]', { hasText: 'table.csv' }).textContent(), /8 B/);

    // Pasting an image into the composer adds it too (text pastes stay text).
    await page.evaluate(async () => {
      const canvas = Object.assign(document.createElement('canvas'), { width: 8, height: 8 });
      canvas.getContext('2d').fillRect(0, 0, 8, 8);
      const png = await new Promise((r) => canvas.toBlob(r, 'image/png'));
      const data = new DataTransfer();
      data.items.add(new File([png], 'pasted.png', { type: 'image/png' }));
      document.querySelector('[data-testid=composer-input]').dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: data }));
    });
    await page.locator('[data-testid=tray-item]', { hasText: 'pasted.png' }).waitFor();

    // Removing one revokes nothing the others need; sending all three delivers them.
    await page.locator('[data-testid=tray-item]', { hasText: 'table.csv' }).locator('[data-testid=tray-remove]').click();
    assert.deepEqual(await page.locator('[data-testid=tray-name]').allTextContents(), ['dropped.png', 'pasted.png']);
    const caption = uniqueText('dropped and pasted');
    await sendCaption(page, caption);
    await waitConfirmed(page, caption);
    const stored = await onServer(caption);
    assert.deepEqual(stored[0].attachments.map((a) => a.file_type), ['image', 'image']);
    await page.locator(MESSAGE, { hasText: caption }).locator('[data-testid=attachment-image]').first().waitFor();
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('a video in the tray shows its first frame', async () => {
    const page = await openAgent();
    // A real half-second WebM, recorded from a canvas in the page.
    await page.evaluate(async () => {
      const canvas = Object.assign(document.createElement('canvas'), { width: 64, height: 48 });
      const g = canvas.getContext('2d');
      const stream = canvas.captureStream(30);
      const recorder = new MediaRecorder(stream, { mimeType: 'video/webm' });
      const chunks = [];
      recorder.ondataavailable = (e) => chunks.push(e.data);
      const stopped = new Promise((r) => (recorder.onstop = r));
      recorder.start();
      const until = performance.now() + 500;
      while (performance.now() < until) {
        g.fillStyle = `hsl(${Math.round(performance.now()) % 360} 80% 50%)`;
        g.fillRect(0, 0, 64, 48);
        await new Promise((r) => requestAnimationFrame(r));
      }
      recorder.stop();
      await stopped;
      const data = new DataTransfer();
      data.items.add(new File(chunks, 'clip.webm', { type: 'video/webm' }));
      document.querySelector('[data-testid=composer-input]').dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: data }));
    });
    const video = page.locator('[data-testid=tray-video]');
    await video.waitFor();
    const state = await video.evaluate(async (v) => {
      // HAVE_CURRENT_DATA: the first frame is there to be shown.
      for (let i = 0; i < 100 && v.readyState < 2; i++) await new Promise((r) => setTimeout(r, 50));
      return { src: v.getAttribute('src'), preload: v.getAttribute('preload'), ready: v.readyState, width: v.videoWidth };
    });
    assert.match(state.src, /^blob:/);
    assert.equal(state.preload, 'metadata');
    assert.ok(state.ready >= 2, `first frame loaded (readyState ${state.ready})`);
    assert.equal(state.width, 64);
    // Removing it lets its object URL go: the URL no longer loads.
    await page.locator('[data-testid=tray-remove]').click();
    const stillLoads = await page.evaluate(async (src) => {
      try {
        await fetch(src);
        return true;
      } catch {
        return false;
      }
    }, state.src);
    assert.equal(stillLoads, false, 'the object URL was revoked');
    await page.close();
  });

  test('the tray, its refusals and an uploading row pass the accessibility audit', async () => {
    const page = await openAgent();
    const ok = path.join(dir, 'audit.txt');
    await writeFile(ok, 'audit me');
    const exe = path.join(dir, 'audit.exe');
    await writeFile(exe, 'MZ');
    await attach(page, [ok, exe]);
    await page.locator('[data-testid=attachment-refused]').waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'tray with a refusal');
    // The remove button says which file it removes.
    assert.equal(await page.getByRole('button', { name: 'Remove audit.txt' }).count(), 1);
    await throttleUpload(page, 64 * 1024);
    const big = path.join(dir, 'audit-big.pdf');
    await writeFile(big, randomBytes(4 * MB));
    await page.locator('[data-testid=tray-remove]').click();
    await attach(page, big);
    await sendCaption(page, uniqueText('audited upload'));
    const bar = page.getByRole('progressbar', { name: 'Uploading' });
    await bar.waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'a row uploading, with its progress bar and Cancel');
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.deepEqual(await seriousViolations(page), [], 'the same in the dark theme');
    // Still uploading (4 MB at 64 KB/s: about a minute) when the audits are done.
    await bar.waitFor();
    await page.getByRole('button', { name: 'Cancel sending these files' }).click();
    await page.close();
  });

  test('telemetry reports each delivered file by type and size, never by name', async () => {
    const host = await newPage(browser);
    const html = await readFile(path.join(DIST, 'index.html'), 'utf8');
    const js = html.match(/\/parley-[0-9a-f]+\.js/)?.[0];
    const css = html.match(/\/parley-[0-9a-f]+\.css/)?.[0];
    const wasm = html.match(/\/parley-[0-9a-f]+_bg\.wasm/)?.[0];
    await host.goto(`${server.baseUrl}/api/v1/host-page-of-the-upload-test`);
    await host.setContent(`<!doctype html><html><head><link rel="stylesheet" href="${css}"></head><body>
          <div id="chat" style="height: 600px"></div>
          <script type="module">
            import init, { mount } from '${js}';
            await init({ module_or_path: '${wasm}' });
            window.events = [];
            // The handle keeps the chat mounted.
            window.chat = mount(document.getElementById('chat'), {
              baseUrl: '', accountId: ${ids.account}, conversationId: ${ids.conversation}, token: '${AGENT_TOKEN}',
              onTelemetry: (e) => window.events.push(e),
            });
            window.mounted = true;
          </script></body></html>`);
    await host.waitForFunction(() => window.mounted === true);
    await host.locator(CONNECTED).waitFor({ timeout: 20_000 });
    const a = path.join(dir, 'secret-name.txt');
    await writeFile(a, 'hello telemetry');
    const caption = uniqueText('telemetry files');
    await attach(host, a);
    await sendCaption(host, caption);
    await waitConfirmed(host, caption);
    await host.waitForFunction(() => window.events.some((e) => e.name === 'attachment_sent'));
    const events = (await host.evaluate(() => window.events)).filter((e) => e.name === 'attachment_sent');
    assert.deepEqual(events, [{ name: 'attachment_sent', conversation_id: Number(ids.conversation), file_type: 'file', size: 15 }]);
    assert.ok(!JSON.stringify(await host.evaluate(() => window.events)).includes('secret-name'), 'no file name in telemetry');
    await host.close();
  });
});

describe('the size limit is the server\'s', { timeout: 120_000 }, () => {
  test('with --max-file-mb 1 a 2 MB file is refused before upload, naming the 1 MB limit', async () => {
    const server = await Server.start({ demo: true, extraArgs: ['--max-file-mb', '1'] });
    const browser = await launchBrowser();
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-upload-limit-'));
    try {
      const page = await newPage(browser);
      await page.goto(server.info.agentUrl);
      await page.locator(CONNECTED).waitFor({ timeout: 20_000 });
      const two = path.join(dir, 'two.pdf');
      await writeFile(two, randomBytes(2 * MB));
      const half = path.join(dir, 'half.pdf');
      await writeFile(half, randomBytes(MB / 2));
      await page.locator('[data-testid=attach-input]').setInputFiles([two, half]);
      await page.locator('[data-testid=attachment-refused]').waitFor();
      assert.equal(
        (await page.locator('[data-testid=attachment-refused]').textContent()).trim(),
        '“two.pdf” is 2.0 MB, over the 1 MB limit per file.',
      );
      assert.deepEqual(await page.locator('[data-testid=tray-name]').allTextContents(), ['half.pdf']);
    } finally {
      await browser.close().catch(() => {});
      await server.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
