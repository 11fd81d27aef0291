import { beforeEach, describe, expect, it, vi } from 'vitest';
import { api } from './backend';
import type { Facets } from './bindings/Facets';
import type { SearchResponse } from './bindings/SearchResponse';
import { Results, type ResultsHooks } from './results.svelte';

vi.mock('./backend', async (original) => ({
  ...(await original<typeof import('./backend')>()),
  api: { search: vi.fn(), facets: vi.fn() },
}));

const search = vi.mocked(api.search);
const facets = vi.mocked(api.facets);
const FACETS = { tags: [{ value: 'news', count: 2 }] } as unknown as Facets;

function page(total: number): SearchResponse {
  const hits = Array.from({ length: total }, (_, i) => ({ path: `p${i}.md`, title: `post ${i}` }));
  return { total, hits, facets: null } as unknown as SearchResponse;
}

/** Lets every settled promise run its callbacks (the facets load after the rows). */
const settle = () => new Promise((resolve) => setTimeout(resolve));

function results(hooks: Partial<ResultsHooks> = {}) {
  const errors: string[] = [];
  const r = new Results({
    onError: (m) => errors.push(m),
    isCurrent: () => true,
    wantFacets: () => true,
    ...hooks,
  });
  return { r, errors };
}

beforeEach(() => {
  search.mockReset();
  facets.mockReset();
  facets.mockResolvedValue({ facets: FACETS } as never);
});

describe('Results', () => {
  it('a new search clears the selection and the cursor, shows the rows, then the facets', async () => {
    search.mockResolvedValue(page(3));
    const { r, errors } = results();
    r.selection.click(1);
    r.cursor = 2;
    await r.run('two', '-date');
    expect(search).toHaveBeenCalledWith({ query: 'two', sort: '-date', offset: 0, limit: 50, facets: false });
    expect(r.selection.count(3)).toBe(0);
    expect(r.cursor).toBe(0);
    expect(r.total).toBe(3);
    expect(r.loading).toBe(false);
    await settle();
    expect(facets).toHaveBeenCalledWith('two');
    expect(r.facets).toBe(FACETS);
    expect(r.facetsFor).toBe('two');
    expect(errors).toEqual([]);
  });

  it('asks for no facets while a newer query waits, and keeps loading for a search no longer wanted', async () => {
    search.mockResolvedValue(page(1));
    const { r } = results({ wantFacets: () => false, isCurrent: () => false });
    await r.run('old', 'relevance');
    await settle();
    expect(facets).not.toHaveBeenCalled();
    expect(r.loading).toBe(true);
  });

  it('a bad query shows under the box; any other failure goes to the banner', async () => {
    const { r, errors } = results();
    search.mockRejectedValueOnce({ code: 'bad-query', message: 'unclosed quote' });
    await r.run('"x', 'relevance');
    expect(r.queryError?.text).toBe('The search is not valid: unclosed quote');
    expect(r.total).toBe(0);
    expect(errors).toEqual([]);

    // Without the core's `invalid query:` lead, and the culprit found in the query.
    search.mockRejectedValueOnce({ code: 'bad-query', message: 'invalid query: date:2020-13 is not a valid month' });
    await r.run('a date:2020-13', 'relevance');
    expect(r.queryError?.message).toBe('date:2020-13 is not a valid month');
    expect(r.queryError?.span).toEqual([2, 14]);

    search.mockRejectedValueOnce({ code: 'io', message: 'disk gone' });
    await r.run('y', 'relevance');
    expect(errors).toEqual(['A file or folder could not be read or written: disk gone']);
  });

  it('facets the core stopped are no error, and are asked for again with the query', async () => {
    search.mockResolvedValue(page(2));
    facets.mockRejectedValueOnce({ code: 'cancelled', message: 'cancelled' });
    const { r, errors } = results();
    await r.run('q', 'relevance');
    await settle();
    expect(r.facets).toBe(null);
    expect(errors).toEqual([]);
    await r.run('q', 'relevance');
    await settle();
    expect(facets).toHaveBeenCalledTimes(2);
    expect(r.facets).toBe(FACETS);
  });

  it('uses a prefetched first page once, for the same query and sort only', async () => {
    search.mockResolvedValue(page(2));
    const { r } = results();
    r.prefetch('q', 'relevance');
    expect(search).toHaveBeenCalledTimes(1);
    await r.run('q', 'relevance');
    expect(search).toHaveBeenCalledTimes(1);
    expect(r.total).toBe(2);
    await r.run('q', 'relevance');
    expect(search).toHaveBeenCalledTimes(2);

    r.prefetch('q', 'relevance');
    await r.run('q', 'title');
    expect(search).toHaveBeenCalledTimes(4);
  });
});
