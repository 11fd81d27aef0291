// The result list's state: the pages of the current search (`Pager`), the selection, the cursor,
// and the sidebar's facets for the query whose rows are shown. `run` asks for a search the way
// lib/searchflow.ts describes: rows first, facets after them, a prefetched first page used once.

import { errorText } from './errors';
import { api, ApiError } from './backend';
import type { Facets } from './bindings/Facets';
import { t } from './i18n.svelte';
import { Pager } from './paging.svelte';
import { queryErrorSpan, type SortKey } from './query';
import { FacetLoader, pageKey, Prefetch } from './searchflow';
import { Selection } from './selection.svelte';

/** A query the core refused: what is wrong, and where (the span of `query`, when known). */
export interface QueryProblem {
  query: string;
  summary: string;
  message: string;
  /** Summary and message in one line. */
  text: string;
  span: [number, number] | null;
}

/** The problem of `query` from the core's error: its message without the `invalid query:` lead. */
export function queryProblem(query: string, err: ApiError): QueryProblem {
  const message = err.message.replace(/^invalid query:\s*/i, '');
  const summary = t('error.code.bad-query');
  const text = t('error.detail', { summary, message });
  return { query, summary, message, text, span: queryErrorSpan(query, message) };
}

export interface ResultsHooks {
  /** A failure to show in the banner (a bad query shows as `queryError` instead). */
  onError: (message: string) => void;
  /** Whether the search for `q` and `sort` is still the one wanted (else it leaves `loading`). */
  isCurrent: (q: string, sort: SortKey) => boolean;
  /** Whether to ask for the facets now (not while a newer query waits to be sent). */
  wantFacets: () => boolean;
}

export class Results {
  readonly pager = new Pager();
  readonly selection = new Selection();
  /** The row the keyboard is on. */
  cursor = $state(0);
  loading = $state(false);
  /** Why the query could not be run (shown under the search box, instead of a count). */
  queryError = $state.raw<QueryProblem | null>(null);
  facets = $state.raw<Facets | null>(null);
  /** The query `facets` were counted for: when it is not the current query, they are stale. */
  facetsFor = $state<string | null>(null);

  readonly #hooks: ResultsHooks;
  readonly #facetLoader: FacetLoader;
  /** The first page, asked for at startup together with `archive_info`. */
  #prefetch: Prefetch | null = null;

  constructor(hooks: ResultsHooks) {
    this.#hooks = hooks;
    this.#facetLoader = new FacetLoader(
      (query) => api.facets(query).then((r) => r.facets),
      (f, q) => {
        this.facets = f;
        this.facetsFor = q;
      },
      (e) => {
        // A count the core stopped (a search for another query came) is not the user's
        // concern: the facets of the query shown are asked for again when it is run again.
        const err = ApiError.from(e);
        if (err.code !== 'bad-query' && err.code !== 'cancelled') hooks.onError(errorText(err));
      },
    );
  }

  /** How many rows the search found. */
  get total(): number {
    return this.pager.total;
  }

  /** Asks for the first page of `q` now; `run` uses the answer if it asks for the same. */
  prefetch(q: string, sort: SortKey) {
    const limit = this.pager.pageSize;
    this.#prefetch = new Prefetch(
      pageKey(q, sort, limit),
      api.search({ query: q, sort, offset: 0, limit, facets: false }),
    );
  }

  /** The archive changed: the facets shown are stale until they are counted again. */
  resetFacets() {
    this.#facetLoader.reset();
    this.facetsFor = null;
  }

  /** Rows first: the first page comes without facets; the sidebar's facets follow. */
  async run(q: string, sort: SortKey) {
    this.selection.clear();
    this.cursor = 0;
    this.loading = true;
    this.#facetLoader.invalidate();
    const early = this.#prefetch?.take(pageKey(q, sort, this.pager.pageSize)) ?? null;
    this.#prefetch = null;
    try {
      const res = await this.pager.reset(async (offset, limit, first) => {
        const ready = first && early ? await early : null;
        return ready ?? api.search({ query: q, sort, offset, limit, facets: false });
      });
      if (!res) return;
      this.queryError = null;
      // Unless the user has typed on: then the next query's facets are the ones wanted.
      if (this.#hooks.wantFacets()) void this.#facetLoader.load(q);
    } catch (e) {
      const err = ApiError.from(e);
      if (err.code === 'bad-query') this.queryError = queryProblem(q, err);
      else this.#hooks.onError(errorText(err));
    } finally {
      if (this.#hooks.isCurrent(q, sort)) this.loading = false;
    }
  }
}
