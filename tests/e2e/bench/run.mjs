#!/usr/bin/env node
// Parley's benchmark: `scripts/bench.sh` builds the release app and server, then runs this.
// Prints a table and writes bench-results/bench.json.
//
//   node tests/e2e/bench/run.mjs [--runs N] [--only a,b] [--skip a,b] [--out FILE]
//
// Each entry of BENCHES is one row of the report; later work adds rows by adding an entry.
// Upload throughput (upload.mjs) is a section of its own: one row per file size. The 10,000-message conversation rows (long_*) are in
// LONG_BENCHES (long.mjs): they share one server with test controls and one conversation.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM, ROOT, Server, TARGET_DIR, launchBrowser } from '../harness.mjs';
import { coldLoad, customerToAgentPaint, enterToPaint, sendToSent } from './latency.mjs';
import { COUNT as LONG_COUNT, LONG_BENCHES, makeLong } from './long.mjs';
import * as sizes from './sizes.mjs';
import { profileDist } from '../../../scripts/wasm-profile.mjs';
import { uploadThroughput } from './upload.mjs';
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
const MB_BYTES = 1024 * 1024;
const only = args.only ? new Set(args.only.split(',')) : null;
const skip = new Set(args.skip ? args.skip.split(',') : []);
const wanted = (name) => (!only || only.has(name)) && !skip.has(name);
const serverBin = process.env.PARLEY_SERVER_BIN ?? path.join(TARGET_DIR, 'server/parley-server');

/** Browser latency rows: each returns samples in milliseconds. */
const BENCHES = [
  { name: 'cold_load_to_first_message', label: 'cold load → first message painted', run: coldLoad },
  { name: 'enter_to_optimistic_paint', label: 'Enter → optimistic message painted', run: enterToPaint },
  { name: 'send_to_sent', label: 'Enter → "sent" painted (through the outbox)', run: sendToSent },
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

/**
 * The long_* rows: a server with test controls (to make the conversation), the conversation
 * made once, then each row in turn. Returns the table, figures beside the targets.
 */
async function runLong(benches, report) {
  const server = await Server.start({ demo: true, testControls: true, bin: serverBin });
  const browser = await launchBrowser();
  report.chromium ??= browser.version();
  report.server_bin ??= path.relative(ROOT, serverBin);
  const rows = [];
  try {
    process.stderr.write(`making a ${LONG_COUNT}-message conversation...\n`);
    const long = await makeLong(server);
    report.long_conversation = { messages: LONG_COUNT, conversation_id: long.conversation_id, made_ms: long.made_ms, rows: {} };
    const cache = {};
    for (const bench of benches) {
      process.stderr.write(`running ${bench.name} (${runs} runs)...\n`);
      const { data, lines } = await bench.run({ browser, server, runs, long, cache });
      report.long_conversation.rows[bench.name] = { ...data, lines };
      for (const l of lines) rows.push([l.what, l.n, l.figures, l.target, l.met === null ? '' : l.met ? 'ok' : 'MISSED']);
    }
  } finally {
    await browser.close().catch(() => {});
    await server.dispose();
  }
  return `${LONG_COUNT.toLocaleString('en')}-message conversation in headless Chromium (${CHROMIUM})\n` + table(['what', 'n', 'figures', 'target', ''], rows);
}

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
        table(['what', 'raw', 'gzip -9', 'brotli 11'], [row('wasm', s.wasm), row('js', s.js), row('css', s.css), ...s.files.map((f) => row(`  ${f.file}`, f)), row('first visit (module, wasm, css)', s.firstVisit)]) +
        `\nbudget for a first visit: ${kb(s.budget.brotli)} brotli, ${kb(s.budget.gzip)} gzip: ` +
        (s.firstVisit.brotli <= s.budget.brotli && s.firstVisit.gzip <= s.budget.gzip ? 'ok' : 'OVER'),
    );
    // The same files as a browser gets them from parley-server: a cold visit's Resource Timing.
    const server = await Server.start({ demo: true, testControls: false, bin: serverBin });
    const browser = await launchBrowser();
    try {
      const visit = await sizes.coldVisit(browser, server.info.agentUrl);
      report.sizes.cold_visit = visit;
      const rows = visit.files.map((f) => [f.path, f.encoding ?? '', kb(f.decoded), kb(f.encoded), kb(f.transfer)]);
      rows.push(['total', '', kb(visit.total.decoded), '', kb(visit.total.transfer)]);
      sections.push(
        'Cold visit of the agent page over the wire, as served (Chromium Resource Timing: body decoded, body as sent, transfer = body sent + the 300 bytes Chromium counts for headers)\n' +
          table(['what', 'encoding', 'decoded', 'sent', 'transfer'], rows),
      );
    } finally {
      await browser.close().catch(() => {});
      await server.dispose();
    }
  }

  // Where the wasm's bytes go (issue 12 §2): the shipped code's top crates and functions.
  if (wanted('size_profile')) {
    const p = profileDist({ targetDir: TARGET_DIR, top: 15 });
    report.size_profile = p;
    const share = (n) => `${((100 * n) / p.code).toFixed(1)}%`;
    sections.push(
      `Size profile of the wasm (scripts/wasm-profile.mjs: ${kb(p.size)} raw, code ${kb(p.code)} in ${p.functions} functions, data ${kb(p.data)})\n` +
        `top ${p.crates.length} crates by code size\n` +
        table(['crate', 'code', 'share', 'fns'], p.crates.map((c) => [c.name, kb(c.size), share(c.size), c.count])) +
        `\ntop ${p.top_functions.length} functions (monomorphized copies summed)\n` +
        table(['function', 'code', 'copies'], p.top_functions.map((f) => [f.name.length > 110 ? `${f.name.slice(0, 107)}...` : f.name, kb(f.size), f.count])),
    );
  }

  const browserBenches = BENCHES.filter((b) => wanted(b.name));
  if (browserBenches.length) {
    const server = await Server.start({ demo: true, testControls: false, bin: serverBin });
    const browser = await launchBrowser();
    report.chromium = browser.version();
    report.server_bin = path.relative(ROOT, serverBin);
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

  if (wanted('upload_throughput')) {
    const server = await Server.start({ demo: true, testControls: false, bin: serverBin });
    const browser = await launchBrowser();
    report.chromium ??= browser.version();
    try {
      process.stderr.write('running upload_throughput...\n');
      const results = await uploadThroughput({ browser, server, runs });
      report.upload = results;
      const mbps = (bytes, ms) => (bytes / MB_BYTES / (ms / 1000));
      const rows = results.map((r) => [
        `${r.size_mb} MB file, attach → sent`,
        r.app.n,
        `${fmt(r.app.median)} ms`,
        `${fmt(r.app.p95)} ms`,
        `${fmt(mbps(r.bytes, r.app.median))} MB/s`,
        `${fmt(r.raw.median)} ms`,
        `${fmt(mbps(r.bytes, r.raw.median))} MB/s`,
        `${fmt(r.app.median / r.raw.median, 2)}×`,
      ]);
      sections.push(
        `Upload over loopback in headless Chromium (app: Enter → row confirmed; raw: one XHR of the same multipart body)\n` +
          table(['what', 'n', 'app median', 'app p95', 'app throughput', 'raw median', 'raw throughput', 'app / raw'], rows),
      );
    } finally {
      await browser.close().catch(() => {});
      await server.dispose();
    }
  }

  const longBenches = LONG_BENCHES.filter((b) => wanted(b.name));
  if (longBenches.length) sections.push(await runLong(longBenches, report));

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

  // Markdown render: one row per adversarial input, so a section of its own (issue 10, point 11).
  if (wanted('markdown_render')) {
    process.stderr.write('running markdown_render...\n');
    const out = execFileSync('cargo', ['run', '--quiet', '--release', '-p', 'parley-core', '--example', 'markdown_bench'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
    const j = JSON.parse(out.trim().split('\n').pop());
    report.native.markdown_render = j;
    const rows = j.inputs.map((i) => [i.name, `${fmt(i.cpu_ms_median, 2)} ms`, `${fmt(i.wall_ms_median, 2)} ms`, '']);
    rows.push([`max over ${j.inputs.length} inputs (${j.worst})`, `${fmt(j.max_cpu_ms, 2)} ms`, `${fmt(j.max_wall_ms, 2)} ms`, `< ${j.target_ms} ms: ${j.met ? 'ok' : 'MISSED'}`]);
    sections.push(
      `Markdown render, adversarial ${j.chars.toLocaleString('en')}-character messages (native, release, median of ${j.runs}; ` +
        `the target is judged on the rendering thread's CPU time, wall time also counts waiting for a core; load average ${j.load_average ?? '?'})\n` +
        table(['input', 'CPU', 'wall', 'target'], rows),
    );
  }

  await mkdir(path.dirname(args.out), { recursive: true });
  await writeFile(args.out, JSON.stringify(report, null, 2) + '\n');
  console.log('\n' + sections.join('\n\n') + `\n\nwritten: ${path.relative(process.cwd(), args.out)}`);
}

main().catch((err) => {
  console.error(`bench failed: ${err.stack ?? err}`);
  process.exit(1);
});
