// WebDriver end-to-end test of the real desktop binary: webdriverio → tauri-driver (port 4444) →
// WebKitWebDriver → shelfmark-desktop, opened on a temporary copy of sample-archive/.
// Run by run-desktop.sh under xvfb-run (it builds the binary and checks tauri-driver first).
//
//   SHELFMARK_DESKTOP_BIN   the app (default: target/debug/shelfmark-desktop)
//   TAURI_DRIVER            tauri-driver (default: on PATH, else ~/.cargo/bin/tauri-driver)

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { desktopSession } from './driver.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const ARTIFACTS = join(HERE, '..', 'artifacts');
const APP = resolve(process.env.SHELFMARK_DESKTOP_BIN ?? join(ROOT, 'target/debug/shelfmark-desktop'));
// tauri-driver's port; the native port (WebKitWebDriver) is the next one.
const DRIVER_PORT = 4444;

let archiveDir;
let archive;
let session;
let browser;

before(async () => {
  assert.ok(existsSync(APP), `${APP} is missing: build it with cargo build --bin shelfmark-desktop`);
  archiveDir = mkdtempSync(join(tmpdir(), 'shelfmark-desktop-e2e-'));
  archive = join(archiveDir, 'sample-archive');
  cpSync(join(ROOT, 'sample-archive'), archive, { recursive: true, filter: (p) => !p.includes('.shelfmark') });

  session = desktopSession({ application: APP, args: [archive], port: DRIVER_PORT });
  browser = await session.start();
});

after(async () => {
  await session?.stop();
  if (archiveDir) rmSync(archiveDir, { recursive: true, force: true });
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

test('Latin punctuation keeps Latin widths in the desktop webview (the CJK font does not win)', { timeout: 60_000 }, async () => {
  await browser.waitUntil(async () => (await rowTitles()).length > 0, { timeout: 60_000, timeoutMsg: 'no rows' });
  // The width of a curly and a straight apostrophe, in ems, in the app's font under each of its
  // languages: English takes Latin widths, Chinese keeps Chinese ones.
  const widths = await browser.execute(() => {
    const measure = (lang) => {
      const html = document.documentElement;
      const before = html.lang;
      html.lang = lang;
      const span = document.createElement('span');
      document.body.appendChild(span);
      const em = parseFloat(getComputedStyle(span).fontSize);
      span.textContent = '’';
      const curly = span.getBoundingClientRect().width / em;
      span.textContent = "'";
      const straight = span.getBoundingClientRect().width / em;
      span.remove();
      html.lang = before;
      return { curly, straight };
    };
    return { en: measure('en'), zh: measure('zh-CN') };
  });
  assert.ok(widths.en.curly < widths.en.straight + 0.25, `en: ${JSON.stringify(widths.en)}`);
  assert.ok(widths.zh.curly > 0.8, `zh-CN: ${JSON.stringify(widths.zh)}`);
});
