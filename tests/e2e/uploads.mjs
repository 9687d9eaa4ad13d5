// What the upload tests share (upload.test.mjs against parley-server, proxy_media.test.mjs
// through a proxy in front of it): a throttled upload so progress and a cancel in the middle
// are seen on loopback, the progress bar's values as they change, and a row confirmed once.
import { withTimeout } from './harness.mjs';

const MESSAGE = '[data-testid=message]';
const CONFIRMED = /^(sent|delivered|read)$/;

/** Limits the page's upload to `bytesPerSecond` (-1: no limit). */
export async function throttleUpload(page, bytesPerSecond) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return cdp;
}

/** Waits until exactly one row carries `caption`, with a server id and a confirmed status. */
export async function waitConfirmed(page, caption, timeout = 30_000) {
  const row = page.locator(MESSAGE, { hasText: caption });
  await withTimeout(
    (async () => {
      for (;;) {
        const state = await row.evaluateAll((els) => els.map((el) => ({ id: el.dataset.id, status: el.dataset.status })));
        if (state.length === 1 && /^\d+$/.test(state[0].id) && CONFIRMED.test(state[0].status)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    })(),
    timeout,
    `"${caption}" confirmed`,
  );
}

/** Records every aria-valuenow the upload progress bars take, from now on. */
export async function recordProgress(page) {
  await page.evaluate(() => {
    window.progressSeen = [];
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target;
        if (el.dataset?.testid === 'upload-progress') window.progressSeen.push(Number(el.getAttribute('aria-valuenow')));
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  });
}

/** The values recorded since recordProgress(page). */
export function progressSeen(page) {
  return page.evaluate(() => window.progressSeen);
}
