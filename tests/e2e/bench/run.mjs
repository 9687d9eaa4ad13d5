#!/usr/bin/env node
// Parley's benchmark: `scripts/bench.sh` builds the release app and server, then runs this.
// Prints a table and writes bench-results/bench.json.
//
//   node tests/e2e/bench/run.mjs [--runs N] [--only a,b] [--skip a,b] [--out FILE]
//
// Each entry of BENCHES is one row of the report; later work adds rows (10,000-message
// conversation, scroll frame times, send to sent, upload throughput) by adding an entry.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM, ROOT, Server, TARGET_DIR, launchBrowser } from '../harness.mjs';
import { coldLoad, customerToAgentPaint, enterToPaint } from './latency.mjs';
import * as sizes from './sizes.mjs';
import { fmt, kb, summarize, table } from './stats.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: process.env.PARLEY_BENCH_RUNS ?? '20' },
    only: { type: 'string' },
    skip: { type: 'string' },
    out: { type: 'string', default: path.join(ROOT, 'bench-results/bench.json') },
  },
});
const runs = Number(args.runs);
const only = args.only ? new Set(args.only.split(',')) : null;
const skip = new Set(args.skip ? args.skip.split(',') : []);
const wanted = (name) => (!only || only.has(name)) && !skip.has(name);

/** Browser latency rows: each returns samples in milliseconds. */
const BENCHES = [
  { name: 'cold_load_to_first_message', label: 'cold load → first message painted', run: coldLoad },
  { name: 'enter_to_optimistic_paint', label: 'Enter → optimistic message painted', run: enterToPaint },
  { name: 'customer_send_to_agent_paint', label: 'customer send → agent paint', run: customerToAgentPaint },
];

/** Native rows: a command that prints one JSON line. */
const NATIVE = [
  {
    name: 'voice_remux',
    label: 'WebM → OGG remux, 10-minute voice note',
    command: ['cargo', ['run', '--quiet', '--release', '-p', 'parley-media', '--example', 'remux_bench']],
    row: (j) => [`${j.voice_minutes} min, ${(j.webm_bytes / 1e6).toFixed(1)} MB`, `${fmt(j.remux_ms_median, 2)} ms median`, `${fmt(j.remux_mb_per_s)} MB/s`],
  },
];

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

async function main() {
  const report = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 2 ** 30) },
    runs,
    sizes: null,
    latency_ms: {},
    native: {},
  };
  const sections = [];

  if (wanted('sizes')) {
    const s = await sizes.run();
    report.sizes = s;
    const row = (label, t) => [label, kb(t.raw), kb(t.gzip), kb(t.brotli)];
    sections.push(
      'Bundle size (dist/)\n' +
        table(['what', 'raw', 'gzip -9', 'brotli 11'], [row('wasm', s.wasm), row('js', s.js), row('css', s.css), ...s.files.map((f) => row(`  ${f.file}`, f))]),
    );
  }

  const browserBenches = BENCHES.filter((b) => wanted(b.name));
  if (browserBenches.length) {
    const bin = process.env.PARLEY_SERVER_BIN ?? path.join(TARGET_DIR, 'release/parley-server');
    const server = await Server.start({ demo: true, testControls: false, bin });
    const browser = await launchBrowser();
    report.chromium = browser.version();
    report.server_bin = path.relative(ROOT, bin);
    const rows = [];
    try {
      for (const bench of browserBenches) {
        process.stderr.write(`running ${bench.name} (${runs} runs)...\n`);
        const samples = await bench.run({ browser, server, runs });
        const s = summarize(samples);
        report.latency_ms[bench.name] = { label: bench.label, ...s, samples: samples.map((x) => Math.round(x * 10) / 10) };
        rows.push([bench.label, s.n, fmt(s.median), fmt(s.p95), fmt(s.min), fmt(s.max)]);
      }
    } finally {
      await browser.close().catch(() => {});
      await server.dispose();
    }
    sections.push(`Latency in headless Chromium (${CHROMIUM}), milliseconds\n` + table(['what', 'n', 'median', 'p95', 'min', 'max'], rows));
  }

  const nativeRows = [];
  for (const bench of NATIVE.filter((b) => wanted(b.name))) {
    process.stderr.write(`running ${bench.name}...\n`);
    const [cmd, cmdArgs] = bench.command;
    const out = execFileSync(cmd, cmdArgs, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
    const json = JSON.parse(out.trim().split('\n').pop());
    report.native[bench.name] = { label: bench.label, ...json };
    nativeRows.push([bench.label, ...bench.row(json)]);
  }
  if (nativeRows.length) sections.push('Native\n' + table(['what', 'input', 'time', 'throughput'], nativeRows));

  await mkdir(path.dirname(args.out), { recursive: true });
  await writeFile(args.out, JSON.stringify(report, null, 2) + '\n');
  console.log('\n' + sections.join('\n\n') + `\n\nwritten: ${path.relative(process.cwd(), args.out)}`);
}

main().catch((err) => {
  console.error(`bench failed: ${err.stack ?? err}`);
  process.exit(1);
});
