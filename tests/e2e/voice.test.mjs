// Issue 5, voice notes, in real Chromium with a fake microphone: the mic button records
// (timer, level meter), Stop gives a preview, Send uploads it through the outbox as
// OGG/Opus (remuxed in Rust from Chromium's WebM), which a real decoder (ffprobe) accepts
// and the customer's page plays; telemetry says voice_message_sent with its duration.
// Cancel and Discard send nothing and release the microphone; the length limit warns,
// then stops into the preview. A refused or missing microphone is explained, and the
// composer still sends text.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  FAKE_MICROPHONE_ARGS,
  Server,
  agentSend,
  confirmedRow,
  launchBrowser,
  openAgent,
  openCustomer,
  uniqueText,
} from './harness.mjs';
import { mountedAgent, pageErrors, playAndDecode } from './voice_notes.mjs';

const run = promisify(execFile);
const PANEL = '[data-testid=voice-panel]';

/** Whether every microphone track the page was given has been stopped. */
function micReleased(page) {
  return page.evaluate(() => ({
    streams: window.micStreams.length,
    live: window.micStreams.flatMap((s) => s.getTracks()).filter((t) => t.readyState !== 'ended').length,
  }));
}

async function waitReleased(page) {
  await page.waitForFunction(() => window.micStreams.length > 0 && window.micStreams.flatMap((s) => s.getTracks()).every((t) => t.readyState === 'ended'));
}

/** The id of the newest message of the demo conversation on the server. (Not the length of
 * the newest page: that stays 20 once the conversation is longer, whatever is sent.) */
async function newestMessageId(server) {
  const res = await server.api('/api/v1/accounts/1/conversations/1/messages');
  assert.equal(res.status, 200, res.text);
  return Math.max(...res.json.payload.map((m) => m.id));
}

/** The phase the recorder panel shows. */
function phase(page) {
  return page.locator(PANEL).getAttribute('data-phase');
}

async function record(page, seconds) {
  await page.locator('[data-testid=voice-record]').click();
  await page.locator(`${PANEL}[data-phase=recording]`).waitFor();
  await page.locator('[data-testid=voice-timer]', { hasText: `00:0${seconds}` }).waitFor();
}

describe('voice notes with a fake microphone', { timeout: 240_000 }, () => {
  let server;
  let browser;
  let agent;
  let workDir;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser(FAKE_MICROPHONE_ARGS);
    agent = await mountedAgent(browser, server, { features: { voiceMessages: true } });
    workDir = await mkdtemp(path.join(tmpdir(), 'parley-voice-'));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('record: a running timer and a level meter that hears the microphone', async () => {
    const mic = agent.locator('[data-testid=voice-record]');
    assert.equal(await mic.getAttribute('aria-label'), 'Record a voice note');
    await mic.click();
    await agent.locator(`${PANEL}[data-phase=recording]`).waitFor();
    assert.equal(await agent.locator('[data-testid=voice-stop]').evaluate((el) => el.getRootNode().activeElement === el), true, 'focus on Stop');
    const meter = agent.locator('[data-testid=voice-level]');
    assert.equal(await meter.getAttribute('role'), 'meter');
    assert.equal(await meter.getAttribute('aria-label'), 'Microphone level');
    // The fake microphone beeps: the meter moves above zero.
    let loudest = 0;
    for (let i = 0; i < 60 && loudest <= 10; i++) {
      loudest = Math.max(loudest, Number(await meter.getAttribute('aria-valuenow')));
      await agent.waitForTimeout(50);
    }
    assert.ok(loudest > 10, `the meter moved: ${loudest}`);
    await agent.locator('[data-testid=voice-timer]', { hasText: '00:03' }).waitFor();
    assert.equal(await agent.locator('[data-testid=voice-timer]').getAttribute('role'), 'timer');
    assert.equal(await agent.locator('[data-testid=voice-warning]').isVisible(), false, 'no warning far from the limit');
    assert.equal(await mic.isDisabled(), true, 'one recording at a time');
  });

  let previewSeconds;
  test('Stop: a preview of the OGG/Opus note, playable, with Send and Discard', async () => {
    await agent.locator('[data-testid=voice-stop]').click();
    await agent.locator(`${PANEL}[data-phase=preview]`).waitFor();
    assert.deepEqual(await micReleased(agent), { streams: 1, live: 0 }, 'the microphone is released at Stop');
    const meta = await agent.locator('[data-testid=voice-meta]').textContent();
    assert.match(meta, /^00:0[3-5] · OGG\/Opus$/);
    assert.equal(await agent.locator('[data-testid=voice-kept]').count(), 0, 'no WebM fallback');
    const audio = await agent.locator('[data-testid=voice-preview]').evaluate(async (el) => {
      if (el.readyState < 1) await new Promise((r, j) => { el.onloadedmetadata = r; el.onerror = () => j(new Error('preview error')); });
      return { src: el.getAttribute('src'), duration: el.duration, controls: el.controls };
    });
    assert.match(audio.src, /^blob:/);
    assert.ok(audio.controls);
    assert.ok(Number.isFinite(audio.duration) && audio.duration > 2.5 && audio.duration < 6, `preview duration ${audio.duration}`);
    previewSeconds = audio.duration;
    assert.equal(await agent.locator('[data-testid=voice-send]').evaluate((el) => el.getRootNode().activeElement === el), true, 'focus on Send');
    assert.equal(await agent.locator('[data-testid=voice-discard]').isVisible(), true);
  });

  let stored;
  test('Send: the message carries the note, stored as valid OGG/Opus (ffprobe)', async () => {
    await agent.locator('[data-testid=voice-send]').click();
    await agent.locator(`${PANEL}[data-phase=idle]`).waitFor({ state: 'attached' });
    // The agent's row: sent, with an audio player.
    const row = agent.locator('[data-testid=message][data-status=sent], [data-testid=message][data-status=delivered], [data-testid=message][data-status=read]')
      .filter({ has: agent.locator('[data-testid=attachment-audio]') })
      .last();
    await row.waitFor();
    const rowAudio = await row.locator('[data-testid=attachment-audio]').getAttribute('src');
    assert.match(decodeURIComponent(rowAudio), /voice-note-\d{8}-\d{6}\.ogg$/);

    const messages = await server.api('/api/v1/accounts/1/conversations/1/messages');
    const message = messages.json.payload.findLast((m) => m.attachments?.some((a) => a.file_type === 'audio'));
    assert.ok(message, 'the server has a message with an audio attachment');
    const [attachment] = message.attachments;
    assert.equal(attachment.extension, 'ogg');
    assert.equal(attachment.data_url, rowAudio);
    const res = await fetch(attachment.data_url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'audio/ogg; codecs=opus', 'uploaded as audio/ogg; codecs=opus');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.subarray(0, 4).toString(), 'OggS');
    stored = path.join(workDir, 'note.ogg');
    await writeFile(stored, bytes);

    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', stored]);
    const probe = JSON.parse(stdout);
    assert.equal(probe.format.format_name, 'ogg');
    assert.equal(probe.streams.length, 1);
    assert.equal(probe.streams[0].codec_type, 'audio');
    assert.equal(probe.streams[0].codec_name, 'opus');
    assert.equal(Number(probe.streams[0].sample_rate), 48000);
    const seconds = Number(probe.format.duration);
    assert.ok(Math.abs(seconds - previewSeconds) < 0.3, `stored ${seconds} s, previewed ${previewSeconds} s`);
    // And a full decode of every packet, not just the headers.
    await run('ffmpeg', ['-v', 'error', '-xerror', '-i', stored, '-f', 'null', '-']);
  });

  test('telemetry: voice_message_sent with the duration in seconds (no content)', async () => {
    const events = await agent.evaluate(() => window.events.filter((e) => e.name === 'voice_message_sent'));
    assert.equal(events.length, 1);
    assert.equal(events[0].conversation_id, 1);
    assert.ok(Math.abs(events[0].duration_s - previewSeconds) < 0.3, `${events[0].duration_s} vs ${previewSeconds}`);
    assert.deepEqual(Object.keys(events[0]).sort(), ['conversation_id', 'duration_s', 'name']);
  });

  test("the customer's page plays the note", async () => {
    const customer = await openCustomer(browser, server);
    const audio = customer.locator('audio').last();
    await audio.waitFor();
    const played = await playAndDecode(audio);
    assert.match(decodeURIComponent(played.src), /voice-note-\d{8}-\d{6}\.ogg$/);
    assert.ok(played.duration > 2.5 && Number.isFinite(played.duration), `duration ${played.duration}`);
    assert.ok(played.readyState >= 2, `readyState ${played.readyState}`);
    assert.ok(played.advanced > 0, `playback advanced ${played.advanced} s`);
    assert.equal(played.error, null);
    assert.ok(Math.abs(played.decoded - played.duration) < 0.1, `decoded ${played.decoded} s of ${played.duration} s`);
    assert.ok(played.peak > 0.1, `the beeps are in it: peak ${played.peak}`);
    assert.deepEqual(customer.errors, []);
    await customer.context().close();
  });

  test('Cancel drops the recording: nothing is sent, the microphone is released', async () => {
    const before = await newestMessageId(server);
    await record(agent, 1);
    await agent.locator('[data-testid=voice-cancel]').click();
    await agent.locator(`${PANEL}[data-phase=idle]`).waitFor({ state: 'attached' });
    await waitReleased(agent);
    assert.deepEqual(await micReleased(agent), { streams: 2, live: 0 });
    await agent.waitForTimeout(500);
    assert.equal(await newestMessageId(server), before, 'nothing sent: the newest message on the server is the same');
  });

  test('Discard drops the preview: nothing is sent', async () => {
    const before = await newestMessageId(server);
    await record(agent, 1);
    await agent.locator('[data-testid=voice-stop]').click();
    await agent.locator(`${PANEL}[data-phase=preview]`).waitFor();
    await agent.locator('[data-testid=voice-discard]').click();
    await agent.locator(`${PANEL}[data-phase=idle]`).waitFor({ state: 'attached' });
    assert.equal(await agent.locator('[data-testid=voice-preview]').count(), 0);
    assert.deepEqual(await micReleased(agent), { streams: 3, live: 0 });
    await agent.waitForTimeout(500);
    assert.equal(await newestMessageId(server), before, 'nothing sent: the newest message on the server is the same');
  });

  test('the text composer works alongside', async () => {
    const text = uniqueText('after voice');
    await agentSend(agent, text);
    await confirmedRow(agent, text).waitFor();
  });

  test('no page errors', () => {
    assert.deepEqual(pageErrors(agent), []);
  });
});

describe('the voice note length limit', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let agent;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser(FAKE_MICROPHONE_ARGS);
    // A 4-second limit (the default is 15 minutes): the warning window is its last half.
    agent = await mountedAgent(browser, server, { features: { voiceMessages: true }, voiceMaxSeconds: 4 });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('warns before the limit, then stops by itself into the preview with a notice', async () => {
    await agent.locator('[data-testid=voice-record]').click();
    await agent.locator(`${PANEL}[data-phase=recording]`).waitFor();
    const warning = agent.locator('[data-testid=voice-warning]');
    await warning.waitFor({ state: 'visible' });
    assert.equal(await warning.textContent(), 'Less than 2 seconds left: recording stops by itself at 00:04.');
    assert.equal(await warning.getAttribute('role'), 'status');
    assert.ok(Number((await agent.locator('[data-testid=voice-timer]').textContent()).slice(3)) >= 2);

    await agent.locator(`${PANEL}[data-phase=preview]`).waitFor({ timeout: 10_000 });
    assert.equal(
      await agent.locator('[data-testid=voice-stopped]').textContent(),
      'Recording stopped at the 00:04 limit. Listen, then send or discard it.',
    );
    assert.match(await agent.locator('[data-testid=voice-meta]').textContent(), /^00:0[34] · OGG\/Opus$/);
    assert.deepEqual(await micReleased(agent), { streams: 1, live: 0 });
    // What was recorded is there to send.
    await agent.locator('[data-testid=voice-send]').click();
    await agent.locator(`${PANEL}[data-phase=idle]`).waitFor({ state: 'attached' });
    await agent.locator('[data-testid=message][data-status=sent] [data-testid=attachment-audio]').last().waitFor();
    assert.deepEqual(pageErrors(agent), []);
  });
});

describe('a chat unmounted while recording', { timeout: 120_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser(FAKE_MICROPHONE_ARGS);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('releases the microphone', async () => {
    const agent = await mountedAgent(browser, server, { features: { voiceMessages: true } });
    await record(agent, 1);
    assert.deepEqual(await micReleased(agent), { streams: 1, live: 1 }, 'recording');
    await agent.evaluate(() => window.chat.unmount());
    await waitReleased(agent);
    assert.deepEqual(await micReleased(agent), { streams: 1, live: 0 });
    assert.deepEqual(pageErrors(agent), []);
  });
});

/** An init script: the browser records WebM with PCM audio instead of Opus (as a browser
 * without Opus in WebM would). */
function recordPcmWebm() {
  const Recorder = window.MediaRecorder;
  window.MediaRecorder = class extends Recorder {
    constructor(stream, options = {}) {
      super(stream, { ...options, mimeType: 'audio/webm;codecs=pcm' });
    }
  };
}

describe('a recording the remux cannot take', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let agent;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser(FAKE_MICROPHONE_ARGS);
    // The browser records WebM with PCM audio instead of Opus (as a browser without Opus
    // in WebM would): the remux refuses it, and the WebM must go as it is, said so.
    agent = await mountedAgent(browser, server, { features: { voiceMessages: true } }, {
      initScript: recordPcmWebm,
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('the reason is said in the language of the agent', async () => {
    const french = await mountedAgent(browser, server, { features: { voiceMessages: true }, locale: 'fr' }, {
      initScript: recordPcmWebm,
    });
    try {
      await record(french, 1);
      await french.locator('[data-testid=voice-stop]').click();
      await french.locator(`${PANEL}[data-phase=preview]`).waitFor();
      assert.equal(
        await french.locator('[data-testid=voice-kept]').textContent(),
        'Ce message sera envoyé en WebM et non en OGG : l’audio de l’enregistrement est en A_PCM/FLOAT/IEEE, pas en Opus. Certains canaux (WhatsApp) pourraient ne pas le lire.',
      );
      await french.locator('[data-testid=voice-discard]').click();
    } finally {
      await french.context().close();
    }
  });

  test('is sent as WebM, and the agent is told which and why', async () => {
    await record(agent, 2);
    await agent.locator('[data-testid=voice-stop]').click();
    await agent.locator(`${PANEL}[data-phase=preview]`).waitFor();
    assert.match(await agent.locator('[data-testid=voice-meta]').textContent(), /^00:0[2-4] · WebM$/);
    assert.equal(
      await agent.locator('[data-testid=voice-kept]').textContent(),
      "This note will be sent as WebM, not OGG: the recording's audio is A_PCM/FLOAT/IEEE, not Opus. Some channels (WhatsApp) may not play it.",
    );
    await agent.locator('[data-testid=voice-send]').click();
    await agent.locator('[data-testid=message][data-status=sent] [data-testid=attachment-audio]').last().waitFor();

    const messages = await server.api('/api/v1/accounts/1/conversations/1/messages');
    const message = messages.json.payload.findLast((m) => m.attachments?.some((a) => a.file_type === 'audio'));
    const [attachment] = message.attachments;
    assert.equal(attachment.extension, 'webm');
    const res = await fetch(attachment.data_url);
    assert.equal(res.headers.get('content-type'), 'audio/webm');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.readUInt32BE(0), 0x1a45dfa3, 'an EBML (WebM) file, untouched');
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-voice-'));
    try {
      const file = path.join(dir, 'note.webm');
      await writeFile(file, bytes);
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file]);
      const probe = JSON.parse(stdout);
      assert.match(probe.format.format_name, /webm/);
      assert.match(probe.streams[0].codec_name, /^pcm_/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.deepEqual(pageErrors(agent), []);
  });
});

describe('the microphone refused or missing', { timeout: 120_000 }, () => {
  let server;

  before(async () => {
    server = await Server.start({ demo: true });
  });

  after(async () => {
    await server?.dispose();
  });

  test('denied: the reason and how to allow it; the composer still sends text', async () => {
    // A fake device but no automatic grant: headless Chromium refuses the prompt.
    const browser = await launchBrowser(['--use-fake-device-for-media-stream']);
    try {
      const agent = await openAgent(browser, server);
      await agent.locator('[data-testid=voice-record]').click();
      const problem = agent.locator('[data-testid=voice-error]');
      await problem.waitFor();
      assert.equal(await problem.getAttribute('role'), 'alert');
      const text = await problem.textContent();
      assert.match(text, /can't use your microphone: access was denied/);
      assert.match(text, /address bar.*Microphone to Allow/);
      assert.equal(await phase(agent), 'idle');
      assert.equal(await agent.locator('[data-testid=voice-record]').isEnabled(), true);

      const message = uniqueText('still typing');
      await agentSend(agent, message);
      await confirmedRow(agent, message).waitFor();

      // Trying again asks again, and explains again; Dismiss puts it away.
      await agent.locator('[data-testid=voice-retry]').click();
      await problem.waitFor();
      await agent.locator('[data-testid=voice-dismiss]').click();
      assert.equal(await problem.count(), 0);
      assert.deepEqual(agent.errors, []);
    } finally {
      await browser.close();
    }
  });

  test('no microphone: says so and how to fix it', async () => {
    // Permission granted, but no capture device at all.
    const browser = await launchBrowser(['--use-fake-ui-for-media-stream']);
    try {
      const agent = await openAgent(browser, server);
      await agent.locator('[data-testid=voice-record]').click();
      const problem = agent.locator('[data-testid=voice-error]');
      await problem.waitFor();
      assert.match(await problem.textContent(), /No microphone was found.*Connect a microphone/);
      assert.equal(await phase(agent), 'idle');
      assert.deepEqual(agent.errors, []);
    } finally {
      await browser.close();
    }
  });

  test('the flag decides: the demo shows the microphone, an embed without the flag does not', async () => {
    const browser = await launchBrowser(FAKE_MICROPHONE_ARGS);
    try {
      const demo = await openAgent(browser, server);
      assert.equal(await demo.locator('[data-testid=voice-record]').count(), 1, 'the demo turns voiceMessages on');
      const plain = await mountedAgent(browser, server);
      await plain.locator('[data-testid=composer-input]').waitFor();
      assert.equal(await plain.locator('[data-testid=voice-record]').count(), 0);
      assert.equal(await plain.locator(PANEL).count(), 0);
    } finally {
      await browser.close();
    }
  });
});
