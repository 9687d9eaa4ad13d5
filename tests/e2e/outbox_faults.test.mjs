// Issue 17's randomized fault run: N messages (40 unless PARLEY_FAULT_MESSAGES says) sent
// through the outbox while a seeded plan mixes reloads right after Enter, offline periods
// (Chromium's own offline emulation), answers dropped after the server stored the message,
// 500 and 503 bursts, a server killed (SIGKILL) right after Enter and restarted on the same
// data dir, and chaotic cable frames: duplicated and reordered message.created/updated (the
// server's /__parley/test/faults). Against parley-server with its echo_id idempotency, against
// one without (a real Chatwoot's behaviour) and through the proxy (--upstream) in front of one
// without: every message ends up on the server, and exactly once where the backend (or the
// proxy) deduplicates. Without idempotency, a message left "may not have been sent" is retried
// by the agent, as the row asks. A second copy is allowed only where the server received a
// POST the page never made: Chromium resends a POST by itself when a reused connection closes
// before any answer byte (README), which no page can stop. The server notes every create POST
// it receives (test-creates.jsonl in its data dir, --test-controls only), the test every POST
// the page makes: a copy beyond the first that those extra arrivals do not explain is the
// app's own duplicate, and fails.
//
// The steps run one after another (each one settles before the next: its messages are on
// the server, or of unknown fate; the outbox keeps order, so an earlier message of unknown
// fate is retried by the agent when a later one waits behind it), so that a fault meets the message it was planned for
// and a slow machine only makes the run slower. The seed is printed at the start and in
// any failure; replay with PARLEY_FAULT_SEED=<seed>.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Server, launchBrowser, newPage, uniqueText, withTimeout } from './harness.mjs';

const MESSAGE = '[data-testid=message]';
const CONNECTED = '[data-testid=connection-state][data-state=connected]';
const SEED = process.env.PARLEY_FAULT_SEED ? Number(process.env.PARLEY_FAULT_SEED) : Math.floor(Math.random() * 2 ** 31);
const MESSAGES = Number(process.env.PARLEY_FAULT_MESSAGES ?? 40);
/** How long one step may take to settle: a 503 burst of two plus backoff fits many times. */
const STEP_TIMEOUT_MS = 45_000;

/** mulberry32: a small seeded generator, so a plan can be replayed from its seed. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The plan: steps of one kind each, covering `count` messages. */
function plan(seed, count) {
  const rng = seeded(seed);
  const steps = [];
  let planned = 0;
  while (planned < count) {
    const r = rng();
    const cableDuplicate = rng() < 0.2;
    const cableReorder = rng() < 0.2;
    let step;
    if (r < 0.28) step = { kind: 'plain', messages: 1 };
    else if (r < 0.46) step = { kind: 'reload right after Enter', messages: 1 };
    else if (r < 0.6) step = { kind: 'answer dropped', messages: 1 };
    else if (r < 0.74) step = { kind: 'burst', status: rng() < 0.5 ? 500 : 503, failures: 1 + Math.floor(rng() * 2), messages: 1 };
    else if (r < 0.8) step = { kind: 'server restart', messages: 1 };
    else step = { kind: 'offline', messages: 1 + Math.floor(rng() * 3) };
    step.messages = Math.min(step.messages, count - planned);
    step.cableDuplicate = cableDuplicate;
    step.cableReorder = cableReorder;
    planned += step.messages;
    steps.push(step);
  }
  // Every run restarts the server at least once (the middle step, when none was drawn).
  if (!steps.some((s) => s.kind === 'server restart')) {
    const middle = steps[Math.floor(steps.length / 2)];
    middle.kind = 'server restart';
    delete middle.status;
    delete middle.failures;
  }
  return steps;
}

function describeStep(step) {
  const extra = step.kind === 'burst' ? ` (${step.failures}× ${step.status})` : step.messages > 1 ? ` (${step.messages} messages)` : '';
  const cable = [step.cableDuplicate && 'doubled', step.cableReorder && 'reordered'].filter(Boolean);
  return `${step.kind}${extra}${cable.length ? `, cable frames ${cable.join(' and ')}` : ''}`;
}

/** A parley-server with test controls, the agent's page on its printed URL. */
function direct(extraArgs) {
  return async () => {
    const own = await Server.start({ demo: true, extraArgs });
    return { store: own, faults: own, agentUrl: own.info.agentUrl, signIn: async () => {}, restart: () => own.killAndRestart(), dispose: () => own.dispose() };
  };
}

/** parley-server --upstream <a parley-server --no-idempotency>; the faults are the upstream's
 * (it is the one that stores, drops answers and fails), the agent signs in on the proxy. */
async function proxyInFrontOfNoIdempotency() {
  const upstream = await Server.start({ demo: true, extraArgs: ['--no-idempotency'] });
  let proxy;
  try {
    proxy = await Server.start({ demo: false, agentToken: null, testControls: false, extraArgs: ['--upstream', upstream.baseUrl] });
  } catch (e) {
    await upstream.dispose();
    throw e;
  }
  return {
    store: upstream,
    faults: upstream,
    agentUrl: proxy.baseUrl + new URL(upstream.info.agentUrl).pathname,
    signIn: async (page) => {
      await page.locator('input[name=email]').fill(upstream.info.agentEmail);
      const password = page.locator('input[name=password]');
      await password.fill(upstream.info.agentPassword);
      await password.evaluate((el) => el.form.requestSubmit());
    },
    // The server that stores (a Chatwoot restarting): the proxy's first request to it is cut.
    restart: () => upstream.killAndRestart(),
    dispose: async () => {
      await proxy.dispose();
      await upstream.dispose();
    },
  };
}

const BACKENDS = [
  { label: 'parley-server (idempotency on)', deduplicates: true, start: direct([]) },
  { label: 'no idempotency', deduplicates: false, start: direct(['--no-idempotency']) },
  { label: 'proxy in front of no idempotency', deduplicates: true, start: proxyInFrontOfNoIdempotency },
];

describe(`outbox under seeded random faults (seed ${SEED}, ${MESSAGES} messages)`, { timeout: 900_000 }, () => {
  let browser;
  const pages = [];

  before(async () => {
    console.log(`# fault run seed ${SEED} (replay: PARLEY_FAULT_SEED=${SEED})`);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
  });

  async function outboxEntries(page) {
    return page.evaluate(async () => {
      const dbs = await indexedDB.databases();
      const info = dbs.find((d) => d.name.startsWith('parley-outbox.v1'));
      if (!info) return [];
      const db = await new Promise((resolve, reject) => {
        const req = indexedDB.open(info.name);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const all = await new Promise((resolve, reject) => {
        const req = db.transaction('entries').objectStore('entries').getAll();
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      db.close();
      return all.map((text) => JSON.parse(text).entry);
    });
  }

  async function run({ label, deduplicates, start }) {
    const steps = plan(SEED, MESSAGES);
    const backend = await start();
    const log = [];
    const texts = [];
    const kindOf = new Map();
    let retried = 0;
    let restarts = 0;
    const retriedTexts = [];
    /** The agent presses Retry on each of `earlier` the row says may not have been sent,
     * until all of them are on the server and the outbox holds nothing. */
    const retryUnknown = async (page, earlier, what) => {
      await withTimeout(
        (async () => {
          for (;;) {
            for (const text of earlier) {
              const retry = page.locator(`${MESSAGE}[data-status=unknown]`, { hasText: text }).locator('[data-testid=retry-button]');
              if ((await retry.count()) > 0) {
                await retry.first().click();
                retried += 1;
                retriedTexts.push(text);
              }
            }
            if ((await outboxEntries(page)).length === 0) return;
            await new Promise((r) => setTimeout(r, 200));
          }
        })(),
        STEP_TIMEOUT_MS,
        `${what}: the messages retried by the agent sent`,
      );
    };
    try {
      const m = new URL(backend.store.info.agentUrl).pathname.match(/accounts\/(\d+)\/conversations\/(\d+)/);
      const faults = async (body) => {
        const res = await backend.faults.api('/__parley/test/faults', { method: 'POST', body });
        assert.equal(res.status, 200, `faults: ${res.text}`);
      };
      // The whole conversation, page by page (one page is only the newest messages).
      const counts = async (which) => {
        const all = [];
        for (let before = null; ; ) {
          const res = await backend.store.api(`/api/v1/accounts/${m[1]}/conversations/${m[2]}/messages${before ? `?before=${before}` : ''}`);
          assert.equal(res.status, 200, res.text);
          if (res.json.payload.length === 0) break;
          all.push(...res.json.payload);
          before = Math.min(...res.json.payload.map((msg) => msg.id));
        }
        return which.map((t) => all.filter((msg) => msg.content === t).length);
      };
      const statusOf = (page, text) => page.locator(MESSAGE, { hasText: text }).evaluateAll((els) => els.map((el) => el.dataset.status));
      // What reached the server: one line per create POST (see the top of this file).
      const arrivals = async () => {
        const text = await readFile(path.join(backend.store.options.dataDir, 'test-creates.jsonl'), 'utf8').catch(() => '');
        const by = new Map();
        for (const line of text.split('\n').filter(Boolean)) {
          const { echo_id: echo } = JSON.parse(line);
          by.set(echo, (by.get(echo) ?? 0) + 1);
        }
        return by;
      };

      const page = await newPage(browser);
      pages.push(page);
      // Every create POST the page makes (across reloads), and each text's echo_id.
      const pagePosts = new Map();
      const echoOf = new Map();
      page.on('request', (req) => {
        if (req.method() !== 'POST' || !/\/conversations\/\d+\/messages$/.test(new URL(req.url()).pathname)) return;
        let body;
        try {
          body = req.postDataJSON();
        } catch {
          return;
        }
        if (!body?.echo_id) return;
        pagePosts.set(body.echo_id, (pagePosts.get(body.echo_id) ?? 0) + 1);
        if (body.content) echoOf.set(body.content, body.echo_id);
      });
      await page.goto(backend.agentUrl);
      await backend.signIn(page);
      await page.locator(CONNECTED).waitFor({ timeout: 20_000 });
      const input = page.locator('[data-testid=composer-input]');

      for (const [index, step] of steps.entries()) {
        log.push(`${index + 1}. ${describeStep(step)}`);
        const mine = [];
        for (let i = 0; i < step.messages; i += 1) {
          const text = uniqueText(`fault run ${texts.length + 1} ${step.kind}`);
          mine.push(text);
          texts.push(text);
          kindOf.set(text, step.kind);
        }
        // An earlier message of unknown fate holds this step's back (the outbox keeps the
        // order typed): the agent retries it first, with no fault armed, so that the faults
        // below meet the message they are planned for.
        if (!deduplicates) await retryUnknown(page, texts.slice(0, texts.length - mine.length), `before step ${index + 1}`);
        const stepFaults = {
          cable_duplicate: step.cableDuplicate,
          cable_reorder: step.cableReorder,
          fail_next_posts: step.kind === 'burst' ? step.failures : 0,
          fail_status: step.status ?? 500,
          drop_next_responses: step.kind === 'answer dropped' ? 1 : 0,
        };
        await faults(stepFaults);
        if (step.kind === 'offline') await page.context().setOffline(true);
        for (const text of mine) {
          await input.fill(text);
          if (step.kind === 'reload right after Enter') {
            // Enter and the reload in one task of the page (as in outbox.test.mjs).
            await page.evaluate(() => {
              const composer = document.querySelector('[data-testid=composer-input]');
              composer.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
              location.reload();
            });
            await page.waitForLoadState('load');
            await input.waitFor({ timeout: 20_000 });
          } else {
            await input.press('Enter');
            await page.locator(MESSAGE, { hasText: text }).first().waitFor();
          }
        }
        if (step.kind === 'server restart') {
          // Killed right after Enter (the POST may be on its way, stored, or answered), then
          // back on the same data dir and port; the faults live in memory: set again.
          await backend.restart();
          restarts += 1;
          await faults(stepFaults);
        }
        if (step.kind === 'offline') {
          for (const text of mine) assert.deepEqual(await statusOf(page, text), ['queued'], `"${text}" waits as queued while offline`);
          await page.context().setOffline(false);
        }
        // Settled: each message of the step is on the server, or (without idempotency) of
        // unknown fate, left for the end. Nothing pending and not on the server is a loss.
        await withTimeout(
          (async () => {
            for (;;) {
              const c = await counts(mine);
              const open = [];
              for (const [i, text] of mine.entries()) {
                if (c[i] > 0) continue;
                const status = await statusOf(page, text);
                if (status.includes('unknown')) {
                  assert.ok(!deduplicates, `"${text}" of unknown fate on a backend that deduplicates`);
                  continue;
                }
                open.push(text);
              }
              if (open.length === 0) return;
              // The outbox keeps a conversation's order: a message of unknown fate from an
              // earlier step holds the later ones back until the agent decides, so the agent
              // presses its Retry now, as the row asks.
              if (!deduplicates) {
                for (const earlier of texts.slice(0, texts.length - mine.length)) {
                  const retry = page.locator(`${MESSAGE}[data-status=unknown]`, { hasText: earlier }).locator('[data-testid=retry-button]');
                  if ((await retry.count()) > 0) {
                    await retry.first().click();
                    retried += 1;
                    retriedTexts.push(earlier);
                  }
                }
              }
              if ((await outboxEntries(page)).length === 0 && (await counts(open)).every((n) => n === 0)) {
                assert.fail(`lost: ${JSON.stringify(open)} not on the server and nothing pending`);
              }
              await new Promise((r) => setTimeout(r, 200));
            }
          })(),
          STEP_TIMEOUT_MS,
          `step ${index + 1} (${describeStep(step)}) settled`,
        ).catch(async (e) => {
          // What the step's messages look like, to tell a loss from a stuck outbox.
          const c = await counts(mine);
          const rows = await Promise.all(mine.map((t) => statusOf(page, t)));
          const entries = (await outboxEntries(page)).map((en) => ({ state: en.state, attempts: en.attempts, error: en.last_error }));
          e.message += `; on the server ${JSON.stringify(c)}, rows ${JSON.stringify(rows)}, outbox ${JSON.stringify(entries)}`;
          throw e;
        });
      }

      // The end: the agent retries what may not have been sent, until all is on the server
      // and the outbox is empty.
      await faults({ cable_duplicate: false, cable_reorder: false, fail_next_posts: 0, drop_next_responses: 0 });
      await withTimeout(
        (async () => {
          for (;;) {
            const unsure = page.locator(`${MESSAGE}[data-status=unknown] [data-testid=retry-button]`);
            if ((await unsure.count()) > 0) {
              assert.ok(!deduplicates, 'a backend that deduplicates never leaves a message of unknown fate');
              const shown = await page.locator(`${MESSAGE}[data-status=unknown]`).first().textContent();
              await unsure.first().click();
              retried += 1;
              retriedTexts.push(texts.find((t) => shown.includes(t)) ?? shown);
            }
            if ((await counts(texts)).every((n) => n >= 1) && (await outboxEntries(page)).length === 0) return;
            await new Promise((r) => setTimeout(r, 250));
          }
        })(),
        60_000,
        'every message on the server and the outbox empty',
      ).catch(async (e) => {
        const c = await counts(texts);
        const missing = texts.filter((_, i) => c[i] === 0);
        const entries = (await outboxEntries(page)).map((en) => ({ state: en.state, attempts: en.attempts, error: en.last_error, draft: en.draft }));
        e.message += `; not on the server: ${JSON.stringify(missing)}; left in the outbox: ${JSON.stringify(entries)}`;
        throw e;
      });
      // A late copy (a retry still on its way) would show now.
      await new Promise((r) => setTimeout(r, 1_000));
      const final = await counts(texts);
      const lost = texts.filter((_, i) => final[i] === 0);
      const duplicated = texts.filter((_, i) => final[i] > 1);
      // A copy beyond the first is the browser's own resend only as far as the server got
      // POSTs of that message the page never made.
      const arrived = await arrivals();
      const byBrowser = [];
      const byApp = [];
      for (const [i, text] of texts.entries()) {
        if (final[i] <= 1) continue;
        const echo = echoOf.get(text);
        const resent = Math.max(0, (arrived.get(echo) ?? 0) - (pagePosts.get(echo) ?? 0));
        const extra = final[i] - 1;
        const why = `${text} (${kindOf.get(text)}${retriedTexts.includes(text) ? ', retried by the agent' : ''}; ${final[i]} copies, ${arrived.get(echo) ?? 0} POSTs reached the server, the page made ${pagePosts.get(echo) ?? 0})`;
        if (Math.min(extra, resent) > 0) byBrowser.push(why);
        if (extra > resent) byApp.push(why);
      }
      console.log(
        `# ${label}: ${texts.length} messages in ${steps.length} steps (${restarts} server restarts); lost ${lost.length}, duplicated ${duplicated.length}` +
          ` (${byBrowser.length} by the browser's own resend, ${byApp.length} by the app), ${retried} retried by the agent`,
      );
      if (byBrowser.length > 0) console.log(`# ${label}: duplicated by the browser's own resend: ${JSON.stringify(byBrowser)}`);
      assert.deepEqual(lost, [], 'lost');
      if (deduplicates) assert.deepEqual(duplicated, [], 'duplicated');
      // No backend excuses a copy the app sent itself.
      assert.deepEqual(byApp, [], 'duplicated by the app (more copies than the POSTs the page did not make explain)');
      // The list holds the newest rows only; none may be shown more often than the server
      // holds it (a browser-resent copy is a second message, rightly shown).
      for (const [i, text] of texts.entries()) {
        const rows = await page.locator(MESSAGE, { hasText: text }).count();
        assert.ok(rows <= final[i], `"${text}" shown ${rows} times, on the server ${final[i]} times`);
      }
    } catch (e) {
      e.message = `seed ${SEED} (replay: PARLEY_FAULT_SEED=${SEED}), ${label}: ${e.message}\n  steps so far:\n    ${log.join('\n    ')}`;
      throw e;
    } finally {
      await backend.dispose();
    }
  }

  for (const backend of BACKENDS) {
    test(`${MESSAGES} messages through reloads, offline periods, dropped answers, 500/503 bursts, a server restart and chaotic cable frames: none lost, none duplicated by the app (${backend.label})`, () => run(backend));
  }

  test('no page errors', () => {
    const benign = (e) => /favicon|ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED|ERR_EMPTY_RESPONSE|WebSocket connection|Failed to load resource|ERR_CONNECTION_RESET/.test(e);
    for (const page of pages) assert.deepEqual(page.errors.filter((e) => !benign(e)), [], 'page errors');
  });
});
