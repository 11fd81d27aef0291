// The Duplicates view's state: the last run of `duplicates` (with progress and cancel), the
// filter, the group under the cursor and the two of its posts compared, and what happens on its
// keys and after a resolve or a "not duplicates". The api is injected (tests fake it).
//
// The paths of the last run's groups are also the duplicate badge of the result list and the
// reader (`dupeBadge`): kept here, and in sessionStorage so a reload keeps them, rather than
// running `duplicates` on every search.

import type { DuplicateGroup } from './bindings/DuplicateGroup';
import type { DuplicatesResponse } from './bindings/DuplicatesResponse';
import type { JobProgress } from './bindings/JobProgress';
import type { PostDetail } from './bindings/PostDetail';
import { COMPARE_CHARS, dupeKey, dupePath, groupId, groupPaths, shownGroups, type KindFilter } from './dupes';
import { errorText } from './errors';

const BADGE_KEY = 'shelfmark.duplicates';
/** Paths remembered across a reload at most (the badge of a huge archive's first ones). */
const BADGE_SAVED = 50_000;

function loadBadge(): Set<string> {
  try {
    const raw = globalThis.sessionStorage?.getItem(BADGE_KEY);
    const list: unknown = raw ? JSON.parse(raw) : [];
    return new Set(Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : []);
  } catch {
    return new Set();
  }
}

/** The posts in a group of the last duplicates run (the badge). */
export const dupeBadge = $state({ paths: loadBadge() as ReadonlySet<string> });

/** Replaces the badge's set with the paths of `groups`. */
export function rememberDuplicates(groups: readonly DuplicateGroup[]) {
  const paths = groupPaths(groups);
  dupeBadge.paths = paths;
  try {
    globalThis.sessionStorage?.setItem(BADGE_KEY, JSON.stringify([...paths].slice(0, BADGE_SAVED)));
  } catch {
    // Not remembered across a reload; still shown now.
  }
}

export function isDuplicate(path: string | null | undefined): boolean {
  return path !== null && path !== undefined && dupeBadge.paths.has(path);
}

/** What the view needs of the core. */
export interface DupesApi {
  run(onProgress: (p: JobProgress) => void): Promise<DuplicatesResponse>;
  cancel(): Promise<unknown>;
  show(path: string): Promise<Pick<PostDetail, 'text'>>;
  notDuplicates(paths: string[]): Promise<unknown>;
}

export type DupesPhase = 'idle' | 'running' | 'ready' | 'failed';

export class DuplicatesController {
  phase = $state<DupesPhase>('idle');
  progress = $state<JobProgress>({ done: 0, total: 0 });
  error = $state<string | null>(null);
  groups = $state.raw<DuplicateGroup[]>([]);
  /** Posts compared by the last run. */
  compared = $state(0);
  /** Groups the last run found (more than `groups` holds when the answer was cut at its limit). */
  found = $state(0);
  kind = $state<KindFilter>('all');
  /** Percent (0–100) below which groups are hidden. */
  minPercent = $state(0);
  /** The id of the group under the cursor (kept while groups come and go). */
  currentId = $state<string | null>(null);
  /** The post on the right of the comparison (index into the group; the left is the first). */
  right = $state(1);
  /** The left post (index into the group). */
  left = $state(0);
  /** A message after an action (not duplicates, resolved). */
  notice = $state<string | null>(null);
  /** The texts of posts compared, by path; null while loading, a string error prefixed by \0. */
  texts = $state<Record<string, string | null>>({});
  cancelling = $state(false);

  readonly #api: DupesApi;
  #run = 0;

  constructor(api: DupesApi) {
    this.#api = api;
  }

  get shown(): DuplicateGroup[] {
    return shownGroups(this.groups, { kind: this.kind, minSimilarity: this.minPercent / 100 });
  }

  get cursor(): number {
    const shown = this.shown;
    const i = shown.findIndex((g) => groupId(g) === this.currentId);
    return i >= 0 ? i : shown.length ? 0 : -1;
  }

  get current(): DuplicateGroup | null {
    const c = this.cursor;
    return c >= 0 ? (this.shown[c] ?? null) : null;
  }

  /** Runs `duplicates` (again); only the latest run's answer counts. */
  async run() {
    const id = ++this.#run;
    this.phase = 'running';
    this.error = null;
    this.notice = null;
    this.cancelling = false;
    this.progress = { done: 0, total: 0 };
    try {
      const r = await this.#api.run((p) => {
        if (id === this.#run) this.progress = p;
      });
      if (id !== this.#run) return;
      this.groups = r.groups;
      this.compared = r.posts;
      this.found = r.counts.exact + r.counts.url + r.counts.near;
      this.texts = {};
      this.phase = 'ready';
      rememberDuplicates(r.groups);
      this.#select(this.current);
    } catch (e) {
      if (id !== this.#run) return;
      this.error = errorText(e);
      this.phase = 'failed';
    } finally {
      if (id === this.#run) this.cancelling = false;
    }
  }

  async cancel() {
    this.cancelling = true;
    try {
      await this.#api.cancel();
    } catch {
      this.cancelling = false;
    }
  }

  #select(g: DuplicateGroup | null) {
    this.currentId = g ? groupId(g) : null;
    this.left = 0;
    this.right = 1;
    if (g) void this.#loadTexts(g);
  }

  /** Shows the group at `index` of the shown ones. */
  select = (index: number) => {
    const g = this.shown[index];
    if (g) this.#select(g);
  };

  /** The cursor moves by `delta` groups. */
  move = (delta: number) => {
    const shown = this.shown;
    if (!shown.length) return;
    const to = Math.max(0, Math.min(shown.length - 1, this.cursor + delta));
    if (shown[to] && groupId(shown[to]) !== this.currentId) this.#select(shown[to]);
    else if (this.currentId === null) this.#select(shown[to] ?? null);
  };

  /** The right-hand post steps through the group's others (the left one stays). */
  compareNext = (delta: number) => {
    const g = this.current;
    if (!g || g.posts.length < 3) return;
    const count = g.posts.length;
    let r = this.right;
    do r = (r + delta + count) % count;
    while (r === this.left);
    this.right = r;
    void this.#loadTexts(g);
  };

  /** Swaps the two posts compared. */
  swap = () => {
    [this.left, this.right] = [this.right, this.left];
  };

  /** The filter changed: the cursor stays on its group if still shown, else the first. */
  refilter() {
    const c = this.current;
    if (c && groupId(c) !== this.currentId) this.#select(c);
  }

  async #loadTexts(g: DuplicateGroup) {
    for (const i of [this.left, this.right]) {
      const p = g.posts[i];
      if (!p) continue;
      const path = dupePath(p);
      if (path in this.texts) continue;
      this.texts[path] = null;
      try {
        // Only what the comparison reads is kept (one more character says it was cut).
        this.texts[path] = (await this.#api.show(path)).text.slice(0, COMPARE_CHARS + 1);
      } catch (e) {
        this.texts[path] = `\u0000${errorText(e)}`;
      }
    }
  }

  /** A group is gone (resolved, or not duplicates): the cursor goes to the next one. */
  drop(g: DuplicateGroup) {
    const id = groupId(g);
    const at = this.cursor;
    this.groups = this.groups.filter((x) => groupId(x) !== id);
    rememberDuplicates(this.groups);
    const shown = this.shown;
    this.#select(shown[Math.min(at, shown.length - 1)] ?? null);
  }

  /** "Not duplicates": records the decision; the group leaves the list. */
  async notDuplicates(g: DuplicateGroup | null = this.current): Promise<boolean> {
    if (!g) return false;
    try {
      await this.#api.notDuplicates(g.posts.map(dupePath));
      this.drop(g);
      return true;
    } catch (e) {
      this.error = errorText(e);
      return false;
    }
  }

  /**
   * A key of the view: what it asks for (`keep` opens the resolve form, which the component
   * owns), or null when the key is not the view's.
   */
  key(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>): { keep: 'left' | 'right' } | 'handled' | null {
    const a = dupeKey(e);
    if (!a) return null;
    switch (a.kind) {
      case 'move':
        this.move(a.delta);
        return 'handled';
      case 'compare':
        this.compareNext(a.delta);
        return 'handled';
      case 'not-duplicates':
        void this.notDuplicates();
        return 'handled';
      case 'rerun':
        if (this.phase !== 'running') void this.run();
        return 'handled';
      case 'keep':
        return this.current ? { keep: a.side } : 'handled';
    }
  }
}
