import { describe, expect, it, vi } from 'vitest';
import { createBackend, setBackend, api, type BackendEnv } from './backend';

function env(overrides: Partial<BackendEnv> = {}): BackendEnv {
  return {
    global: {},
    location: { hash: '#token=t0k', search: '', pathname: '/' },
    storage: undefined,
    fetch: vi.fn(async () => new Response('{}', { status: 200 })),
    invoke: vi.fn(async () => null) as BackendEnv['invoke'],
    replaceUrl: vi.fn(),
    ...overrides,
  };
}

describe('folder picker', () => {
  it('uses the system picker in the desktop app', async () => {
    const pickFolder = vi.fn(async () => '/home/me/posts');
    const b = createBackend(env({ global: { __TAURI_INTERNALS__: {} }, pickFolder }));
    expect(b.canPickFolder).toBe(true);
    await expect(b.pickFolder('Open')).resolves.toBe('/home/me/posts');
    expect(pickFolder).toHaveBeenCalledWith('Open');
  });

  it('answers null when cancelled, and turns failures into ApiError', async () => {
    const cancelled = createBackend(env({ global: { __TAURI_INTERNALS__: {} }, pickFolder: async () => null }));
    await expect(cancelled.pickFolder()).resolves.toBeNull();
    const failing = createBackend(
      env({
        global: { __TAURI_INTERNALS__: {} },
        pickFolder: async () => {
          throw 'dialog.open not allowed';
        },
      }),
    );
    await expect(failing.pickFolder()).rejects.toMatchObject({
      name: 'ApiError',
      code: 'dialog',
      message: 'dialog.open not allowed',
    });
  });

  it('has no picker in a browser: null, and the dialog is never called', async () => {
    const pickFolder = vi.fn(async () => '/x');
    const b = createBackend(env({ pickFolder }));
    expect(b.transport).toBe('http');
    expect(b.canPickFolder).toBe(false);
    await expect(b.pickFolder()).resolves.toBeNull();
    expect(pickFolder).not.toHaveBeenCalled();
  });
});

describe('fetchImage', () => {
  it('is the same command with the same arguments on both transports', async () => {
    const answer = {
      url: 'https://a.example/x.png',
      mime: 'image/png',
      bytes: 8,
      data_url: 'data:image/png;base64,AA==',
    };
    const fetch = vi.fn(
      async (_url: string, _init?: RequestInit) => new Response(JSON.stringify(answer), { status: 200 }),
    );
    setBackend(createBackend(env({ fetch: fetch as unknown as typeof globalThis.fetch })));
    await expect(api.fetchImage('a.md', 'https://a.example/x.png')).resolves.toEqual(answer);
    expect(fetch.mock.calls[0]?.[0]).toBe('/api/fetch_image');
    expect(JSON.parse(String(fetch.mock.calls[0]?.[1]?.body))).toEqual({
      path: 'a.md',
      url: 'https://a.example/x.png',
    });

    const invoke = vi.fn(async () => answer) as BackendEnv['invoke'];
    setBackend(createBackend(env({ global: { __TAURI_INTERNALS__: {} }, invoke })));
    await api.fetchImage('a.md', 'https://a.example/x.png');
    expect(invoke).toHaveBeenCalledWith('fetch_image', { path: 'a.md', url: 'https://a.example/x.png' });
    setBackend(undefined);
  });
});
