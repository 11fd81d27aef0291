// Shared by the desktop WebDriver tests: find and start tauri-driver, wait for it, stop it.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

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

/** Starts tauri-driver in its own process group (WebKitWebDriver and the app go with it). */
export function startDriver(port, nativePort) {
  const child = spawn(findDriver(), ['--port', String(port), '--native-port', String(nativePort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
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
