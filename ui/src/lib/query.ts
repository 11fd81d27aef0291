// The state of the current search, kept in location.hash so that it survives a reload and can be
// shared: `#q=<query>&sort=<sort>&post=<path>&view=problems|duplicates`. Also: facet filters written into and
// read out of the query text (`tag:"x"`, `-tag:"x"`), in the syntax of docs/QUERY.md.

import type { Sort } from './bindings/Sort';

/** Every sort (generated from Rust's `Sort`), in the order the sort menu lists them. */
export const SORTS = ['relevance', '-date', 'date', 'title', 'path'] as const satisfies readonly Sort[];
export type SortKey = Sort;
// Fails to compile when Rust gains a sort that the menu does not list.
const everySortListed: Exclude<Sort, (typeof SORTS)[number]> extends never ? true : never = true;
void everySortListed;
export const VIEWS = ['list', 'problems', 'duplicates'] as const;
export type View = (typeof VIEWS)[number];

export interface ViewState {
  q: string;
  sort: SortKey;
  /** The post open in the reader, by path relative to the archive. */
  post: string | null;
  view: View;
}

export const DEFAULT_STATE: ViewState = { q: '', sort: 'relevance', post: null, view: 'list' };

export function parseHash(hash: string): ViewState {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const sort = p.get('sort');
  return {
    q: p.get('q') ?? '',
    sort: (SORTS as readonly string[]).includes(sort ?? '') ? (sort as SortKey) : 'relevance',
    post: p.get('post') || null,
    view: (VIEWS as readonly string[]).includes(p.get('view') ?? '') ? (p.get('view') as View) : 'list',
  };
}

/** The hash for a state; defaults are left out, other parameters (not ours) are kept. */
export function toHash(state: ViewState, previous = ''): string {
  const p = new URLSearchParams(previous.replace(/^#/, ''));
  for (const k of ['q', 'sort', 'post', 'view']) p.delete(k);
  if (state.q) p.set('q', state.q);
  if (state.sort !== 'relevance') p.set('sort', state.sort);
  if (state.post) p.set('post', state.post);
  if (state.view !== 'list') p.set('view', state.view);
  const s = p.toString();
  return s ? `#${s}` : '';
}

/** The facets of the sidebar and the query field each filters on. */
export const FACET_FIELDS = {
  tags: 'tag',
  categories: 'category',
  authors: 'author',
  sites: 'site',
  years: 'date',
  months: 'date',
} as const;
export type FacetName = keyof typeof FACET_FIELDS;
export type FilterField = (typeof FACET_FIELDS)[FacetName];

/** A filter value as the query language wants it: dates bare, everything else quoted. */
export function quoteValue(field: string, value: string): string {
  if (field === 'date' && /^[0-9.-]+$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function filterToken(field: string, value: string, exclude = false): string {
  return `${exclude ? '-' : ''}${field}:${quoteValue(field, value)}`;
}

export interface FilterChip {
  field: string;
  value: string;
  exclude: boolean;
  /** The exact text of the filter in the query. */
  raw: string;
  start: number;
  end: number;
}

// A filter of one of the facet fields: `-?name:value` with a quoted (straight or Chinese quotes)
// or bare value, at the start of the query or after whitespace.
const FILTER_RE =
  /(^|[\s\u3000])(-?)(tag|tags|category|categories|author|site|date):(?:"((?:[^"\\]|\\.)*)"|“([^”]*)”|([^\s\u3000"“]+))/giu;

const CANONICAL: Record<string, string> = { tags: 'tag', categories: 'category' };

/** The facet filters written in a query, in order. */
export function listFilters(q: string): FilterChip[] {
  const out: FilterChip[] = [];
  for (const m of q.matchAll(FILTER_RE)) {
    const lead = m[1] ?? '';
    const start = (m.index ?? 0) + lead.length;
    const raw = m[0].slice(lead.length);
    const name = (m[3] ?? '').toLowerCase();
    const value = m[4] !== undefined ? m[4].replace(/\\(.)/g, '$1') : m[5] !== undefined ? m[5] : (m[6] ?? '');
    out.push({
      field: CANONICAL[name] ?? name,
      value,
      exclude: m[2] === '-',
      raw,
      start,
      end: start + raw.length,
    });
  }
  return out;
}

function sameValue(a: string, b: string): boolean {
  return a.normalize('NFKC').toLowerCase() === b.normalize('NFKC').toLowerCase();
}

/** Whether the query filters on this value: `include`, `exclude` or null. */
export function filterState(q: string, field: string, value: string): 'include' | 'exclude' | null {
  const chip = listFilters(q).find((c) => c.field === field && sameValue(c.value, value));
  return chip ? (chip.exclude ? 'exclude' : 'include') : null;
}

/** The query without the filter written at [start, end), tidied of doubled spaces. */
export function removeRange(q: string, start: number, end: number): string {
  return `${q.slice(0, start)} ${q.slice(end)}`.replace(/[ \u3000]{2,}/g, ' ').trim();
}

/**
 * Clicking a facet value: adds `field:"value"` (or `-field:"value"` when excluding). Clicking a
 * value already in the query the same way removes it; the other way round flips it.
 */
export function toggleFilter(q: string, field: string, value: string, exclude = false): string {
  const chip = listFilters(q).find((c) => c.field === field && sameValue(c.value, value));
  if (chip) {
    const without = removeRange(q, chip.start, chip.end);
    if (chip.exclude === exclude) return without;
    return [without, filterToken(field, value, exclude)].filter(Boolean).join(' ');
  }
  return [q.trim(), filterToken(field, value, exclude)].filter(Boolean).join(' ');
}

/**
 * Where in `q` the error `message` of a query the core refused points: the term the message
 * starts with (the core names the culprit first: `date:2020-13 is not a valid month…`,
 * `has:wings is not…`, `-b cannot be an OR alternative…`). The core gives no position, so this is
 * found in the text; null when the message names no term of the query (a query too long, say).
 */
export function queryErrorSpan(q: string, message: string): [number, number] | null {
  let best: [number, number] | null = null;
  for (const m of q.matchAll(/(?:"[^"]*"?|[^\s"]+)+/g)) {
    const start = m.index ?? 0;
    // The core names an excluded filter without its minus (`date:…` for `-date:…`).
    for (const skip of m[0].startsWith('-') ? [0, 1] : [0]) {
      const term = m[0].slice(skip);
      if (term.length < 2 || !message.startsWith(term)) continue;
      const next = message.charAt(term.length);
      if (next !== '' && next !== ' ' && next !== ':') continue;
      if (!best || term.length > best[1] - best[0]) best = [start + skip, start + m[0].length];
    }
  }
  return best;
}

/**
 * The facet values of `field` the query `q` excludes (`-tag:x`) and `values` does not hold: the
 * counts of a query leave out what it excludes, but the sidebar keeps them, struck through, so
 * that an exclusion can be undone where it was made.
 */
export function excludedMissing(q: string, field: string, values: readonly { value: string }[]): string[] {
  return listFilters(q)
    .filter((c) => c.exclude && c.field === field && !values.some((v) => sameValue(v.value, c.value)))
    .map((c) => c.value);
}
