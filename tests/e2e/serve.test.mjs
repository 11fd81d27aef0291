// End-to-end: the web UI in Debian's chromium (playwright-core, headless) against
// `shelfmark serve` on copies of fixture archives. Screenshots go to artifacts/.
//
// Run with tests/e2e/run.sh (it builds what is needed), or `node --test serve.test.mjs` with
// SHELFMARK_BIN pointing at a built `shelfmark`.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { BIN, HERE, ROOT, copyArchive, e2eFixture, shot } from './lib.mjs';

const e2e = e2eFixture();

/** `shelfmark search QUERY --json` on the same archive: what the UI must show. */
function cliSearch(archive, query, extra = []) {
  const out = execFileSync(BIN, ['-C', archive, 'search', '--json', '--limit', '1000', ...extra, '--', query], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(out);
}

const results = (page) => page.getByTestId('results');
const searchBox = (page) => page.getByRole('searchbox', { name: 'Search' });

async function rowTitles(page) {
  return results(page).getByTestId('row-title').allTextContents();
}

async function count(page) {
  const text = await page.getByTestId('result-count').textContent();
  const m = text.replace(/,/g, '').match(/(\d+) posts?/);
  return m ? Number(m[1]) : NaN;
}

/** Waits until the list shows exactly these titles. */
async function waitForTitles(page, titles) {
  await page.waitForFunction(
    (want) => {
      const got = [...document.querySelectorAll('[data-testid=results] [data-testid=row-title]')].map((e) => e.textContent);
      return JSON.stringify(got) === JSON.stringify(want);
    },
    titles,
    { timeout: 15_000 },
  );
}

/**
 * Waits until the sidebar shows the facets of `query` (not those of an earlier query, which stay
 * on screen, dimmed and not clickable, until the current query's arrive).
 */
async function waitForFacets(page, query) {
  await page.waitForFunction(
    (q) => {
      const el = document.querySelector('[data-testid=facets]');
      return el !== null && el.dataset.facetsFor === q && !el.hasAttribute('data-stale');
    },
    query,
    { timeout: 15_000 },
  );
}

/** The result count element: its text, and whether it is cut (an ellipsis, or clipped). */
async function countBox(page) {
  return page.getByTestId('result-count').evaluate((el) => ({
    text: el.textContent.replace(/\s+/g, ' ').trim(),
    scrollWidth: el.scrollWidth,
    clientWidth: el.clientWidth,
  }));
}

function assertSameOrigin(requests, origin) {
  const outside = requests.filter((u) => new URL(u).origin !== origin);
  assert.deepEqual(outside, [], `requests left ${origin}`);
  assert.ok(requests.length > 0, 'requests were recorded');
}

describe('sample archive', () => {
  let archive;
  let url;
  let origin;
  let token;

  before(async () => {
    ({ archive, url, origin, token } = await e2e.serve(copyArchive(join(ROOT, 'sample-archive'), 'sample-archive')));
  });

  test('the api needs the token', { timeout: 30_000 }, async () => {
    const none = await fetch(`${origin}/api/stats`, { method: 'POST', body: '{}' });
    assert.equal(none.status, 401);
    assert.equal((await none.json()).code, 'unauthorized');
    const wrong = await fetch(`${origin}/api/stats`, { method: 'POST', headers: { Authorization: 'Bearer 0000' } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${origin}/api/stats`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    const page = await fetch(`${origin}/`);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<div id="app">/, 'the embedded UI is served (not the "UI not built" page)');
  });

  test('search 两岸, facets, reader, keyboard, multi-select', { timeout: 120_000 }, async () => {
    const { context, page, requests, dialogs } = await e2e.open(url);
    try {
      // The token left the address bar.
      assert.ok(!page.url().includes('token'), page.url());
      const all = cliSearch(archive.root, '');
      assert.equal(await count(page), all.total);

      // A two-character Chinese query shows what the CLI finds, in the same order.
      await searchBox(page).fill('两岸');
      const want = cliSearch(archive.root, '两岸');
      assert.ok(want.total >= 2, 'the fixture has matches');
      await waitForTitles(page, want.hits.map((h) => h.title));
      assert.equal(await count(page), want.total);
      // Traditional titles match too (兩岸), and the matches are highlighted.
      assert.ok(want.hits.some((h) => h.title.includes('兩岸')));
      const marks = await results(page).locator('[data-testid=row-title] mark').allTextContents();
      assert.ok(marks.length >= want.total, `highlights: ${marks}`);
      assert.ok(marks.every((m) => m === '两岸' || m === '兩岸'), `highlights: ${marks}`);
      await shot(page, '01-search-两岸');

      // The query is in the URL and survives a reload.
      assert.match(decodeURIComponent(new URL(page.url()).hash), /q=两岸/);
      await page.reload();
      await waitForTitles(page, want.hits.map((h) => h.title));
      assert.equal(await searchBox(page).inputValue(), '两岸');

      // Open a post: the reader shows its fields.
      await results(page).getByRole('option').nth(1).click();
      const reader = page.getByRole('region', { name: 'Reader' });
      await assert.doesNotReject(reader.getByTestId('reader-title').waitFor());
      assert.equal(await reader.getByTestId('reader-title').textContent(), want.hits[1].title);
      const shown = JSON.parse(execFileSync(BIN, ['-C', archive.root, 'show', want.hits[1].path, '--json'], { encoding: 'utf8' }));
      if (shown.author) assert.ok((await reader.textContent()).includes(shown.author));
      assert.ok((await reader.getByTestId('reader-text').textContent()).includes('两岸'));
      assert.match(decodeURIComponent(page.url()), /post=/);
      await shot(page, '02-reader');

      // Click a facet: the query gets tag:"…" and the list what the CLI finds for it.
      await searchBox(page).fill('');
      await page.waitForFunction((n) => document.querySelector('[data-testid=result-count]')?.textContent?.includes(`${n} posts`), all.total);
      // The count can change before the facets do: read them once they are the empty query's.
      await waitForFacets(page, '');
      const firstTag = page.locator('[data-facet=tags] button.value').first();
      const tagName = (await firstTag.locator('.name').textContent()).trim();
      const tagCount = Number((await firstTag.locator('.count').textContent()).replace(/\D/g, ''));
      await firstTag.click();
      assert.equal(await searchBox(page).inputValue(), `tag:"${tagName}"`);
      const byTag = cliSearch(archive.root, `tag:"${tagName}"`);
      assert.equal(byTag.total, tagCount);
      await waitForTitles(page, byTag.hits.map((h) => h.title));
      assert.equal(await count(page), tagCount);
      await waitForFacets(page, `tag:"${tagName}"`);
      await shot(page, '03-facet');

      // Shift-click excludes: the chip says so and the count is what the CLI finds.
      const tag = page.locator('[data-facet=tags]').getByRole('button', { name: `Filter by ${tagName}`, exact: true });
      await tag.click({ modifiers: ['Shift'] });
      assert.equal(await searchBox(page).inputValue(), `-tag:"${tagName}"`);
      const without = cliSearch(archive.root, `-tag:"${tagName}"`);
      await page.waitForFunction((n) => document.querySelector('[data-testid=result-count]')?.textContent?.includes(`${n} posts`), without.total);
      assert.equal(without.total, all.total - tagCount);
      await page.getByRole('button', { name: `Remove filter -tag:"${tagName}"` }).click();
      assert.equal(await searchBox(page).inputValue(), '');
      await page.waitForFunction((n) => document.querySelector('[data-testid=result-count]')?.textContent?.includes(`${n} posts`), all.total);

      // Multi-select: click, shift-click, ctrl-click, select all.
      const rows = results(page).getByRole('option');
      await rows.nth(0).click();
      await rows.nth(3).click({ modifiers: ['Shift'] });
      await page.getByText('4 selected').waitFor();
      await rows.nth(1).click({ modifiers: ['Control'] });
      await page.getByText('3 selected').waitFor();
      assert.deepEqual(
        await results(page).locator('[role=option][aria-selected=true]').evaluateAll((els) => els.map((e) => e.dataset.index)),
        ['0', '2', '3'],
      );
      await shot(page, '04-multi-select');
      await page.getByTestId('select-all').check();
      await page.getByText(`${all.total} selected`).waitFor();
      await page.getByTestId('select-all').uncheck();

      // Keyboard: / focuses the search, Esc returns to the list, j moves, Enter opens.
      await page.locator('body').click({ position: { x: 5, y: 880 } });
      await page.keyboard.press('/');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('type')), 'search');
      await page.keyboard.press('Escape');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('role')), 'listbox');
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      const active = await results(page).getAttribute('aria-activedescendant');
      const index = Number(active.replace('row-', ''));
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        (t) => document.querySelector('[data-testid=reader-title]')?.textContent === t,
        all.hits[index].title,
      );
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'reader');
      await page.keyboard.press('Escape');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('role')), 'listbox');

      // Sort by date, newest first.
      await page.getByTestId('sort').selectOption('-date');
      const newest = cliSearch(archive.root, '', ['--sort', '-date']);
      await waitForTitles(page, newest.hits.slice(0, (await rowTitles(page)).length).map((h) => h.title));

      // The problems view, and the other language.
      await page.getByTestId('problems-button').click();
      await page.getByTestId('problems').waitFor();
      await shot(page, '05-problems');
      await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
      await page.getByRole('searchbox', { name: '搜索' }).waitFor();
      await page.keyboard.press('Escape');
      await results(page).waitFor();
      await shot(page, '06-zh-CN');

      assert.deepEqual(dialogs, []);
      assertSameOrigin(requests, origin);
    } finally {
      await context.close();
    }
  });

  test('facets of an earlier query are stale, not clickable, until the current query\'s arrive', { timeout: 90_000 }, async () => {
    const { context, page } = await e2e.open(url);
    try {
      await page.locator('[data-facet=tags] button.value').first().waitFor();
      const before = await page.locator('[data-facet=tags] button.value .name').allTextContents();
      assert.ok(before.length > 0, 'the empty query has tag facets');

      // Hold the facets answers for 两岸 until the test lets them go.
      const held = [];
      let sawRequest;
      const requested = new Promise((r) => (sawRequest = r));
      await page.route('**/api/facets', (route) => {
        if (JSON.parse(route.request().postData() ?? '{}').query !== '两岸') return route.continue();
        held.push(route);
        sawRequest();
      });
      await searchBox(page).fill('两岸');
      const want = cliSearch(archive.root, '两岸');
      await waitForTitles(page, want.hits.map((h) => h.title));
      assert.equal(await count(page), want.total);
      await requested;

      // The rows and the count are 两岸's; the facets on screen are still the empty query's, and
      // say so: not clickable, and a click forced past that applies nothing.
      const stale = page.locator('[data-facet=tags] button.value');
      assert.deepEqual(await stale.locator('.name').allTextContents(), before);
      await shot(page, '13-stale-facets');
      for (const b of await stale.all()) assert.equal(await b.isEnabled(), false, 'a stale facet is not clickable');
      await stale.first().click({ force: true });
      assert.equal(await searchBox(page).inputValue(), '两岸');
      const facets = page.getByTestId('facets');
      assert.equal(await facets.getAttribute('data-facets-for'), '');
      assert.equal(await facets.getAttribute('data-stale'), '');
      assert.equal(await facets.getAttribute('aria-busy'), 'true');

      // Let the facets of 两岸 through: they replace the stale ones and can be clicked.
      let body;
      for (const route of held) {
        const answer = await route.fetch();
        body = await answer.json();
        await route.fulfill({ response: answer });
      }
      await page.unroute('**/api/facets');
      await waitForFacets(page, '两岸');
      const fresh = page.locator('[data-facet=tags] button.value');
      assert.deepEqual(await fresh.locator('.name').allTextContents(), body.facets.tags.slice(0, 8).map((t) => t.value));
      const first = body.facets.tags[0].value;
      await fresh.first().click();
      assert.equal(await searchBox(page).inputValue(), `两岸 tag:"${first}"`);
      const both = cliSearch(archive.root, `两岸 tag:"${first}"`);
      await waitForTitles(page, both.hits.map((h) => h.title));
    } finally {
      await context.close();
    }
  });

  test('a bad query shows a readable message, not an error dump', { timeout: 60_000 }, async () => {
    const { context, page } = await e2e.open(url);
    try {
      await searchBox(page).fill('a OR -b');
      const msg = page.getByTestId('query-error');
      await msg.waitFor();
      const text = await msg.textContent();
      assert.ok(text.length > 5 && !/stack|panicked|Error:/.test(text), text);
    } finally {
      await context.close();
    }
  });

  test('welcome screen: the system folder picker opens the chosen folder (desktop IPC faked)', { timeout: 60_000 }, async () => {
    // The desktop app's IPC, faked in the page: no archive is open, the dialog plugin answers a
    // folder, and opening it fails. The UI must take the desktop path (picker shown, typed path
    // kept as the fallback) and report the failure readably.
    const context = await e2e.browser.newContext({ viewport: { width: 1100, height: 800 }, locale: 'en-US' });
    const requests = [];
    context.on('request', (r) => requests.push(r.url()));
    await context.addInitScript(() => {
      window.__calls = [];
      window.__TAURI_INTERNALS__ = {
        transformCallback: () => 1,
        unregisterCallback: () => {},
        invoke: async (cmd, args) => {
          window.__calls.push([cmd, args]);
          switch (cmd) {
            case 'archive_info':
            case 'search':
              throw { code: 'no-archive', message: 'No archive is open.' };
            case 'sample_archive':
              return null;
            case 'plugin:dialog|open':
              return '/home/me/不存在的存档';
            case 'open_archive':
              throw { code: 'not-a-folder', message: `Not a folder: ${args.path}`, path: args.path };
            default:
              return null;
          }
        },
      };
    });
    const page = await context.newPage();
    try {
      page.setDefaultTimeout(15_000);
      await page.goto(`${origin}/`);
      const pick = page.getByRole('button', { name: 'Choose a folder…' });
      await pick.waitFor();
      assert.ok(await page.getByLabel('Or type the folder’s path').isVisible(), 'the typed path stays');
      await shot(page, '12-welcome-picker');
      await pick.click();
      await page.getByRole('alert').filter({ hasText: 'Not a folder: /home/me/不存在的存档' }).waitFor();
      const calls = await page.evaluate(() => window.__calls.map(([c, a]) => [c, c === 'plugin:dialog|open' ? a.options : a]));
      const dialog = calls.find(([c]) => c === 'plugin:dialog|open');
      assert.deepEqual(dialog?.[1], { directory: true, multiple: false, title: 'Choose an archive folder' });
      assert.deepEqual(calls.find(([c]) => c === 'open_archive')?.[1], { path: '/home/me/不存在的存档' });
      // No HTTP api call: the desktop path only.
      assert.deepEqual(requests.filter((u) => u.includes('/api/')), []);
    } finally {
      await context.close();
    }
  });

  test('dark mode follows the system', { timeout: 60_000 }, async () => {
    const { context, page } = await e2e.open(url, { colorScheme: 'dark' });
    try {
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r, g, b] = bg.match(/\d+/g).map(Number);
      assert.ok(r + g + b < 200, `dark background, got ${bg}`);
      await results(page).getByRole('option').first().click();
      await page.getByTestId('reader-title').waitFor();
      await shot(page, '07-dark');
    } finally {
      await context.close();
    }
  });
});

describe('hostile HTML', () => {
  let url;
  let origin;
  let token;

  before(async () => {
    ({ url, origin, token } = await e2e.serve(copyArchive(join(HERE, 'fixtures/hostile'), 'hostile')));
  });

  test('no script runs and no request leaves the origin', { timeout: 60_000 }, async () => {
    const { context, page, requests, dialogs } = await e2e.open(url);
    try {
      await searchBox(page).fill('两岸');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=results] [role=option]').length === 1);
      const row = results(page).getByRole('option').first();
      await row.hover();
      await row.click();
      const reader = page.getByRole('region', { name: 'Reader' });
      await reader.getByTestId('reader-title').waitFor();
      assert.match(await reader.getByTestId('reader-title').textContent(), /Hostile 两岸 post/);
      const text = reader.getByTestId('reader-text');
      await text.getByText('Hostile paragraph').waitFor();
      // Hover over everything the post put on screen, click its paragraph.
      for (const el of await reader.locator('button, a, p, dd, code, img, div').all()) {
        await el.hover({ timeout: 2000 }).catch(() => {});
      }
      await text.getByText('Hostile paragraph').click();
      for (const chip of await page.locator('[data-facet] button').all()) await chip.hover();
      await page.waitForTimeout(500);
      await shot(page, '08-hostile');

      const pwned = await page.evaluate(() => Object.keys(window).filter((k) => k.startsWith('__pwned')));
      assert.deepEqual(pwned, [], 'no script of the post ran');
      // The body is the core's sanitized HTML: nothing active is left in it.
      assert.equal(await reader.locator('script, iframe, object, embed, form, input, style, link, base, meta, svg, math, video, audio').count(), 0);
      assert.equal(await reader.locator('[onclick], [onerror], [onmouseover], [onload], [style], [srcset]').count(), 0);
      // Remote images are placeholders with no src, and the reader says so.
      assert.ok((await text.locator('img[data-remote-src]').count()) >= 1);
      for (const src of await text.locator('img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src')))) {
        assert.ok(src === null || !/^(https?:)?\/\//i.test(src), `image src ${src}`);
      }
      await reader.getByRole('note').filter({ hasText: 'Remote images' }).waitFor();
      // javascript: URLs are never links.
      assert.equal(await page.locator('a[href^="javascript:" i]').count(), 0);
      // A link in the body opens outside the app (a new tab without opener), never in it.
      await page.evaluate(() => {
        window.__opened = [];
        window.open = (...args) => {
          window.__opened.push(args);
          return null;
        };
      });
      await text.getByRole('link', { name: 'an outside link' }).click();
      const opened = await page.evaluate(() => window.__opened);
      assert.deepEqual(opened, [['https://evil.example/page', '_blank', 'noopener,noreferrer']]);
      assert.deepEqual(dialogs, []);
      assert.equal(new URL(page.url()).origin, origin, 'no navigation away (meta refresh, base)');
      assertSameOrigin(requests, origin);
    } finally {
      await context.close();
    }
  });

  const HOSTILE_POST = '_posts/2024-02-02-hostile-两岸-html.md';
  const REMOTE_IMAGE = 'https://evil.example/remote.png';
  // A 1×1 PNG: what the core would answer for a real image.
  const PNG_DATA_URL =
    'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

  test('remote images load only on request, through the app, never from the page', { timeout: 60_000 }, async () => {
    const { context, page, requests } = await e2e.open(url);
    try {
      // The core's answer is faked here, so that the test never reaches the internet: what is
      // checked is that the page asks the app (same origin) and only after a click.
      const asked = [];
      await page.route('**/api/fetch_image', async (route) => {
        const body = JSON.parse(route.request().postData() ?? '{}');
        asked.push(body);
        await route.fulfill({
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify({ url: body.url, mime: 'image/png', bytes: 70, data_url: PNG_DATA_URL }),
        });
      });
      await searchBox(page).fill('两岸');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=results] [role=option]').length === 1);
      await results(page).getByRole('option').first().click();
      const reader = page.getByRole('region', { name: 'Reader' });
      const note = reader.getByTestId('remote-images');
      await note.waitFor();
      const text = reader.getByTestId('reader-text');
      await page.waitForTimeout(500);
      assert.deepEqual(asked, [], 'nothing is fetched before the click');
      assert.equal(await text.locator('img[src^="data:"]').count(), 0);
      await shot(page, '10-remote-images-blocked');

      await note.getByRole('button', { name: 'Load images for this post' }).click();
      await text.locator('img[data-loaded-src]').first().waitFor();
      assert.deepEqual(asked, [{ path: HOSTILE_POST, url: REMOTE_IMAGE }]);
      const srcs = await text.locator('img[data-loaded-src]').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src')));
      assert.deepEqual(srcs, [PNG_DATA_URL]);
      await note.getByTestId('images-status').filter({ hasText: 'Images loaded: 1' }).waitFor();
      await shot(page, '11-remote-images-loaded');

      // "Always for this site" is remembered: the next time the post opens, its images load
      // by themselves (the page stays on the app's origin throughout).
      await note.getByRole('button', { name: 'Always for evil.example' }).click();
      await note.getByText('Images from evil.example load automatically.').waitFor();
      assert.equal(asked.length, 1, 'images already shown are not fetched again');
      await page.reload();
      await page.getByRole('region', { name: 'Reader' }).getByTestId('reader-text').locator('img[data-loaded-src]').first().waitFor();
      assert.equal(asked.length, 2);
      // …until the user stops it.
      await page.getByRole('button', { name: 'Stop for evil.example' }).click();
      assert.equal(await page.evaluate(() => localStorage.getItem('shelfmark.imageHosts')), '[]');
      assertSameOrigin(requests, origin);
    } finally {
      await context.close();
    }
  });

  test('fetch_image fetches only addresses the post names', { timeout: 30_000 }, async () => {
    // Every case is refused before anything is fetched: no network is needed.
    const call = (body) =>
      fetch(`${origin}/api/fetch_image`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const body of [
      { path: HOSTILE_POST, url: 'https://elsewhere.example/x.png' },
      { path: HOSTILE_POST, url: 'http://127.0.0.1:1/x.png' },
      { path: HOSTILE_POST, url: 'file:///etc/passwd' },
    ]) {
      const r = await call(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      const e = await r.json();
      assert.equal(e.code, 'bad-request');
      assert.ok(e.message.includes(body.url), e.message);
    }
    const missing = await call({ path: '_posts/no-such-post.md', url: REMOTE_IMAGE });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).code, 'not-found');
    const unauthorized = await fetch(`${origin}/api/fetch_image`, { method: 'POST', body: '{}' });
    assert.equal(unauthorized.status, 401);
  });
});

describe('a large archive', () => {
  const N = 1500;
  let url;
  let origin;

  before(async () => {
    const archive = copyArchive(join(HERE, 'fixtures/hostile'), 'large');
    mkdirSync(join(archive.root, '_posts', 'gen'), { recursive: true });
    for (let i = 0; i < N; i++) {
      const d = new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
      writeFileSync(
        join(archive.root, '_posts', 'gen', `${d}-post-${i}.md`),
        `---\ntitle: "第 ${i} 篇 post ${i}"\ndate: ${d}\ntags: [ t${i % 7} ]\n---\n<p>正文 ${i} 两岸</p>\n`,
      );
    }
    ({ url, origin } = await e2e.serve(archive));
  });

  test('in a 1,400-pixel-wide window the result count is shown whole', { timeout: 60_000 }, async () => {
    const { context, page } = await e2e.open(url, { viewport: { width: 1400, height: 900 } });
    try {
      const want = `${(N + 2).toLocaleString('en-US')} posts`;
      await page.getByTestId('result-count').filter({ hasText: want }).waitFor();
      const box = await countBox(page);
      assert.equal(box.text, want);
      assert.ok(box.scrollWidth <= box.clientWidth, `the count is cut: ${JSON.stringify(box)}`);
      // With a post open and rows selected (the longer "3 selected / … posts Clear selection").
      const rows = results(page).getByRole('option');
      await rows.nth(0).click();
      await page.getByTestId('reader-title').waitFor();
      await rows.nth(2).click({ modifiers: ['Shift'] });
      await page.getByText('3 selected').waitFor();
      const selected = await countBox(page);
      assert.match(selected.text, new RegExp(`^3 selected / ${want}`));
      assert.ok(selected.scrollWidth <= selected.clientWidth, `the count is cut: ${JSON.stringify(selected)}`);
      await shot(page, '14-count-1400px');
    } finally {
      await context.close();
    }
  });

  test('the list is virtualised and pages of 50 load as it scrolls', { timeout: 90_000 }, async () => {
    const { context, page, requests } = await e2e.open(`${url}&sort=-date`);
    try {
      const bodies = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/api/search')) bodies.push(JSON.parse(r.postData() ?? '{}'));
      });
      assert.equal(await count(page), N + 2);
      const rendered = await results(page).getByRole('option').count();
      assert.ok(rendered < 60, `only the visible rows are in the DOM, got ${rendered}`);
      // Scroll to the end: the last rows arrive, fetched 50 at a time.
      await results(page).evaluate((el) => (el.scrollTop = el.scrollHeight));
      await page.waitForFunction(
        (n) => [...document.querySelectorAll('[data-testid=results] [role=option]')].some((e) => e.getAttribute('aria-posinset') === String(n) && e.querySelector('[data-testid=row-title]')),
        N + 2,
      );
      assert.ok(bodies.length >= 1, 'scrolling fetched more pages');
      assert.ok(bodies.every((b) => b.limit === 50 && b.offset % 50 === 0), JSON.stringify(bodies));
      assert.ok(bodies.every((b) => b.offset > 0 && !b.facets));
      assert.ok((await results(page).getByRole('option').count()) < 60);
      await shot(page, '09-large-scrolled');
      assertSameOrigin(requests, origin);
    } finally {
      await context.close();
    }
  });
});
