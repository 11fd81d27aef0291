// Takes a screenshot of the UI on sample-archive/: `node screenshot.mjs [out.png] [query]`.
import { join } from 'node:path';
import { ROOT, copyArchive, launch, serve } from './lib.mjs';

const out = process.argv[2] ?? join(ROOT, 'docs/screenshot.png');
const query = process.argv[3] ?? '';
const scheme = process.env.SCHEME ?? 'light';
const archive = copyArchive(join(ROOT, 'sample-archive'), 'sample-archive');
const server = serve(archive.root);
const { browser, close } = await launch();
try {
  const { url } = await server.url;
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: scheme, locale: process.env.LOCALE ?? 'en-US' });
  await page.goto(url);
  await page.getByTestId('results').getByRole('option').first().waitFor();
  if (query) {
    await page.getByRole('searchbox', { name: /Search|搜索/ }).fill(query);
    await page.waitForTimeout(600);
  }
  await page.getByTestId('results').getByRole('option').nth(1).click();
  await page.getByTestId('reader-title').waitFor();
  await page.waitForTimeout(300);
  await page.screenshot({ path: out });
  console.log(out);
} finally {
  await close();
  await server.stop();
  archive.remove();
}
