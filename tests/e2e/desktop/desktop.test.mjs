// WebDriver end-to-end test of the real desktop binary: webdriverio → tauri-driver (port 4444) →
// WebKitWebDriver → shelfmark-desktop, opened on a temporary copy of sample-archive/.
// Run by run-desktop.sh under xvfb-run (it builds the binary and checks tauri-driver first).
//
//   SHELFMARK_DESKTOP_BIN   the app (default: target/debug/shelfmark-desktop)
//   TAURI_DRIVER            tauri-driver (default: on PATH, else ~/.cargo/bin/tauri-driver)

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const ARTIFACTS = join(HERE, '..', 'artifacts');
const APP = resolve(process.env.SHELFMARK_DESKTOP_BIN ?? join(ROOT, 'target/debug/shelfmark-desktop'));
const DRIVER_PORT = 4444;
const NATIVE_PORT = 4445;

function findDriver() {
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
async function waitForStatus(timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${DRIVER_PORT}/status`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = new Error(`status ${res.status}`);
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`tauri-driver did not answer /status in ${timeoutMs} ms: ${last}`);
}

/** SIGTERM, then SIGKILL after 3 s, of a child started in its own process group. */
function stopGroup(child) {
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

let archiveDir;
let archive;
let driver;
let driverLog = '';
let browser;

before(async () => {
  assert.ok(existsSync(APP), `${APP} is missing: build it with cargo build --bin shelfmark-desktop`);
  archiveDir = mkdtempSync(join(tmpdir(), 'shelfmark-desktop-e2e-'));
  archive = join(archiveDir, 'sample-archive');
  cpSync(join(ROOT, 'sample-archive'), archive, { recursive: true, filter: (p) => !p.includes('.shelfmark') });

  driver = spawn(findDriver(), ['--port', String(DRIVER_PORT), '--native-port', String(NATIVE_PORT)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: WebKitWebDriver and the app go with it
  });
  driver.stdout.on('data', (d) => (driverLog += d));
  driver.stderr.on('data', (d) => (driverLog += d));
  await waitForStatus();

  browser = await remote({
    hostname: '127.0.0.1',
    port: DRIVER_PORT,
    logLevel: 'error',
    // tauri-driver 2.1 drops some requests: retry them.
    connectionRetryCount: 5,
    connectionRetryTimeout: 30_000,
    waitforTimeout: 20_000,
    capabilities: {
      // tauri-driver speaks classic WebDriver only (no BiDi).
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': { application: APP, args: [archive] },
    },
  });
});

after(async () => {
  if (browser) await browser.deleteSession().catch(() => {});
  await stopGroup(driver);
  if (archiveDir) rmSync(archiveDir, { recursive: true, force: true });
  if (process.exitCode && driverLog) console.error(`tauri-driver said:\n${driverLog.slice(-4000)}`);
});

/** The row titles shown in the result list. */
async function rowTitles() {
  return browser.execute(() =>
    [...document.querySelectorAll('[data-testid=results] [data-testid=row-title]')].map((e) => e.textContent.trim()),
  );
}

/** The result count ("5 posts"), as text. */
async function countText() {
  return browser.execute(() => (document.querySelector('[data-testid=result-count]')?.textContent ?? '').trim());
}

test('the desktop app lists the sample archive, searches and opens a post', { timeout: 120_000 }, async () => {
  // Starts on the archive named on the command line: indexes it, then lists it.
  await browser.waitUntil(async () => (await rowTitles()).length > 0, {
    timeout: 60_000,
    timeoutMsg: 'no rows appeared',
  });
  const all = await countText();
  assert.match(all, /\d/, `count: ${all}`);

  const box = await browser.$('input[type=search]');
  await box.waitForExist();
  await box.setValue('两岸');
  await browser.waitUntil(async () => /^5\b/.test(await countText()), {
    timeout: 20_000,
    timeoutMsg: 'the search for 两岸 did not show 5 results',
  });
  await browser.waitUntil(async () => (await rowTitles()).length === 5, { timeout: 10_000 });
  const titles = await rowTitles();
  assert.equal(titles.length, 5);

  const row = await browser.$('[data-testid=results] [role=option]');
  await row.click();
  const title = await browser.$('[data-testid=reader-title]');
  await title.waitForExist({ timeout: 20_000 });
  await browser.waitUntil(async () => (await title.getText()).trim() === titles[0], {
    timeout: 10_000,
    timeoutMsg: `the reader did not show ${titles[0]}`,
  });

  mkdirSync(ARTIFACTS, { recursive: true });
  // WebKitGTK under Xvfb can hand out a frame painted seconds earlier: let it paint first.
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
  await browser.pause(1000);
  await browser.saveScreenshot(join(ARTIFACTS, 'desktop.png'));
});

test('live updates: a post written on disk shows up in the current query', { timeout: 60_000 }, async () => {
  // The query is still 两岸 (5 results); the watcher rescans and the app refreshes the list.
  assert.match(await countText(), /^5\b/);
  writeFileSync(
    join(archive, '_posts', '2024-05-01-两岸-live-update.md'),
    '---\ntitle: "两岸 live update"\ndate: 2024-05-01\nauthor: e2e\n---\n两岸 watcher test\n',
  );
  await browser.waitUntil(async () => /^6\b/.test(await countText()), {
    timeout: 15_000,
    timeoutMsg: 'the new post did not show up within 15 s',
  });
  assert.ok((await rowTitles()).some((t) => t.includes('live update')));
});
