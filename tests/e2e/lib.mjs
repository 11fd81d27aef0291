// Shared helpers of the end-to-end tests: start `shelfmark serve` on a copy of a fixture archive,
// launch Debian's chromium through playwright-core, and stop everything afterwards.

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '../..');
export const ARTIFACTS = join(HERE, 'artifacts');
export const BIN = process.env.SHELFMARK_BIN ?? join(ROOT, 'target/release/shelfmark');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** A fresh copy of `src` (without any index) in a temporary folder. */
export function copyArchive(src, name = 'archive') {
  const dir = mkdtempSync(join(tmpdir(), 'shelfmark-e2e-'));
  const dest = join(dir, name);
  cpSync(src, dest, { recursive: true, filter: (p) => !p.includes('.shelfmark') });
  return { dir, path: dest, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `shelfmark serve -C archive --port 0` and resolves with its URL once it prints it. */
export function serve(archive, { timeoutMs = 60_000 } = {}) {
  const child = spawn(BIN, ['serve', '-C', archive, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
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
