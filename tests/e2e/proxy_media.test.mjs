// Issue 6, files through the same-origin proxy (--upstream): one parley-server in proxy mode
// in front of another (standing in for Chatwoot). The agent app served by the proxy uploads a
// 30 MB file with its progress seen, and the file the upstream stored is the file picked,
// byte for byte through the proxy's file URL; a Cancel in the middle leaves no message
// upstream. The proxy streams: the upstream receives a 40 MB upload while the client still
// holds back half of it, and the client receives the download while the upstream still holds
// back half of it (the proxy's peak memory is printed). A voice note recorded with the fake
// microphone goes through the proxy, is stored upstream as OGG/Opus (ffprobe) and plays on the
// customer's page. An upload that keeps moving is never cut by --upstream-timeout; an
// upstream silent past it is a 504.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { FAKE_MICROPHONE_ARGS, Server, launchBrowser, newPage, openCustomer, uniqueText, withTimeout } from './harness.mjs';
import { progressSeen, recordProgress, throttleUpload, waitConfirmed } from './uploads.mjs';
import { mountedAgent, pageErrors, playAndDecode } from './voice_notes.mjs';

const run = promisify(execFile);
const MB = 1024 * 1024;
const MESSAGE = '[data-testid=message]';

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The peak resident memory of a process so far, in bytes (VmHWM). */
async function peakRss(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/^VmHWM:\s+(\d+) kB$/m)?.[1]);
  assert.ok(kb > 0, `VmHWM of ${pid}`);
  return kb * 1024;
}

/** Resets the peak to the current resident memory (Linux: "5" in clear_refs). */
async function resetPeakRss(pid) {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

/**
 * A TCP relay in front of the upstream, on 127.0.0.1: what the upstream is sent and what it
 * sends back pass through it and are counted, so a test sees the upstream's side of the
 * proxy. `holdDown(n)` lets only `n` more bytes from the upstream through until `release()`.
 */
async function startRelay(upstreamUrl) {
  const port = Number(new URL(upstreamUrl).port);
  const counts = { up: 0, down: 0 };
  const listeners = new Set();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  let downLimit = Infinity;
  const held = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    const target = net.connect(port, '127.0.0.1');
    sockets.add(client).add(target);
    client.on('data', (chunk) => {
      counts.up += chunk.length;
      target.write(chunk);
      notify();
    });
    target.on('data', (chunk) => {
      if (counts.down >= downLimit) {
        target.pause();
        held.push(() => {
          counts.down += chunk.length;
          client.write(chunk);
          target.resume();
        });
        return;
      }
      counts.down += chunk.length;
      client.write(chunk);
      notify();
    });
    client.on('end', () => target.end());
    target.on('end', () => client.end());
    const close = () => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on('error', close).on('close', close);
    target.on('error', close).on('close', close);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    counts,
    /** Resolves when `pred(counts)` holds; rejects with `what` after `ms`. */
    async until(pred, ms, what) {
      let listener;
      try {
        await withTimeout(
          new Promise((resolve) => {
            listener = () => pred(counts) && resolve();
            listeners.add(listener);
            listener();
          }),
          ms,
          what,
        );
      } finally {
        listeners.delete(listener);
      }
    },
    holdDown(bytes) {
      downLimit = counts.down + bytes;
    },
    release() {
      downLimit = Infinity;
      for (const resume of held.splice(0)) resume();
    },
    async close() {
      this.release();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** sha256 and size of a response body read chunk by chunk, never held whole. */
async function streamedSha(res) {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of res.body) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha: hash.digest('hex'), size };
}

describe('files through a same-origin proxy (--upstream)', { timeout: 300_000 }, () => {
  let upstream;
  let proxy;
  let browser;
  let agent;
  let dir;
  let big;
  let bigSha;
  let ids;

  const proxyOf = (server) =>
    Server.start({ demo: false, agentToken: null, testControls: false, extraArgs: ['--upstream', server.baseUrl] });

  before(async () => {
    upstream = await Server.start({ demo: true });
    proxy = await proxyOf(upstream);
    const m = new URL(upstream.info.agentUrl).pathname.match(/accounts\/(\d+)\/conversations\/(\d+)/);
    ids = { account: m[1], conversation: m[2] };
    browser = await launchBrowser(FAKE_MICROPHONE_ARGS);
    dir = await mkdtemp(path.join(tmpdir(), 'parley-proxy-media-'));
    // Random bytes: nothing along the way can compress or guess them.
    const bytes = randomBytes(30 * MB);
    bigSha = sha256(bytes);
    big = path.join(dir, 'thirty-megabytes.pdf');
    await writeFile(big, bytes);

    // The agent signs in on the app the proxy serves, as in proxy.test.mjs.
    agent = await newPage(browser);
    await agent.goto(proxy.baseUrl + new URL(upstream.info.agentUrl).pathname);
    await agent.locator('input[name=email]').fill(upstream.info.agentEmail);
    const password = agent.locator('input[name=password]');
    await password.fill(upstream.info.agentPassword);
    await password.evaluate((el) => el.form.requestSubmit());
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor({ timeout: 20_000 });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await proxy?.dispose();
    await upstream?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const messagesPath = () => `/api/v1/accounts/${ids.account}/conversations/${ids.conversation}/messages`;

  /** The upstream's own record of the messages carrying `caption`. */
  async function upstreamMessages(caption) {
    const res = await upstream.api(messagesPath());
    assert.equal(res.status, 200, res.text);
    return res.json.payload.filter((m) => m.content === caption);
  }

  async function sendWithFile(page, file, caption) {
    await page.locator('[data-testid=attach-input]').setInputFiles(file);
    await page.locator('[data-testid=tray-item]').waitFor();
    const input = page.locator('[data-testid=composer-input]');
    await input.fill(caption);
    await input.press('Enter');
    await page.locator(MESSAGE, { hasText: caption }).first().waitFor();
  }

  test('a 30 MB upload from the proxied app shows progress and is stored byte for byte', async () => {
    const caption = uniqueText('thirty megabytes through the proxy');
    // 30 MB at 12 MB/s: a few seconds of visible progress.
    const cdp = await throttleUpload(agent, 12 * MB);
    await recordProgress(agent);
    await sendWithFile(agent, big, caption);
    await waitConfirmed(agent, caption, 60_000);
    await cdp.detach();
    const seen = await progressSeen(agent);
    assert.ok(seen.filter((v) => v > 0 && v < 100).length >= 3, `progress moved through the middle: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'progress never goes back');
    await agent.locator(MESSAGE, { hasText: caption }).locator('[data-testid=attachment-file]').waitFor();

    const stored = await upstreamMessages(caption);
    assert.equal(stored.length, 1, 'one message upstream');
    assert.equal(stored[0].attachments?.length, 1);
    assert.equal(stored[0].attachments[0].file_size, 30 * MB);
    // The agent's view of it, through the proxy: the file URL is the proxy's, and what it
    // serves is the file picked.
    const viaProxy = await proxy.api(messagesPath(), { token: upstream.info.agentToken });
    const [attachment] = viaProxy.json.payload.find((m) => m.content === caption).attachments;
    const url = new URL(attachment.data_url, proxy.baseUrl);
    assert.equal(url.origin, proxy.baseUrl, 'the file URL points at the proxy');
    const res = await fetch(url);
    assert.equal(res.status, 200, `GET ${url}`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const got = await streamedSha(res);
    assert.equal(got.size, 30 * MB);
    assert.equal(got.sha, bigSha, 'the file served through the proxy is the file picked');
  });

  test('Cancel in the middle of an upload through the proxy leaves no message upstream', async () => {
    const caption = uniqueText('cancelled through the proxy');
    // 30 MB at 2 MB/s: about 15 s, cancelled after the first few percent.
    const cdp = await throttleUpload(agent, 2 * MB);
    await sendWithFile(agent, big, caption);
    const row = agent.locator(MESSAGE, { hasText: caption });
    await agent.waitForFunction(() => {
      const v = Number(document.querySelector('[data-testid=upload-progress]')?.getAttribute('aria-valuenow'));
      return v >= 3 && v < 50;
    }, null, { timeout: 20_000 });
    await row.locator('[data-testid=upload-cancel]').click();
    await row.waitFor({ state: 'detached', timeout: 5_000 });
    // Back to full speed: nothing the page might still hold may reach the upstream now.
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await agent.waitForTimeout(3_000);
    assert.deepEqual(await upstreamMessages(caption), [], 'no message upstream');
    assert.equal(await row.count(), 0, 'and none in the log');
    await cdp.detach();
  });

  test('the proxy streams: the upstream gets the upload before the client has sent it all, the client the download before the upstream has', async (t) => {
    // A proxy of its own, in front of a relay that shows what the upstream is sent and holds
    // back what it sends; and no earlier test's file in its peak memory.
    const relay = await startRelay(upstream.baseUrl);
    const lean = await Server.start({ demo: false, agentToken: null, testControls: false, extraArgs: ['--upstream', relay.url] });
    try {
      const bytes = randomBytes(40 * MB);
      const caption = uniqueText('forty megabytes streamed');
      // One small request first, so the connection machinery is in the baseline.
      assert.equal((await lean.api('/api/v1/profile', { token: upstream.info.agentToken })).status, 200);
      await resetPeakRss(lean.pid);
      const before = await peakRss(lean.pid);

      // The upload: the client sends the first half, then waits until the upstream has
      // received a quarter of the file before it sends the rest. A proxy that reads the whole
      // body before it forwards it never gets there.
      const boundary = `parley-${Math.random().toString(36).slice(2)}`;
      const encode = (text) => new TextEncoder().encode(text);
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="content"\r\n\r\n${caption}\r\n`
        + `--${boundary}\r\nContent-Disposition: form-data; name="message_type"\r\n\r\noutgoing\r\n`
        + `--${boundary}\r\nContent-Disposition: form-data; name="attachments[]"; filename="forty-megabytes.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
      const upBefore = relay.counts.up;
      let upstreamHadWhenHalfSent = null;
      let heldBackFailure = null;
      const body = new ReadableStream({
        async start(controller) {
          controller.enqueue(encode(head));
          for (let i = 0; i < 20; i++) controller.enqueue(bytes.subarray(i * MB, (i + 1) * MB));
          try {
            await relay.until((c) => c.up - upBefore >= 10 * MB, 30_000, 'the upstream received 10 MB of the upload while the client held back its second half: the proxy does not stream uploads');
          } catch (e) {
            heldBackFailure = e;
            controller.error(e);
            return;
          }
          upstreamHadWhenHalfSent = relay.counts.up - upBefore;
          for (let i = 20; i < 40; i++) controller.enqueue(bytes.subarray(i * MB, (i + 1) * MB));
          controller.enqueue(encode(`\r\n--${boundary}--\r\n`));
          controller.close();
        },
      });
      let res;
      try {
        res = await fetch(lean.baseUrl + messagesPath(), {
          method: 'POST',
          headers: { api_access_token: upstream.info.agentToken, 'content-type': `multipart/form-data; boundary=${boundary}` },
          body,
          duplex: 'half',
          signal: AbortSignal.timeout(90_000),
        });
      } catch (e) {
        throw heldBackFailure ?? e;
      }
      const answer = await res.text();
      assert.equal(res.status, 200, answer);
      assert.ok(upstreamHadWhenHalfSent >= 10 * MB, 'the upstream had part of the upload before the client sent the rest');
      const upGrowth = (await peakRss(lean.pid)) - before;
      const [stored] = await upstreamMessages(caption);
      assert.equal(stored?.attachments?.[0]?.file_size, 40 * MB, 'the upstream stored all of it');

      // The download: the upstream sends 20 MB, then holds the rest back until the client has
      // received 10 MB. A proxy that reads the whole answer before it forwards it never
      // gives the client anything, and the client gives up.
      // The upstream writes its file URLs from its own --public-url, which is not the relay's
      // origin that this proxy rewrites (the origin rewrite is proven in proxy.test.mjs), so
      // the file is asked of the proxy by its path.
      const url = new URL(new URL(JSON.parse(answer).attachments[0].data_url).pathname, lean.baseUrl);
      assert.equal(new URL(JSON.parse(answer).attachments[0].data_url).origin, upstream.baseUrl);
      await resetPeakRss(lean.pid);
      const beforeDown = await peakRss(lean.pid);
      const gaveUp = new AbortController();
      const timer = setTimeout(
        () => gaveUp.abort(new Error('the client received less than 10 MB of the download while the upstream held back all past 20 MB: the proxy does not stream downloads')),
        30_000,
      );
      relay.holdDown(20 * MB);
      const hash = createHash('sha256');
      let size = 0;
      let clientHadWhenReleased = null;
      try {
        const down = await fetch(url, { signal: gaveUp.signal });
        assert.equal(down.status, 200);
        for await (const chunk of down.body) {
          hash.update(chunk);
          size += chunk.length;
          if (clientHadWhenReleased === null && size >= 10 * MB) {
            clientHadWhenReleased = size;
            clearTimeout(timer);
            relay.release();
          }
        }
      } catch (e) {
        throw gaveUp.signal.aborted ? gaveUp.signal.reason : e;
      } finally {
        clearTimeout(timer);
        relay.release();
      }
      const downGrowth = (await peakRss(lean.pid)) - beforeDown;
      assert.equal(size, 40 * MB);
      assert.equal(hash.digest('hex'), sha256(bytes), 'the download is the upload');
      assert.ok(clientHadWhenReleased >= 10 * MB, 'the client had part of the download before the upstream sent the rest');

      // Memory depends on the allocator, so it is a figure, not a verdict.
      const mb = (n) => (n / MB).toFixed(1);
      t.diagnostic(`the upstream had ${mb(upstreamHadWhenHalfSent)} MB when the client had sent 20 of 40 MB; the client had ${mb(clientHadWhenReleased)} MB when the upstream had sent 20 of 40 MB`);
      t.diagnostic(`proxy peak RSS growth: upload of 40 MB ${mb(upGrowth)} MB, download ${mb(downGrowth)} MB`);
      // No local database and no file kept on the proxy's side.
      assert.deepEqual(await readdir(lean.options.dataDir), [], 'the proxy wrote nothing to its data dir');
    } finally {
      await lean.dispose();
      await relay.close();
    }
  });

  /** A multipart message body sent in `chunks` pieces `gapMs` apart (a slow upload). */
  function slowMultipart(caption, chunks, gapMs) {
    const boundary = `parley-${Math.random().toString(36).slice(2)}`;
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="content"\r\n\r\n${caption}\r\n`
      + `--${boundary}\r\nContent-Disposition: form-data; name="attachments[]"; filename="slow.txt"\r\nContent-Type: text/plain\r\n\r\n`;
    const piece = 'x'.repeat(16 * 1024);
    const body = new ReadableStream({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode(head));
        for (let i = 0; i < chunks; i++) {
          await new Promise((r) => setTimeout(r, gapMs));
          controller.enqueue(new TextEncoder().encode(piece));
        }
        controller.enqueue(new TextEncoder().encode(`\r\n--${boundary}--\r\n`));
        controller.close();
      },
    });
    return { body, type: `multipart/form-data; boundary=${boundary}`, size: chunks * piece.length };
  }

  test('--upstream-timeout: a slow upload that keeps moving goes through; a silent upstream is a prompt 504', async () => {
    const strict = await Server.start({
      demo: false,
      agentToken: null,
      testControls: false,
      extraArgs: ['--upstream', upstream.baseUrl, '--upstream-timeout', '2'],
    });
    const post = (body, type) =>
      fetch(strict.baseUrl + messagesPath(), {
        method: 'POST',
        headers: { api_access_token: upstream.info.agentToken, 'content-type': type },
        body,
        duplex: 'half',
        signal: AbortSignal.timeout(20_000),
      });
    try {
      // 3 s of body, a piece every 300 ms: never 2 s of silence, so never cut (2 s, not 1:
      // the upstream must also store the file and answer within it on a loaded machine).
      const slowCaption = uniqueText('slow but moving');
      const slow = slowMultipart(slowCaption, 10, 300);
      const moving = await post(slow.body, slow.type);
      assert.equal(moving.status, 200, await moving.text());
      const [stored] = await upstreamMessages(slowCaption);
      assert.equal(stored?.attachments?.[0]?.file_size, slow.size, 'the whole slow body arrived');

      // The upstream takes the body, then says nothing for 6 s.
      const held = await upstream.api('/__parley/test/faults', { method: 'POST', body: { upload_hold_ms: 6_000 } });
      assert.equal(held.status, 200, held.text);
      try {
        const quick = slowMultipart(uniqueText('held upstream'), 1, 0);
        const started = Date.now();
        const res = await post(quick.body, quick.type);
        const waited = Date.now() - started;
        assert.equal(res.status, 504);
        assert.equal((await res.json()).error, `The Chatwoot server at ${new URL(upstream.baseUrl).host} did not answer within 2 s`);
        assert.ok(waited < 5_900, `answered before the upstream did: ${waited} ms`);
      } finally {
        await upstream.api('/__parley/test/faults', { method: 'POST', body: { upload_hold_ms: 0 } });
      }
    } finally {
      await strict.dispose();
    }
  });

  test('a voice note through the proxy is stored upstream as OGG/Opus and plays for the customer', async () => {
    // The proxy's app page has no feature flags (they are the embedding site's choice), so
    // the chat is mounted on the proxy's origin with voice notes on, the token the agent's.
    const page = await mountedAgent(browser, proxy, { features: { voiceMessages: true } });
    await page.locator('[data-testid=voice-record]').click();
    await page.locator('[data-testid=voice-panel][data-phase=recording]').waitFor();
    await page.locator('[data-testid=voice-timer]', { hasText: '00:03' }).waitFor();
    await page.locator('[data-testid=voice-stop]').click();
    await page.locator('[data-testid=voice-panel][data-phase=preview]').waitFor();
    await page.locator('[data-testid=voice-send]').click();
    const row = page
      .locator('[data-testid=message][data-status=sent], [data-testid=message][data-status=delivered], [data-testid=message][data-status=read]')
      .filter({ has: page.locator('[data-testid=attachment-audio]') })
      .last();
    await row.waitFor({ timeout: 20_000 });
    const rowAudio = new URL(await row.locator('[data-testid=attachment-audio]').getAttribute('src'), proxy.baseUrl);
    assert.equal(rowAudio.origin, proxy.baseUrl, 'the note plays from the proxy origin');
    assert.match(decodeURIComponent(rowAudio.pathname), /voice-note-\d{8}-\d{6}\.ogg$/);

    // What the upstream stored.
    const messages = await upstream.api(messagesPath());
    const message = messages.json.payload.findLast((m) => m.attachments?.some((a) => a.file_type === 'audio'));
    assert.ok(message, 'the upstream has a message with an audio attachment');
    const [attachment] = message.attachments;
    assert.equal(attachment.extension, 'ogg');
    const res = await fetch(attachment.data_url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'audio/ogg; codecs=opus');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.subarray(0, 4).toString(), 'OggS');
    const file = path.join(dir, 'note.ogg');
    await writeFile(file, bytes);
    const probe = JSON.parse((await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file])).stdout);
    assert.equal(probe.format.format_name, 'ogg');
    assert.equal(probe.streams.length, 1);
    assert.equal(probe.streams[0].codec_name, 'opus');
    assert.ok(Number(probe.format.duration) > 2.5, `duration ${probe.format.duration}`);
    // Through the proxy's URL, the same bytes.
    const proxied = await fetch(rowAudio);
    assert.equal(proxied.status, 200);
    assert.equal(sha256(Buffer.from(await proxied.arrayBuffer())), sha256(bytes));

    // The customer's page, served by the upstream, plays it and decodes all of it.
    const customer = await openCustomer(browser, upstream);
    const audio = customer.locator('audio').last();
    await audio.waitFor();
    const played = await playAndDecode(audio);
    assert.match(decodeURIComponent(played.src), /voice-note-\d{8}-\d{6}\.ogg$/);
    assert.ok(played.readyState >= 2, `readyState ${played.readyState}`);
    assert.ok(played.advanced > 0, `playback advanced ${played.advanced} s`);
    assert.equal(played.error, null);
    assert.ok(Math.abs(played.decoded - played.duration) < 0.1, `decoded ${played.decoded} s of ${played.duration} s`);
    assert.ok(played.peak > 0.1, `the beeps are in it: peak ${played.peak}`);
    assert.deepEqual(customer.errors.filter((e) => !/favicon/.test(e)), []);
    assert.deepEqual(pageErrors(page), []);
    await customer.context().close();
    await page.context().close();
  });

  test('no page errors on the agent side', () => {
    assert.deepEqual(agent.errors.filter((e) => !/favicon/.test(e)), []);
  });
});
