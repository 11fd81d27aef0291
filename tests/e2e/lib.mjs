// Shared helpers of the end-to-end tests: make an archive (a copy of a fixture, or posts written
// by the test), start `shelfmark serve` on it, launch Debian's chromium through playwright-core,
// open the app, and stop everything afterwards. A test file starts with `e2eFixture()`.

import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '../..');
export const ARTIFACTS = join(HERE, 'artifacts');
export const BIN = process.env.SHELFMARK_BIN ?? join(ROOT, 'target/release/shelfmark');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** A fresh copy of `src` (without any index) in a temporary folder: `root` is the archive. */
export function copyArchive(src, name = 'archive') {
  const dir = mkdtempSync(join(tmpdir(), 'shelfmark-e2e-'));
  const root = join(dir, name);
  cpSync(src, root, { recursive: true, filter: (p) => !p.includes('.shelfmark') });
  return { dir, root, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An archive of `posts` ({ relative path: text }) in a temporary folder: `root` is the archive. */
export function writeArchive(posts, name = 'archive') {
  const dir = mkdtempSync(join(tmpdir(), 'shelfmark-e2e-'));
  const root = join(dir, name);
  for (const [rel, text] of Object.entries(posts)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return { dir, root, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs `shelfmark serve -C archive --port 0` (with `env` added to its environment) and resolves
 * with its URL once it prints it.
 */
export function serve(archive, { timeoutMs = 60_000, env = {} } = {}) {
  const child = spawn(BIN, ['serve', '-C', archive, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`shelfmark serve printed no URL in ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^(http:\/\/127\.0\.0\.1:\d+\/)#token=([0-9a-f]{32})$/m);
      if (m) {
        clearTimeout(timer);
        resolveUrl({ url: m[0], origin: m[1].replace(/\/$/, ''), token: m[2] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`shelfmark serve exited (${code}):\n${stderr}`));
    });
  });
  return {
    child,
    url,
    stderr: () => stderr,
    stop: () => stop(child),
  };
}

/** SIGTERM, then SIGKILL if it has not gone after 3 s. */
export function stop(child) {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

export async function launch() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'shelfmark-chromium-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A screenshot of the page in artifacts/NAME.png. */
export function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/**
 * Opens the app at `url` in a new browser context and waits for its first result row. Records
 * every request the context makes, every dialog the page opens (dismissed, or accepted with
 * `acceptDialogs`) and every uncaught error in the page. Other options go to `newContext`.
 */
export async function openApp(browser, url, { acceptDialogs = false, ...options } = {}) {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    locale: 'en-US',
    colorScheme: 'light',
    ...options,
  });
  const requests = [];
  const dialogs = [];
  const errors = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void (acceptDialogs ? d.accept() : d.dismiss());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.getByTestId('results').getByRole('option').first().waitFor();
  return { context, page, requests, dialogs, errors };
}

/**
 * What a test file shares, set up with node:test hooks where it is called (at the top of the
 * file): chromium, launched before the file's tests; the servers its suites start with
 * `serve(archive)`; all of them stopped, and the archives removed, after the file's tests.
 * `open(url, options)` is `openApp` in that browser, with `acceptDialogs` as given here.
 */
export function e2eFixture({ acceptDialogs = false } = {}) {
  let launched = null;
  const cleanups = [];
  before(async () => {
    launched = await launch();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await launched?.close();
  });
  return {
    get browser() {
      if (!launched) throw new Error('the browser starts in the before hook of e2eFixture');
      return launched.browser;
    },
    /** Serves `archive` (from copyArchive or writeArchive): resolves with { archive, url, origin, token }. */
    async serve(archive, options) {
      const server = serve(archive.root, options);
      cleanups.push(async () => {
        await server.stop();
        archive.remove();
      });
      return { archive, ...(await server.url) };
    },
    open(url, options = {}) {
      return openApp(this.browser, url, { acceptDialogs, ...options });
    },
  };
}
