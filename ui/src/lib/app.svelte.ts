// The app's controller: which screen shows (welcome, indexing, the archive), the committed search
// and open post (kept in location.hash), and what happens on typing, keys, edits and changes on
// disk. The result list's state lives in `Results`, the reader's in `OpenPost`; App.svelte holds
// the markup and binds the few elements this needs to focus.

import { errorText } from './errors';
import { tick } from 'svelte';
import { api, ApiError, backend, onArchiveChanged } from './backend';
import type { ArchiveInfo } from './bindings/ArchiveInfo';
import type { Stats } from './bindings/Stats';
import { hitPath } from './bulk';
import { onCollections } from './collectionstate.svelte';
import { confirmLeave, onEdited } from './editstate.svelte';
import { i18n, n, t } from './i18n.svelte';
import { latestOnly } from './latest';
import { OpenPost } from './openpost.svelte';
import { DEFAULT_STATE, parseHash, toHash, toggleFilter, type SortKey, type View, type ViewState } from './query';
import { forgetRecent, loadRecent, rememberRecent } from './recent';
import { Results } from './results.svelte';

export type Phase = 'loading' | 'welcome' | 'indexing' | 'ready' | 'failed';

/** What the controller asks of the result list component. */
export interface ListHandle {
  focus(): void;
  move(delta: number, mods?: { extend?: boolean; keep?: boolean }): void;
}

const readable = (e: unknown) => errorText(e);

function editable(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

export class AppController {
  phase = $state<Phase>('loading');
  info = $state<ArchiveInfo | null>(null);
  stats = $state<Stats | null>(null);
  /** A compaction or rebuild of the index is running. */
  maintaining = $state(false);
  banner = $state<string | null>(null);
  fatal = $state<string | null>(null);

  // What the search box shows, and the committed state (also in location.hash).
  input = $state('');
  view = $state<ViewState>({ ...DEFAULT_STATE });

  readonly results = new Results({
    onError: (message) => (this.banner = message),
    isCurrent: (q, sort) => this.view.q === q && this.view.sort === sort,
    wantFacets: () => !this.#commitSoon.pending(),
  });
  readonly post = new OpenPost((path, wholePage) =>
    // The body's HTML is a nicety: without it the reader shows the plain text.
    // The search's words are marked in it (by the core, which folds as the search does).
    // By default it is the article alone; the whole page is one click away.
    Promise.all([api.show(path), api.renderBody(path, this.view.q, wholePage).catch(() => null)]),
  );

  // Welcome and indexing.
  recent = $state<string[]>([]);
  sample = $state<string | null>(null);
  welcomeBusy = $state(false);
  /** The folder being opened (the welcome screen's, or the desktop's command line's). */
  opening = $state<string | null>(null);
  welcomeError = $state<string | null>(null);
  progress = $state({ done: 0, total: 0, rate: 0 });
  backgroundStatus = $state<string | null>(null);

  // Elements the keyboard moves the focus to (bound by App.svelte).
  searchInput = $state.raw<HTMLInputElement>();
  list = $state.raw<ListHandle>();
  readerRegion = $state.raw<HTMLElement>();

  // Results follow typing: a query goes at once while at most one search runs (the core stops
  // that one: the new query supersedes it), else it waits for one to end, replaced by any newer
  // keystroke, so no stale query is sent. See lib/latest.ts.
  readonly #commitSoon = latestOnly((q: string) => this.#commit(q), 2);

  #writeHash() {
    const hash = toHash(this.view, location.hash);
    const url = `${location.pathname}${location.search}${hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`) {
      history.replaceState(history.state, '', url);
    }
  }

  #runSearch(): Promise<void> {
    return this.results.run(this.view.q, this.view.sort);
  }

  #commit(q: string): Promise<void> | undefined {
    if (q === this.view.q) return;
    this.view.q = q;
    this.#writeHash();
    return this.#runSearch();
  }

  /** The search box changed. */
  typed = (value: string) => {
    this.#commitSoon(value);
  };

  /** A facet clicked in the sidebar or the reader: add or drop it in the query, and run it. */
  filter = (field: string, value: string, exclude: boolean) => {
    this.#commitSoon.cancel();
    this.input = toggleFilter(this.input, field, value, exclude);
    void this.#commit(this.input);
  };

  setSort = (sort: SortKey) => {
    this.view.sort = sort;
    this.#writeHash();
    void this.#runSearch();
  };

  openPost = async (path: string, focusReader = false) => {
    if (path !== this.view.post && !confirmLeave()) return;
    // The reader already on screen takes the focus at once, so keys that follow go to it even
    // while the post loads (and Enter on the post already shown only moves the focus).
    if (focusReader) this.readerRegion?.focus();
    if (focusReader && path === this.view.post && this.post.detail?.path === path && !this.post.loading) return;
    this.view.post = path;
    this.#writeHash();
    const current = await this.post.open(path);
    if (focusReader && current) {
      await tick();
      this.readerRegion?.focus();
    }
  };

  /** Opens the post of row `i` of the result list. */
  openRow = (i: number, focusReader: boolean) => {
    const hit = this.results.pager.get(i);
    if (hit) void this.openPost(hitPath(hit), focusReader);
  };

  /**
   * The keyboard moved the list's cursor to row `i`: while a post is open, the reader follows
   * (as in Mail or Gmail), and the focus stays where it is.
   */
  follow = (i: number) => {
    if (this.view.view === 'list' && this.view.post) this.openRow(i, false);
  };

  closeReader = () => {
    if (!confirmLeave()) return;
    this.post.close();
    this.view.post = null;
    this.#writeHash();
    this.list?.focus();
  };

  showProblems = (on: boolean) => this.showView(on ? 'problems' : 'list');

  showDuplicates = (on: boolean) => this.showView(on ? 'duplicates' : 'list');

  /** The list (and reader), the problems view or the duplicates view. */
  showView = (view: View) => {
    if (view !== 'list' && !confirmLeave()) return;
    this.view.view = view;
    this.#writeHash();
    if (view === 'list') void tick().then(() => this.list?.focus());
  };

  async #loadStats() {
    try {
      this.stats = await api.stats();
    } catch (e) {
      this.banner = readable(e);
    }
  }

  async #ready() {
    this.phase = 'ready';
    document.title = this.info ? `${this.info.name} — Shelfmark` : 'Shelfmark';
    // Rows first; the counts of the sidebar and the open post after them (they all wait for the
    // same index reader).
    await this.#runSearch();
    void this.#loadStats();
    if (this.view.post) void this.openPost(this.view.post);
  }

  /** Index the open archive: in front (a new archive), or in the background (an update). */
  async #index(inBackground: boolean) {
    const started = performance.now();
    this.progress = { done: 0, total: 0, rate: 0 };
    if (!inBackground) this.phase = 'indexing';
    try {
      const summary = await api.indexArchive((p) => {
        const secs = (performance.now() - started) / 1000;
        this.progress = { done: p.done, total: p.total, rate: secs > 0.2 ? p.done / secs : 0 };
        if (inBackground) this.backgroundStatus = t('index.background', { done: n(p.done), total: n(p.total) });
      });
      if (summary.damaged_index) this.banner = t('index.damaged', { path: summary.damaged_index });
      if (inBackground) {
        const changed = summary.indexed + summary.removed + summary.renamed;
        this.backgroundStatus = changed ? t('index.updated', { count: n(changed) }) : null;
        if (changed) {
          this.results.resetFacets();
          void this.#loadStats();
          void this.#runSearch();
        }
      } else {
        await this.#ready();
      }
    } catch (e) {
      const err = ApiError.from(e);
      if (inBackground) {
        this.backgroundStatus = null;
        if (err.code !== 'cancelled') this.banner = errorText(err);
      } else {
        this.phase = 'welcome';
        this.welcomeError = err.code === 'cancelled' ? t('index.cancelled') : errorText(err);
      }
    }
  }

  /** Compact or rebuild the index (a rebuild after the user confirms), then reload what shows. */
  maintainIndex = async (kind: 'compact' | 'rebuild') => {
    if (this.maintaining) return;
    if (kind === 'rebuild' && typeof window !== 'undefined' && !window.confirm(t('index.rebuildConfirm'))) return;
    this.maintaining = true;
    const label = t(kind === 'compact' ? 'index.compacting' : 'index.rebuilding');
    this.backgroundStatus = label;
    try {
      const run = kind === 'compact' ? api.compactIndex : api.rebuildIndex;
      const done = await run((p) => {
        this.backgroundStatus = `${label} ${n(p.done)} / ${n(p.total)}`;
      });
      this.backgroundStatus = t('index.maintained', {
        before: mb(done.before.bytes),
        after: mb(done.after.bytes),
        segments: n(done.after.segments),
      });
      this.results.resetFacets();
      void this.#loadStats();
      void this.#runSearch();
    } catch (e) {
      this.backgroundStatus = null;
      const err = ApiError.from(e);
      if (err.code !== 'cancelled') this.banner = errorText(err);
    } finally {
      this.maintaining = false;
    }
  };

  async #opened(a: ArchiveInfo) {
    this.info = a;
    if (a.transport === 'tauri') this.recent = rememberRecent(a.root);
    if (!a.indexed) {
      await this.#index(false);
    } else {
      await this.#ready();
      if (a.transport === 'tauri') void this.#index(true);
    }
  }

  openFolder = async (path: string) => {
    this.opening = path;
    this.welcomeBusy = true;
    this.welcomeError = null;
    try {
      await this.#opened(await api.openArchive(path));
    } catch (e) {
      this.welcomeError = readable(e);
    } finally {
      this.welcomeBusy = false;
    }
  };

  /** The system folder picker (desktop only); the typed path stays as a fallback. */
  pickFolder = async () => {
    this.welcomeError = null;
    let chosen: string | null;
    try {
      chosen = await api.pickFolder(t('welcome.pickTitle'));
    } catch (e) {
      this.welcomeError = readable(e);
      return;
    }
    if (chosen) await this.openFolder(chosen);
  };

  forgetRecent = (path: string) => {
    this.recent = forgetRecent(path);
  };

  toWelcome = async () => {
    if (!confirmLeave()) return;
    this.phase = 'welcome';
    this.recent = loadRecent();
    try {
      this.sample = await api.sampleArchive();
    } catch {
      this.sample = null;
    }
  };

  /** The address changed (back, forward, an edited hash): show what it says. */
  restoreFromHash = () => {
    const s = parseHash(location.hash);
    if (s.post !== this.view.post && !confirmLeave()) {
      this.#writeHash();
      return;
    }
    const searchChanged = s.q !== this.view.q || s.sort !== this.view.sort;
    const postChanged = s.post !== this.view.post;
    this.view = s;
    this.input = s.q;
    if (this.phase !== 'ready') return;
    if (searchChanged) void this.#runSearch();
    if (postChanged) {
      if (s.post) void this.openPost(s.post);
      else this.closeReader();
    }
  };

  /** The app's keys outside text fields: `/`, Escape, j/k and the arrows, Enter. */
  globalKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.altKey) return;
    const target = e.target;
    if (editable(target)) return;
    if (e.key === '/' && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      this.searchInput?.focus();
      this.searchInput?.select();
      return;
    }
    if (this.phase !== 'ready') return;
    const list = this.list;
    const { selection, total } = this.results;
    const onControl = target instanceof HTMLElement && ['BUTTON', 'A', 'SUMMARY'].includes(target.tagName);
    const inReader = target instanceof Node && this.readerRegion?.contains(target);
    // Esc steps back one level: the reader (closed) → the list → the search box.
    if (e.key === 'Escape') {
      if (this.view.view !== 'list') this.showView('list');
      else if (inReader || this.view.post || this.post.showing) this.closeReader();
      else if (selection.count(total) > 1) selection.clear();
      else {
        this.searchInput?.focus();
        this.searchInput?.select();
      }
      e.preventDefault();
      return;
    }
    if (this.view.view !== 'list' || e.ctrlKey || e.metaKey) return;
    if (e.key === 'j' || e.key === 'k') {
      list?.move(e.key === 'j' ? 1 : -1, { extend: e.shiftKey });
      e.preventDefault();
    } else if (!inReader && !onControl && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      list?.move(e.key === 'ArrowDown' ? 1 : -1, { extend: e.shiftKey });
      list?.focus();
      e.preventDefault();
    } else if (!onControl && !inReader && e.key === 'Enter' && total > 0) {
      this.openRow(this.results.cursor, true);
      e.preventDefault();
    }
  };

  /** Changes on disk, picked up by the watcher: show them in the current query. */
  #archiveChanged = () => {
    if (this.phase !== 'ready') return;
    this.results.resetFacets();
    void this.#loadStats();
    void this.#runSearch();
  };

  /** Shelfmark wrote files (an edit, undo, redo, recovery): show them, and the post again. */
  #afterEdit = () => {
    this.#archiveChanged();
    if (this.phase === 'ready' && this.view.post) void this.openPost(this.view.post);
  };

  /** Starts the app (on mount); returns what stops it. */
  start(): () => void {
    backend(); // takes the session token out of the URL first
    // Collections: the sidebar shows one through its query; membership changes reload the list.
    const stopCollections = onCollections({
      show: (q) => {
        this.#commitSoon.cancel();
        this.input = q;
        void this.#commit(q);
      },
      changed: this.#archiveChanged,
    });
    const stopWatching = onArchiveChanged(this.#archiveChanged);
    const stopEdits = onEdited(this.#afterEdit);
    this.view = parseHash(location.hash);
    this.input = this.view.q;
    // Ask for the first page now rather than after `archive_info` answers; unused if the archive
    // turns out not to be open or indexed.
    this.results.prefetch(this.view.q, this.view.sort);
    document.documentElement.lang = i18n.locale;
    // The desktop names the folder it opens (its command line's) while that takes time.
    if (backend().transport === 'tauri') {
      api
        .startupArchive()
        .then((p) => {
          if (this.phase === 'loading') this.opening = p;
        })
        .catch(() => {});
    }
    void (async () => {
      try {
        await this.#opened(await api.archiveInfo());
      } catch (e) {
        const err = ApiError.from(e);
        if (backend().transport === 'tauri') {
          if (err.code !== 'no-archive') this.welcomeError = errorText(err);
          await this.toWelcome();
        } else {
          this.fatal = errorText(err);
          this.phase = 'failed';
        }
      }
    })();
    return () => {
      stopCollections();
      stopWatching();
      stopEdits();
    };
  }
}

/** Bytes as megabytes, for the index figures. */
function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
