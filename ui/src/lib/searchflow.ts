// How the app asks for results, so that rows show as soon as possible:
//
// - rows first: the first page is asked for without facets (`facets: false`), and the sidebar's
//   facets follow in their own request once the rows are shown (`FacetLoader`). Facets depend on
//   the query only, so a new sort reuses them;
// - only the latest query counts: a facets answer for a query the user has typed past is
//   dropped, and no facets are asked for while another query is waiting to be sent;
// - at startup the first page is asked for together with `archive_info` (`Prefetch`), instead
//   of one round trip after it.

import type { Facets } from './bindings/Facets';
import type { SearchResponse } from './bindings/SearchResponse';

/** The first page of results for a query, asked for before the app was ready to show it. */
export class Prefetch {
  private promise: Promise<SearchResponse | null> | null;

  constructor(
    readonly key: string,
    promise: Promise<SearchResponse>,
  ) {
    // A failed prefetch (no archive open yet, not indexed…) is simply not used.
    this.promise = promise.catch(() => null);
  }

  /** The answer, once, if it was for `key`; null otherwise (ask again). */
  take(key: string): Promise<SearchResponse | null> | null {
    if (key !== this.key || !this.promise) return null;
    const p = this.promise;
    this.promise = null;
    return p;
  }
}

/** The key of a first page: the query, the sort and the page size. */
export function pageKey(query: string, sort: string, limit: number): string {
  return JSON.stringify([query, sort, limit]);
}

/** Loads the facets of the query whose rows are shown; answers for older queries are dropped. */
export class FacetLoader {
  private generation = 0;
  private shownFor: string | null = null;

  constructor(
    private readonly fetch: (query: string) => Promise<Facets>,
    private readonly onFacets: (facets: Facets, query: string) => void,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** A new query is on its way: whatever facets are still coming are stale. */
  invalidate() {
    this.generation++;
  }

  /** Forget what was loaded (the archive changed): the next `load` asks again. */
  reset() {
    this.invalidate();
    this.shownFor = null;
  }

  /**
   * Loads the facets of `query`, unless they are the ones already shown. Resolves true if new
   * facets were delivered.
   */
  async load(query: string): Promise<boolean> {
    if (query === this.shownFor) return false;
    const gen = ++this.generation;
    try {
      const facets = await this.fetch(query);
      if (gen !== this.generation) return false;
      this.shownFor = query;
      this.onFacets(facets, query);
      return true;
    } catch (e) {
      if (gen === this.generation) this.onError(e);
      return false;
    }
  }
}
