// Upload throughput over loopback: a file of random bytes attached in the app and sent
// (Enter to the row confirmed by the server: the outbox persists the entry and the Blob in
// IndexedDB, then the multipart XHR goes up), against the raw cost of moving the same file
// (one hand-written XHR POST of the same multipart body from the same page, no app).
// Throughput is the file's size over the median time. The app's time ends when the row is
// confirmed, by the HTTP answer or by the cable's message.created, whichever comes first.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newPage, uniqueText } from '../harness.mjs';
import { summarize } from './stats.mjs';

const MB = 1024 * 1024;
export const SIZES_MB = [1, 10, 30];

/** Upload rows: `{ size_mb, app: summary, raw: summary }` per size, milliseconds. */
export async function uploadThroughput({ browser, server, runs }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-bench-upload-'));
  const page = await newPage(browser);
  const results = [];
  try {
    await page.goto(server.info.agentUrl);
    await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    const { pathname } = new URL(server.info.agentUrl);
    const endpoint = `/api/v1${pathname.replace(/^\/app/, '')}/messages`;
    for (const sizeMb of SIZES_MB) {
      const file = path.join(dir, `bench-${sizeMb}mb.pdf`);
      await writeFile(file, randomBytes(sizeMb * MB));
      // Big files take long: fewer runs, at least five.
      const n = Math.max(5, Math.min(runs, Math.round(60 / sizeMb)));
      const app = [];
      const raw = [];
      // Alternating which goes first, so that neither gains from a warmed-up server.
      for (let i = 0; i < n; i++) {
        if (i % 2 === 0) {
          app.push(await appUpload(page, file));
          raw.push(await rawUpload(page, file, endpoint, server.info.agentToken));
        } else {
          raw.push(await rawUpload(page, file, endpoint, server.info.agentToken));
          app.push(await appUpload(page, file));
        }
      }
      results.push({ size_mb: sizeMb, bytes: sizeMb * MB, app: { ...summarize(app), samples: app }, raw: { ...summarize(raw), samples: raw } });
    }
  } finally {
    await page.context().close();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

/** Enter (its event time) to the row confirmed with its server id, in the page's clock. */
async function appUpload(page, file) {
  await page.locator('[data-testid=attach-input]').setInputFiles(file);
  await page.locator('[data-testid=tray-item]').waitFor();
  const caption = uniqueText('bench upload');
  const input = page.locator('[data-testid=composer-input]');
  await input.fill(caption);
  await page.evaluate((caption) => {
    window.__uploadBench = new Promise((resolve) => {
      let t0 = null;
      document.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && t0 === null) t0 = e.timeStamp;
      }, { capture: true, once: true });
      const done = () => {
        const row = [...document.querySelectorAll('[data-testid=message]')].find((el) => el.textContent.includes(caption));
        return row && /^\d+$/.test(row.dataset.id ?? '') && /^(sent|delivered|read)$/.test(row.dataset.status);
      };
      new MutationObserver((_, observer) => {
        if (t0 !== null && done()) {
          observer.disconnect();
          resolve(performance.now() - t0);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
  }, caption);
  await input.press('Enter');
  return page.evaluate(() => window.__uploadBench);
}

/** The same file, as the same multipart body, by one XHR: the floor for the app's figure. */
async function rawUpload(page, file, endpoint, token) {
  const picker = page.locator('#bench-raw-picker');
  if ((await picker.count()) === 0) {
    await page.evaluate(() => {
      const input = Object.assign(document.createElement('input'), { type: 'file', id: 'bench-raw-picker', hidden: true });
      document.body.append(input);
    });
  }
  await picker.setInputFiles(file);
  return page.evaluate(
    ({ endpoint, token, caption }) =>
      new Promise((resolve, reject) => {
        const picked = document.getElementById('bench-raw-picker').files[0];
        const form = new FormData();
        form.append('content', caption);
        form.append('attachments[]', picked, picked.name);
        form.append('private', 'false');
        form.append('echo_id', crypto.randomUUID());
        const xhr = new XMLHttpRequest();
        xhr.open('POST', endpoint);
        xhr.setRequestHeader('api_access_token', token);
        const t0 = performance.now();
        xhr.onload = () => (xhr.status === 200 ? resolve(performance.now() - t0) : reject(new Error(`raw upload: ${xhr.status}`)));
        xhr.onerror = () => reject(new Error('raw upload: network error'));
        xhr.send(form);
      }),
    { endpoint, token, caption: uniqueText('bench raw upload') },
  );
}
