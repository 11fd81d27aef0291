// End-to-end: collections and export in the web UI (`shelfmark serve` + Debian's chromium), on an
// archive this test writes itself, with hostile titles (`a/../b:c?`, `CON`, trailing dots). A
// collection made from a multi-selection is exported with a path template: the live preview
// shows the planned paths, the summary what was written; on disk every file is where the
// preview said, inside the target, with a portable name, and listed in both manifests with its
// checksum. Screenshots: collections-*.png in artifacts/.
//
// Run with tests/e2e/run.sh, or `node --test collections.test.mjs` with SHELFMARK_BIN set.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { before, describe, test } from 'node:test';
import { e2eFixture, shot, writeArchive } from './lib.mjs';

const e2e = e2eFixture();

const HOSTILE = '_posts/2021-03-05-hostile.md';
const POSTS = {
  '_posts/2021-03-04-hello.md': '---\ntitle: Hello world\ndate: 2021-03-04\ntags: [news]\n---\nFirst body.\n',
  [HOSTILE]: '---\ntitle: "a/../b:c?"\ndate: 2021-03-05\ntags: [news]\n---\nA hostile title.\n',
  '_posts/2021-04-01-con.md': '---\ntitle: CON\ndate: 2021-04-01\ncategories: [misc]\n---\nA reserved name.\n',
  '_posts/2020-12-31-zh.md': '---\ntitle: 两岸 关系\ndate: 2020-12-31\ntags: [中文]\n---\n中文正文。\n',
  'archived/2021-05-06/page.md': '---\ntitle: "Trailing dots. . ."\ndate: 2021-05-06\n---\nMore text.\n',
};
const PICKED = [HOSTILE, '_posts/2021-03-04-hello.md', '_posts/2021-04-01-con.md'];
const NAME = 'Picks "2021"';

/** Every file under `dir`, relative, with `/`. */
function walk(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, base));
    else out.push(relative(base, p).split(sep).join('/'));
  }
  return out.sort();
}

/** Windows' rules for one name (and the ones the export promises besides). */
function portable(component) {
  if (!component || component === '.' || component === '..') return false;
  if (/[<>:"/\\|?*\u0000-\u001f]/.test(component)) return false;
  if (/[. ]$/.test(component) || /^\s/.test(component)) return false;
  if (/^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i.test(component)) return false;
  if (Buffer.byteLength(component) > 255) return false;
  return component === component.normalize('NFC');
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

const row = (page, rel) => page.locator(`[data-testid=results] [role=option][data-path="${rel}"]`);
const collections = (page) => page.getByTestId('collections');
const collection = (page, name) => collections(page).getByTestId('collection').filter({ hasText: name });
const searchBox = (page) => page.getByRole('searchbox', { name: 'Search' });

async function waitForRows(page, n) {
  await page.waitForFunction(
    (want) => document.querySelectorAll('[data-testid=results] [role=option]').length === want,
    n,
    { timeout: 15_000 },
  );
}

let archive;
let url;
let origin;
let token;

before(async () => {
  // The archive, and next to it the folder the export writes (`out`).
  const written = writeArchive(POSTS, 'coll-archive');
  ({ archive, url, origin, token } = await e2e.serve({ ...written, out: join(written.dir, 'out', 'picks') }));
});

const apiCall = async (command, body = {}) => {
  const r = await fetch(`${origin}/api/${command}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  assert.ok(r.ok, `${command}: ${JSON.stringify(json)}`);
  return json;
};

describe('collections and export', () => {
  test('a collection from a multi-selection, exported with a template: preview, summary, files on disk', { timeout: 150_000 }, async () => {
    const { context, page, errors, dialogs } = await e2e.open(url);
    try {
      // No collections yet.
      await collections(page).getByText('None yet').waitFor();

      // Three rows selected (click, then ctrl-click), added to a new collection.
      await row(page, PICKED[0]).click();
      await row(page, PICKED[1]).click({ modifiers: ['Control'] });
      await row(page, PICKED[2]).click({ modifiers: ['Control'] });
      await page.getByTestId('collect-menu').click();
      await page.getByRole('menuitem', { name: 'Add 3 selected to collection…' }).click();
      const add = page.getByTestId('add-dialog');
      await add.waitFor();
      await add.getByTestId('add-new').check();
      await add.getByTestId('add-new-name').fill(NAME);
      await add.getByTestId('add-confirm').click();
      await add.waitFor({ state: 'detached' });
      await page.getByTestId('collect-status').filter({ hasText: `Added to ${NAME}: 3 selected; it holds 3 now.` }).waitFor();
      await collection(page, NAME).waitFor();
      assert.match(await collection(page, NAME).textContent(), /3\s*$/);
      assert.equal(await collection(page, NAME).getAttribute('aria-label'), `Show the collection ${NAME}, 3 posts`);

      // A saved search beside it: the current query saved from the sidebar.
      await searchBox(page).fill('tag:news');
      await waitForRows(page, 2);
      await collections(page).getByTestId('collection-save-search').click();
      const dlg = page.getByTestId('collection-dialog');
      assert.equal(await dlg.getByTestId('collection-name').inputValue(), 'tag:news');
      await dlg.getByTestId('collection-name').fill('News tag');
      await dlg.getByTestId('collection-save').click();
      await dlg.waitFor({ state: 'detached' });
      await collection(page, 'News tag').waitFor();

      // Reorder by keyboard: the saved search moves above the manual collection.
      await collection(page, 'News tag').focus();
      await page.keyboard.press('Alt+ArrowUp');
      await page.waitForFunction(
        () => document.querySelector('[data-testid=collections] [data-testid=collection] .name')?.textContent === 'News tag',
      );
      assert.deepEqual(
        (await apiCall('collections')).map((c) => c.name),
        ['News tag', NAME],
      );

      // Clicking the collection lists its posts through the query language.
      await collection(page, NAME).click();
      await waitForRows(page, 3);
      assert.equal(await searchBox(page).inputValue(), 'collection:"Picks \\"2021\\""');
      assert.equal(await collection(page, NAME).getAttribute('aria-pressed'), 'true');
      // The reader shows which collections hold a post.
      await row(page, HOSTILE).click();
      await page.getByTestId('reader-title').filter({ hasText: 'a/../b:c?' }).waitFor();
      const held = page.getByTestId('reader-collections');
      await held.getByRole('button', { name: `Show the collection ${NAME}` }).waitFor();
      assert.deepEqual(await held.getByRole('button').allTextContents(), ['News tag', NAME]);
      await shot(page, 'collections-sidebar');

      // Export the collection: template layout, rewritten copies with the collection's name.
      await collection(page, NAME).hover();
      await page.getByRole('button', { name: `Actions for the collection ${NAME}` }).click();
      await page.getByRole('menuitem', { name: 'Export…' }).click();
      const exp = page.getByTestId('export-dialog');
      await exp.waitFor();
      assert.match(await exp.getByTestId('export-to-input').inputValue(), /coll-archive-export\/Picks _2021_$/);
      await exp.getByTestId('export-to-input').fill(archive.out);
      await exp.getByTestId('export-layout').selectOption('template');
      const template = exp.getByTestId('export-template');
      // A broken template is refused as it is typed; the export button waits for a good one.
      await template.fill('{year/{title}.md');
      await exp.getByText('A { has no closing }.').first().waitFor();
      assert.equal(await exp.getByTestId('export-start').isDisabled(), true);
      await template.fill('{year}/{month}/{title}.md');
      await exp.getByTestId('export-format-rewrite').check();
      assert.equal(await exp.getByTestId('export-set').inputValue(), 'collection: "Picks \\"2021\\""');
      // The live preview: the planned paths, the hostile title made portable.
      const want = ['2021/03/a_.._b_c_.md', '2021/03/Hello world.md', '2021/04/_CON.md'];
      for (const p of want) await exp.getByTestId('export-preview-row').filter({ hasText: p }).waitFor();
      await exp.getByText('3 posts; 2 renamed to work everywhere.').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid=export-preview]')?.getAttribute('aria-busy') === 'false');
      const previewPaths = await exp.locator('[data-testid=export-preview-row] .exported').allTextContents();
      assert.deepEqual([...previewPaths].sort(), [...want].sort());
      assert.equal(existsSync(archive.out), false, 'the preview writes nothing');
      await shot(page, 'collections-export-preview');

      await exp.getByTestId('export-start').click();
      const summary = exp.getByTestId('export-summary');
      await summary.waitFor({ timeout: 30_000 });
      const value = async (k) => Number((await summary.getByTestId(`export-${k}`).locator('dd').textContent()).replace(/,/g, ''));
      assert.equal(await value('posts'), 3);
      assert.equal(await value('written'), 3);
      // Every post moved by the template; two of them also renamed to be portable.
      assert.equal(await value('renamed'), 3);
      assert.equal(await value('portable'), 2);
      assert.equal(await value('conflicts'), 0);
      assert.equal(await value('problems'), 0);
      assert.equal(await summary.getByTestId('export-to').textContent(), archive.out);
      await shot(page, 'collections-export-summary');

      // On disk: the files the preview named, inside the target, portable, in both manifests.
      const files = walk(archive.out);
      assert.deepEqual(files, [...want, 'manifest.csv', 'manifest.jsonl'].sort());
      for (const f of files) {
        const abs = resolve(archive.out, f);
        assert.ok(abs.startsWith(archive.out + sep), `${f} is inside the target`);
        for (const part of f.split('/')) assert.ok(portable(part), `${f}: ${part} is portable`);
      }
      const rows = readFileSync(join(archive.out, 'manifest.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(rows.map((r) => r.exported).sort(), [...want].sort());
      assert.deepEqual(rows.map((r) => r.source).sort(), [...PICKED].sort());
      const csv = readFileSync(join(archive.out, 'manifest.csv'), 'utf8');
      for (const r of rows) {
        const bytes = readFileSync(join(archive.out, r.exported));
        assert.equal(r.sha256, sha256(bytes), `${r.exported}: checksum`);
        assert.ok(csv.includes(r.sha256) && csv.includes(r.exported), `${r.exported} in manifest.csv`);
        // Rewritten: the collection's name added, the rest as it was.
        const text = bytes.toString('utf8');
        assert.match(text, /^collection: /m, `${r.exported}: the collection key`);
        assert.equal(text.replace(/^collection: .*\n/m, ''), POSTS[r.source]);
      }
      const hostile = rows.find((r) => r.source === HOSTILE);
      assert.equal(hostile.title, 'a/../b:c?');

      // Exporting again into the same folder: nothing to write, and a file changed there since is a
      // conflict, left as it is and listed with the reason.
      const changed = join(archive.out, '2021/04/_CON.md');
      writeFileSync(changed, 'changed by hand\n');
      await summary.getByRole('button', { name: 'Change and export again' }).click();
      await exp.getByTestId('export-preview-row').first().waitFor();
      await exp.getByTestId('export-start').click();
      await summary.waitFor({ timeout: 30_000 });
      assert.equal(await value('written'), 0);
      assert.equal(await value('unchanged'), 2);
      assert.equal(await value('conflicts'), 1);
      const conflict = await summary.getByTestId('export-conflict-list').locator('li').allTextContents();
      assert.equal(conflict.length, 1);
      assert.match(conflict[0], /_CON\.md — \S/);
      assert.equal(readFileSync(changed, 'utf8'), 'changed by hand\n');
      await shot(page, 'collections-export-conflict');
      await summary.getByTestId('export-close').click();
      await exp.waitFor({ state: 'detached' });

      // Remove one post from the collection shown: the list and the count follow.
      await row(page, PICKED[1]).click();
      await page.getByTestId('collect-menu').click();
      await page.getByRole('menuitem', { name: `Remove 1 selected from “${NAME}”` }).click();
      await waitForRows(page, 2);
      await page.waitForFunction(
        (name) =>
          [...document.querySelectorAll('[data-testid=collections] [data-testid=collection]')].some(
            (b) => b.getAttribute('aria-label') === `Show the collection ${name}, 2 posts`,
          ),
        NAME,
      );
      const stored = await apiCall('collection_posts', { name: NAME });
      assert.deepEqual([...stored.paths].sort(), [HOSTILE, PICKED[2]].sort());

      assert.deepEqual(errors, []);
      assert.deepEqual(dialogs, []);
    } finally {
      await context.close();
    }
  });

  test('rename and delete from the sidebar; export dialog in dark mode', { timeout: 90_000 }, async () => {
    const { context, page, errors, dialogs } = await e2e.open(url, { colorScheme: 'dark' });
    try {
      await collection(page, NAME).click();
      await waitForRows(page, 2);
      // Rename the collection shown: the query follows the new name.
      await collection(page, NAME).hover();
      await page.getByRole('button', { name: `Actions for the collection ${NAME}` }).click();
      await page.getByRole('menuitem', { name: 'Rename…' }).click();
      const dlg = page.getByTestId('collection-dialog');
      await dlg.getByTestId('collection-name').fill('news TAG');
      await dlg.getByText('A collection named “news TAG” exists already.').waitFor();
      await dlg.getByTestId('collection-name').fill('Keepers');
      await dlg.getByTestId('collection-save').click();
      await dlg.waitFor({ state: 'detached' });
      await collection(page, 'Keepers').waitFor();
      await page.waitForFunction(() => document.querySelector('input[type=search]')?.value === 'collection:"Keepers"');
      await waitForRows(page, 2);

      // The export dialog for the selection, in dark mode.
      await row(page, HOSTILE).click();
      await page.getByTestId('collect-menu').click();
      await page.getByRole('menuitem', { name: 'Export 1 selected…' }).click();
      const exp = page.getByTestId('export-dialog');
      await exp.getByTestId('export-layout').selectOption('jekyll');
      await exp.getByTestId('export-preview-row').filter({ hasText: '_posts/2021-03-05-' }).waitFor();
      await exp.getByTestId('export-format-html').check();
      await exp.getByTestId('export-preview-row').filter({ hasText: '.html' }).waitFor();
      await shot(page, 'collections-export-dark');
      await exp.getByRole('button', { name: 'Cancel' }).click();
      await exp.waitFor({ state: 'detached' });

      // Delete (confirmed in a dialog): the posts stay, the list shows every post again.
      await collection(page, 'Keepers').hover();
      await page.getByRole('button', { name: 'Actions for the collection Keepers' }).click();
      await page.getByRole('menuitem', { name: 'Delete…' }).click();
      const del = page.getByTestId('collection-delete-dialog');
      await del.getByText('The posts themselves stay where they are.').waitFor();
      await del.getByTestId('collection-delete-confirm').click();
      await del.waitFor({ state: 'detached' });
      await collection(page, 'Keepers').waitFor({ state: 'detached' });
      await waitForRows(page, Object.keys(POSTS).length);
      assert.equal(await searchBox(page).inputValue(), '');
      for (const rel of Object.keys(POSTS)) assert.ok(existsSync(join(archive.root, rel)), `${rel} stays`);
      assert.deepEqual(
        (await apiCall('collections')).map((c) => c.name),
        ['News tag'],
      );
      assert.deepEqual(errors, []);
      assert.deepEqual(dialogs, []);
    } finally {
      await context.close();
    }
  });
});
