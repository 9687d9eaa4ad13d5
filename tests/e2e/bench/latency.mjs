// Latency benchmarks in the real app: cold load to first message painted, Enter to optimistic
// row painted, and a customer's send to the agent's paint.
import { newPage, uniqueText } from '../harness.mjs';
import { installProbe } from './probe.mjs';

async function agentPage(browser, server) {
  const page = await newPage(browser);
  await page.addInitScript(installProbe);
  await page.goto(server.info.agentUrl);
  return page;
}

async function waitPainted(page, index, what) {
  const handle = await page.waitForFunction((i) => {
    const w = window.__parleyBench.result(i);
    return w.paintedAt !== null && w.t0 !== null ? w : null;
  }, index, { timeout: 15_000 }).catch((e) => {
    throw new Error(`${what}: row never painted (${e.message})`);
  });
  return handle.jsonValue();
}

/** Navigation start to the first message row painted, each run in a fresh context (cold cache). */
export async function coldLoad({ browser, server, runs }) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const page = await agentPage(browser, server);
    const t = await (
      await page.waitForFunction(() => window.__parleyBench.state.firstMessagePaintedAt, null, { timeout: 20_000 })
    ).jsonValue();
    samples.push(t);
    await page.context().close();
  }
  return samples;
}

/** Enter keydown (its event timestamp) to the optimistic row painted. */
export async function enterToPaint({ browser, server, runs }) {
  const page = await agentPage(browser, server);
  await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
  const input = page.locator('[data-testid=composer-input]');
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const text = uniqueText('bench enter');
    await input.fill(text);
    const index = await page.evaluate((text) => window.__parleyBench.arm(text), text);
    await input.press('Enter');
    const w = await waitPainted(page, index, 'enter to paint');
    samples.push(w.paintedAt - w.t0);
    // Let it settle (sent) so runs do not queue behind each other.
    await page.locator('[data-testid=message]:not([data-id=""])', { hasText: text }).waitFor();
  }
  await page.context().close();
  return samples;
}

/**
 * Enter keydown to the row showing "sent" (the server has it: the outbox persisted it,
 * POSTed it, and the answer or the cable echo confirmed it), painted.
 */
export async function sendToSent({ browser, server, runs }) {
  const page = await agentPage(browser, server);
  await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
  const input = page.locator('[data-testid=composer-input]');
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const text = uniqueText('bench sent');
    await input.fill(text);
    const index = await page.evaluate((text) => window.__parleyBench.arm(text), text);
    await input.press('Enter');
    const t0 = (await waitPainted(page, index, 'send to sent')).t0;
    const sentAt = await (
      await page.waitForFunction(
        (text) => {
          const row = [...document.querySelectorAll('[data-testid=message]')].find((r) => r.textContent.includes(text));
          if (!row || !['sent', 'delivered', 'read'].includes(row.dataset.status)) return null;
          // Painted: the first task after the next frame.
          return new Promise((resolve) => requestAnimationFrame(() => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => resolve(performance.now());
            ch.port2.postMessage(null);
          }));
        },
        text,
        { timeout: 15_000, polling: 'raf' },
      )
    ).jsonValue();
    samples.push(sentAt - t0);
  }
  await page.context().close();
  return samples;
}

/**
 * The customer's POST to the public API, made with fetch from the agent page so that both ends
 * are on one clock, to the row painted on the agent page (REST → store → cable → wasm → DOM).
 */
export async function customerToAgentPaint({ browser, server, runs }) {
  const page = await agentPage(browser, server);
  await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
  await page.locator('[data-testid=message]').first().waitFor();
  const { inbox, contact, conversation } = server.customerIds();
  const url = `/public/api/v1/inboxes/${inbox}/contacts/${contact}/conversations/${conversation}/messages`;
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const text = uniqueText('bench customer');
    const index = await page.evaluate(
      async ({ url, text }) => {
        const i = window.__parleyBench.watch(text, performance.now());
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: text }) });
        if (!res.ok) throw new Error(`customer POST answered ${res.status}`);
        return i;
      },
      { url, text },
    );
    const w = await waitPainted(page, index, 'customer send to agent paint');
    samples.push(w.paintedAt - w.t0);
  }
  await page.context().close();
  return samples;
}
