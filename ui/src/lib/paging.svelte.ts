// The result list's data: pages of `pageSize` rows fetched by offset as the list scrolls, so that
// a 70,000-row result never crosses the IPC at once. Pages far from what is on screen are dropped.
// A new query starts a new generation; answers to an older generation are ignored.
//
// Reactive state (Svelte runes): `total`, `ready`, `error`, `generation` and the loaded pages are
// read by the list directly, so what reads `get(i)` or `total` follows the pages as they arrive.

import { SvelteMap } from 'svelte/reactivity';
import type { SearchHit } from './bindings/SearchHit';
import type { SearchResponse } from './bindings/SearchResponse';

export type PageFetcher = (offset: number, limit: number, first: boolean) => Promise<SearchResponse>;

export class Pager {
  readonly pageSize: number;
  readonly maxPages: number;
  total = $state(0);
  /** Whether the first page of the current generation has arrived. */
  ready = $state(false);
  error = $state.raw<unknown>(null);

  private pages = new SvelteMap<number, SearchHit[]>();
  /** Pages on their way (not reactive: nothing shows them). */
  private inflight = new Set<number>();
  #generation = $state(0);
  private fetcher: PageFetcher | null = null;
  private onChange: () => void;

  // 50 rows fill two screens of the list; a smaller first page comes back sooner (every hit
  // carries a snippet that the core reads from the post's file).
  constructor(onChange: () => void = () => {}, pageSize = 50, maxPages = 40) {
    this.onChange = onChange;
    this.pageSize = pageSize;
    this.maxPages = maxPages;
  }

  /** Counts queries: each `reset` starts a new generation (the list scrolls back to the top). */
  get generation(): number {
    return this.#generation;
  }

  /** Starts over with a new query; resolves with the first page (null if superseded). */
  async reset(fetcher: PageFetcher): Promise<SearchResponse | null> {
    const gen = ++this.#generation;
    this.fetcher = fetcher;
    this.inflight.clear();
    this.error = null;
    this.inflight.add(0);
    try {
      const res = await fetcher(0, this.pageSize, true);
      if (gen !== this.#generation) return null;
      this.pages.clear();
      this.pages.set(0, res.hits);
      this.total = res.total;
      this.ready = true;
      return res;
    } catch (e) {
      if (gen !== this.#generation) return null;
      this.error = e;
      this.pages.clear();
      this.total = 0;
      this.ready = true;
      throw e;
    } finally {
      if (gen === this.#generation) {
        this.inflight.delete(0);
        this.onChange();
      }
    }
  }

  /** The hit at row `i`, if its page is loaded. */
  get(i: number): SearchHit | undefined {
    return this.pages.get(Math.floor(i / this.pageSize))?.[i % this.pageSize];
  }

  isLoaded(page: number): boolean {
    return this.pages.has(page);
  }

  get loadedPages(): number[] {
    return [...this.pages.keys()].sort((a, b) => a - b);
  }

  /** Makes sure rows [from, to) are loaded or on their way; returns when they have arrived. */
  async ensure(from: number, to: number): Promise<void> {
    if (!this.fetcher || !this.ready || this.total === 0) return;
    const last = Math.min(to, this.total) - 1;
    if (last < 0) return;
    const first = Math.floor(Math.max(0, from) / this.pageSize);
    const lastPage = Math.floor(last / this.pageSize);
    const gen = this.#generation;
    const fetcher = this.fetcher;
    const jobs: Promise<void>[] = [];
    for (let p = first; p <= lastPage; p++) {
      if (this.pages.has(p) || this.inflight.has(p)) continue;
      this.inflight.add(p);
      jobs.push(
        fetcher(p * this.pageSize, this.pageSize, false)
          .then((res) => {
            if (gen !== this.#generation) return;
            this.pages.set(p, res.hits);
            this.total = res.total;
            this.evict(first, lastPage);
          })
          .catch((e: unknown) => {
            if (gen === this.#generation) this.error = e;
          })
          .finally(() => {
            if (gen !== this.#generation) return;
            this.inflight.delete(p);
            this.onChange();
          }),
      );
    }
    await Promise.all(jobs);
  }

  /** Drops the pages farthest from [first, last] beyond `maxPages`. */
  private evict(first: number, last: number) {
    if (this.pages.size <= this.maxPages) return;
    const dist = (p: number) => (p < first ? first - p : p > last ? p - last : 0);
    const order = [...this.pages.keys()].sort((a, b) => dist(b) - dist(a));
    for (const p of order) {
      if (this.pages.size <= this.maxPages) break;
      if (dist(p) > 0) this.pages.delete(p);
    }
  }
}

/** The rows to render for a scroll position: [first, last) with `overscan` rows each side. */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  total: number,
  overscan = 8,
): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return [first, Math.max(first, last)];
}
