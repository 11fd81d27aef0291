// Shared by the desktop WebDriver tests: find and start tauri-driver, wait for it, open a
// WebDriver session on the app, and stop it all.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { remote } from 'webdriverio';

export function findDriver() {
  if (process.env.TAURI_DRIVER) return process.env.TAURI_DRIVER;
  try {
    return execFileSync('sh', ['-c', 'command -v tauri-driver'], { encoding: 'utf8' }).trim();
  } catch {
    const cargoBin = join(homedir(), '.cargo/bin/tauri-driver');
    if (existsSync(cargoBin)) return cargoBin;
    throw new Error('tauri-driver is missing: run ./dev setup (cargo install tauri-driver --locked)');
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls tauri-driver's /status until it answers, for at most `timeoutMs`. */
export async function waitForStatus(port, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = new Error(`status ${res.status}`);
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`tauri-driver did not answer /status in ${timeoutMs} ms: ${last}`);
}

/** Starts tauri-driver in its own process group (WebKitWebDriver and the app go with it, and
 * inherit `env`). */
export function startDriver(port, nativePort, env = process.env) {
  const child = spawn(findDriver(), ['--port', String(port), '--native-port', String(nativePort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env,
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  return { child, log: () => log };
}

/** SIGTERM, then SIGKILL after 3 s, of a child started in its own process group. */
export function stopGroup(child) {
  return new Promise((done) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return done();
    const signal = (sig) => {
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* gone already */
      }
    };
    const kill = setTimeout(() => signal('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    signal('SIGTERM');
  });
}

/**
 * A WebDriver session on the desktop app `application` (started with `args`, in `env`) through a
 * tauri-driver of its own on `port` (its native port is the next one). `start()` resolves with the
 * session's browser; `stop()` ends the session and the driver (WebKitWebDriver and the app go with
 * it), and prints what the driver said when a test failed. `stop()` is safe after a failed start.
 */
export function desktopSession({ application, args, port, env = process.env }) {
  let driver = null;
  let log = () => '';
  let browser = null;
  return {
    async start() {
      ({ child: driver, log } = startDriver(port, port + 1, env));
      await waitForStatus(port);
      browser = await remote({
        hostname: '127.0.0.1',
        port,
        logLevel: 'error',
        // tauri-driver 2.1 drops some requests: retry them.
        connectionRetryCount: 5,
        connectionRetryTimeout: 30_000,
        waitforTimeout: 20_000,
        capabilities: {
          // tauri-driver speaks classic WebDriver only (no BiDi).
          'wdio:enforceWebDriverClassic': true,
          'tauri:options': { application, args },
        },
      });
      return browser;
    },
    async stop() {
      if (browser) await browser.deleteSession().catch(() => {});
      await stopGroup(driver);
      if (process.exitCode && log()) console.error(`tauri-driver said:\n${log().slice(-4000)}`);
    },
  };
}
