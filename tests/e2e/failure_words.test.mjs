// Words from the catalogs on every failure path (issue 11, point 5): in Arabic and in French,
// each way a send can fail (refused, retrying after a 5xx or no answer, given up
// after its attempts, timed out) and each state of the live connection (offline, server
// gone, refused, closed by the server) is said in the agent's language. Everything the
// failure surfaces show (the row's error, the toast, the notice, the connection banner) is
// recorded as it appears, and no English may be among it: no text of the English catalog,
// none of the sentences the core used to return, no English word.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, Server, cleanupTempDir, launchBrowser, newPage, uniqueText } from './harness.mjs';

const SURFACES = ['.parley-message-error', '[data-testid=toast]', '.parley-notice', '[data-testid=connection-state]'];
const CONNECTION = '[data-testid=connection-state]';
const MESSAGE = '[data-testid=message]';

/** Records, from the first paint on, every text any failure surface shows. */
function recordSurfaces(selectors) {
  window.__shown = new Set();
  const take = () => {
    for (const el of document.querySelectorAll(selectors.join(','))) {
      const text = el.textContent.trim();
      if (text) window.__shown.add(text);
    }
  };
  new MutationObserver(take).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
}

const catalog = async (lang) => JSON.parse(await readFile(path.join(ROOT, 'locales', `${lang}.json`), 'utf8'));

/** A catalog text with its placeholders filled, Unicode isolates as the app adds them ignored. */
function fill(text, args = {}) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in args ? args[name] : whole));
}
const plain = (s) => s.replace(/[\u2068\u2069]/g, '');

/** The English the agent must not read: every English catalog text that the other language
 * says differently (cut at its placeholders into the pieces that would show), the sentences
 * the core returned before its reasons were typed, and the server's own words. */
async function englishOf(other) {
  const en = await catalog('en');
  const pieces = new Set();
  for (const [key, value] of Object.entries(en)) {
    const forms = typeof value === 'string' ? [value] : Object.values(value);
    const theirs = JSON.stringify(other[key]);
    for (const form of forms) {
      for (const piece of form.split(/\{\w+\}/)) {
        const p = piece.trim();
        if (p.length >= 12 && !theirs.includes(p)) pieces.add(p);
      }
    }
  }
  for (const old of ['Not sent after', 'No connection', 'did not answer in time', 'closed the live connection', 'refused the live connection', 'Reload to reconnect', 'no answer', 'Injected failure', 'test control']) {
    pieces.add(old);
  }
  return [...pieces];
}
const ENGLISH_WORDS = /\b(the|not|after|attempts?|server|connection|answer|answered|refused|reload|failed|failure|error|injected|sent|retrying|offline)\b/i;

for (const { lang, locale } of [{ lang: 'ar', locale: 'ar' }, { lang: 'fr', locale: 'fr-FR' }]) {
  describe(`failure paths in ${lang}`, { timeout: 240_000 }, () => {
    let server;
    let browser;
    let dir;
    let words;
    let english;
    const pages = [];

    before(async () => {
      server = await Server.start({ demo: true });
      browser = await launchBrowser();
      dir = await mkdtemp(path.join(tmpdir(), 'parley-words-'));
      words = await catalog(lang);
      english = await englishOf(words);
    });

    after(async () => {
      await browser?.close().catch(() => {});
      await server?.dispose();
      await cleanupTempDir(dir);
    });

    async function faults(body) {
      const res = await server.api('/__parley/test/faults', { method: 'POST', body });
      assert.equal(res.status, 200, `faults: ${res.text}`);
      return res.json;
    }

    /** An agent page in `lang`, its failure surfaces recorded; `cable` routes its live connection. */
    async function agentPage(cable) {
      const page = await newPage(browser, { locale });
      pages.push(page);
      await page.addInitScript(recordSurfaces, SURFACES);
      if (cable) await page.routeWebSocket(/\/cable/, cable);
      await page.goto(server.info.agentUrl);
      await page.locator('.parley[lang]').first().waitFor();
      assert.equal((await page.locator('.parley[lang]').first().getAttribute('lang')).split('-')[0], lang, 'the app speaks the browser\'s language');
      return page;
    }

    const shown = (page) => page.evaluate(() => [...window.__shown]);

    /** Waits until a recorded text contains `expected` (a text of the catalog, filled). */
    async function sees(page, expected, what) {
      try {
        await page.waitForFunction((want) => [...window.__shown].some((t) => t.replace(/[\u2068\u2069]/g, '').includes(want)), plain(expected), { timeout: 40_000 });
      } catch (e) {
        throw new Error(`${what}: "${expected}" was never shown; shown: ${JSON.stringify(await shown(page))} (${e.message})`);
      }
    }

    function assertNoEnglish(texts, what) {
      assert.ok(texts.length > 0, `${what}: something was shown`);
      for (const text of texts) {
        const t = plain(text);
        const piece = english.find((p) => t.includes(p));
        assert.equal(piece, undefined, `${what}: English "${piece}" in "${t}"`);
        assert.doesNotMatch(t, ENGLISH_WORDS, `${what}: an English word in "${t}"`);
      }
    }

    async function send(page, text) {
      const input = page.locator('[data-testid=composer-input]');
      await input.fill(text);
      await input.press('Enter');
      await page.locator(MESSAGE, { hasText: text }).first().waitFor();
    }

    async function sendWithFile(page, caption) {
      const file = path.join(dir, `${caption.replace(/\W+/g, '-')}.txt`);
      await writeFile(file, `${caption}\n`);
      await page.locator('[data-testid=attach-input]').setInputFiles(file);
      await page.locator('[data-testid=tray-item]').waitFor();
      await send(page, caption);
    }

    const confirmed = (page, text) => page.locator(`${MESSAGE}[data-status=sent], ${MESSAGE}[data-status=delivered], ${MESSAGE}[data-status=read]`, { hasText: text }).waitFor({ timeout: 40_000 });
    const http = (status) => fill(words['api.http'], { status: String(status) });
    const retrying = (error) => fill(words['message.retrying'], { error });

    test('each way a send fails is said in the agent\'s language', async () => {
      const page = await agentPage();
      await page.locator(`${CONNECTION}[data-state=connected]`).waitFor();

      // Refused (4xx): failed at once, on its row and in a toast.
      await faults({ fail_next_posts: 1, fail_status: 422 });
      const refused = uniqueText('refused');
      await send(page, refused);
      await page.locator(`${MESSAGE}[data-status=failed]`, { hasText: refused }).waitFor();
      await sees(page, http(422), 'a refused message');
      await sees(page, fill(words['toast.not_sent'], { reason: http(422) }), 'the toast of a refused message');
      await page.locator(`${MESSAGE}[data-status=failed]`, { hasText: refused }).getByRole('button').first().waitFor();

      // A 5xx, then another: retried, and says so while it waits.
      await faults({ fail_next_posts: 2, fail_status: 500 });
      const flaky = uniqueText('five hundred');
      await send(page, flaky);
      await sees(page, retrying(http(500)), 'a message retried after a 5xx');
      await confirmed(page, flaky);

      // No answer at all (the connection reset; a dropped answer on a kept-alive
      // connection is resent by Chromium itself, so the test cuts the first POST): a
      // network error, retried.
      let cut = 0;
      const cutFirstPost = (route) => {
        if (route.request().method() === 'POST' && cut === 0) {
          cut += 1;
          return route.abort('connectionreset');
        }
        return route.fallback();
      };
      await page.route('**/messages', cutFirstPost);
      const unreachable = uniqueText('no answer');
      await send(page, unreachable);
      await sees(page, retrying(words['api.network']), 'a message with no answer');
      await confirmed(page, unreachable);
      await page.unroute('**/messages', cutFirstPost);
      assert.equal(cut, 1, 'the first POST was cut');

      // Files: three attempts, all refused by a 5xx, then given up.
      await faults({ upload_fail_next: 3 });
      const gaveUp = uniqueText('gave up');
      await sendWithFile(page, gaveUp);
      await page.locator(`${MESSAGE}[data-status=failed]`, { hasText: gaveUp }).waitFor({ timeout: 40_000 });
      // The count in the language's plural form and digits, as Intl gives them.
      const forms = words['outbox.gave_up'];
      assert.equal(typeof forms, 'object', 'outbox.gave_up is a count text');
      const three = forms[new Intl.PluralRules(locale).select(3)];
      await sees(page, fill(three, { count: new Intl.NumberFormat(locale).format(3), error: http(500) }), 'a message given up after three attempts');

      // No answer at all within the request timeout (20 s): aborted, then retried.
      await faults({ upload_hold_ms: 21_000 });
      const slow = uniqueText('timed out');
      await sendWithFile(page, slow);
      await sees(page, retrying(words['reason.timed_out']), 'a message whose request timed out');
      await faults({ upload_hold_ms: 0 });
      await confirmed(page, slow);

      assertNoEnglish(await shown(page), 'send failures');
    });

    test('each state of the live connection is said in the agent\'s language', async () => {
      const page = await agentPage();
      await page.locator(`${CONNECTION}[data-state=connected]`).waitFor();

      // The browser offline: the banner says so, and a message waits.
      await page.context().setOffline(true);
      await page.locator(`${CONNECTION}[data-state=offline]`).waitFor();
      await sees(page, words['connection.offline'], 'offline');
      const waiting = uniqueText('waits offline');
      await send(page, waiting);
      await page.locator(`${MESSAGE}[data-status=queued]`, { hasText: waiting }).waitFor();
      await page.context().setOffline(false);
      await confirmed(page, waiting);

      // The server gone: reconnecting until it is back.
      await server.stop();
      await page.locator(`${CONNECTION}[data-state=reconnecting]`).waitFor({ timeout: 20_000 });
      await sees(page, words['connection.reconnecting'], 'server gone');
      await server.restart({ samePort: true });
      await page.locator(`${CONNECTION}[data-state=connected]`).waitFor({ timeout: 40_000 });
      assertNoEnglish(await shown(page), 'offline and reconnecting');

      // The subscription refused.
      const refusedPage = await agentPage((ws) => {
        const upstream = ws.connectToServer();
        ws.onMessage((frame) => {
          const command = JSON.parse(String(frame));
          if (command.command === 'subscribe') {
            ws.send(JSON.stringify({ type: 'reject_subscription', identifier: command.identifier }));
          } else {
            upstream.send(frame);
          }
        });
      });
      await refusedPage.locator(`${CONNECTION}[data-state=refused]`).waitFor();
      await sees(refusedPage, words['connection.refused'], 'refused banner');
      await sees(refusedPage, words['cable.refused'], 'refused notice');
      assertNoEnglish(await shown(refusedPage), 'refused');

      // Closed by the server, not to reconnect: for the agent's credentials, and for another reason.
      for (const [reason, key] of [['unauthorized', 'cable.closed_unauthorized'], ['server_restart', 'cable.closed']]) {
        const closedPage = await agentPage((ws) => {
          const upstream = ws.connectToServer();
          upstream.onMessage((frame) => {
            ws.send(frame);
            if (JSON.parse(String(frame)).type === 'confirm_subscription') {
              ws.send(JSON.stringify({ type: 'disconnect', reason, reconnect: false }));
            }
          });
        });
        await sees(closedPage, words[key], `closed (${reason})`);
        await closedPage.locator(`${CONNECTION}[data-state=offline]`).waitFor();
        assertNoEnglish(await shown(closedPage), `closed (${reason})`);
      }
    });
  });
}
