// End-to-end: the reader marks the search's words in the post, folded as the search folds them
// (Simplified finds Traditional, half-width finds full-width, case), and steps through them with
// buttons and n / Shift+N, saying "2 of 3"; the history says what a past operation did in the
// UI's language, and shows its files and their diffs when it is expanded (issue 13).
//
// Run with tests/e2e/run.sh, or `node --test reader.test.mjs` with SHELFMARK_BIN set.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { e2eFixture, shot, writeArchive } from './lib.mjs';

const e2e = e2eFixture();

const post = (title, date, body) => ['---', `title: ${title}`, `date: ${date}`, '---', body, ''].join('\n');

const POSTS = {
  '_posts/2021-05-01-soft.md': post(
    'Open source',
    '2021-05-01',
    [
      '開源**軟體**的歷史很長。',
      '',
      '<p onclick="window.pwned=1">第二段也談軟體與 ＡＢＣ。</p>',
      '',
      'Software (abc) is not abcd. The last 軟體 is here.',
    ].join('\n'),
  ),
  '_posts/2021-05-02-other.md': post('Another post', '2021-05-02', 'Nothing to see.'),
};

let url;
let origin;
let token;

before(async () => {
  ({ url, origin, token } = await e2e.serve(writeArchive(POSTS, 'reader-archive')));
});

const marks = (page) => page.getByTestId('reader-text').locator('mark.hit');
const position = (page) => page.getByTestId('match-position');
const current = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('[data-testid=reader-text] mark.hit')].findIndex((m) =>
      m.classList.contains('current'),
    ),
  );

describe('the reader and the search', () => {
  for (const [locale, lang, count, of] of [
    ['en-US', 'en', 'Matches: 5', (i) => `${i} of 5`],
    ['zh-CN', 'zh', '匹配：5 处', (i) => `第 ${i} 处，共 5 处`],
  ]) {
    test(
      `the search's words are marked in the post, and n / N step through them (${lang})`,
      { timeout: 60_000 },
      async () => {
        const { context, page, errors } = await e2e.open(url, { locale });
        try {
          await page.getByTestId('search').fill('软体 abc');
          const row = page.getByTestId('results').locator('[role=option][data-path="_posts/2021-05-01-soft.md"]');
          await page
            .getByTestId('results')
            .getByRole('option')
            .filter({ hasText: 'Another post' })
            .waitFor({ state: 'detached' });
          await row.click();
          await page.getByTestId('reader-title').filter({ hasText: 'Open source' }).waitFor();
          await position(page).filter({ hasText: count }).waitFor();
          assert.deepEqual(await marks(page).allTextContents(), ['軟體', '軟體', 'ＡＢＣ', 'abc', '軟體']);
          assert.equal(await page.evaluate(() => window.pwned), undefined);
          assert.equal(await current(page), -1);

          await page.keyboard.press('n');
          await position(page)
            .filter({ hasText: of(1) })
            .waitFor();
          assert.equal(await current(page), 0);
          await page.keyboard.press('n');
          await position(page)
            .filter({ hasText: of(2) })
            .waitFor();
          assert.equal(await current(page), 1);
          await page.keyboard.press('Shift+N');
          await position(page)
            .filter({ hasText: of(1) })
            .waitFor();
          // Before the first comes the last.
          await page.keyboard.press('Shift+N');
          await position(page)
            .filter({ hasText: of(5) })
            .waitFor();
          assert.equal(await current(page), 4);
          await page.getByTestId('match-next').click();
          await position(page)
            .filter({ hasText: of(1) })
            .waitFor();
          await page.getByTestId('match-next').click();
          await page.getByTestId('match-next').click();
          await position(page)
            .filter({ hasText: of(3) })
            .waitFor();
          assert.equal(await marks(page).nth(2).textContent(), 'ＡＢＣ');
          assert.equal(await current(page), 2);
          await page.getByTestId('match-prev').click();
          await position(page)
            .filter({ hasText: of(2) })
            .waitFor();
          await shot(page, `reader-matches-${lang}`);

          // Without a search, nothing is marked and there is nothing to step through.
          await page.getByTestId('search').fill('');
          await page.getByTestId('results').getByRole('option').filter({ hasText: 'Another post' }).waitFor();
          await row.click();
          await page.getByTestId('results').getByRole('option').filter({ hasText: 'Another post' }).click();
          await page.getByTestId('reader-title').filter({ hasText: 'Another post' }).waitFor();
          await row.click();
          await page.getByTestId('reader-title').filter({ hasText: 'Open source' }).waitFor();
          await page.getByTestId('reader-text').filter({ hasText: '第二段' }).waitFor();
          assert.equal(await marks(page).count(), 0);
          assert.equal(await position(page).count(), 0);
          assert.deepEqual(errors, []);
        } finally {
          await context.close();
        }
      },
    );
  }
});

const apiCall = async (command, body = {}) => {
  const r = await fetch(`${origin}/api/${command}`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  assert.ok(r.ok, `${command}: ${JSON.stringify(json)}`);
  return json;
};

describe('the history', () => {
  before(async () => {
    const out = await apiCall('apply_edit', {
      request: {
        target: {
          kind: 'paths',
          paths: ['_posts/2021-05-01-soft.md', '_posts/2021-05-02-other.md'],
        },
        ops: [{ op: 'add-items', key: 'tags', items: ['秘密'] }],
      },
    });
    assert.equal(out.written, 2);
  });

  for (const [locale, lang, said, files] of [
    ['en-US', 'en', 'add tags 秘密', 'Files changed (2):'],
    ['zh-CN', 'zh', '向 tags 添加：秘密', '改动的文件（2 个）：'],
  ]) {
    test(
      `an operation is said in the UI's language and shows its files and diffs (${lang})`,
      { timeout: 60_000 },
      async () => {
        const { context, page, errors } = await e2e.open(url, { locale });
        try {
          await page.getByTestId('history-button').click();
          const history = page.getByTestId('history');
          const entry = history.getByTestId('history-entry').filter({ hasText: said });
          await entry.waitFor();
          assert.equal(await entry.getAttribute('aria-expanded'), 'false');
          await entry.click();
          const detail = history.getByTestId('history-detail');
          await detail.getByText(files).waitFor();
          assert.equal(await entry.getAttribute('aria-expanded'), 'true');
          assert.deepEqual(await detail.getByTestId('history-paths').locator('li').allTextContents(), [
            '_posts/2021-05-01-soft.md',
            '_posts/2021-05-02-other.md',
          ]);
          const diffs = detail.getByTestId('diff');
          assert.equal(await diffs.count(), 2);
          assert.match((await diffs.first().textContent()) ?? '', /秘密/);
          await shot(page, `history-detail-${lang}`);
          // Collapsed again.
          await entry.click();
          await detail.waitFor({ state: 'detached' });
          if (lang === 'zh') {
            // Undone: said in the same words (the file's last test: it changes the archive).
            await history.getByTestId('history-undo').click();
            await history.getByTestId('history-said').filter({ hasText: said }).waitFor();
            await shot(page, `history-undone-${lang}`);
          }
          assert.deepEqual(errors, []);
        } finally {
          await context.close();
        }
      },
    );
  }
});
