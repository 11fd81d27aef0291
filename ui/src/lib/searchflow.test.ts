import { describe, expect, it, vi } from 'vitest';
import type { Facets } from './bindings/Facets';
import type { SearchResponse } from './bindings/SearchResponse';
import { FacetLoader, pageKey, Prefetch } from './searchflow';

const facets = (tag: string) => ({ tags: [{ value: tag, count: 1 }] }) as unknown as Facets;
const page = (total: number) => ({ total, hits: [] }) as unknown as SearchResponse;

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Prefetch', () => {
  it('hands its answer out once, and only for the same query, sort and page size', async () => {
    const p = new Prefetch(pageKey('两岸', 'relevance', 50), Promise.resolve(page(7)));
    expect(p.take(pageKey('两岸', '-date', 50))).toBeNull();
    expect(p.take(pageKey('两岸', 'relevance', 100))).toBeNull();
    await expect(p.take(pageKey('两岸', 'relevance', 50))).resolves.toEqual(page(7));
    expect(p.take(pageKey('两岸', 'relevance', 50))).toBeNull();
  });

  it('turns a failed prefetch into null (the app asks again)', async () => {
    const p = new Prefetch(pageKey('', 'relevance', 50), Promise.reject(new Error('no-archive')));
    await expect(p.take(pageKey('', 'relevance', 50))).resolves.toBeNull();
  });
});

describe('FacetLoader', () => {
  it('delivers the facets of the query and does not ask twice for the same query', async () => {
    const fetch = vi.fn(async (q: string) => facets(q));
    const got: string[] = [];
    const loader = new FacetLoader(fetch, (_f, q) => got.push(q));
    expect(await loader.load('两岸')).toBe(true);
    // A new sort of the same query: the facets are the same.
    loader.invalidate();
    expect(await loader.load('两岸')).toBe(false);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(got).toEqual(['两岸']);
    // The archive changed: ask again.
    loader.reset();
    expect(await loader.load('两岸')).toBe(true);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('drops facets of a query the user has typed past', async () => {
    const slow = deferred<Facets>();
    const fetch = vi.fn((q: string) => (q === '两' ? slow.promise : Promise.resolve(facets(q))));
    const got: string[] = [];
    const loader = new FacetLoader(fetch, (_f, q) => got.push(q));
    const first = loader.load('两');
    loader.invalidate(); // the next query's search started
    expect(await loader.load('两岸')).toBe(true);
    slow.resolve(facets('两'));
    expect(await first).toBe(false);
    expect(got).toEqual(['两岸']);
    // A stale query's facets never counted as shown: asking for it again fetches.
    expect(await loader.load('两')).toBe(true);
  });

  it('reports errors of the current query only', async () => {
    const onError = vi.fn();
    const bad = deferred<Facets>();
    const loader = new FacetLoader(
      (q) => (q === 'old' ? bad.promise : Promise.reject(new Error('broken'))),
      () => {},
      onError,
    );
    const old = loader.load('old');
    loader.invalidate();
    bad.reject(new Error('stale'));
    await old;
    expect(onError).not.toHaveBeenCalled();
    await loader.load('new');
    expect(onError).toHaveBeenCalledWith(new Error('broken'));
  });
});
