// End-to-end: the export dialog's preview and summary in the web UI (`shelfmark serve` + Debian's
// chromium), in English and 简体中文. The keep-paths preview names each path once (the source only
// where the export changes it); the summary counts posts a layout renames as renamed, apart from
// those renamed for portability; the HTML edition's index.html is titled with the collection's
// name and listed in the summary; the export's path can be copied (the desktop opens its folder
// instead: a desktop-only command). Screenshots: export-*.png in artifacts/.
//
// Run with tests/e2e/run.sh, or `node --test export.test.mjs` with SHELFMARK_BIN set.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { e2eFixture, shot, writeArchive } from './lib.mjs';

const e2e = e2eFixture();

const POSTS = {
  '_posts/2021-03-04-hello.md': '---\ntitle: Hello world\ndate: 2021-03-04\n---\nFirst body.\n',
  '_posts/2021-03-05-second.md': '---\ntitle: The second\ndate: 2021-03-05\n---\nSecond body.\n',
  'notes/CON.md': '---\ntitle: A reserved name\ndate: 2021-04-01\n---\nWindows reserves CON.\n',
};
const NAME = 'Best <of> 2021';
const ZH_MENU = `合集 ${NAME} 的操作`;

let archive;
let url;
let origin;
let token;

before(async () => {
  const written = writeArchive(POSTS, 'export-archive');
  ({ archive, url, origin, token } = await e2e.serve({ ...written, out: join(written.dir, 'out') }));
  const r = await fetch(`${origin}/api/collection_create`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: NAME, posts: { kind: 'paths', paths: Object.keys(POSTS) } }),
  });
  assert.ok(r.ok, await r.text());
});

/** The collection's Export… dialog, through its actions menu (`menu`, `item`: their names). */
async function openExport(page, menu, item) {
  const coll = page.getByTestId('collections').getByTestId('collection').filter({ hasText: NAME });
  await coll.hover();
  await page.getByRole('button', { name: menu }).click();
  await page.getByRole('menuitem', { name: item }).click();
  const exp = page.getByTestId('export-dialog');
  await exp.waitFor();
  return exp;
}

const settled = (page) =>
  page.waitForFunction(() => document.querySelector('[data-testid=export-preview]')?.getAttribute('aria-busy') === 'false');

describe('export dialog', () => {
  test('keep-paths preview, renamed counts, the HTML index, copying the path', { timeout: 120_000 }, async () => {
    const { context, page, errors, dialogs } = await e2e.open(url);
    try {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      const exp = await openExport(page, `Actions for the collection ${NAME}`, 'Export…');
      const to = join(archive.out, 'html');
      await exp.getByTestId('export-to-input').fill(to);

      // Keep: each path once; only the file renamed to be portable names its source.
      await exp.getByTestId('export-preview-row').filter({ hasText: 'notes/_CON.md' }).waitFor();
      await settled(page);
      const rows = exp.getByTestId('export-preview-row');
      const texts = await rows.allTextContents();
      assert.equal(texts.length, 3);
      for (const p of ['_posts/2021-03-04-hello.md', '_posts/2021-03-05-second.md']) {
        const text = texts.find((t) => t.includes(p)) ?? '';
        assert.equal(text.split(p).length - 1, 1, `${p} is shown once: ${JSON.stringify(texts)}`);
      }
      const sources = await exp.locator('[data-testid=export-preview-row] .source').allTextContents();
      assert.deepEqual(
        sources.map((t) => t.replace(/^From/, '')),
        ['← notes/CON.md'],
      );
      await shot(page, 'export-preview-keep');

      // Jekyll renames every post: each row names its source.
      await exp.getByTestId('export-layout').selectOption('jekyll');
      await exp.getByTestId('export-preview-row').filter({ hasText: '_posts/2021-04-01-a-reserved-name.md' }).waitFor();
      await settled(page);
      assert.equal(await exp.locator('[data-testid=export-preview-row] .source').count(), 3);

      // The HTML edition of the collection.
      await exp.getByTestId('export-format-html').check();
      await exp.getByTestId('export-preview-row').filter({ hasText: '.html' }).first().waitFor();
      await settled(page);
      await exp.getByTestId('export-start').click();
      const summary = exp.getByTestId('export-summary');
      await summary.waitFor({ timeout: 30_000 });
      const value = async (k) => Number((await summary.getByTestId(`export-${k}`).locator('dd').textContent()).replace(/,/g, ''));
      assert.equal(await value('posts'), 3);
      assert.equal(await value('written'), 3);
      assert.equal(await value('renamed'), 3, 'the layout renamed every post');
      assert.equal(await value('portable'), 0);
      assert.equal(await summary.getByTestId('export-renamed').locator('dt').textContent(), 'Renamed or moved');
      const extras = await summary.getByTestId('export-extras').locator('code').allTextContents();
      assert.deepEqual(extras, ['index.html', 'manifest.csv', 'manifest.jsonl']);
      const index = readFileSync(join(to, 'index.html'), 'utf8');
      assert.match(index, /<title>Best &lt;of&gt; 2021<\/title>/);
      assert.match(index, /<h1>Best &lt;of&gt; 2021 \(3\)<\/h1>/);

      // In a browser: the path, and a button that copies it (no folder to open from here).
      assert.equal(await summary.getByTestId('export-to').textContent(), to);
      assert.equal(await summary.getByTestId('export-open-folder').count(), 0);
      await summary.getByTestId('export-copy-path').click();
      await summary.getByTestId('export-copy-path').filter({ hasText: 'Copied' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), to);
      await shot(page, 'export-summary-html');

      // Keep with copies: the file Windows would refuse is renamed for portability, and counted
      // both as renamed and as renamed for portability.
      await summary.getByRole('button', { name: 'Change and export again' }).click();
      await exp.getByTestId('export-to-input').fill(join(archive.out, 'keep'));
      await exp.getByTestId('export-layout').selectOption('keep');
      await exp.getByTestId('export-format-copy').check();
      await exp.getByTestId('export-preview-row').filter({ hasText: 'notes/_CON.md' }).waitFor();
      await settled(page);
      await exp.getByTestId('export-start').click();
      await summary.waitFor({ timeout: 30_000 });
      assert.equal(await value('renamed'), 1);
      assert.equal(await value('portable'), 1);
      assert.equal((await summary.getByTestId('export-copy-path').textContent()).trim(), 'Copy path');
      await summary.getByText('1 name was changed so it works on every system', { exact: false }).waitFor();
      assert.deepEqual(await summary.getByTestId('export-extras').locator('code').allTextContents(), ['manifest.csv', 'manifest.jsonl']);
      assert.ok(existsSync(join(archive.out, 'keep', 'notes', '_CON.md')));
      await shot(page, 'export-summary-keep');

      assert.deepEqual(errors, []);
      assert.deepEqual(dialogs, []);
    } finally {
      await context.close();
    }
  });

  test('简体中文: the preview and the summary', { timeout: 90_000 }, async () => {
    const { context, page, errors } = await e2e.open(url, { locale: 'zh-CN' });
    try {
      const exp = await openExport(page, ZH_MENU, '导出…');
      await exp.getByTestId('export-to-input').fill(join(archive.out, 'zh'));
      await exp.getByTestId('export-preview-row').filter({ hasText: 'notes/_CON.md' }).waitFor();
      await settled(page);
      await exp.getByText('3 篇文章；1 篇为兼容各系统而改名。').waitFor();
      await shot(page, 'export-preview-keep-zh');
      await exp.getByTestId('export-format-html').check();
      await exp.getByTestId('export-preview-row').filter({ hasText: '.html' }).first().waitFor();
      await settled(page);
      await exp.getByTestId('export-start').click();
      const summary = exp.getByTestId('export-summary');
      await summary.waitFor({ timeout: 30_000 });
      assert.equal(await summary.getByTestId('export-renamed').locator('dt').textContent(), '改名或移动');
      assert.equal(await summary.getByTestId('export-portable').locator('dt').textContent(), '为兼容而改名');
      await summary.getByTestId('export-copy-path').filter({ hasText: '复制路径' }).waitFor();
      await summary.getByTestId('export-extras').filter({ hasText: '文章之外还有：' }).waitFor();
      await shot(page, 'export-summary-html-zh');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
