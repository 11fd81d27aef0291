// The one place that knows how the UI reaches the Rust side.
//
// - In the desktop app, Tauri injects `window.__TAURI_INTERNALS__` and every call is an IPC
//   `invoke(command, args)`.
// - In a browser talking to `shelfmark serve`, every call is
//   `POST /api/<command>` with a JSON body and `Authorization: Bearer <token>`. The token arrives
//   once in the URL (`#token=…` or `?token=…`), is kept in sessionStorage and removed from the
//   address bar so it does not linger in history or screenshots.
//
// Everything else in the UI calls `backend.call(...)` (or the typed helpers in `api`) and never
// looks at `window.__TAURI_INTERNALS__`, `fetch` or the token itself.

import { Channel, invoke as tauriInvoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { open as openDialog } from '@tauri-apps/plugin-dialog';
import type { Commands, CommandName, JobCommand } from './bindings/commands';
import type { EditRequest } from './bindings/EditRequest';
import type { EditTarget } from './bindings/EditTarget';
import type { ErrorCode } from './bindings/ErrorCode';
import type { ExportRequest } from './bindings/ExportRequest';
import type { JobProgress } from './bindings/JobProgress';
import type { Recovery } from './bindings/Recovery';
import type { SearchRequest } from './bindings/SearchRequest';
import type { Transport } from './bindings/Transport';
import { withPolling } from './progress';

export type { Transport };

/** The error shape every api call fails with, on either transport (`ApiError` in Rust). */
export interface ApiErrorShape {
  code: ErrorCode;
  message: string;
  path?: string | null;
}

export class ApiError extends Error implements ApiErrorShape {
  readonly code: ErrorCode;
  readonly path: string | null;

  constructor(code: ErrorCode, message: string, path: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.path = path;
  }

  static from(value: unknown, fallbackCode: ErrorCode = 'internal'): ApiError {
    if (value instanceof ApiError) return value;
    if (value && typeof value === 'object') {
      const v = value as Partial<ApiErrorShape>;
      if (typeof v.message === 'string') {
        return new ApiError(
          // A code from the other side is passed on as it came (the type is Rust's ErrorCode).
          typeof v.code === 'string' ? (v.code as ErrorCode) : fallbackCode,
          v.message,
          typeof v.path === 'string' ? v.path : null,
        );
      }
    }
    if (value instanceof Error) return new ApiError(fallbackCode, value.message);
    return new ApiError(fallbackCode, String(value));
  }
}

export const TOKEN_STORAGE_KEY = 'shelfmark.token';

type Args = Record<string, unknown>;

/** What the backend needs from its surroundings; injected so tests can fake it. */
export interface BackendEnv {
  /** The global object (window); only `__TAURI_INTERNALS__` is looked at. */
  global: object | undefined;
  location: Pick<Location, 'hash' | 'search' | 'pathname'> | undefined;
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
  fetch: typeof fetch;
  invoke: <T>(command: string, args?: Args) => Promise<T>;
  /** Replace the current URL without navigation (history.replaceState). */
  replaceUrl?: (url: string) => void;
  /** A Tauri IPC channel delivering messages to `onMessage` (desktop only). */
  channel?: <T>(onMessage: (message: T) => void) => unknown;
  /** The system folder picker (desktop only): the chosen folder, or null if cancelled. */
  pickFolder?: (title?: string) => Promise<string | null>;
}

export function detectTransport(global: object | undefined): Transport {
  if (global && '__TAURI_INTERNALS__' in global) {
    const internals = (global as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__;
    if (internals !== undefined && internals !== null) return 'tauri';
  }
  return 'http';
}

/**
 * Reads the session token: from the URL on first load (hash wins over query), else from
 * sessionStorage. A token found in the URL is saved and scrubbed from the address bar.
 */
export function takeToken(env: Pick<BackendEnv, 'location' | 'storage' | 'replaceUrl'>): string | null {
  const { location, storage } = env;
  if (location) {
    const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
    const query = new URLSearchParams(location.search);
    const found = hash.get('token') || query.get('token');
    if (found) {
      try {
        storage?.setItem(TOKEN_STORAGE_KEY, found);
      } catch {
        // Storage may be unavailable (private mode); the token still works for this page.
      }
      hash.delete('token');
      query.delete('token');
      const search = query.toString();
      const fragment = hash.toString();
      env.replaceUrl?.(`${location.pathname}${search ? `?${search}` : ''}${fragment ? `#${fragment}` : ''}`);
      return found;
    }
  }
  try {
    return storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

const COMMAND_NAME = /^[a-z][a-z0-9_]*$/;

export interface Backend {
  readonly transport: Transport;
  call<T>(command: string, args?: Args): Promise<T>;
  /** A channel argument for a long job's progress; null where the transport has none. */
  channel<T>(onMessage: (message: T) => void): unknown | null;
  /** Whether `pickFolder` can show a system folder picker (desktop only). */
  readonly canPickFolder: boolean;
  /** The system folder picker: the chosen folder, or null (cancelled, or no picker: HTTP). */
  pickFolder(title?: string): Promise<string | null>;
}

export function createBackend(env: BackendEnv): Backend {
  const transport = detectTransport(env.global);
  // Only the HTTP transport needs a token; read it once, at startup.
  const token = transport === 'http' ? takeToken(env) : null;

  async function callTauri<T>(command: string, args?: Args): Promise<T> {
    try {
      return await env.invoke<T>(command, args);
    } catch (e) {
      throw ApiError.from(e);
    }
  }

  async function callHttp<T>(command: string, args?: Args): Promise<T> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await env.fetch(`/api/${command}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(args ?? {}),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      throw ApiError.from(e, 'network');
    }
    const text = await response.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!response.ok) {
      const fallback: ErrorCode = response.status === 401 ? 'unauthorized' : 'internal';
      if (body && typeof body === 'object') throw ApiError.from(body, fallback);
      throw new ApiError(fallback, typeof body === 'string' && body ? body : response.statusText);
    }
    return body as T;
  }

  const picker = transport === 'tauri' ? env.pickFolder : undefined;

  return {
    transport,
    canPickFolder: picker !== undefined,
    async pickFolder(title?: string): Promise<string | null> {
      if (!picker) return null;
      try {
        const chosen = await picker(title);
        return typeof chosen === 'string' && chosen ? chosen : null;
      } catch (e) {
        throw ApiError.from(e, 'dialog');
      }
    },
    channel<T>(onMessage: (message: T) => void): unknown | null {
      return transport === 'tauri' && env.channel ? env.channel(onMessage) : null;
    },
    call<T>(command: string, args?: Args): Promise<T> {
      if (!COMMAND_NAME.test(command)) {
        return Promise.reject(new ApiError('bad-request', `invalid command name: ${command}`));
      }
      return transport === 'tauri' ? callTauri<T>(command, args) : callHttp<T>(command, args);
    },
  };
}

function browserEnv(): BackendEnv {
  const hasWindow = typeof window !== 'undefined';
  let storage: BackendEnv['storage'];
  try {
    storage = hasWindow ? window.sessionStorage : undefined;
  } catch {
    storage = undefined;
  }
  return {
    global: hasWindow ? window : undefined,
    location: hasWindow ? window.location : undefined,
    storage,
    fetch: (input, init) => fetch(input, init),
    invoke: (command, args) => tauriInvoke(command, args),
    replaceUrl: hasWindow ? (url) => window.history.replaceState(window.history.state, '', url) : undefined,
    channel: <T>(onMessage: (message: T) => void) => new Channel<T>(onMessage),
    pickFolder: async (title?: string) => {
      const chosen = await openDialog({ directory: true, multiple: false, title });
      return typeof chosen === 'string' ? chosen : null;
    },
  };
}

let instance: Backend | undefined;

/** The app-wide backend, created on first use. */
export function backend(): Backend {
  instance ??= createBackend(browserEnv());
  return instance;
}

/** Test hook: replace the app-wide backend. */
export function setBackend(b: Backend | undefined) {
  instance = b;
}

/**
 * Live updates: calls `onChange` each time the archive's watcher picked up changes on disk.
 * In the desktop app that is the `archive-changed` event; in a browser, the `changes` counter of
 * `shelfmark serve`, polled every `pollMs`. Returns a function that stops listening.
 */
export function onArchiveChanged(onChange: () => void, pollMs = 3000): () => void {
  if (backend().transport === 'tauri') {
    let stopped = false;
    let unlisten: (() => void) | undefined;
    listen('archive-changed', () => onChange())
      .then((u) => {
        if (stopped) u();
        else unlisten = u;
      })
      .catch(() => {});
    return () => {
      stopped = true;
      unlisten?.();
    };
  }
  let last: number | null = null;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    backend()
      .call<{ changes: number }>('changes')
      .then(({ changes }) => {
        if (last !== null && changes !== last) onChange();
        last = changes;
      })
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, pollMs);
  return () => clearInterval(timer);
}

function unsupported(what: string): Promise<never> {
  return Promise.reject(new ApiError('unsupported', `${what} is only available in the desktop app.`));
}

type Request<K extends CommandName> = Commands[K]['request'];
type Answer<K extends CommandName> = Commands[K]['response'];

/**
 * Runs a command of the core's table (`src-tauri/core/src/commands.rs`, typed by the generated
 * `bindings/commands.ts`): the same name and argument object on both transports.
 */
export function command<K extends CommandName>(name: K, args: Request<K>): Promise<Answer<K>> {
  return backend().call<Answer<K>>(name, args as Record<string, unknown>);
}

/**
 * Runs a job command of the table with progress: on a channel (desktop), or by polling
 * `job_progress` while it runs (HTTP). `cancelJob` stops it.
 */
export function job<K extends JobCommand>(
  name: K,
  args: Request<K>,
  onProgress: (p: JobProgress) => void,
): Promise<Answer<K>> {
  const channel = backend().channel<JobProgress>(onProgress);
  if (channel) return backend().call<Answer<K>>(name, { ...args, onProgress: channel });
  return withPolling(command(name, args), () => command('job_progress', { command: name }), onProgress);
}

/** Stops a job command's running job. */
export const cancelJob = (name: JobCommand) => command('cancel_job', { command: name });

/**
 * Convenience wrappers: the commands of the table through `command` and `job` (so each is
 * checked against the generated types), and the desktop-only commands, which are not in the table.
 */
export const api = {
  appVersion: () => backend().call<string>('app_version'),
  startupArchive: () => backend().call<string | null>('startup_archive'),
  archiveInfo: () => command('archive_info', {}),
  search: (req: Partial<SearchRequest> & { query: string }) =>
    // Only the fields given go on the wire; the core fills in the rest (`serde(default)`).
    command('search', { ...req } as SearchRequest),
  facets: (query: string) => command('facets', { query }),
  show: (path: string) => command('show', { path }),
  /**
   * The body as sanitized HTML; remote images are parked in `data-remote-src`. With a query, its
   * matches are marked `<mark class="hit">` by the core (folded as the search folds). The
   * article alone unless `wholePage` (`article` in the answer says which was shown).
   */
  renderBody: (path: string, query?: string, wholePage = false) =>
    command('render_body', {
      path,
      ...(query?.trim() ? { query } : {}),
      ...(wholePage ? { whole_page: true } : {}),
    }),
  /**
   * One remote image of a post, fetched by the core only when the user asks (the webview itself
   * loads nothing remote), as a `data:` URL. Only addresses the post names are fetched.
   */
  fetchImage: (path: string, url: string) => command('fetch_image', { path, url }),
  /** The system folder picker (desktop); null when cancelled, and always null in a browser. */
  pickFolder: (title?: string) => backend().pickFolder(title),
  problems: () => command('problems', {}),
  stats: () => command('stats', {}),
  /** Desktop only: open another archive folder. */
  openArchive: (path: string) =>
    backend().transport === 'tauri'
      ? backend().call<Answer<'archive_info'>>('open_archive', { path })
      : unsupported('Opening another folder'),
  /** Desktop only: the sample archive shipped with a checkout, if any. */
  sampleArchive: () =>
    backend().transport === 'tauri' ? backend().call<string | null>('sample_archive') : Promise.resolve(null),
  /** Desktop only (serve indexes when it starts): index the open archive, with progress. */
  indexArchive: (onProgress: (p: JobProgress) => void) =>
    backend().channel(onProgress) ? job('index_archive', {}, onProgress) : unsupported('Indexing'),
  cancelIndex: () => cancelJob('index_archive'),
  /** Merge the index into one segment without stale postings, and give the space back. */
  compactIndex: (onProgress: (p: JobProgress) => void) => job('compact_index', {}, onProgress),
  /** Drop the index and index every file again (the rest of `.shelfmark/` stays). */
  rebuildIndex: (onProgress: (p: JobProgress) => void) => job('rebuild_index', {}, onProgress),
  /** Desktop only: an http(s) link in the system browser. */
  openUrl: (url: string) =>
    backend().transport === 'tauri' ? backend().call<void>('open_url', { url }) : unsupported('Opening links'),
  /** Desktop only: the post's file in its default app, or (reveal) its folder. */
  openPostFile: (path: string, reveal: boolean) =>
    backend().transport === 'tauri'
      ? backend().call<void>('open_post_file', { path, reveal })
      : unsupported('Opening files'),
  /** Desktop only: the folder the last export wrote into, in the system's file manager. */
  openExportFolder: () =>
    backend().transport === 'tauri' ? backend().call<void>('open_export_folder') : unsupported('Opening folders'),
  /** What an edit would change, with diffs of the first `diffs` files; writes nothing. */
  previewEdit: (request: EditRequest, diffs?: number) => command('preview_edit', { request, diffs }),
  /** Applies an edit through the journal, with progress; `cancelEdit` stops it between batches. */
  applyEdit: (request: EditRequest, onProgress: (p: JobProgress) => void) => job('apply_edit', { request }, onProgress),
  cancelEdit: () => cancelJob('apply_edit'),
  undo: () => command('undo', {}),
  redo: () => command('redo', {}),
  history: () => command('history', {}),
  /** What one past operation changed: its files, and diffs (bounded) of the first of them. */
  operationDetail: (id: number) => command('operation_detail', { id }),
  /** The operation a crash or kill interrupted, if any. */
  interrupted: () => command('interrupted', {}),
  recover: (how: Recovery) => command('recover', { how }),
  // Collections (src-tauri/core/src/collections.rs), by name.
  collections: () => command('collections', {}),
  collectionPosts: (name: string) => command('collection_posts', { name }),
  /** A manual collection (filled from `posts` if given), or with `query` a saved search. */
  collectionCreate: (name: string, what: { query?: string; posts?: EditTarget } = {}) =>
    command('collection_create', { name, ...what }),
  collectionAdd: (name: string, posts: EditTarget) => command('collection_add', { name, posts }),
  collectionRemove: (name: string, paths: string[]) => command('collection_remove', { name, paths }),
  collectionMove: (name: string, path: string, position: number) =>
    command('collection_move', { name, path, position }),
  collectionRename: (name: string, newName: string) => command('collection_rename', { name, new_name: newName }),
  /** Moves a collection to `position` in the sidebar (0 = first). */
  collectionReorder: (name: string, position: number) => command('collection_reorder', { name, position }),
  collectionDelete: (name: string) => command('collection_delete', { name }),
  /** The names of the collections that hold a post. */
  collectionsOf: (path: string) => command('collections_of', { path }),
  /** Exports posts (with `dry_run`, only plans: `preview` lists the first paths), with progress. */
  exportPosts: (request: ExportRequest, onProgress: (p: JobProgress) => void = () => {}) =>
    request.dry_run ? command('export', { request }) : job('export', { request }, onProgress),
  cancelExport: () => cancelJob('export'),
};
