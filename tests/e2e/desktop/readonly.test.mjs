// WebDriver test of the desktop app on a read-only archive, run by an unprivileged user: started
// by tests/readonly/run.sh (as that user, under xvfb-run), never on its own. The archive is
// root-owned (folders 0555, files 0444) and has no index: the app must index it elsewhere, show
// its posts, and refuse an edit with a visible message that says the archive is read-only.
// run.sh hashes the archive before and after: nothing in it may change.
//
//   SHELFMARK_DESKTOP_BIN   the app
//   TAURI_DRIVER            tauri-driver
//   READONLY_ARCHIVE        the read-only archive
//   READONLY_TOTAL          how many posts root's `shelfmark search ''` finds in it
//   READONLY_QUERY, READONLY_QUERY_TOTAL   a query and how many posts root's search finds for it
//   READONLY_PORT           tauri-driver's port (default 4544; the native port is the next one)

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { desktopSession } from './driver.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = process.env.READONLY_ARTIFACTS ?? join(HERE, '..', 'artifacts');
const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run tests/readonly/run.sh`);
  return v;
};
const APP = need('SHELFMARK_DESKTOP_BIN');
const ARCHIVE = need('READONLY_ARCHIVE');
const TOTAL = Number(need('READONLY_TOTAL'));
const QUERY = need('READONLY_QUERY');
const QUERY_TOTAL = Number(need('READONLY_QUERY_TOTAL'));
const PORT = Number(process.env.READONLY_PORT ?? 4544);

const session = desktopSession({ application: APP, args: [ARCHIVE], port: PORT });
let browser;

before(async () => {
  browser = await session.start();
});

after(() => session.stop());

const countText = () =>
  browser.execute(() => (document.querySelector('[data-testid=result-count]')?.textContent ?? '').trim());
const postsIn = (text) => Number((text.match(/([\d,]+) posts?/)?.[1] ?? 'NaN').replace(/,/g, ''));
/** Every alert on screen (banner, save problem), as text. */
const alerts = () =>
  browser.execute(() =>
    [...document.querySelectorAll('[role=alert]')].map((e) => e.textContent.replace(/\s+/g, ' ').trim()).filter(Boolean),
  );

async function shot(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
  await browser.saveScreenshot(join(ARTIFACTS, `${name}.png`));
}

test('a read-only archive: the desktop app lists and searches it, and refuses an edit visibly', { timeout: 150_000 }, async () => {
  // Indexed (the index cannot go into the archive), then listed.
  try {
    await browser.waitUntil(async () => postsIn(await countText()) === TOTAL, { timeout: 90_000 });
  } catch {
    await shot('readonly-desktop-list');
    const shown = await browser.execute(() => document.body.innerText.slice(0, 400));
    assert.fail(`the app did not list the ${TOTAL} posts; alerts: ${JSON.stringify(await alerts())}; on screen: ${shown}`);
  }

  const box = await browser.$('input[type=search]');
  await box.setValue(QUERY);
  await browser.waitUntil(async () => postsIn(await countText()) === QUERY_TOTAL, {
    timeout: 20_000,
    timeoutMsg: `the search for ${QUERY} did not show ${QUERY_TOTAL} results`,
  });

  // Open the first post and try to change its title.
  await (await browser.$('[data-testid=results] [role=option]')).click();
  await (await browser.$('[data-testid=reader-title]')).waitForExist({ timeout: 20_000 });
  const edit = await browser.$('[data-testid=edit-button]');
  await edit.waitForClickable();
  await edit.click();
  const title = await browser.$('[data-testid=fm-editor] [data-testid=field-title]');
  await title.waitForExist();
  await title.setValue('changed on a read-only archive');
  await (await browser.$('[data-testid=edit-save]')).click();

  // The refusal is on screen, in words that say why.
  await browser.waitUntil(async () => (await alerts()).length > 0, {
    timeout: 30_000,
    timeoutMsg: 'no message appeared after saving into a read-only archive',
  });
  const said = (await alerts()).join(' | ');
  await shot('readonly-desktop-edit');
  assert.match(said, /read-only/i, `the message does not say the archive is read-only: ${said}`);
  assert.ok(said.includes(ARCHIVE), `the message does not name the archive: ${said}`);
});
