// The browser test runner. Runs every test registered by specs/*.mjs, one at a time,
// against one shared chatvault (fresh database) plus the servers a test starts itself.
// Prints `ok NAME` / `FAIL NAME: reason` per test and closes with `N passed, N failed`.
//   node tests/web/run.mjs [word ...]   only tests whose name contains one of the words
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { registeredTests, startServer, launchBrowser, SHOTS, BIN } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).map((s) => s.toLowerCase());
const verbose = Boolean(process.env.VERBOSE);

class TestContext {
  constructor(browser, server, name) {
    this.browser = browser;
    this.server = server;
    this.base = server.url;
    this.name = name;
    this.contexts = [];
    this.cleanups = [];
    this.problems = []; // CSP violations and uncaught page errors
  }

  /** A new browser context (its own storage, like a second browser) and a page in it. */
  async newPage(options = {}) {
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    context.setDefaultTimeout(15_000);
    this.contexts.push(context);
    const page = await context.newPage();
    this.watch(page);
    return page;
  }

  watch(page) {
    page.on('console', (msg) => {
      const text = msg.text();
      // The page's own code and styles must never trip the CSP. (A user-supplied picture
      // from another origin may, depending on the server's img-src: that is not a failure.)
      if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(text) && !/Loading the image|img-src/i.test(text)) {
        this.problems.push(`CSP: ${text}`);
      }
      if (verbose) console.log(`  [console.${msg.type()}] ${text}`);
    });
    page.on('pageerror', (err) => this.problems.push(`page error: ${err.message}`));
    page.on('dialog', (d) => {
      this.problems.push(`unexpected ${d.type()} dialog: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
  }

  onCleanup(fn) {
    this.cleanups.push(fn);
  }

  async shot(page, name) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  }

  async failureShots() {
    let i = 0;
    for (const c of this.contexts) {
      for (const p of c.pages()) {
        i += 1;
        const file = path.join(SHOTS, `FAIL-${this.name.replace(/[^\w-]+/g, '_')}-${i}.png`);
        try {
          fs.mkdirSync(SHOTS, { recursive: true });
          await p.screenshot({ path: file, timeout: 5000 });
          console.log(`  screenshot: ${path.relative(process.cwd(), file)}`);
        } catch { /* page gone */ }
      }
    }
  }

  async close() {
    for (const c of this.contexts) await c.close().catch(() => {});
    for (const fn of this.cleanups.reverse()) await Promise.resolve().then(fn).catch((e) => console.log(`  cleanup: ${e.message}`));
  }
}

function withTimeout(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  const specDir = path.join(here, 'specs');
  let misuse = 0;
  for (const f of fs.readdirSync(specDir).filter((f) => f.endsWith('.mjs')).sort()) {
    // page.waitForFunction takes an async predicate's Promise for a truthy answer and returns
    // at once (such a wait waited for nothing: 14-edit was flaky so); harness.eventually() polls
    if (/waitForFunction\(\s*async\b/.test(fs.readFileSync(path.join(specDir, f), 'utf8'))) {
      console.log(`FAIL ${f}: page.waitForFunction with an async predicate never waits; use eventually()`);
      misuse += 1;
    }
    await import(pathToFileURL(path.join(specDir, f)).href);
  }
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const f of fs.readdirSync(SHOTS)) if (f.startsWith('FAIL-')) fs.rmSync(path.join(SHOTS, f));
  const tests = registeredTests().filter((t) => !filters.length || filters.some((w) => t.name.toLowerCase().includes(w)));
  let passed = 0;
  let failed = 0;

  let server;
  let browser;
  try {
    server = await startServer();
    browser = await launchBrowser();
  } catch (err) {
    console.log(`FAIL setup: ${err.message}`);
    console.log(`(binary: ${BIN})`);
    await server?.stop().catch(() => {});
    console.log(`0 passed, ${Math.max(1, tests.length)} failed`);
    process.exit(1);
  }
  console.log(`# chatvault ${server.url} · ${browser.version ? `chromium ${browser.version()}` : 'chromium'} · ${tests.length} tests`);

  for (const t of tests) {
    const ctx = new TestContext(browser, server, t.name);
    const started = Date.now();
    try {
      await withTimeout(t.fn(ctx), t.timeout, t.name);
      if (ctx.problems.length) throw new Error(ctx.problems.join('\n    '));
      passed += 1;
      console.log(`ok ${t.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failed += 1;
      const msg = String(err && err.message ? err.message : err).split('\n').slice(0, 12).join('\n    ');
      console.log(`FAIL ${t.name}: ${msg}`);
      // the server's last requests (its access log on stderr), to tell the page's doing from the server's
      const tail = server.stderr.split('\n').slice(-40).map((l) => `  | ${l}`).join('\n');
      console.log(`  server log, last lines:\n${tail}`);
      await ctx.failureShots();
    } finally {
      await ctx.close();
    }
    if (server.proc.exitCode !== null || server.proc.signalCode !== null) {
      console.log(`FAIL server: chatvault exited (${server.proc.exitCode ?? server.proc.signalCode}); stderr tail:\n${server.stderr.slice(-3000)}`);
      failed += 1;
      break;
    }
  }

  await browser.close().catch(() => {});
  await server.stop().catch(() => {});
  failed += misuse;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
}

main().catch((err) => {
  console.log(`FAIL runner: ${err.stack || err}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
