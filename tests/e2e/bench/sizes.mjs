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
  return { files: sizes, wasm: total('wasm'), js: total('js'), css: total('css') };
}
