#!/usr/bin/env node
// Where the bytes of a wasm module go: its sections, and the code of its functions summed by
// crate and listed one by one, from the module's name section. Plain Node, nothing to install
// (twiggy's numbers without twiggy). The shipped wasm has no names (wasm-opt drops them), so
// the benchmark profiles a copy that kept them: `wasm-opt -O<level> -g` of wasm-bindgen's
// output, the same passes as the release build (see profileDist below). Code sizes are raw
// bytes: brotli shrinks them all about alike, so the ranking is the one that matters.
//
//   node scripts/wasm-profile.mjs [FILE.wasm] [--top 15] [--json]   (no FILE: the release build)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount', 'tag'];

function reader(buf) {
  let pos = 0;
  const r = {
    get pos() {
      return pos;
    },
    set pos(p) {
      pos = p;
    },
    byte: () => buf[pos++],
    u32() {
      let result = 0;
      let shift = 0;
      for (;;) {
        const b = buf[pos++];
        result += (b & 0x7f) * 2 ** shift;
        if (!(b & 0x80)) return result;
        shift += 7;
      }
    },
    name() {
      const len = r.u32();
      const s = buf.subarray(pos, pos + len).toString('utf8');
      pos += len;
      return s;
    },
  };
  return r;
}

/** The module's sections, its function bodies' sizes (with names where the module has them)
 * and its data segments' sizes. */
export function parseWasm(buf) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error('not a wasm module');
  const r = reader(buf);
  r.pos = 8;
  const sections = [];
  let importedFunctions = 0;
  const bodies = [];
  const names = new Map();
  const data = [];
  while (r.pos < buf.length) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    let label = SECTION_NAMES[id] ?? `unknown ${id}`;
    if (id === 0) {
      label = `custom "${r.name()}"`;
      if (label === 'custom "name"') {
        while (r.pos < end) {
          const sub = r.byte();
          const subSize = r.u32();
          const subEnd = r.pos + subSize;
          if (sub === 1) {
            const count = r.u32();
            for (let i = 0; i < count; i++) {
              const index = r.u32();
              names.set(index, r.name());
            }
          }
          r.pos = subEnd;
        }
      }
    } else if (id === 2) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind === 0) {
          r.u32();
          importedFunctions++;
        } else if (kind === 1) {
          r.byte();
          const flags = r.u32();
          r.u32();
          if (flags & 1) r.u32();
        } else if (kind === 2) {
          const flags = r.u32();
          r.u32();
          if (flags & 1) r.u32();
        } else if (kind === 3) {
          r.byte();
          r.byte();
        } else {
          r.byte();
          r.u32();
        }
      }
    } else if (id === 10) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const bodyStart = r.pos;
        const bodySize = r.u32();
        r.pos += bodySize;
        bodies.push({ index: importedFunctions + i, size: r.pos - bodyStart });
      }
    } else if (id === 11) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const segStart = r.pos;
        const flags = r.u32();
        if (flags === 2) r.u32();
        if (flags !== 1) {
          // The offset expression: read opcodes up to `end` (0x0b).
          for (let op = r.byte(); op !== 0x0b; op = r.byte()) {
            if (op === 0x41 || op === 0x23) r.u32();
            else if (op === 0x42) r.u32();
          }
        }
        const len = r.u32();
        r.pos += len;
        data.push({ index: i, size: r.pos - segStart });
      }
    }
    r.pos = end;
    sections.push({ section: label, size: 1 + lebLength(size) + size });
  }
  for (const b of bodies) b.name = names.get(b.index) ?? `func[${b.index}]`;
  return { size: buf.length, sections, bodies, data, named: names.size > 0 };
}

function lebLength(n) {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** The crate a function's code belongs to, from its demangled name: the first path segment,
 * looking through `<T as Trait>` to T's crate (a trait impl is compiled for its type), and
 * the generic parameters of std and core functions to the crate that instantiated them. */
export function crateOf(name) {
  let n = name.replace(/::h[0-9a-f]{16}$/, '');
  const stdlike = /^(core|alloc|std)$/;
  const paths = [...n.matchAll(/([A-Za-z_][A-Za-z0-9_]*)::/g)].map((m) => m[1]);
  if (paths.length === 0) {
    if (/^(wbg|__wbg|__wbindgen)/.test(n)) return 'wasm-bindgen glue';
    if (/^(memcpy|memset|memmove|memcmp|bcmp|__rust|__rdl|__rg|dlmalloc|__multi|__udiv|__ashl|__lshr)/.test(n)) return 'compiler builtins / allocator';
    return n.startsWith('func[') ? '(unnamed)' : '(other)';
  }
  const first = paths[0];
  if (!stdlike.test(first)) return first;
  const own = paths.find((p) => !stdlike.test(p) && /^[a-z_][a-z0-9_]*$/.test(p));
  return own ? `${first} (for ${own})` : first;
}

function sumBy(items, key) {
  const out = new Map();
  for (const it of items) {
    const k = key(it);
    const e = out.get(k) ?? { name: k, size: 0, count: 0 };
    e.size += it.size;
    e.count++;
    out.set(k, e);
  }
  return [...out.values()].sort((a, b) => b.size - a.size);
}

/** The profile: sections, the top crates by code size, the top functions, data. */
export function profile(buf, top = 15) {
  const m = parseWasm(buf);
  const code = m.bodies.reduce((a, b) => a + b.size, 0);
  const dataBytes = m.data.reduce((a, d) => a + d.size, 0);
  const functions = m.bodies
    .map((b) => ({ name: b.name.replace(/::h[0-9a-f]{16}$/, ''), size: b.size }))
    .sort((a, b) => b.size - a.size);
  // Monomorphized copies of one generic function have one name after the hash is dropped.
  const generic = sumBy(functions, (f) => f.name);
  return {
    size: m.size,
    named: m.named,
    functions: m.bodies.length,
    code,
    data: dataBytes,
    sections: m.sections.sort((a, b) => b.size - a.size),
    crates: sumBy(functions, (f) => crateOf(f.name)).slice(0, top),
    top_functions: generic.slice(0, top),
  };
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The wasm-opt level of the release build: index.html's `data-wasm-opt`. */
function releaseOptLevel() {
  const html = readFileSync(path.join(ROOT, 'index.html'), 'utf8');
  return html.match(/data-wasm-opt="(\w+)"/)?.[1] ?? 'z';
}

/** The profile of the app in `dist` as shipped: the release build's wasm-bindgen output
 * (target/wasm-bindgen/release) run through the same wasm-opt level as Trunk's, keeping the
 * names (`-g`), so the functions are the shipped ones with their names. */
export function profileDist({ targetDir = path.join(ROOT, 'target'), top = 15 } = {}) {
  const input = path.join(targetDir, 'wasm-bindgen/release/parley_bg.wasm');
  if (!existsSync(input)) throw new Error(`${input} missing: run trunk build --release`);
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-wasm-profile-'));
  try {
    const out = path.join(dir, 'named.wasm');
    execFileSync('wasm-opt', [`-O${releaseOptLevel()}`, '-g', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext', '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue', input, '-o', out], { stdio: 'inherit' });
    return profile(readFileSync(out), top);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

export function printProfile(p, title = 'wasm size profile') {
  console.log(`\n${title}: ${kb(p.size)} raw, code ${kb(p.code)} in ${p.functions} functions, data ${kb(p.data)}`);
  console.log('  sections:', p.sections.slice(0, 6).map((s) => `${s.section} ${kb(s.size)}`).join(', '));
  console.log(`  top ${p.crates.length} crates by code size (share of all code):`);
  for (const c of p.crates) console.log(`    ${kb(c.size).padStart(9)}  ${((100 * c.size) / p.code).toFixed(1).padStart(4)}%  ${String(c.count).padStart(5)} fns  ${c.name}`);
  console.log(`  top ${p.top_functions.length} functions (copies of a generic one summed):`);
  for (const f of p.top_functions) console.log(`    ${kb(f.size).padStart(9)}  ${String(f.count).padStart(4)}x  ${f.name.length > 150 ? `${f.name.slice(0, 147)}...` : f.name}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
  const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--top');
  const p = file ? profile(readFileSync(file), top) : profileDist({ top });
  if (args.includes('--json')) console.log(JSON.stringify(p, null, 2));
  else printProfile(p, file ?? `shipped wasm (wasm-opt -O${releaseOptLevel()} -g of the release build)`);
}
