// End-to-end: the Duplicates view in the web UI (`shelfmark serve` + Debian's chromium), on an
// archive this test writes: an exact pair (the same body under different front matter), a near
// pair (the same article with a changed sentence and a site's boilerplate), and a post on
// another subject. Resolves the exact pair by tagging the other post (the tag is in the file),
// undoes it (both files byte-identical), marks the near pair "not duplicates" with the keyboard
// (gone after a reload), and checks the duplicate badge of the result list.
//
// Run with tests/e2e/run.sh, or `node --test duplicates.test.mjs` with SHELFMARK_BIN set.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { e2eFixture, shot, writeArchive } from './lib.mjs';

const e2e = e2eFixture();

const SENTENCES = [
  'The river authority opened the northern floodgates early on Tuesday morning after three days of rain.',
  'Farmers along the lower valley had moved their animals to higher ground the night before.',
  'Engineers said the old embankment near the mill had held, though water reached its upper stones.',
  'The mayor thanked the volunteers who filled sandbags in the market square until past midnight.',
  'Schools in four villages stayed closed, and the ferry across the estuary did not run.',
  'Forecasters expect the rain to ease by Thursday, with the river falling slowly over the weekend.',
  'Insurance assessors will visit the flooded farms once the roads to them are open again.',
  'A fund for the families whose houses took water has already collected a large sum from neighbours.',
  'The authority will publish its account of the flood and of the gates in the spring.',
  'Residents were asked to keep away from the banks, where the current is still strong.',
];
const ARTICLE = SENTENCES.join('\n\n');
const NEAR_ARTICLE = SENTENCES.map((s, i) =>
  i === 4 ? 'Schools in four villages stayed shut, and the ferry across the estuary did not sail.' : s,
).join('\n\n');
const OTHER = [
  'The city library reopened its reading room after a year of repairs to the roof and the windows.',
  'New shelves hold the local history collection, which had been stored in the basement.',
  'Visitors can again consult the maps of the harbour drawn in the eighteenth century.',
  'The librarians are also starting evening classes on how to trace a family in the parish records.',
].join('\n\n');

const post = (fm, body) => ['---', ...fm, '---', '', body, ''].join('\n');

const EXACT_A = '_posts/2024-05-01-exact-a.md';
const EXACT_B = '_posts/2024-05-02-exact-b.md';
const NEAR_A = '_posts/2024-06-01-flood.md';
const NEAR_B = '_posts/2024-06-02-flood-copy.md';

const POSTS = {
  [EXACT_A]: post(['title: Floodgates opened', 'date: 2024-05-01', 'from: https://a.example.com/flood'], OTHER),
  [EXACT_B]: post(
    ['title: Floodgates opened (copy)', 'date: 2024-05-02', 'tags: [news]', 'from: https://b.example.com/flood'],
    OTHER,
  ),
  [NEAR_A]: post(['title: River authority opens gates', 'date: 2024-06-01'], ARTICLE),
  [NEAR_B]: post(
    ['title: River authority opens gates - Valley News', 'date: 2024-06-02'],
    `${NEAR_ARTICLE}\n\nShare this article. Subscribe to Valley News for more.`,
  ),
  '_posts/2024-07-01-other.md': post(
    ['title: A new bridge', 'date: 2024-07-01'],
    'The council approved plans for a footbridge over the canal near the station, to be built next year.',
  ),
};

const read = (root, rel) => readFileSync(join(root, rel));

let archive;
let url;

before(async () => {
  ({ archive, url } = await e2e.serve(writeArchive(POSTS, 'dupes-archive')));
});

const groups = (page) => page.locator('[data-testid=dupe-groups] [role=option]');
const groupOf = (page, kind) => page.locator(`[data-testid=dupe-groups] [role=option][data-kind=${kind}]`);

async function openDuplicates(page) {
  await page.getByTestId('duplicates-button').click();
  await page.getByTestId('dupes-summary').waitFor();
}

describe('duplicates', () => {
  // First: the later test records a decision that hides the near pair.
  test('the view in the dark theme and in Chinese', { timeout: 60_000 }, async () => {
    const { context, page, errors } = await e2e.open(url, { colorScheme: 'dark', locale: 'zh-CN' });
    try {
      await openDuplicates(page);
      await groupOf(page, 'near').click();
      await page.getByTestId('compare-left').locator('mark').first().waitFor();
      await page.getByText('不是重复').first().waitFor();
      await shot(page, 'dupes-dark-zh');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('groups, resolve by tagging, undo, not duplicates, badge', { timeout: 120_000 }, async () => {
    const before = { a: read(archive.root, EXACT_A), b: read(archive.root, EXACT_B) };
    const { context, page, errors } = await e2e.open(url);
    try {
      await openDuplicates(page);
      assert.equal(await groups(page).count(), 2);
      assert.equal(await groupOf(page, 'exact').count(), 1);
      assert.equal(await groupOf(page, 'near').count(), 1);
      assert.match(page.url(), /view=duplicates/);

      // The near pair side by side, the changed sentence marked on both sides.
      await groupOf(page, 'near').click();
      await page.getByTestId('compare-left').waitFor();
      assert.match(await page.getByTestId('compare-left').locator('mark').first().textContent(), /shut|closed/);
      assert.ok((await page.getByTestId('compare-right').locator('mark').count()) >= 1);
      await shot(page, 'dupes-near');

      // The keyboard: j/k move between groups (the exact pair, 100 % alike, comes first).
      await page.getByTestId('dupe-groups').focus();
      const current = (kind) => page.locator(`[data-testid=dupe-groups] [aria-selected=true][data-kind=${kind}]`);
      await current('near').waitFor();
      await page.keyboard.press('k');
      await current('exact').waitFor();
      await page.keyboard.press('j');
      await current('near').waitFor();
      await page.keyboard.press('ArrowUp');
      await current('exact').waitFor();

      // Keep the left post (key 1), tag the other; the preview first.
      await page.getByTestId('dupe-left').waitFor();
      await page.keyboard.press('1');
      const dialog = page.getByTestId('resolve-dialog');
      await dialog.waitFor();
      assert.equal(await dialog.getByTestId('resolve-tag').inputValue(), 'duplicate');
      await shot(page, 'dupes-resolve-form');
      // Enter previews (the form's button has the focus).
      await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'resolve-preview');
      await page.keyboard.press('Enter');
      await dialog.getByTestId('resolve-lines').waitFor();
      await dialog.getByTestId('diff').first().waitFor();
      await shot(page, 'dupes-preview');
      await dialog.getByTestId('resolve-apply').click();
      await dialog.getByTestId('resolve-done').waitFor();
      // The kept post is the left one (path order: EXACT_A); the other is tagged.
      assert.match(read(archive.root, EXACT_B).toString(), /duplicate/);
      assert.match(read(archive.root, EXACT_A).toString(), /also_from/);
      assert.equal(await groupOf(page, 'exact').count(), 0);
      await shot(page, 'dupes-resolved');

      // Undo: both files as they were, byte for byte.
      await dialog.getByTestId('undo-this').click();
      await dialog.getByTestId('resolve-undone').waitFor();
      assert.ok(read(archive.root, EXACT_A).equals(before.a));
      assert.ok(read(archive.root, EXACT_B).equals(before.b));
      await dialog.getByTestId('close-summary').click();
      await dialog.waitFor({ state: 'detached' });

      // Run again: the exact pair is back. Then "not duplicates" on the near pair with `n`.
      await page.keyboard.press('r');
      await groupOf(page, 'exact').waitFor();
      await groupOf(page, 'near').click();
      await page.locator('[data-testid=dupe-groups] [aria-selected=true][data-kind=near]').waitFor();
      await page.getByTestId('dupe-groups').focus();
      await page.keyboard.press('n');
      await groupOf(page, 'near').waitFor({ state: 'detached' });
      assert.equal(await groups(page).count(), 1);

      // After a reload the decision holds.
      await page.reload();
      await page.getByTestId('dupes-summary').waitFor();
      await groupOf(page, 'exact').waitFor();
      assert.equal(await groupOf(page, 'near').count(), 0);
      await shot(page, 'dupes-after-reload');

      // The list marks the posts of the last run's groups.
      await page.keyboard.press('Escape');
      const row = (rel) => page.locator(`[data-testid=results] [role=option][data-path="${rel}"]`);
      await row(EXACT_A).getByTestId('dupe-badge').waitFor();
      await row(EXACT_B).getByTestId('dupe-badge').waitFor();
      assert.equal(await row(NEAR_A).getByTestId('dupe-badge').count(), 0);
      await row(EXACT_B).click();
      await page.getByTestId('reader-title').filter({ hasText: 'copy' }).waitFor();
      await page.locator('.reader [data-testid=dupe-badge]').waitFor();
      await shot(page, 'dupes-badge');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
