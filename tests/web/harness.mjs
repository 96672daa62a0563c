// Shared helpers of the browser tests: start the real binary on a fresh database, launch
// Debian's chromium through playwright-core, talk to the API directly, and a fake
// OpenAI-compatible upstream for streaming tests. No test framework: run.mjs runs the tests
// registered here with test().
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const BIN = path.resolve(ROOT, process.env.CHATVAULT_BIN || 'build/chatvault');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SHOTS = path.join(here, 'screenshots');
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
];

// ------------------------------------------------------------------ registry
const registered = [];
/** Register a test: fn(t) gets a TestContext (see run.mjs). */
export function test(name, fn, { timeout = 90_000 } = {}) {
  registered.push({ name, fn, timeout });
}
export function registeredTests() {
  return registered;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
export function assertEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}: expected ${e}, got ${a}`);
}

/**
 * Wait until `check()` (async, run here in Node) resolves truthy; polls every `everyMs`,
 * fails with `message` after `timeout` ms. Use it for conditions on the server: Playwright's
 * page.waitForFunction does not await an async predicate (a Promise is truthy, so it returns
 * at once: it waited for nothing).
 */
export async function eventually(check, message, { timeout = 30_000, everyMs = 50 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms: ${message}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

let uniq = 0;
export function uniqueEmail(prefix = 'user') {
  uniq += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${uniq}@example.test`;
}

// ------------------------------------------------------------------ the server
/**
 * Start `chatvault serve` on a fresh temporary database and a free port. Resolves once it
 * printed `listening on http://127.0.0.1:PORT`. CHATVAULT_* variables of the caller are
 * not passed on, so every flag is explicit.
 */
export async function startServer({ args = [], env = {} } = {}) {
  if (!fs.existsSync(BIN)) throw new Error(`no chatvault binary at ${BIN} (build it with make, or set CHATVAULT_BIN)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatvault-web-'));
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHATVAULT_')));
  const proc = spawn(BIN, ['serve', '--db', path.join(dir, 'web.db'), '--listen', '127.0.0.1:0', ...args], {
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`chatvault did not print its listening line within 20 s; stderr:\n${stderr}`)), 20_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`chatvault exited (${code ?? sig}) before listening; stderr:\n${stderr}`));
    });
  });
  proc.stdout.resume();
  const server = {
    url,
    proc,
    dir,
    get stderr() { return stderr; },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

// ------------------------------------------------------------------ API client
export class Api {
  constructor(base, token = null) {
    this.base = base;
    this.token = token;
  }

  async req(method, p, body, headers = {}) {
    const h = { Accept: 'application/json', ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    const res = await fetch(this.base + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = text; }
    return { status: res.status, headers: res.headers, json, text };
  }

  async ok(method, p, body) {
    const r = await this.req(method, p, body);
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${p} → ${r.status} ${r.text.slice(0, 300)}`);
    return r.json;
  }
}

/** Register and log in a new user through the API. */
export async function newUser(base, { prefix = 'user', password = 'correct horse battery', displayName } = {}) {
  const email = uniqueEmail(prefix);
  const anon = new Api(base);
  const body = { email, password };
  if (displayName) body.display_name = displayName;
  await anon.ok('POST', '/api/v1/auth/register', body);
  const login = await anon.ok('POST', '/api/v1/auth/login', { email, password });
  return { email, password, token: login.access_token, user: login.user, api: new Api(base, login.access_token) };
}

// ------------------------------------------------------------------ the browser
export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Sign in through the form on a page already showing the sign-in view. */
export async function signInWithForm(page, user) {
  await page.getByTestId('signin-email').fill(user.email);
  await page.getByTestId('signin-password').fill(user.password);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('sidebar').waitFor();
}

/** Open the page already signed in as `user` (token put in localStorage, as the page does). */
export async function openAs(page, base, user, hash = '#/assistant') {
  await page.goto(`${base}/`);
  await page.evaluate((token) => localStorage.setItem('access_token', token), user.token);
  await page.goto(`${base}/${hash}`); // only the fragment changes: no new document yet
  await page.reload();
  await page.getByTestId('sidebar').waitFor({ state: 'attached' });
  await page.getByTestId('main').waitFor();
}

// ------------------------------------------------------------------ fake upstream model
/**
 * A tiny OpenAI-compatible /v1/chat/completions server on 127.0.0.1 that streams `chunks`
 * with `delayMs` between them. It answers on any POST path; a last user message containing
 * "please fail" gets a 500.
 */
export async function startFakeLlm({ chunks, delayMs = 150 }) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => { raw += d; });
    req.on('end', async () => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] }));
        return;
      }
      let body = {};
      try { body = JSON.parse(raw); } catch { /* keep {} */ }
      requests.push({ path: req.url, body });
      const msgs = Array.isArray(body.messages) ? body.messages : [];
      const last = [...msgs].reverse().find((m) => m.role === 'user');
      if (last && String(last.content).includes('please fail')) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'fake upstream failure', type: 'server_error' } }));
        return;
      }
      const base = { id: 'chatcmpl-fake', created: Math.floor(Date.now() / 1000), model: body.model || 'fake-model' };
      if (!body.stream) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: chunks.join('') }, finish_reason: 'stop' }] }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      for (let i = 0; i < chunks.length; i += 1) {
        const delta = i === 0 ? { role: 'assistant', content: chunks[i] } : { content: chunks[i] };
        res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`);
        await sleep(delayMs);
      }
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.write('data: [DONE]\n\n');
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}
