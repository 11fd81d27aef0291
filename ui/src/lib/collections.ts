// Collections in the UI: the query that shows one (`collection:"NAME"`, docs/QUERY.md), which
// collection the current query shows, names the core would refuse, and sidebar reordering.

import type { CollectionSummary } from './bindings/CollectionSummary';

/** Characters that close a quoted value in the query language (`"`, `＂`, `”`). */
const CLOSERS = new Set(['"', '\uFF02', '\u201D']);

/** `text` as a quoted query value that reads back as exactly `text`. */
export function quoteQueryValue(text: string): string {
  let out = '"';
  for (const c of text) {
    if (c === '\\' || CLOSERS.has(c)) out += '\\';
    out += c;
  }
  return `${out}"`;
}

/** The query that lists a collection's posts. */
export function collectionQuery(name: string): string {
  return `collection:${quoteQueryValue(name)}`;
}

/** The text of a quoted value (after its opening quote), escapes undone; null if unclosed. */
function readQuoted(s: string): { value: string; rest: string } | null {
  let value = '';
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\') {
      const next = chars[i + 1];
      if (next !== undefined && (CLOSERS.has(next) || next === '\\')) {
        value += next;
        i++;
      } else value += c;
    } else if (CLOSERS.has(c)) {
      return { value, rest: chars.slice(i + 1).join('') };
    } else value += c;
  }
  return null;
}

/**
 * The collection a query is exactly about (`collection:"NAME"`, `in:NAME`; nothing else in the
 * query), or null. Only then does the list show that collection and nothing else.
 */
export function queryCollectionName(query: string): string | null {
  const m = /^[\s\u3000]*(?:collection|in):/iu.exec(query);
  if (!m) return null;
  const after = query.slice(m[0].length);
  const open = after[0];
  if (open === '"' || open === '\u201C' || open === '\uFF02') {
    const q = readQuoted(after.slice(1));
    if (!q || q.rest.trim() !== '' || q.value.trim() === '') return null;
    return q.value.trim();
  }
  const bare = after.trim();
  if (!bare || /[\s\u3000"“＂]/u.test(bare)) return null;
  return bare;
}

/** The collection (of `list`) that `query` shows; names match as the core matches them. */
export function shownCollection(query: string, list: readonly CollectionSummary[]): CollectionSummary | null {
  const name = queryCollectionName(query);
  if (name === null) return null;
  return (
    list.find((c) => c.name === name) ??
    list.find((c) => c.name.toLowerCase() === name.toLowerCase()) ??
    list.find((c) => c.id === name) ??
    null
  );
}

export type NameProblem = 'collections.nameEmpty' | 'collections.nameTaken';

/** Why the core would refuse `name` for a new (or renamed: `except` its id) collection. */
export function nameProblem(
  name: string,
  list: readonly Pick<CollectionSummary, 'id' | 'name'>[],
  except?: string,
): NameProblem | null {
  const wanted = name.trim().toLowerCase();
  if (!wanted) return 'collections.nameEmpty';
  if (list.some((c) => c.id !== except && c.name.toLowerCase() === wanted)) return 'collections.nameTaken';
  return null;
}

/** A name for a saved search: the query itself, shortened, made unique in `list`. */
export function suggestName(query: string, list: readonly Pick<CollectionSummary, 'id' | 'name'>[]): string {
  const chars = [...query.trim().replace(/[\s\u3000]+/gu, ' ')];
  const base = chars.length > 48 ? `${chars.slice(0, 47).join('').trimEnd()}…` : chars.join('');
  if (!base) return '';
  let name = base;
  for (let n = 2; nameProblem(name, list) !== null; n++) name = `${base} (${n})`;
  return name;
}

/** The sidebar position a collection moves to (`delta` −1 up, +1 down), or null at an end. */
export function movedPosition(index: number, delta: number, length: number): number | null {
  const to = index + delta;
  return to < 0 || to >= length || index < 0 || index >= length ? null : to;
}
