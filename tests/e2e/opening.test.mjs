// End-to-end: while the archive opens, the app says what it is doing: a moving bar, and the
// seconds it has taken so far (issue 13: "Opening the archive…" stood still for seconds). The
// answer to `archive_info` is held back until the screen has been checked, in English and
// 简体中文. Screenshots: opening-*.png in artifacts/.
//
// Run with tests/e2e/run.sh, or `node --test opening.test.mjs` with SHELFMARK_BIN set.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { e2eFixture, shot, writeArchive } from './lib.mjs';

const e2e = e2eFixture();
let url;

before(async () => {
  const written = writeArchive({ 'a.md': '---\ntitle: A post\ndate: 2021-03-04\n---\nBody.\n' }, 'opening-archive');
  ({ url } = await e2e.serve(written));
});

describe('opening an archive', () => {
  for (const [locale, label, seconds] of [
    ['en-US', 'Opening the archive…', /^\d+ s$/],
    ['zh-CN', '正在打开存档…', /^\d+ 秒$/],
  ]) {
    test(`a slow start shows a moving bar and the seconds so far (${locale})`, { timeout: 60_000 }, async () => {
      const context = await e2e.browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
      try {
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        let release;
        const held = new Promise((r) => (release = r));
        await page.route('**/api/archive_info', async (route) => {
          await held;
          await route.continue();
        });
        await page.goto(url);
        const opening = page.getByTestId('opening');
        await opening.waitFor();
        assert.equal(await opening.getByTestId('opening-label').textContent(), label);
        await opening.getByRole('progressbar', { name: label }).waitFor();
        // The seconds appear once a second has passed, and count on.
        await opening.getByTestId('opening-seconds').waitFor();
        assert.match(await opening.getByTestId('opening-seconds').textContent(), seconds);
        await shot(page, `opening-${locale}`);
        release();
        await page.getByTestId('results').getByRole('option').first().waitFor();
        assert.equal(await opening.count(), 0);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  }
});
