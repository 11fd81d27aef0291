// End-to-end: what broke a new archivist's flow (issue 13), on an archive this test writes
// itself: saving with a tag still in the box, the keyboard in the list and the reader, an invalid
// query, the query help, and editing posts with problems (malformed or unclosed front matter, a
// GB18030 file).
//
// Run with tests/e2e/run.sh, or `node --test ux.test.mjs` with SHELFMARK_BIN set.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { e2eFixture, shot, writeArchive } from './lib.mjs';

const e2e = e2eFixture({ acceptDialogs: true });

const post = (title, date, tags, body) =>
  ['---', `title: ${title}`, `date: ${date}`, `tags: [${tags.join(', ')}]`, '---', body, ''].join('\n');

const POSTS = {
  '_posts/2021-05-01-one.md': post('Post one', '2021-05-01', ['alpha'], 'The first body.'),
  '_posts/2021-05-02-two.md': post('Post two', '2021-05-02', ['alpha', 'beta'], 'The second body.'),
  '_posts/2021-05-03-three.md': post('Post three', '2021-05-03', ['beta'], 'The third body.'),
  '_posts/2021-05-04-four.md': post('Post four', '2021-05-04', ['gamma'], 'The fourth body.'),
  // Front matter YAML cannot read: the raw view is where it is mended.
  '_posts/2020-01-01-malformed.md': ['---', 'title: Malformed post', 'tags: [unclosed', '---', 'Malformed body.', ''].join('\n'),
  // Front matter that is never closed: nothing can be saved.
  '_posts/2020-01-02-unclosed.md': ['---', 'title: Unclosed post', 'Unclosed body, no closing line.', ''].join('\n'),
  // GB18030: Shelfmark reads it but does not write it.
  '_posts/2020-01-03-gb.md': Buffer.from(
    '2d2d2d0a7469746c653a20d6d0cec4b1eacce2b2e2cad40a2d2d2d0ad5fdcec4c4dac8ddbadcb3a4b5c4d2bbb6ced6d0cec4a3acd3c3c0b4c5d0b6cfb1e0c2ebcac7b2bbcac7b9fab1eaa1a30a',
    'hex',
  ),
};

let archive;
let url;

before(async () => {
  ({ archive, url } = await e2e.serve(writeArchive(POSTS, 'ux-archive')));
});

const results = (page) => page.getByTestId('results');
const row = (page, rel) => results(page).locator(`[role=option][data-path="${rel}"]`);
const readerTitle = (page) => page.getByTestId('reader-title');
const active = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return { testid: el?.getAttribute('data-testid') ?? null, tag: el?.tagName ?? null, role: el?.getAttribute('role') ?? null };
  });
/** Whether the focused element shows that it has the focus (an outline or a ring). */
const focusShown = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    const s = getComputedStyle(el);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow !== 'none' && s.boxShadow !== '');
  });

describe('the first hour', () => {
  test('Ctrl+S saves a tag typed but not confirmed, as the Save button does', { timeout: 90_000 }, async () => {
    const rel = '_posts/2021-05-04-four.md';
    const { context, page, errors } = await e2e.open(url);
    try {
      await row(page, rel).click();
      await readerTitle(page).filter({ hasText: 'Post four' }).waitFor();
      await page.getByTestId('edit-button').click();
      const editor = page.getByTestId('fm-editor');
      const tagBox = editor.getByRole('combobox', { name: 'Tags' });
      await tagBox.fill('pending');
      // A tag in the box is a change.
      await editor.getByText('Unsaved changes').waitFor();
      await shot(page, 'ux-pending-tag');
      await tagBox.press('Control+s');
      await editor.waitFor({ state: 'detached' });
      await page.getByTestId('reader').locator('.chips button', { hasText: 'pending' }).waitFor();
      const text = readFileSync(join(archive.root, rel), 'utf8');
      assert.match(text, /tags: \[gamma, pending\]/, text);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('keyboard: j/k move and open while reading; Esc steps back reader → list → search', { timeout: 90_000 }, async () => {
    const { context, page, errors } = await e2e.open(url);
    try {
      const titles = await results(page).getByTestId('row-title').allTextContents();
      assert.ok(titles.length >= 4, `${titles}`);
      // Into the list from the search box, then open the first post with Enter.
      await page.getByTestId('search').focus();
      await page.keyboard.press('ArrowDown');
      assert.equal((await active(page)).testid, 'results');
      await page.keyboard.press('Enter');
      await readerTitle(page).filter({ hasText: titles[0] }).waitFor();
      assert.equal((await active(page)).testid, 'reader');
      assert.ok(await focusShown(page), 'the reader shows it has the focus');
      // j opens the next post, k the one before: the reader follows the highlight.
      await page.keyboard.press('j');
      await readerTitle(page).filter({ hasText: titles[1] }).waitFor();
      await results(page).locator('[role=option].cursor[data-index="1"]').waitFor();
      await page.keyboard.press('j');
      await readerTitle(page).filter({ hasText: titles[2] }).waitFor();
      await page.keyboard.press('k');
      await readerTitle(page).filter({ hasText: titles[1] }).waitFor();
      await results(page).locator('[role=option].cursor[data-index="1"]').waitFor();
      await shot(page, 'ux-keyboard-reader');
      // Esc: back to the list (the reader closes), on the same row.
      await page.keyboard.press('Escape');
      await page.getByTestId('reader-title').waitFor({ state: 'detached' });
      assert.equal((await active(page)).testid, 'results');
      assert.ok(await focusShown(page), 'the list shows it has the focus');
      await results(page).locator('[role=option].cursor[data-index="1"]').waitFor();
      // Enter opens the row under the cursor again; Esc twice reaches the search box.
      await page.keyboard.press('Enter');
      await readerTitle(page).filter({ hasText: titles[1] }).waitFor();
      await page.keyboard.press('Escape');
      await page.getByTestId('reader-title').waitFor({ state: 'detached' });
      await page.keyboard.press('Escape');
      assert.equal((await active(page)).testid, 'search');
      await shot(page, 'ux-keyboard-list');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  for (const [locale, lang] of [
    ['en-US', 'en'],
    ['zh-CN', 'zh'],
  ]) {
    test(`an invalid query is an error, not an empty result (${lang})`, { timeout: 60_000 }, async () => {
      const { context, page, errors } = await e2e.open(url, { locale });
      try {
        await page.getByTestId('facets').locator('button.value').first().waitFor();
        await page.getByTestId('search').fill('tag:alpha date:2020-13');
        const msg = page.getByTestId('query-error');
        await msg.waitFor();
        const text = (await msg.textContent()) ?? '';
        assert.ok(!text.includes('invalid query'), text);
        assert.match(text, /2020-13/);
        // The bad part of the query is marked.
        assert.equal(await msg.locator('mark').textContent(), 'date:2020-13');
        // No count, no "no posts", nothing to save, no facets of another query.
        await page.getByTestId('result-count').filter({ hasText: /\d/ }).waitFor({ state: 'detached' });
        assert.equal(await results(page).locator('.empty').count(), 0);
        assert.equal(await results(page).getByRole('option').count(), 0);
        assert.equal(await page.getByTestId('collection-save-search').count(), 0);
        assert.equal(await page.getByTestId('facets').locator('button.value').count(), 0);
        await shot(page, `ux-query-error-${lang}`);
        // Fixed, the results come back.
        await page.getByTestId('search').fill('tag:alpha date:2021-05');
        await msg.waitFor({ state: 'detached' });
        await page.getByTestId('result-count').filter({ hasText: /2/ }).waitFor();
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  }

  test('the query help closes on Esc and a click outside, and covers no result', { timeout: 60_000 }, async () => {
    const { context, page } = await e2e.open(url);
    try {
      const toggle = page.locator('button[aria-controls=query-help]');
      const help = page.locator('#query-help');
      await toggle.click();
      await help.waitFor();
      // It covers none of the top results.
      const h = await help.boundingBox();
      const r = await results(page).getByRole('option').first().boundingBox();
      assert.ok(h && r, 'both shown');
      assert.ok(h.y + h.height <= r.y || r.x + r.width <= h.x || h.x + h.width <= r.x, `help ${JSON.stringify(h)} row ${JSON.stringify(r)}`);
      await shot(page, 'ux-help-open');
      // Esc while the button has the focus.
      await toggle.focus();
      await page.keyboard.press('Escape');
      await help.waitFor({ state: 'detached' });
      // A click outside.
      await toggle.click();
      await help.waitFor();
      await page.getByTestId('post-count').click();
      await help.waitFor({ state: 'detached' });
      // A click inside keeps it open.
      await toggle.click();
      await help.locator('td').last().click();
      assert.equal(await help.count(), 1);
    } finally {
      await context.close();
    }
  });

  test('malformed front matter opens the raw YAML view with the problem shown', { timeout: 60_000 }, async () => {
    const rel = '_posts/2020-01-01-malformed.md';
    const { context, page, errors } = await e2e.open(url);
    try {
      await row(page, rel).click();
      await page.getByTestId('reader').getByRole('note').filter({ hasText: 'malformed-front-matter' }).waitFor();
      await page.getByTestId('edit-button').click();
      const editor = page.getByTestId('fm-editor');
      await editor.getByTestId('raw-yaml').waitFor();
      assert.equal(await editor.getByTestId('raw-mode').getAttribute('aria-pressed'), 'true');
      assert.match(await editor.getByTestId('raw-yaml').inputValue(), /tags: \[unclosed/);
      // The problem stays in sight while editing.
      await page.getByTestId('reader').getByRole('note').filter({ hasText: 'malformed-front-matter' }).waitFor();
      await shot(page, 'ux-edit-malformed');
      // Mended in the raw view, it saves.
      await editor.getByTestId('raw-yaml').fill('title: Malformed post\ntags: [mended]');
      await editor.getByText('✓').waitFor();
      await editor.getByTestId('edit-save').click();
      await editor.waitFor({ state: 'detached' });
      assert.match(readFileSync(join(archive.root, rel), 'utf8'), /tags: \[mended\]/);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  for (const [rel, name, why] of [
    ['_posts/2020-01-02-unclosed.md', 'unclosed', /never closed/],
    ['_posts/2020-01-03-gb.md', 'gb18030', /gb18030/i],
  ]) {
    test(`a file that cannot be saved says so before anything is typed (${name})`, { timeout: 60_000 }, async () => {
      const before = readFileSync(join(archive.root, rel));
      for (const [locale, lang] of [
        ['en-US', 'en'],
        ['zh-CN', 'zh'],
      ]) {
        const { context, page } = await e2e.open(url, { locale });
        try {
          await row(page, rel).click();
          await readerTitle(page).waitFor();
          await page.getByTestId('edit-button').click();
          const editor = page.getByTestId('fm-editor');
          const notice = editor.getByTestId('cannot-save');
          await notice.waitFor();
          if (lang === 'en') assert.match((await notice.textContent()) ?? '', why);
          assert.ok(await editor.getByTestId('edit-save').isDisabled(), 'Save is disabled');
          assert.equal(await editor.getByRole('textbox').count(), 0, 'nothing to type into');
          await shot(page, `ux-edit-${name}-${lang}`);
        } finally {
          await context.close();
        }
      }
      assert.ok(readFileSync(join(archive.root, rel)).equals(before), 'the file is untouched');
    });
  }

  test('a facet value excluded with Shift-click stays listed, struck through; a click undoes it', { timeout: 60_000 }, async () => {
    const { context, page, errors } = await e2e.open(url);
    try {
      const facets = page.getByTestId('facets');
      const fresh = page.locator('[data-testid=facets]:not([data-stale])');
      await fresh.locator('[data-facet=tags] button.value', { hasText: 'gamma' }).click({ modifiers: ['Shift'] });
      assert.match(await page.getByTestId('search').inputValue(), /^-tag:"?gamma"?$/);
      await page.locator('[data-testid=facets]:not([data-stale])').waitFor();
      const gamma = facets.locator('[data-facet=tags] button.value.off', { hasText: 'gamma' });
      await gamma.waitFor();
      assert.equal(await gamma.getAttribute('aria-label'), 'Excluded: gamma');
      const style = await gamma.locator('.name').evaluate((el) => getComputedStyle(el).textDecorationLine);
      assert.match(style, /line-through/);
      await shot(page, 'ux-facet-excluded');
      // A click where it was done undoes it.
      await gamma.click();
      await page.waitForFunction(() => document.querySelector('[data-testid=search]')?.value === '');
      await page.locator('[data-testid=facets]:not([data-stale])').waitFor();
      await facets.locator('[data-facet=tags] button.value:not(.off)', { hasText: 'gamma' }).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('with no post open the list takes the width', { timeout: 60_000 }, async () => {
    const { context, page } = await e2e.open(url);
    try {
      const list = page.locator('section.results');
      const reader = page.getByTestId('reader');
      const wide = await list.boundingBox();
      assert.ok(wide && wide.width > 1000, `list ${JSON.stringify(wide)}`);
      assert.equal(await reader.isVisible(), false);
      await shot(page, 'ux-list-full-width');
      await results(page).getByRole('option').first().click();
      await readerTitle(page).waitFor();
      const narrow = await list.boundingBox();
      assert.ok(narrow && narrow.width < wide.width * 0.6, `list ${JSON.stringify(narrow)}`);
      // Closed again, the list takes the width back.
      await page.getByRole('button', { name: 'Close' }).click();
      await readerTitle(page).waitFor({ state: 'detached' });
      await page.waitForFunction(() => (document.querySelector('section.results')?.getBoundingClientRect().width ?? 0) > 1000);
    } finally {
      await context.close();
    }
  });

  test('a theme switch: system, light or dark, remembered', { timeout: 90_000 }, async () => {
    const { context, page } = await e2e.open(url, { colorScheme: 'light' });
    const darkBody = () =>
      page.waitForFunction(() => {
        const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
        return r + g + b < 200;
      });
    const lightBody = () =>
      page.waitForFunction(() => {
        const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
        return r + g + b > 600;
      });
    const language = page.getByRole('combobox', { name: /^(Language|语言)$/ });
    try {
      await lightBody();
      const theme = page.getByTestId('theme');
      assert.equal(await theme.inputValue(), 'system');
      await theme.selectOption('dark');
      await darkBody();
      // Remembered across a reload.
      await page.reload();
      await results(page).getByRole('option').first().waitFor();
      await darkBody();
      assert.equal(await page.getByTestId('theme').inputValue(), 'dark');
      // The screens this change touched, in the dark, in both languages.
      for (const [lang, locale] of [
        ['en', 'en'],
        ['zh', 'zh-CN'],
      ]) {
        await language.selectOption(locale);
        await page.getByTestId('search').fill('tag:alpha date:2020-13');
        await page.getByTestId('query-error').waitFor();
        await shot(page, `ux-dark-query-error-${lang}`);
        await page.getByTestId('search').fill('');
        await page.getByTestId('query-error').waitFor({ state: 'detached' });
        await shot(page, `ux-dark-list-${lang}`);
        await row(page, '_posts/2020-01-03-gb.md').click();
        await readerTitle(page).waitFor();
        await page.getByTestId('edit-button').click();
        await page.getByTestId('cannot-save').waitFor();
        await shot(page, `ux-dark-edit-gb18030-${lang}`);
        await page.getByTestId('edit-cancel').click();
        await page.getByTestId('edit-button').waitFor();
        await page.keyboard.press('Escape');
        await readerTitle(page).waitFor({ state: 'detached' });
      }
      await language.selectOption('en');
      // Light on purpose, also when the system is dark.
      await page.getByTestId('theme').selectOption('light');
      await page.emulateMedia({ colorScheme: 'dark' });
      await lightBody();
      // Back to the system's setting (dark now).
      await page.getByTestId('theme').selectOption('system');
      await darkBody();
      assert.equal(await page.evaluate(() => localStorage.getItem('shelfmark.theme')), null);
    } finally {
      await context.close();
    }
  });
});

describe('punctuation widths follow the language of the text', () => {
  /** The width of `text` in a span of the app's own font, in ems. */
  const ems = (page, text) =>
    page.evaluate((t) => {
      const span = document.createElement('span');
      span.textContent = t;
      document.querySelector('main, #app, body')?.appendChild(span);
      const em = parseFloat(getComputedStyle(span).fontSize);
      const w = span.getBoundingClientRect().width / em;
      span.remove();
      return w;
    }, text);

  for (const [locale, curlyIsWide] of [
    ['en-US', false],
    ['zh-CN', true],
  ]) {
    test(`${locale}: a curly apostrophe is ${curlyIsWide ? 'full-width (Chinese)' : 'as narrow as a Latin one'}`, { timeout: 60_000 }, async () => {
      const { context, page } = await e2e.open(url, { locale });
      try {
        await results(page).locator('[role=option]').first().waitFor();
        const curly = await ems(page, '’');
        const straight = await ems(page, "'");
        if (curlyIsWide) assert.ok(curly > 0.8, `’ is ${curly.toFixed(2)} em in ${locale}`);
        else assert.ok(curly < straight + 0.25, `’ is ${curly.toFixed(2)} em, ' is ${straight.toFixed(2)} em in ${locale}`);
      } finally {
        await context.close();
      }
    });
  }
});
