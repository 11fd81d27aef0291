// End-to-end: the reader shows a scraped page's article alone, with the page around it
// (navigation, share bar, related list, footer) one click away: "Article only" / "Whole page",
// by mouse or keyboard, kept from post to post; a search whose words are only in the hidden page
// says so, with a one-click switch. Posts whose article is the whole text show no toggle.
//
// Run with tests/e2e/run.sh, or `node --test article.test.mjs` with SHELFMARK_BIN set.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { e2eFixture, shot, writeArchive } from './lib.mjs';

const e2e = e2eFixture();

const post = (title, date, body) => ['---', `title: ${title}`, `date: ${date}`, '---', body, ''].join('\n');

/** A scraped page: navigation, the article (with an image between paragraphs), then the page. */
const page = (title, words, related) =>
  [
    '<nav class="site-nav"><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>',
    `<h1>${title}</h1>`,
    '<div class="entry-content">',
    `<p>${words}: the harbour master said on Monday that the animals had been seen near the old pier, and that boats should keep their distance for the rest of the week.</p>`,
    '<figure><img src="https://img.example/whale.jpg" alt="a whale"><figcaption>The pier at dawn.</figcaption></figure>',
    `<p>Fishermen who have worked in the bay for decades said they had never seen anything like it, and many of them stayed on the quay late into the evening to watch.</p>`,
    '</div>',
    '<div class="share-bar"><a href="/s/1">Share on Weibo</a> <a href="/s/2">Share by mail</a></div>',
    '<h3>Related articles</h3>',
    `<ul><li><a href="/a">${related}</a></li><li><a href="/b">Another story from the same site</a></li></ul>`,
    '<footer>Copyright the news site. All rights reserved.</footer>',
  ].join('\n');

const POSTS = {
  '_posts/2021-06-01-harbour.md': post(
    'Whales in the harbour',
    '2021-06-01',
    page('Whales in the harbour', 'Whales came into the harbour', 'Zebra crossing repainted downtown'),
  ),
  '_posts/2021-06-02-bay.md': post(
    'Seals on the beach',
    '2021-06-02',
    page('Seals on the beach', 'Seals rested on the beach', 'New bakery opens on the corner'),
  ),
  '_posts/2021-06-03-note.md': post('A short note', '2021-06-03', 'Just a short note, all of it the article.'),
};

let url;

before(async () => {
  ({ url } = await e2e.serve(writeArchive(POSTS, 'article-archive')));
});

const text = (p) => p.getByTestId('reader-text');
const open = async (p, path, title) => {
  await p.getByTestId('results').locator(`[role=option][data-path="${path}"]`).click();
  await p.getByTestId('reader-title').filter({ hasText: title }).waitFor();
};
const pressed = (p, id) => p.getByTestId(id).getAttribute('aria-pressed');

describe('the article and the whole page', () => {
  test('the article by default, the whole page one click away, kept from post to post', { timeout: 90_000 }, async () => {
    const { context, page: p, errors } = await e2e.open(url);
    try {
      await open(p, '_posts/2021-06-01-harbour.md', 'Whales in the harbour');
      await p.getByTestId('reader-scope').waitFor();
      await text(p).filter({ hasText: 'Whales came into the harbour' }).waitFor();
      assert.equal(await pressed(p, 'article-only'), 'true');
      assert.equal(await pressed(p, 'whole-page'), 'false');
      const article = await text(p).innerText();
      for (const hidden of ['Home', 'Share on Weibo', 'Related articles', 'Zebra crossing', 'All rights reserved']) {
        assert.ok(!article.includes(hidden), `${hidden} shown in the article: ${article}`);
      }
      // The image between the two paragraphs stays (parked: nothing is fetched).
      assert.equal(await text(p).locator('img[data-remote-src="https://img.example/whale.jpg"]').count(), 1);
      assert.ok(article.includes('Fishermen who have worked in the bay'));
      await shot(p, 'reader-article-only');

      // One click: the whole page.
      await p.getByTestId('whole-page').click();
      await text(p).filter({ hasText: 'Zebra crossing repainted' }).waitFor();
      assert.equal(await pressed(p, 'whole-page'), 'true');
      const whole = await text(p).innerText();
      for (const shown of ['Home', 'Share on Weibo', 'Related articles', 'All rights reserved', 'Fishermen']) {
        assert.ok(whole.includes(shown), `${shown} missing from the whole page`);
      }
      await shot(p, 'reader-whole-page');

      // The choice is kept for the next post.
      await open(p, '_posts/2021-06-02-bay.md', 'Seals on the beach');
      await text(p).filter({ hasText: 'New bakery opens' }).waitFor();
      assert.equal(await pressed(p, 'whole-page'), 'true');

      // By keyboard: the toggle's buttons take the focus and Enter / Space activate them.
      await p.getByTestId('article-only').focus();
      await p.keyboard.press('Enter');
      await p.getByTestId('article-only').and(p.locator('[aria-pressed=true]')).waitFor();
      await text(p).filter({ hasText: 'Seals rested on the beach' }).waitFor();
      await text(p).filter({ hasText: 'New bakery opens' }).waitFor({ state: 'detached' });
      await p.getByTestId('whole-page').focus();
      await p.keyboard.press('Space');
      await text(p).filter({ hasText: 'New bakery opens' }).waitFor();
      await p.getByTestId('article-only').click();
      await text(p).filter({ hasText: 'New bakery opens' }).waitFor({ state: 'detached' });

      // A post whose article is its whole text has no toggle.
      await open(p, '_posts/2021-06-03-note.md', 'A short note');
      await text(p).filter({ hasText: 'Just a short note' }).waitFor();
      assert.equal(await p.getByTestId('reader-scope').count(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  for (const [locale, note, button] of [
    ['en-US', 'only in the page around the article', 'Show the whole page'],
    ['zh-CN', '只出现在正文以外', '显示整个页面'],
  ]) {
    test(`a search that matches only around the article says so (${locale})`, { timeout: 90_000 }, async () => {
      const { context, page: p, errors } = await e2e.open(url, { locale });
      try {
        await p.getByTestId('search').fill('page:zebra');
        await p
          .getByTestId('results')
          .getByRole('option')
          .filter({ hasText: 'Seals on the beach' })
          .waitFor({ state: 'detached' });
        await open(p, '_posts/2021-06-01-harbour.md', 'Whales in the harbour');
        const hint = p.getByTestId('hidden-matches');
        await hint.filter({ hasText: note }).waitFor();
        assert.equal(await text(p).locator('mark.hit').count(), 0);
        await shot(p, `reader-hidden-matches-${locale}`);
        await hint.getByRole('button', { name: button }).click();
        await text(p).locator('mark.hit').first().waitFor();
        assert.deepEqual(await text(p).locator('mark.hit').allTextContents(), ['Zebra']);
        await hint.waitFor({ state: 'detached' });
        assert.equal(await pressed(p, 'whole-page'), 'true');
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  }
});
