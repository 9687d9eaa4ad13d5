// Shared harness for the end-to-end tests and the benchmark: starts parley-server as a real
// process, parses the lines it prints (the fixed stdout contract in the plan), launches the
// machine's Chromium through playwright-core, and makes sure both always go away, even when a
// test fails or times out.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
export const SERVER_BIN = process.env.PARLEY_SERVER_BIN ?? path.join(TARGET_DIR, 'debug/parley-server');
export const DIST = process.env.PARLEY_DIST ?? path.join(ROOT, 'dist');
export const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
// parley-server refuses an --agent-token shorter than 24 characters (Chatwoot's length).
export const AGENT_TOKEN = 'e2e-agent-token-0123456789';

// Flags that keep Chromium quiet on a closed network (TOOLCHAIN.md): without them it keeps
// trying to reach Google's services and fills the log with refused connections.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** Every live server process, so that an exiting test process never leaves one behind. */
const liveProcesses = new Set();
process.on('exit', () => {
  for (const child of liveProcesses) child.kill('SIGKILL');
});

/** Line prefixes of the server's start-up output, in the order it prints them. */
const PREFIXES = {
  'agent email: ': 'agentEmail',
  'agent password: ': 'agentPassword',
  'agent token: ': 'agentToken',
  'agent url: ': 'agentUrl',
  'customer url: ': 'customerUrl',
  'listening on ': 'listeningOn',
};

export function parseStartupLines(text) {
  const info = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    for (const [prefix, key] of Object.entries(PREFIXES)) {
      if (line.startsWith(prefix)) info[key] = line.slice(prefix.length).trim();
    }
  }
  return info;
}

export async function makeDataDir() {
  return mkdtemp(path.join(tmpdir(), 'parley-e2e-'));
}

/**
 * A parley-server process on a data dir that outlives it, so a test can stop and start the
 * server again on the same data (and, if it asks, the same port).
 */
export class Server {
  constructor({ dataDir, demo = true, agentToken = AGENT_TOKEN, testControls = true, port = 0, extraArgs = [], bin = SERVER_BIN, dist = DIST } = {}) {
    this.options = { dataDir, demo, agentToken, testControls, port, extraArgs, bin, dist };
    this.child = null;
    this.output = '';
    this.info = null;
    this.ownsDataDir = false;
  }

  static async start(options = {}) {
    const server = new Server(options);
    if (!server.options.dataDir) {
      server.options.dataDir = await makeDataDir();
      server.ownsDataDir = true;
    }
    await server.start();
    return server;
  }

  args() {
    const o = this.options;
    const args = ['--port', String(o.port), '--bind', '127.0.0.1', '--data-dir', o.dataDir, '--dist', o.dist];
    if (o.demo) args.push('--demo');
    if (o.agentToken) args.push('--agent-token', o.agentToken);
    if (o.testControls) args.push('--test-controls');
    return args.concat(o.extraArgs);
  }

  async start() {
    if (this.child) throw new Error('server already running');
    if (!existsSync(this.options.bin)) {
      throw new Error(`${this.options.bin} not found: build it first (cargo build -p parley-server)`);
    }
    if (!existsSync(path.join(this.options.dist, 'index.html'))) {
      throw new Error(`${this.options.dist}/index.html not found: build the app first (trunk build --release)`);
    }
    this.output = '';
    const child = spawn(this.options.bin, this.args(), {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    });
    this.child = child;
    liveProcesses.add(child);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      this.output += chunk;
      if (process.env.PARLEY_E2E_VERBOSE) process.stderr.write(chunk);
    });
    child.on('exit', () => liveProcesses.delete(child));

    this.info = await new Promise((resolve, reject) => {
      let stdout = '';
      const fail = (why) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`parley-server ${why}\n  args: ${this.args().join(' ')}\n  output:\n${this.output}`));
      };
      const timer = setTimeout(() => fail(`printed no "listening on" line within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        this.output += chunk;
        if (process.env.PARLEY_E2E_VERBOSE) process.stderr.write(chunk);
        if (/^listening on \S+/m.test(stdout)) {
          clearTimeout(timer);
          resolve(parseStartupLines(stdout));
        }
      });
      child.on('exit', (code, signal) => fail(`exited during start-up (code ${code}, signal ${signal})`));
      child.on('error', (err) => fail(`could not be started: ${err.message}`));
    });
    this.baseUrl = new URL(this.info.listeningOn).origin;
    return this.info;
  }

  /** The running process's id (to read its memory use in /proc), or undefined. */
  get pid() {
    return this.child?.pid;
  }

  /** Stops the process (SIGTERM, then SIGKILL after a grace period); the data dir stays. */
  async stop() {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  /** Kills the process at once (SIGKILL: no graceful shutdown, requests in the air are cut)
   * and starts it again on the same data dir and port. */
  async killAndRestart() {
    const port = new URL(this.info.listeningOn).port;
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGKILL');
      });
    }
    this.options.port = Number(port);
    return this.start();
  }

  /** Stops and starts again on the same data dir; `samePort` keeps URLs already open valid. */
  async restart({ samePort = true, ...changes } = {}) {
    const port = new URL(this.info.listeningOn).port;
    await this.stop();
    Object.assign(this.options, changes);
    if (samePort) this.options.port = Number(port);
    return this.start();
  }

  /** Stops the process and removes the data dir if this harness made it. */
  async dispose() {
    await this.stop();
    if (this.ownsDataDir) await rm(this.options.dataDir, { recursive: true, force: true });
  }

  /** fetch() against the server with the agent token header. */
  async api(pathname, { method = 'GET', body, token = this.info.agentToken, headers = {} } = {}) {
    const res = await fetch(this.baseUrl + pathname, {
      method,
      headers: {
        ...(token ? { api_access_token: token } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  /** The customer-side identifiers carried by the printed customer url. */
  customerIds() {
    const q = new URL(this.info.customerUrl).searchParams;
    return { inbox: q.get('inbox'), contact: q.get('contact'), conversation: q.get('conversation') };
  }

  /** Sends a message as the demo customer through Chatwoot's public client API (to the
   * demo conversation, or to another of the demo customer's conversations). */
  async customerSend(content, { conversationId } = {}) {
    const ids = this.customerIds();
    const { inbox, contact } = ids;
    const conversation = conversationId ?? ids.conversation;
    const res = await this.api(
      `/public/api/v1/inboxes/${inbox}/contacts/${contact}/conversations/${conversation}/messages`,
      { method: 'POST', body: { content }, token: null },
    );
    if (res.status !== 200) throw new Error(`customer send answered ${res.status}: ${res.text}`);
    return res.json;
  }
}

/** Headless Chromium with a fresh profile (Playwright makes a new user-data-dir per launch). */
export async function launchBrowser(extraArgs = []) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/setup.sh`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS.concat(extraArgs),
    timeout: 30_000,
  });
}

/** A page with sane timeouts whose console errors and page errors are kept for reports. */
export async function newPage(browser, { viewport = { width: 1100, height: 800 }, locale } = {}) {
  const context = await browser.newContext({ viewport, ...(locale ? { locale } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.setDefaultNavigationTimeout(20_000);
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.errors.push(`console: ${msg.text()} (${msg.location()?.url ?? ''})`);
  });
  return page;
}

/** A unique message text, so a test never matches a row from the demo history. */
export function uniqueText(label) {
  return `${label} ${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs `fn` with a deadline, so that no single await can hang a test run. */
export async function withTimeout(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Texts of the agent's message rows in display order. */
export async function agentMessageTexts(page) {
  return page.locator('[data-testid=message] [data-testid=message-content]').allTextContents().then((texts) => texts.map((t) => t.trim()));
}

/** A new page on the agent url (the demo conversation), once its live connection is up. */
export async function openAgent(browser, server, url = server.info.agentUrl, options = {}) {
  const page = await newPage(browser, options);
  await page.goto(url);
  await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
  return page;
}

/** A new page on the customer url, once its live connection is up. */
export async function openCustomer(browser, server) {
  const page = await newPage(browser);
  await page.goto(server.info.customerUrl);
  await page.locator('#conn[data-state=connected]').waitFor();
  return page;
}

/** The agent's row for `text` once the server has it (sent, delivered or read). */
export function confirmedRow(page, text) {
  const row = (status) => page.locator(`[data-testid=message][data-status=${status}]`, { hasText: text });
  return row('sent').or(row('delivered')).or(row('read'));
}

/** Types `text` in the agent's composer and presses Enter. */
export async function agentSend(page, text) {
  const input = page.locator('[data-testid=composer-input]');
  await input.fill(text);
  await input.press('Enter');
}

/** A new conversation of `count` messages (test controls), like the demo conversation. */
export async function makeLongConversation(server, count) {
  const res = await server.api('/__parley/test/long_conversation', {
    method: 'POST',
    body: { account_id: 1, like_conversation_id: Number(server.customerIds().conversation), count },
  });
  if (res.status !== 200) throw new Error(`long_conversation answered ${res.status}: ${res.text}`);
  return res.json;
}

export async function cleanupTempDir(dir) {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Chromium flags for a fake microphone (a beeping test signal) whose permission is
 * granted without a prompt: pass to launchBrowser. Without the second flag, headless
 * Chromium denies the permission, which is how a test meets a refusal. */
export const FAKE_MICROPHONE_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
