// Writes `<file>.br` (brotli 11) and `<file>.gz` (gzip 9) next to each text and wasm file of a
// built app, for parley-server to send as they are (it picks by Accept-Encoding and falls back
// to the plain file when one is missing). Run by Trunk's post_build hook (Trunk.toml) on the
// staging directory, so every `trunk build --release` ships them; by hand:
//   node scripts/compress-dist.mjs [dir]      (default: $TRUNK_STAGING_DIR, else dist)
// Node's own zlib does both, so the build needs nothing beyond the Node that setup.sh installs.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** What is worth compressing: already-compressed formats (images, audio) are not, nor the HTML
 * (parley-server generates each page from index.html, with its config block). */
const COMPRESSIBLE = /\.(wasm|js|mjs|css|svg|json|txt|map)$/;
/** Below this a compressed copy saves less than its headers cost. */
const MIN_BYTES = 512;

export function brotli(buf) {
  return brotliCompressSync(buf, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  });
}

export function gzip(buf) {
  return gzipSync(buf, { level: 9 });
}

/** Compresses every eligible file under `dir`; returns what it wrote, for the log. */
export async function compressDir(dir) {
  const written = [];
  const files = (await readdir(dir, { recursive: true })).filter((f) => COMPRESSIBLE.test(f)).sort();
  for (const file of files) {
    const full = path.join(dir, file);
    const buf = await readFile(full);
    if (buf.length < MIN_BYTES) continue;
    for (const [ext, encode] of [
      ['br', brotli],
      ['gz', gzip],
    ]) {
      const out = encode(buf);
      // A copy no smaller than the file would only cost the client a decode.
      if (out.length >= buf.length) continue;
      await writeFile(`${full}.${ext}`, out);
      written.push({ file: `${file}.${ext}`, raw: buf.length, compressed: out.length });
    }
  }
  return written;
}

async function main() {
  const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? 'dist';
  // A debug wasm is tens of MB and brotli 11 would add a minute to every `trunk serve`
  // rebuild; debug builds are served plain.
  if (process.env.TRUNK_PROFILE === 'debug') {
    console.log('compress-dist: debug build, not compressed');
    return;
  }
  const written = await compressDir(dir);
  if (!written.some((w) => w.file.endsWith('.wasm.br'))) {
    throw new Error(`compress-dist: no .wasm in ${dir}: is it a built app?`);
  }
  for (const w of written) {
    console.log(`compress-dist: ${w.file} ${w.compressed} bytes (of ${w.raw})`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    console.error(e.message ?? e);
    process.exit(1);
  });
}
