// What goes over the wire (issue 12 §1, §3): the first-visit files fit the size budget as
// the build compressed them; a cold visit in Chromium gets the wasm as brotli (the copy the
// build wrote, far below the raw size); a second visit takes the hashed files from the cache
// without asking and revalidates the page (a 304, no body).
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUDGET, appTransfers, coldVisit } from './bench/sizes.mjs';
import { DIST, Server, launchBrowser, newPage } from './harness.mjs';

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

/** The first-visit files of dist/ (module, wasm, stylesheet: not parley-element.js, which
 * only embedding hosts load) with the sizes of the copies the build wrote beside them. */
async function firstVisitCopies() {
  const files = (await readdir(DIST)).filter((f) => /\.(wasm|js|css)$/.test(f) && f !== 'parley-element.js').sort();
  const sizeOf = async (f) => (await stat(path.join(DIST, f)).catch(() => null))?.size;
  const out = [];
  for (const file of files) {
    const brotli = await sizeOf(`${file}.br`);
    const gzip = await sizeOf(`${file}.gz`);
    assert.ok(brotli && gzip, `${file}: no .br/.gz copy in ${DIST}: the build did not compress (Trunk.toml's post_build hook, scripts/compress-dist.mjs)`);
    out.push({ file, brotli, gzip });
  }
  return out;
}

test('the first-visit files fit the size budget, brotli as the build wrote it and the server sends it', async () => {
  const files = await firstVisitCopies();
  assert.deepEqual(files.map((f) => path.extname(f.file)).sort(), ['.css', '.js', '.wasm'], `first-visit files: ${files.map((f) => f.file)}`);
  const total = (key) => files.reduce((a, f) => a + f[key], 0);
  const list = files.map((f) => `${f.file} ${kb(f.brotli)}`).join(', ');
  assert.ok(
    total('brotli') <= BUDGET.brotli,
    `a first visit is ${kb(total('brotli'))} brotli, over the budget of ${kb(BUDGET.brotli)} (${list}); ` +
      'cut the bytes rather than raise the budget (tests/e2e/bench/sizes.mjs)',
  );
  assert.ok(total('gzip') <= BUDGET.gzip, `a first visit is ${kb(total('gzip'))} gzip, over the budget of ${kb(BUDGET.gzip)}`);
});

describe('over the wire in Chromium', () => {
  let server;
  let browser;
  let wasmFile;

  before(async () => {
    wasmFile = (await readdir(DIST)).find((f) => f.endsWith('_bg.wasm'));
    assert.ok(wasmFile, `no _bg.wasm in ${DIST}: trunk build --release`);
    server = await Server.start({ testControls: false });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  test('a cold visit transfers the wasm as brotli, the build’s copy, far below its raw size', async () => {
    const raw = (await stat(path.join(DIST, wasmFile))).size;
    const br = (await stat(path.join(DIST, `${wasmFile}.br`))).size;
    const visit = await coldVisit(browser, server.info.agentUrl);
    const wasm = visit.files.find((f) => f.path === `/${wasmFile}`);
    assert.ok(wasm, `no resource entry for /${wasmFile}: ${JSON.stringify(visit.files)}`);
    assert.equal(wasm.encoding, 'br');
    assert.equal(wasm.decoded, raw);
    assert.equal(wasm.encoded, br, 'the body sent is the brotli copy in dist/');
    assert.ok(wasm.transfer < raw / 2, `wasm transfer ${wasm.transfer} of ${raw} raw`);
    for (const f of visit.files.filter((f) => /\.(js|css)$/.test(f.path))) {
      assert.equal(f.encoding, 'br', `${f.path} sent ${f.encoding}`);
      assert.ok(f.encoded < f.decoded, `${f.path}: ${f.encoded} of ${f.decoded}`);
    }
  });

  test('a second visit takes the hashed files from the cache and gets a 304 for the page', async () => {
    const page = await newPage(browser);
    try {
      await page.goto(server.info.agentUrl);
      await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
      const first = await appTransfers(page);
      assert.ok(first.find((f) => f.path === `/${wasmFile}`)?.transfer > 0, 'the first visit fetched the wasm');

      // A new navigation to the same URL, as an agent coming back to the app.
      await page.goto(server.info.agentUrl);
      await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
      const second = await appTransfers(page);
      const hashed = second.filter((f) => /-[0-9a-f]{16}(_bg)?\.(wasm|js|css)$/.test(f.path));
      assert.deepEqual(
        hashed.map((f) => path.extname(f.path)).sort(),
        ['.css', '.js', '.wasm'],
        `hashed files of the second visit: ${JSON.stringify(second)}`,
      );
      for (const f of hashed) {
        // transferSize 0: served from the cache without a request (a 304 would count its headers).
        assert.equal(f.transfer, 0, `${f.path} went over the network again: ${JSON.stringify(f)}`);
        assert.ok(f.decoded > 0, `${f.path} was loaded`);
      }
      // Revalidated: Chromium counts 300 bytes of headers and no body for a 304 (the full
      // page would count 300 + its body, as on the first visit).
      const nav = second.find((f) => f.type === 'navigation');
      assert.ok(nav.transfer > 0 && nav.transfer < nav.encoded, `the page was not revalidated with a 304: ${JSON.stringify(nav)}`);
    } finally {
      await page.context().close();
    }
  });
});
