import { describe, expect, it, vi } from 'vitest';
import type { SearchHit } from './bindings/SearchHit';
import type { SearchResponse } from './bindings/SearchResponse';
import { Pager, visibleRange, type PageFetcher } from './paging.svelte';

function hit(i: number): SearchHit {
  return {
    id: i,
    path: `p${i}.md`,
    path_bytes_hex: null,
    title: `post ${i}`,
    date: null,
    author: null,
    source: null,
    site: null,
    tags: [],
    categories: [],
    snippet: '',
    snippet_highlights: [],
    title_highlights: [],
    has_problem: false,
  };
}

/** A fake backend with `total` rows; JSON numbers, as the transports really deliver them. */
function fakeFetcher(total: number) {
  const calls: Array<[number, number, boolean]> = [];
  const fetcher: PageFetcher = async (offset, limit, first) => {
    calls.push([offset, limit, first]);
    const hits = [];
    for (let i = offset; i < Math.min(total, offset + limit); i++) hits.push(hit(i));
    return { total, hits, facets: null } as unknown as SearchResponse;
  };
  return { fetcher, calls };
}

describe('Pager', () => {
  it('loads the first page with facets, then pages of 100 on demand', async () => {
    const onChange = vi.fn();
    const pager = new Pager(onChange, 100, 30);
    const { fetcher, calls } = fakeFetcher(70_000);
    const first = await pager.reset(fetcher);
    expect(first?.hits).toHaveLength(100);
    expect(pager.total).toBe(70_000);
    expect(calls).toEqual([[0, 100, true]]);
    expect(pager.get(99)?.title).toBe('post 99');
    expect(pager.get(100)).toBeUndefined();

    await pager.ensure(150, 260);
    expect(calls.slice(1)).toEqual([
      [100, 100, false],
      [200, 100, false],
    ]);
    expect(pager.get(250)?.title).toBe('post 250');
    expect(onChange).toHaveBeenCalled();

    // Already loaded or on the way: no new request.
    await Promise.all([pager.ensure(120, 130), pager.ensure(120, 130)]);
    expect(calls).toHaveLength(3);
  });

  it('never holds more than maxPages pages, dropping the farthest', async () => {
    const pager = new Pager(() => {}, 100, 5);
    const { fetcher } = fakeFetcher(70_000);
    await pager.reset(fetcher);
    for (let p = 1; p < 40; p++) await pager.ensure(p * 100, p * 100 + 50);
    expect(pager.loadedPages.length).toBeLessThanOrEqual(5);
    expect(pager.isLoaded(39)).toBe(true);
    expect(pager.isLoaded(0)).toBe(false);
    // Scrolling back fetches the page again.
    await pager.ensure(0, 10);
    expect(pager.get(5)?.title).toBe('post 5');
  });

  it('ignores answers to a superseded query', async () => {
    const pager = new Pager(() => {}, 100);
    let release: (r: SearchResponse) => void = () => {};
    const slow: PageFetcher = () => new Promise((r) => (release = r));
    const stale = pager.reset(slow);
    const { fetcher } = fakeFetcher(3);
    await pager.reset(fetcher);
    release({ total: 999, hits: [hit(42)], facets: null } as unknown as SearchResponse);
    expect(await stale).toBeNull();
    expect(pager.total).toBe(3);
    expect(pager.get(0)?.title).toBe('post 0');
  });

  it('does not ask for rows past the end', async () => {
    const pager = new Pager(() => {}, 100);
    const { fetcher, calls } = fakeFetcher(150);
    await pager.reset(fetcher);
    await pager.ensure(0, 10_000);
    expect(calls).toEqual([
      [0, 100, true],
      [100, 100, false],
    ]);
    expect(pager.get(149)?.title).toBe('post 149');
  });

  it('reports a failed first page and starts empty', async () => {
    const pager = new Pager(() => {}, 100);
    const boom = { code: 'bad-query', message: 'no' };
    await expect(pager.reset(() => Promise.reject(boom))).rejects.toBe(boom);
    expect(pager.total).toBe(0);
    expect(pager.error).toBe(boom);
  });
});

describe('Pager.generation', () => {
  it('counts queries: one more for every reset, none for pages loaded on demand', async () => {
    const pager = new Pager(() => {}, 100);
    const { fetcher } = fakeFetcher(1000);
    expect(pager.generation).toBe(0);
    await pager.reset(fetcher);
    await pager.ensure(0, 500);
    expect(pager.generation).toBe(1);
    await pager.reset(fetcher);
    expect(pager.generation).toBe(2);
    expect(pager.loadedPages).toEqual([0]);
  });
});

describe('visibleRange', () => {
  it('covers the viewport plus overscan, clamped to the list', () => {
    expect(visibleRange(0, 760, 76, 70_000, 5)).toEqual([0, 15]);
    expect(visibleRange(76 * 1000, 760, 76, 70_000, 5)).toEqual([995, 1015]);
    expect(visibleRange(76 * 69_995, 760, 76, 70_000, 5)).toEqual([69_990, 70_000]);
    expect(visibleRange(0, 760, 76, 0)).toEqual([0, 0]);
  });
});
