// What the voice-note tests share (voice.test.mjs against parley-server, proxy_media.test.mjs
// through a proxy in front of it): the agent's chat mounted in a host page, so a test can set
// its features and hear its telemetry, and a customer's audio element played and decoded.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AGENT_TOKEN, DIST, newPage } from './harness.mjs';

/** The agent's chat mounted with mount() in a host page of the test, so the test hears its
 * telemetry; every microphone stream the page gets is kept to check it is released. */
export async function mountedAgent(browser, server, extra = {}, { initScript } = {}) {
  const html = await readFile(path.join(DIST, 'index.html'), 'utf8');
  const js = html.match(/\/parley-[0-9a-f]+\.js/)[0];
  const css = html.match(/\/parley-[0-9a-f]+\.css/)[0];
  const wasm = html.match(/\/parley-[0-9a-f]+_bg\.wasm/)[0];
  const page = await newPage(browser);
  await page.addInitScript(() => {
    window.micStreams = [];
    const getUserMedia = navigator.mediaDevices?.getUserMedia?.bind(navigator.mediaDevices);
    if (getUserMedia) {
      navigator.mediaDevices.getUserMedia = async (c) => {
        const stream = await getUserMedia(c);
        window.micStreams.push(stream);
        return stream;
      };
    }
  });
  if (initScript) await page.addInitScript(initScript);
  await page.goto(`${server.baseUrl}/api/v1/host-page-of-the-voice-test`);
  const config = JSON.stringify({ baseUrl: '', accountId: 1, conversationId: 1, token: AGENT_TOKEN, ...extra });
  await page.setContent(`<!doctype html><html><head><link rel="stylesheet" href="${css}"></head><body>
      <div id="chat" style="height: 760px"></div>
      <script type="module">
        import init, { mount } from '${js}';
        await init({ module_or_path: '${wasm}' });
        window.events = [];
        window.chat = mount(document.getElementById('chat'), { ...${config}, onTelemetry: (e) => window.events.push(e) });
        window.mounted = true;
      </script></body></html>`);
  await page.waitForFunction(() => window.mounted === true);
  await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
  return page;
}

/** The page's errors, but the 404 of the blank page the host page is written into. */
export function pageErrors(page) {
  return page.errors.filter((e) => !/favicon|host-page-of-the-voice-test/.test(e));
}

/** Plays an <audio> (muted) until it advances, then decodes the whole file it plays with the
 * page's own decoder: what the element reports, and the decoded length and loudest sample. */
export function playAndDecode(audio) {
  return audio.evaluate(async (el) => {
    if (el.readyState < 1) await new Promise((r, j) => { el.onloadedmetadata = r; el.onerror = () => j(new Error(`media error ${el.error?.code}`)); });
    el.muted = true;
    await el.play();
    // Playing: wait until some of it has been decoded and played (a loaded machine
    // may play slowly: any progress counts).
    await new Promise((resolve) => {
      const done = () => el.currentTime > 0 && resolve();
      el.addEventListener('timeupdate', done);
      setTimeout(resolve, 8_000);
    });
    el.pause();
    // And the whole file through the page's own decoder: every sample, not just a start.
    const context = new OfflineAudioContext(1, 48_000, 48_000);
    const buffer = await context.decodeAudioData(await (await fetch(el.currentSrc)).arrayBuffer());
    const samples = buffer.getChannelData(0);
    let peak = 0;
    for (const v of samples) peak = Math.max(peak, Math.abs(v));
    return { src: el.currentSrc, duration: el.duration, readyState: el.readyState, advanced: el.currentTime, error: el.error?.code ?? null, decoded: buffer.duration, peak };
  });
}
