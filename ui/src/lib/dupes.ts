// The Duplicates view's pure logic: which groups show (kind, minimum similarity) and in which
// order, a group's identity, the keys of the view, the request that resolves a group, and a
// bounded side-by-side comparison of two posts' text. No api calls here (see dupestate.svelte.ts).

import type { DuplicateGroup } from './bindings/DuplicateGroup';
import type { DuplicateKind } from './bindings/DuplicateKind';
import type { DuplicatePost } from './bindings/DuplicatePost';
import type { ResolveAction } from './bindings/ResolveAction';
import type { ResolveRequest } from './bindings/ResolveRequest';

export const DUPE_KINDS = ['exact', 'url', 'near'] as const satisfies readonly DuplicateKind[];
export type KindFilter = 'all' | DuplicateKind;

export interface GroupFilter {
  kind: KindFilter;
  /** Groups less similar than this are hidden (0–1). */
  minSimilarity: number;
}

/** The path of a group's post as the api wants it (`hex:` for a name that is not UTF-8). */
export function dupePath(p: Pick<DuplicatePost, 'path' | 'path_bytes_hex'>): string {
  return p.path_bytes_hex ? `hex:${p.path_bytes_hex}` : p.path;
}

/** A group's identity: its kind and its posts (the same group after a run again). */
export function groupId(g: Pick<DuplicateGroup, 'kind' | 'posts'>): string {
  return `${g.kind}\u0000${g.posts.map(dupePath).join('\u0000')}`;
}

/** The groups the filter lets through: larger groups first, then more similar, then by kind and path. */
export function shownGroups(groups: readonly DuplicateGroup[], f: GroupFilter): DuplicateGroup[] {
  const order = (k: DuplicateKind) => DUPE_KINDS.indexOf(k);
  return groups
    .filter((g) => (f.kind === 'all' || g.kind === f.kind) && g.similarity + 1e-9 >= f.minSimilarity)
    .sort(
      (a, b) =>
        b.posts.length - a.posts.length ||
        b.similarity - a.similarity ||
        order(a.kind) - order(b.kind) ||
        (a.posts[0]?.path ?? '').localeCompare(b.posts[0]?.path ?? ''),
    );
}

/** Groups per kind (for the filter's labels). */
export function countKinds(groups: readonly DuplicateGroup[]): Record<DuplicateKind, number> {
  const out: Record<DuplicateKind, number> = { exact: 0, url: 0, near: 0 };
  for (const g of groups) out[g.kind]++;
  return out;
}

/** Every path of every group (the duplicate badge of the list and the reader). */
export function groupPaths(groups: readonly DuplicateGroup[]): Set<string> {
  const out = new Set<string>();
  for (const g of groups) for (const p of g.posts) out.add(p.path);
  return out;
}

/** A similarity as a percentage for people (`exact` and `url` groups are 100 %). */
export function percent(similarity: number): number {
  return Math.round(Math.max(0, Math.min(1, similarity)) * 100);
}

/** What a key does in the Duplicates view (outside text fields), or null. */
export type DupeKeyAction =
  | { kind: 'move'; delta: number }
  | { kind: 'compare'; delta: number }
  | { kind: 'keep'; side: 'left' | 'right' }
  | { kind: 'not-duplicates' }
  | { kind: 'rerun' };

export function dupeKey(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>): DupeKeyAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  switch (e.key) {
    case 'j':
    case 'ArrowDown':
      return { kind: 'move', delta: 1 };
    case 'k':
    case 'ArrowUp':
      return { kind: 'move', delta: -1 };
    case 'l':
    case 'ArrowRight':
      return { kind: 'compare', delta: 1 };
    case 'h':
    case 'ArrowLeft':
      return { kind: 'compare', delta: -1 };
    case '1':
      return { kind: 'keep', side: 'left' };
    case '2':
      return { kind: 'keep', side: 'right' };
    case 'n':
      return { kind: 'not-duplicates' };
    case 'r':
      return { kind: 'rerun' };
    default:
      return null;
  }
}

export type ActionKind = ResolveAction['kind'];

export interface ResolveForm {
  /** The post kept, by api path. */
  keep: string;
  action: ActionKind;
  tag: string;
  folder: string;
  recordSources: boolean;
}

/** The resolve request of a group and a form, or a message key when the form is not complete. */
export function resolveRequest(g: DuplicateGroup, form: ResolveForm): { request: ResolveRequest } | { error: string } {
  const paths = g.posts.map(dupePath);
  if (!paths.includes(form.keep)) return { error: 'dupes.error.keep' };
  let action: ResolveAction;
  if (form.action === 'tag') {
    const tag = form.tag.trim();
    if (!tag) return { error: 'dupes.error.tag' };
    action = { kind: 'tag', tag };
  } else if (form.action === 'move') {
    const folder = form.folder.trim().replace(/^\/+|\/+$/g, '');
    if (!folder) return { error: 'dupes.error.folder' };
    action = { kind: 'move', folder };
  } else {
    action = { kind: 'delete' };
  }
  const hashes: Record<string, string> = {};
  for (const p of g.posts) hashes[dupePath(p)] = p.hash;
  return {
    request: {
      keep: form.keep,
      others: paths.filter((p) => p !== form.keep),
      hashes,
      action,
      record_sources: form.recordSources,
    },
  };
}

// ---- Comparing two texts -------------------------------------------------------------------

/** A run of text, marked when it differs from the other side. */
export interface Part {
  text: string;
  mark: boolean;
}

/** One line of one side: its parts, and whether any of it differs. */
export interface CompareLine {
  parts: Part[];
  changed: boolean;
}

export interface Comparison {
  left: CompareLine[];
  right: CompareLine[];
  /** Either text was cut to the limits before comparing. */
  truncated: boolean;
  /** Lines that differ on each side. */
  changedLeft: number;
  changedRight: number;
}

/** Characters of each text compared (a huge post is cut, and says so). */
export const COMPARE_CHARS = 40_000;
/** Lines of each text compared after the common start and end are set aside. */
export const COMPARE_LINES = 1_500;
/** Above this many cells, the middle is not aligned line by line but marked as changed. */
const LCS_CELLS = 1_500_000;

function lines(text: string): string[] {
  // Blank lines only separate paragraphs: each line shows as one.
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
}

/** The two sides of a pair of lines that differ: the common start and end plain, the middle marked. */
function charParts(a: string, b: string): [Part[], Part[]] {
  const ca = Array.from(a);
  const cb = Array.from(b);
  let start = 0;
  while (start < ca.length && start < cb.length && ca[start] === cb[start]) start++;
  let end = 0;
  while (end < ca.length - start && end < cb.length - start && ca[ca.length - 1 - end] === cb[cb.length - 1 - end])
    end++;
  const side = (c: string[]): Part[] =>
    [
      { text: c.slice(0, start).join(''), mark: false },
      { text: c.slice(start, c.length - end).join(''), mark: true },
      { text: c.slice(c.length - end).join(''), mark: false },
    ].filter((p) => p.text !== '');
  return [side(ca), side(cb)];
}

const same = (text: string): CompareLine => ({ parts: [{ text, mark: false }], changed: false });
const changed = (text: string): CompareLine => ({ parts: [{ text, mark: true }], changed: true });

/**
 * The two texts side by side with their differences marked: lines are aligned (the longest
 * common subsequence of lines, bounded), and within a changed line that pairs with one on the
 * other side, the characters between their common start and end are marked. Bounded: each
 * text is cut at `COMPARE_CHARS`, and a middle too large to align is marked as changed whole.
 */
export function compareTexts(a: string, b: string): Comparison {
  const truncated = a.length > COMPARE_CHARS || b.length > COMPARE_CHARS;
  const la = lines(a.slice(0, COMPARE_CHARS));
  const lb = lines(b.slice(0, COMPARE_CHARS));
  let head = 0;
  while (head < la.length && head < lb.length && la[head] === lb[head]) head++;
  let tail = 0;
  while (tail < la.length - head && tail < lb.length - head && la[la.length - 1 - tail] === lb[lb.length - 1 - tail])
    tail++;
  const ma = la.slice(head, la.length - tail);
  const mb = lb.slice(head, lb.length - tail);
  const left: CompareLine[] = la.slice(0, head).map(same);
  const right: CompareLine[] = lb.slice(0, head).map(same);

  // Pairs of equal lines in the middle (indices into ma, mb), in order.
  const matches: [number, number][] = [];
  const n = Math.min(ma.length, COMPARE_LINES);
  const m = Math.min(mb.length, COMPARE_LINES);
  if (n > 0 && m > 0 && n * m <= LCS_CELLS) {
    const w = m + 1;
    const table = new Uint16Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        table[i * w + j] =
          ma[i] === mb[j] ? table[(i + 1) * w + j + 1]! + 1 : Math.max(table[(i + 1) * w + j]!, table[i * w + j + 1]!);
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (ma[i] === mb[j]) {
        matches.push([i, j]);
        i++;
        j++;
      } else if (table[(i + 1) * w + j]! >= table[i * w + j + 1]!) i++;
      else j++;
    }
  }
  // Between two matches: the changed lines of each side, paired one to one for character marks.
  let i = 0;
  let j = 0;
  const flush = (toI: number, toJ: number) => {
    const da = ma.slice(i, toI);
    const db = mb.slice(j, toJ);
    for (let k = 0; k < Math.max(da.length, db.length); k++) {
      const x = da[k];
      const y = db[k];
      if (x !== undefined && y !== undefined) {
        const [pa, pb] = charParts(x, y);
        left.push({ parts: pa, changed: true });
        right.push({ parts: pb, changed: true });
      } else if (x !== undefined) left.push(changed(x));
      else if (y !== undefined) right.push(changed(y));
    }
    i = toI;
    j = toJ;
  };
  for (const [mi, mj] of matches) {
    flush(mi, mj);
    left.push(same(ma[mi]!));
    right.push(same(mb[mj]!));
    i = mi + 1;
    j = mj + 1;
  }
  flush(ma.length, mb.length);
  for (const l of la.slice(la.length - tail)) left.push(same(l));
  for (const l of lb.slice(lb.length - tail)) right.push(same(l));
  return {
    left,
    right,
    truncated,
    changedLeft: left.filter((l) => l.changed).length,
    changedRight: right.filter((l) => l.changed).length,
  };
}
