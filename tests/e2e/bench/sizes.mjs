// Bundle size: what a first visit downloads, raw and as gzip/brotli would send it.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { DIST } from '../harness.mjs';

function compressed(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
    }).length,
  };
}

export const name = 'sizes';

export async function run() {
  const files = (await readdir(DIST, { recursive: true })).filter((f) => /\.(wasm|js|css)$/.test(f));
  if (!files.some((f) => f.endsWith('.wasm'))) throw new Error(`no .wasm in ${DIST}: run trunk build --release`);
  const sizes = [];
  for (const file of files.sort()) {
    const kind = path.extname(file).slice(1);
    sizes.push({ file, kind, ...compressed(await readFile(path.join(DIST, file))) });
  }
  const total = (kind) =>
    sizes.filter((s) => s.kind === kind).reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip, brotli: a.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  // What an agent's first visit downloads: the app's module, its wasm and its stylesheet
  // (parley-element.js only on hosts that use the custom element).
  const firstVisit = sizes
    .filter((s) => s.file !== 'parley-element.js')
    .reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip, brotli: a.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  return { files: sizes, wasm: total('wasm'), js: total('js'), css: total('css'), firstVisit, budget: BUDGET };
}

/** The size budget of a first visit, compressed as a server sends it: 600 KB of brotli is
 * half a second at 10 Mbit/s, the download part of a cold start we accept (README). */
export const BUDGET = { brotli: 600 * 1024, gzip: 800 * 1024 };
