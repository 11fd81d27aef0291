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

import { invoke as tauriInvoke } from '@tauri-apps/api/core';

export type Transport = 'tauri' | 'http';

/** The error shape every api call fails with, on either transport. */
export interface ApiErrorShape {
  code: string;
  message: string;
  path?: string | null;
}

export class ApiError extends Error implements ApiErrorShape {
  readonly code: string;
  readonly path: string | null;

  constructor(code: string, message: string, path: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.path = path;
  }

  static from(value: unknown, fallbackCode = 'internal'): ApiError {
    if (value instanceof ApiError) return value;
    if (value && typeof value === 'object') {
      const v = value as Partial<ApiErrorShape>;
      if (typeof v.message === 'string') {
        return new ApiError(
          typeof v.code === 'string' ? v.code : fallbackCode,
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
      env.replaceUrl?.(
        `${location.pathname}${search ? `?${search}` : ''}${fragment ? `#${fragment}` : ''}`,
      );
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
      const fallback = response.status === 401 ? 'unauthorized' : `http_${response.status}`;
      if (body && typeof body === 'object') throw ApiError.from(body, fallback);
      throw new ApiError(fallback, typeof body === 'string' && body ? body : response.statusText);
    }
    return body as T;
  }

  return {
    transport,
    call<T>(command: string, args?: Args): Promise<T> {
      if (!COMMAND_NAME.test(command)) {
        return Promise.reject(new ApiError('bad_command', `invalid command name: ${command}`));
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
    replaceUrl: hasWindow
      ? (url) => window.history.replaceState(window.history.state, '', url)
      : undefined,
  };
}

let instance: Backend | undefined;

/** The app-wide backend, created on first use. */
export function backend(): Backend {
  instance ??= createBackend(browserEnv());
  return instance;
}

/** Typed wrappers around the api commands. */
export const api = {
  appVersion: () => backend().call<string>('app_version'),
  startupArchive: () => backend().call<string | null>('startup_archive'),
};
