// End-to-end: the data-quality workbench of the Problems view (`shelfmark serve` + Debian's
// chromium), on an archive this test writes: a post whose author field holds an HTML entity
// (`A &#38; B`). The finding shows with its count and post; its fix previews (the diff),
// applies (the file reads `A & B`) and is undone from the summary (the file byte-identical).
//
// Run with tests/e2e/run.sh, or `node --test workbench.test.mjs` with SHELFMARK_BIN set.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { e2eFixture, shot, writeArchive } from './lib.mjs';

const e2e = e2eFixture();

const ENTITY = '_posts/2024-03-01-entity.md';
const POSTS = {
  [ENTITY]: [
    '---',
    'title: Trade talks',
    'date: 2024-03-01',
    'author: A &#38; B',
    '---',
    '',
    'Talks resumed.',
    '',
  ].join('\n'),
  '_posts/2024-03-02-clean.md': [
    '---',
    'title: Clean post',
    'date: 2024-03-02',
    'author: C',
    '---',
    '',
    'Fine.',
    '',
  ].join('\n'),
};

const read = (root, rel) => readFileSync(join(root, rel));

let archive;
let url;

before(async () => {
  ({ archive, url } = await e2e.serve(writeArchive(POSTS, 'lint-archive')));
});

describe('workbench', () => {
  test('a finding, its fix previewed, applied and undone', { timeout: 90_000 }, async () => {
    const before = read(archive.root, ENTITY);
    const { context, page, errors } = await e2e.open(url);
    try {
      await page.getByTestId('problems-button').click();
      const kind = page.locator('[data-testid=lint-kind][data-kind=entities]');
      await kind.waitFor();
      assert.match(await kind.getByTestId('lint-count').textContent(), /Findings: 1 \(posts: 1\)/);
      await kind.getByRole('button', { name: /HTML entities/ }).click();
      const finding = kind.getByTestId('lint-finding');
      await finding.waitFor();
      assert.match(await finding.textContent(), /2024-03-01-entity\.md/);
      assert.match(await finding.textContent(), /A & B/);
      await shot(page, 'workbench');

      await kind.getByTestId('lint-fix').first().click();
      const dialog = page.getByTestId('lint-fix-dialog');
      await dialog.getByTestId('apply-edit').waitFor();
      assert.equal(await dialog.getByTestId('preview-changes').textContent(), '1');
      const diff = await dialog.getByTestId('diff').textContent();
      assert.match(diff, /A &#38; B/);
      assert.match(diff, /A & B/);
      await shot(page, 'workbench-preview');
      await dialog.getByTestId('apply-edit').click();
      await dialog.getByTestId('summary-written').waitFor();
      assert.equal(await dialog.getByTestId('summary-written').textContent(), '1');
      const after = read(archive.root, ENTITY).toString();
      assert.match(after, /author: .*A & B/);
      assert.doesNotMatch(after, /&#38;/);
      // The counts follow the write: no entity finding left.
      await kind.waitFor({ state: 'detached' });

      await dialog.getByTestId('undo-this').click();
      await dialog.getByTestId('undo-this').waitFor({ state: 'detached' });
      assert.ok(read(archive.root, ENTITY).equals(before));
      await kind.waitFor();
      await dialog.getByTestId('close-summary').click();

      // The problems table below still answers (this archive has none).
      await page.getByTestId('problems').getByText('Shelfmark could read every file').waitFor();
      // A finding's post opens in the reader.
      await kind.getByRole('button', { name: /HTML entities/ }).click();
      await kind.getByTestId('lint-finding').getByRole('button').click();
      await page.getByTestId('reader-title').filter({ hasText: 'Trade talks' }).waitFor();
      // Duplicates are a finding with their own view: the workbench leads there.
      await page.getByTestId('problems-button').click();
      const dupes = page.getByTestId('lint-duplicates');
      await dupes.getByText('not looked for yet').waitFor();
      await dupes.getByRole('button').click();
      await page.getByTestId('duplicates').waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the workbench in the dark theme and in Chinese', { timeout: 60_000 }, async () => {
    const { context, page, errors } = await e2e.open(url, { colorScheme: 'dark', locale: 'zh-CN' });
    try {
      await page.getByTestId('problems-button').click();
      await page.locator('[data-testid=lint-kind][data-kind=entities]').waitFor();
      await page.getByText('文本字段含 HTML 实体').click();
      await page.getByTestId('lint-finding').waitFor();
      await shot(page, 'workbench-dark-zh');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
