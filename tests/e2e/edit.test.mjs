// End-to-end: front matter editing in the web UI (`shelfmark serve` + Debian's chromium), on an
// archive this test writes itself: a CRLF post with comments and a flow tag list, a block-list
// post, and two more. Checks the bytes on disk: an edited title changes only its line; a bulk
// tag added to a multi-selection and undone from the UI leaves every file byte-identical.
//
// Run with tests/e2e/run.sh, or `node --test edit.test.mjs` with SHELFMARK_BIN set.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { BIN, e2eFixture, shot, writeArchive } from './lib.mjs';

// The editor asks before it drops unsaved changes: the tests say yes.
const e2e = e2eFixture({ acceptDialogs: true });

const POSTS = {
  '_posts/2021-03-04-crlf.md': [
    '---',
    'layout: post',
    '# where it came from',
    'title: "A CRLF post" # keep this comment',
    'date: 2021-03-04 10:00:00 +0800',
    'tags: [ alpha, beta ]',
    'from: https://example.com/crlf',
    '',
    'extra: 5 # a number',
    '---',
    'Body line one.',
    '',
    'Body line two with 中文.',
    '',
  ].join('\r\n'),
  '_posts/2021-03-05-block.md': [
    '---',
    "title: 'Block list post'",
    'author: 王小明',
    'tags:',
    '  - beta',
    '  # a comment inside the list',
    '  - gamma',
    'categories: news',
    '---',
    '',
    'Second body.',
    '',
  ].join('\n'),
  '_posts/2021-03-06-plain.md': ['---', 'title: Plain post', 'date: 2021-03-06', '---', 'Third body, no tags.', ''].join(
    '\n',
  ),
  '_posts/2021-03-07-quoted.md': [
    '\uFEFF---',
    'title: "Quoted \\"post\\""',
    'tags: [a, "b c"]',
    'layout: post',
    '---',
    'Fourth body.',
  ].join('\n'),
};

const read = (root, rel) => readFileSync(join(root, rel));
const snapshot = (root) => Object.fromEntries(Object.keys(POSTS).map((rel) => [rel, read(root, rel)]));

/** Lines with their line ends, as bytes (Buffer) */
function lines(buf) {
  const out = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      out.push(buf.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}

const row = (page, rel) => page.locator(`[data-testid=results] [role=option][data-path="${rel}"]`);

let archive;
let url;

before(async () => {
  ({ archive, url } = await e2e.serve(writeArchive(POSTS, 'edit-archive')));
});

describe('editing', () => {
  test('edit a title in the reader: only that line of the file changes', { timeout: 90_000 }, async () => {
    const rel = '_posts/2021-03-04-crlf.md';
    const before = read(archive.root, rel);
    const { context, page, errors } = await e2e.open(url);
    try {
      await row(page, rel).click();
      await page.getByTestId('reader-title').filter({ hasText: 'A CRLF post' }).waitFor();
      await page.getByTestId('edit-button').click();
      const editor = page.getByTestId('fm-editor');
      const title = editor.getByLabel('Title', { exact: true });
      assert.equal(await title.inputValue(), 'A CRLF post');
      // Typed fields and other keys are there, with accessible names.
      assert.equal(await editor.getByLabel('Date', { exact: true }).inputValue(), '2021-03-04 10:00:00 +0800');
      assert.equal(await editor.getByLabel('Source URL').inputValue(), 'https://example.com/crlf');
      assert.deepEqual(await editor.getByTestId('field-tags').locator('.chip .v').allTextContents(), ['alpha', 'beta']);
      assert.equal(await editor.getByRole('textbox', { name: 'extra', exact: true }).inputValue(), '5');

      // Tag autocomplete with the archive's counts (typed text is dropped again before saving).
      const tagBox = editor.getByRole('combobox', { name: 'Tags' });
      await tagBox.fill('ga');
      await editor.getByRole('option', { name: /gamma/ }).waitFor();
      await shot(page, 'edit-autocomplete');
      await tagBox.press('Escape');
      await tagBox.fill('');

      await title.fill('A renamed post');
      await editor.getByText('Unsaved changes').waitFor();
      await shot(page, 'edit-mode');

      await page.getByTestId('edit-save').click();
      await page.getByTestId('reader-title').filter({ hasText: 'A renamed post' }).waitFor();
      await editor.waitFor({ state: 'detached' });

      const after = read(archive.root, rel);
      const a = lines(before);
      const b = lines(after);
      assert.equal(b.length, a.length, 'same number of lines');
      const changed = [];
      for (let i = 0; i < a.length; i++) if (!a[i].equals(b[i])) changed.push(i);
      assert.deepEqual(changed, [3], 'only the title line changed');
      assert.equal(b[3].toString('utf8'), 'title: "A renamed post" # keep this comment\r\n');
      // The list shows the new title too.
      await row(page, rel).getByTestId('row-title').filter({ hasText: 'A renamed post' }).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('raw YAML is checked as you type; leaving with unsaved edits asks', { timeout: 90_000 }, async () => {
    const rel = '_posts/2021-03-05-block.md';
    const before = read(archive.root, rel);
    const { context, page, dialogs } = await e2e.open(url, { colorScheme: 'dark' });
    try {
      await row(page, rel).click();
      await page.getByTestId('reader-title').filter({ hasText: 'Block list post' }).waitFor();
      await page.getByTestId('edit-button').click();
      await page.getByTestId('raw-mode').click();
      const yaml = page.getByTestId('raw-yaml');
      await yaml.waitFor();
      // The text is the file's own front matter, comments and all.
      assert.equal(
        await yaml.inputValue(),
        "title: 'Block list post'\nauthor: 王小明\ntags:\n  - beta\n  # a comment inside the list\n  - gamma\ncategories: news\n",
      );
      await yaml.fill("title: 'Block list post'\ntags: [unclosed\n");
      await page.getByTestId('raw-status').filter({ hasText: 'not valid' }).waitFor();
      assert.ok(await page.getByTestId('edit-save').isDisabled());
      await shot(page, 'edit-raw-invalid-dark');

      // Another post: the unsaved edit is guarded (accepted: discarded).
      await row(page, '_posts/2021-03-06-plain.md').click();
      await page.getByTestId('reader-title').filter({ hasText: 'Plain post' }).waitFor();
      assert.equal(dialogs.length, 1, `one confirmation: ${dialogs}`);
      assert.match(dialogs[0], /not saved/);
      assert.ok(read(archive.root, rel).equals(before), 'nothing was written');
    } finally {
      await context.close();
    }
  });

  test('a file changed on disk while edited is a conflict; overwrite on purpose', { timeout: 90_000 }, async () => {
    const rel = '_posts/2021-03-06-plain.md';
    const { context, page } = await e2e.open(url, { colorScheme: 'dark' });
    try {
      await row(page, rel).click();
      await page.getByTestId('reader-title').filter({ hasText: 'Plain post' }).waitFor();
      await page.getByTestId('edit-button').click();
      const editor = page.getByTestId('fm-editor');
      await editor.getByLabel('Author', { exact: true }).fill('Someone');
      // Someone else edits the file meanwhile.
      const outside = POSTS[rel].replace('Third body', 'Third body, edited outside');
      writeFileSync(join(archive.root, rel), outside);
      await page.getByTestId('edit-save').click();
      await page.getByTestId('conflict').waitFor();
      assert.equal(read(archive.root, rel).toString('utf8'), outside, 'the outside edit was not overwritten');
      await shot(page, 'edit-conflict-dark');
      await page.getByTestId('conflict-overwrite').click();
      await editor.waitFor({ state: 'detached' });
      const now = read(archive.root, rel).toString('utf8');
      assert.ok(now.includes('author: Someone\n'), now);
      assert.ok(now.includes('Third body, edited outside'), 'the outside edit of the body stays');
    } finally {
      await context.close();
    }
  });

  test('bulk-add a tag to a multi-selection, then undo it from the history', { timeout: 120_000 }, async () => {
    const picked = ['_posts/2021-03-04-crlf.md', '_posts/2021-03-05-block.md', '_posts/2021-03-07-quoted.md'];
    const start = snapshot(archive.root);
    const { context, page, errors } = await e2e.open(url);
    try {
      await row(page, picked[0]).click();
      await row(page, picked[1]).click({ modifiers: ['Control'] });
      await row(page, picked[2]).click({ modifiers: ['Control'] });
      await page.getByTestId('result-count').filter({ hasText: '3 selected' }).waitFor();

      await page.getByTestId('bulk-menu').click();
      await page.getByRole('menuitem', { name: 'Add tags' }).click();
      const dialog = page.getByTestId('bulk-dialog');
      await dialog.waitFor();
      assert.ok(await dialog.getByTestId('scope-selection').isChecked(), 'the selection is the default scope');
      await dialog.getByLabel('Tags').fill('bulk-tag');
      await dialog.getByLabel('Tags').press('Enter');
      await dialog.getByTestId('bulk-preview').click();
      await dialog.getByTestId('preview-changes').filter({ hasText: '3' }).waitFor();
      assert.equal(await dialog.getByTestId('preview-unchanged').textContent(), '0');
      assert.equal(await dialog.getByTestId('preview-files').getByRole('button').count(), 3);
      await dialog.getByTestId('diff').waitFor();
      // Any file's diff: the block-list post gains an item in its own style.
      await dialog.getByTestId('preview-files').getByRole('button', { name: picked[1] }).click();
      await dialog.getByTestId('diff').filter({ hasText: '  - bulk-tag' }).waitFor();
      await shot(page, 'bulk-preview');
      // Nothing is written by a preview.
      for (const rel of picked) assert.ok(read(archive.root, rel).equals(start[rel]), rel);

      await dialog.getByTestId('apply-edit').click();
      await dialog.getByTestId('summary-written').filter({ hasText: '3' }).waitFor();
      await shot(page, 'bulk-summary');
      await dialog.getByTestId('close-summary').click();
      await dialog.waitFor({ state: 'detached' });
      for (const rel of picked) assert.ok(read(archive.root, rel).toString('utf8').includes('bulk-tag'), rel);
      assert.ok(read(archive.root, picked[0]).toString('utf8').includes('tags: [ alpha, beta, bulk-tag ]\r\n'));
      assert.ok(read(archive.root, '_posts/2021-03-06-plain.md').equals(start['_posts/2021-03-06-plain.md']));

      // History: the operation is listed; Undo restores every byte.
      await page.getByTestId('history-button').click();
      const history = page.getByTestId('history');
      await history.getByTestId('history-table').getByText('add tags bulk-tag').waitFor();
      await shot(page, 'history');
      await history.getByTestId('history-undo').click();
      await history.getByTestId('history-said').filter({ hasText: 'Undone' }).waitFor();
      await history.getByRole('cell', { name: 'undone' }).first().waitFor();
      await shot(page, 'history-undone');
      const now = snapshot(archive.root);
      for (const rel of Object.keys(POSTS)) assert.ok(now[rel].equals(start[rel]), `${rel} is byte-identical`);

      // Redo with the keyboard (focus outside text fields), then undo again.
      await page.keyboard.press('Escape');
      await history.waitFor({ state: 'detached' });
      await page.getByTestId('results').focus();
      await page.keyboard.press('Control+Shift+Z');
      await page.getByTestId('history-toast').filter({ hasText: 'Redone' }).waitFor();
      for (const rel of picked) assert.ok(read(archive.root, rel).toString('utf8').includes('bulk-tag'), rel);
      await page.keyboard.press('Control+Z');
      await page.getByTestId('history-toast').filter({ hasText: 'Undone' }).waitFor();
      const last = snapshot(archive.root);
      for (const rel of Object.keys(POSTS)) assert.ok(last[rel].equals(start[rel]), `${rel} is byte-identical again`);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('tag management: rename a tag from the sidebar', { timeout: 90_000 }, async () => {
    const { context, page } = await e2e.open(url);
    try {
      const item = page.locator('[data-facet=tags] li').filter({ hasText: 'gamma' });
      await item.hover();
      await item.getByTestId('tag-actions').click();
      await page.getByRole('menuitem', { name: 'Rename…' }).click();
      const dialog = page.getByTestId('tag-dialog');
      await dialog.getByTestId('rename-to').fill('delta "δ"');
      await dialog.getByTestId('tag-preview').click();
      await dialog.getByTestId('preview-changes').filter({ hasText: '1' }).waitFor();
      await shot(page, 'tag-rename-preview');
      await dialog.getByTestId('apply-edit').click();
      await dialog.getByTestId('summary-written').filter({ hasText: '1' }).waitFor();
      await dialog.getByTestId('close-summary').click();
      const text = read(archive.root, '_posts/2021-03-05-block.md').toString('utf8');
      // The new name goes in the list's own style (plain where YAML reads it back as text).
      assert.ok(text.includes('  - delta "δ"\n'), text);
      await page.locator('[data-facet=tags] li').filter({ hasText: 'delta "δ"' }).waitFor();
    } finally {
      await context.close();
    }
  });

  test('an edit killed half-way is offered for roll-back at start', { timeout: 90_000 }, async () => {
    const start = snapshot(archive.root);
    // The CLI pauses after its batch (a hook for crash tests); kill it there, journal pending.
    const cli = spawn(BIN, ['-C', archive.root, 'tag', 'add', 'crashed', '--query', ''], {
      env: { ...process.env, SHELFMARK_EDIT_BATCH_PAUSE_MS: '30000' },
      stdio: 'ignore',
    });
    try {
      const deadline = Date.now() + 20_000;
      while (!Object.keys(POSTS).every((rel) => read(archive.root, rel).includes('crashed'))) {
        assert.ok(Date.now() < deadline, 'the CLI wrote its batch');
        await sleep(50);
      }
    } finally {
      cli.kill('SIGKILL');
    }
    const { context, page } = await e2e.open(url);
    try {
      const banner = page.getByTestId('interrupted');
      await banner.filter({ hasText: 'tag add crashed' }).waitFor();
      await shot(page, 'interrupted');
      await banner.getByTestId('recover-rollback').click();
      await page.getByTestId('recovered').filter({ hasText: 'Rolled back' }).waitFor();
      const now = snapshot(archive.root);
      for (const rel of Object.keys(POSTS)) assert.ok(now[rel].equals(start[rel]), `${rel} is byte-identical`);
    } finally {
      await context.close();
    }
  });
});

describe('a long bulk edit', () => {
  let big;
  let bigUrl;
  const N = 700;

  before(async () => {
    const posts = {};
    for (let i = 0; i < N; i++) {
      const day = String((i % 28) + 1).padStart(2, '0');
      posts[`_posts/2020-01-${day}-post-${i}.md`] = `---\ntitle: Post ${i}\ntags: [bulk]\n---\nText ${i}.\n`;
    }
    // Slow the writes down (a pause after each batch of 512 files) so progress and Stop show.
    const env = { SHELFMARK_EDIT_BATCH_PAUSE_MS: '2500' };
    ({ archive: big, url: bigUrl } = await e2e.serve(writeArchive(posts, 'big-archive'), { env }));
  });

  test('apply shows progress and stops between batches; what was written is undoable', { timeout: 120_000 }, async () => {
    const { context, page, errors } = await e2e.open(bigUrl, { colorScheme: 'dark' });
    try {
      await page.getByTestId('bulk-menu').click();
      await page.getByRole('menuitem', { name: 'Add tags' }).click();
      const dialog = page.getByTestId('bulk-dialog');
      assert.ok(await dialog.getByTestId('scope-query').isChecked(), 'nothing selected: the whole search');
      await dialog.getByLabel('Tags').fill('later');
      await dialog.getByLabel('Tags').press('Enter');
      await dialog.getByTestId('bulk-preview').click();
      await dialog.getByTestId('preview-changes').filter({ hasText: String(N) }).waitFor();
      await dialog.getByTestId('apply-edit').click();
      // The first batch is written, then the core pauses: progress shows it.
      await dialog.getByText(`512 of ${N} files`).waitFor();
      await shot(page, 'bulk-progress-dark');
      await dialog.getByTestId('cancel-edit').click();
      await dialog.getByTestId('summary-written').filter({ hasText: '512' }).waitFor();
      await dialog.getByText('Stopped before the end').waitFor();
      await shot(page, 'bulk-stopped-dark');
      const tagged = () =>
        Array.from({ length: N }, (_, i) => i).filter((i) => {
          const day = String((i % 28) + 1).padStart(2, '0');
          return readFileSync(join(big.root, '_posts', `2020-01-${day}-post-${i}.md`), 'utf8').includes('later');
        }).length;
      assert.equal(tagged(), 512);
      await dialog.getByTestId('undo-this').click();
      await dialog.getByText('Undone: 512 files').waitFor();
      assert.equal(tagged(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
