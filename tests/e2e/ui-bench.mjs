// UI benchmark (a script, not a test): the web UI in Debian's chromium against `shelfmark serve`
// on an already indexed archive. Prints figures; asserts nothing about time.
//
//   node ui-bench.mjs ARCHIVE [ROUNDS]
//
// 1. start: `shelfmark serve` start → URL printed → first rows shown in the page; also, from the
//    page's own clock (navigation start = 0), when the first rows and the sidebar's facets
//    appeared, which leaves out the browser's own overhead around `goto`;
// 2. keystroke → results: type a query, time from the last keystroke until the result count
//    shows the right total for the final query and the list is no longer busy (includes any
//    debounce or wait of the UI before it sends the query), p50/p95;
// 3. scroll: scroll the result list from top to bottom, one step per animation frame, and count
//    frames that took longer than 1.5 × 16.7 ms.
//
// Run it on a machine with the system packages of `.ci/install-system.sh`, a CJK font among them
// (fonts-noto-cjk): without one, Chromium looks for a fallback font for the Chinese text of every
// row, and the figures are the font lookup's (at 70k, keystroke → results p95 118 ms against 58,
// one layout of the rows 55 ms against 5). The script says so when `fc-list` finds no such font.

import { execFileSync } from 'node:child_process';
import { BIN, launch, serve } from './lib.mjs';

const archive = process.argv[2];
const rounds = Number(process.argv[3] ?? 3);
if (!archive) {
  console.error('usage: node ui-bench.mjs ARCHIVE [ROUNDS]');
  process.exit(2);
}
const QUERIES = ['两岸', '疫苗', '中', '新冠疫苗', 'vaccine', 'tag:联合早报', '两岸关系', 'climate', '经济 date:2021'];

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))];
};
const total = (q) =>
  JSON.parse(execFileSync(BIN, ['-C', archive, 'search', '--json', '--limit', '0', '--', q], { encoding: 'utf8' })).total;

let cjkFonts = '';
try {
  cjkFonts = execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' }).trim();
} catch {
  // No fontconfig: said below as for no font.
}
if (!cjkFonts) {
  console.log('WARNING: no CJK font found (fc-list :lang=zh): the figures below measure font fallback, not Shelfmark. Install fonts-noto-cjk (.ci/install-system.sh).');
}

const t0 = performance.now();
const server = serve(archive, { timeoutMs: 600_000 });
const { url } = await server.url;
const tUrl = performance.now();
const launched = await launch();
const browser = launched.browser;
try {
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  page.setDefaultTimeout(60_000);
  await page.addInitScript(() => {
    const seen = new MutationObserver(() => {
      window.__rowsAt ??= document.querySelector('[data-testid="results"] [role="option"]') ? performance.now() : undefined;
      window.__facetsAt ??= document.querySelector('[data-facet]') ? performance.now() : undefined;
      if (window.__rowsAt && window.__facetsAt) seen.disconnect();
    });
    seen.observe(document, { subtree: true, childList: true });
  });
  const tNav = performance.now();
  await page.goto(url);
  await page.getByTestId('results').getByRole('option').first().waitFor();
  const tRows = performance.now();
  console.log(`start: serve ready ${(tUrl - t0).toFixed(0)} ms; page load → first rows ${(tRows - tNav).toFixed(0)} ms; total ${(tUrl - t0 + tRows - tNav).toFixed(0)} ms (browser launch, ${(tNav - tUrl).toFixed(0)} ms, excluded)`);
  await page.locator('[data-facet]').first().waitFor();
  const inPage = await page.evaluate(() => [window.__rowsAt, window.__facetsAt]);
  console.log(`start, the page's clock: first rows at ${inPage[0]?.toFixed(0)} ms, sidebar facets at ${inPage[1]?.toFixed(0)} ms after navigation start`);

  const box = page.getByRole('searchbox', { name: 'Search' });
  const expected = Object.fromEntries(QUERIES.map((q) => [q, total(q)]));
  const latencies = [];
  const perQuery = {};
  const perRound = [];
  for (let r = 0; r < rounds; r++) {
    for (const q of QUERIES) {
      await box.fill('');
      await page.waitForTimeout(300);
      // Timed on the page's clock, from the last input event (CJK text is inserted without key
      // events) to the frame where the results are right: Playwright's own round trips and the
      // 30 ms it waits after the last key are left out.
      await page.evaluate(() => {
        window.__lastKey = 0;
        window.__doneAt = 0;
        window.__onInput ??= document.addEventListener('input', () => (window.__lastKey = performance.now()), true) ?? true;
      });
      await box.type(q, { delay: 30 });
      const want = expected[q].toLocaleString('en-US');
      // The right total for the final query, its search finished: a prefix typed on the way can
      // have the same total (两岸关 and 两岸关系 do), and the UI may show its results meanwhile.
      await page.waitForFunction(
        ([w, query]) => {
          const done =
            (document.querySelector('[data-testid="result-count"]')?.textContent ?? '').replace(/,/g, '').includes(w.replace(/,/g, '') + ' post') &&
            new URLSearchParams(location.hash.slice(1)).get('q') === query &&
            document.querySelector('[data-testid="results"]')?.getAttribute('aria-busy') === 'false';
          if (done) window.__doneAt = performance.now();
          return done;
        },
        [want, q],
        { timeout: 30_000, polling: 'raf' },
      );
      const ms = await page.evaluate(() => window.__doneAt - window.__lastKey);
      latencies.push(ms);
      (perQuery[q] ??= []).push(ms);
      (perRound[r] ??= []).push(ms);
    }
  }
  console.log(`keystroke → results (${latencies.length} searches, from the last keystroke): p50 ${pct(latencies, 0.5).toFixed(0)} ms, p95 ${pct(latencies, 0.95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms`);

  console.log(`  per round p50/max: ${perRound.map((xs) => `${pct(xs, 0.5).toFixed(0)}/${Math.max(...xs).toFixed(0)}`).join(', ')}`);
  console.log(`  per query (max of ${rounds}): ${QUERIES.map((q) => `${q} ${Math.max(...perQuery[q]).toFixed(0)}`).join(', ')}`);

  await box.fill('');
  await page.waitForTimeout(1000);
  const scroll = await page.evaluate(async () => {
    const list = document.querySelector('[data-testid="results"]');
    const viewport = list?.closest('.viewport') ?? list;
    const frames = [];
    let last = performance.now();
    const step = viewport.clientHeight * 2;
    while (viewport.scrollTop + viewport.clientHeight < viewport.scrollHeight - 1) {
      viewport.scrollTop += step;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      frames.push(now - last);
      last = now;
      if (frames.length > 20000) break;
    }
    return { frames, height: viewport.scrollHeight };
  });
  const slow = scroll.frames.filter((f) => f > 25).length;
  console.log(`scroll: ${scroll.frames.length} frames over ${(scroll.height / 1e6).toFixed(1)} M px; median ${pct(scroll.frames, 0.5).toFixed(1)} ms, p95 ${pct(scroll.frames, 0.95).toFixed(1)} ms, max ${Math.max(...scroll.frames).toFixed(1)} ms; ${slow} frames over 25 ms (${((100 * slow) / scroll.frames.length).toFixed(1)} %)`);
  const rows = await page.getByTestId('results').getByRole('option').count();
  console.log(`rows in the DOM at the end: ${rows}`);
} finally {
  await launched.close();
  await server.stop();
}
