import { describe, expect, it, vi } from 'vitest';
import { ApiError, TOKEN_STORAGE_KEY, createBackend, detectTransport, type BackendEnv } from './backend';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    data,
  };
}

function env(overrides: Partial<BackendEnv> = {}): BackendEnv {
  return {
    global: {},
    location: { hash: '', search: '', pathname: '/' },
    storage: memoryStorage(),
    fetch: vi.fn(async () => new Response(JSON.stringify('0.1.0'), { status: 200 })),
    invoke: vi.fn(async () => '0.1.0') as BackendEnv['invoke'],
    replaceUrl: vi.fn(),
    ...overrides,
  };
}

describe('backend transport choice', () => {
  it('uses Tauri IPC when __TAURI_INTERNALS__ exists', async () => {
    const e = env({ global: { __TAURI_INTERNALS__: {} } });
    const b = createBackend(e);
    expect(b.transport).toBe('tauri');
    await expect(b.call('app_version')).resolves.toBe('0.1.0');
    expect(e.invoke).toHaveBeenCalledWith('app_version', undefined);
    expect(e.fetch).not.toHaveBeenCalled();
  });

  it('uses HTTP with the bearer token from the URL hash otherwise, and keeps the token', async () => {
    const storage = memoryStorage();
    const e = env({
      location: { hash: '#token=s3cret&view=list', search: '', pathname: '/' },
      storage,
    });
    const b = createBackend(e);
    expect(b.transport).toBe('http');
    await expect(b.call('app_version', { a: 1 })).resolves.toBe('0.1.0');
    expect(e.invoke).not.toHaveBeenCalled();
    expect(e.fetch).toHaveBeenCalledTimes(1);
    const [url, init] = vi.mocked(e.fetch).mock.calls[0]!;
    expect(url).toBe('/api/app_version');
    expect(init?.method).toBe('POST');
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer s3cret');
    expect(init?.body).toBe('{"a":1}');
    expect(storage.data.get(TOKEN_STORAGE_KEY)).toBe('s3cret');
    expect(e.replaceUrl).toHaveBeenCalledWith('/#view=list');

    // A reload without the token in the URL finds it in sessionStorage.
    const again = env({ storage });
    await createBackend(again).call('app_version');
    const [, init2] = vi.mocked(again.fetch).mock.calls[0]!;
    expect((init2?.headers as Record<string, string>).Authorization).toBe('Bearer s3cret');
  });

  it('reads the token from the query string too', () => {
    const storage = memoryStorage();
    createBackend(env({ location: { hash: '', search: '?token=q1', pathname: '/app' }, storage }));
    expect(storage.data.get(TOKEN_STORAGE_KEY)).toBe('q1');
  });

  it('treats a null __TAURI_INTERNALS__ or no window as HTTP', () => {
    expect(detectTransport({ __TAURI_INTERNALS__: null })).toBe('http');
    expect(detectTransport(undefined)).toBe('http');
  });

  it('turns HTTP error bodies into ApiError', async () => {
    const e = env({
      fetch: vi.fn(
        async () =>
          new Response(JSON.stringify({ code: 'not_found', message: 'no such post', path: 'a.md' }), {
            status: 404,
          }),
      ),
    });
    const err = await createBackend(e)
      .call('post_get')
      .catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'not_found', message: 'no such post', path: 'a.md' });
  });

  it('rejects command names that are not plain identifiers', async () => {
    const e = env();
    await expect(createBackend(e).call('../admin')).rejects.toMatchObject({ code: 'bad-request' });
    expect(e.fetch).not.toHaveBeenCalled();
  });
});

describe('typed api over both transports', () => {
  it('sends the same argument object as the HTTP body and as Tauri arguments', async () => {
    const req = { query: '两岸', sort: '-date', offset: 100, limit: 100, facets: false };
    const http = env({
      fetch: vi.fn(async () => new Response(JSON.stringify({ total: 0, hits: [] }), { status: 200 })),
      location: { hash: '#token=t0k', search: '', pathname: '/' },
    });
    await createBackend(http).call('search', req);
    const [url, init] = vi.mocked(http.fetch).mock.calls[0]!;
    expect(url).toBe('/api/search');
    expect(JSON.parse(String(init?.body))).toEqual(req);

    const tauri = env({ global: { __TAURI_INTERNALS__: {} } });
    await createBackend(tauri).call('search', req);
    expect(tauri.invoke).toHaveBeenCalledWith('search', req);
  });

  it('passes a progress channel only over Tauri', () => {
    const onMessage = () => {};
    const channel = { id: 1 };
    const tauri = createBackend(env({ global: { __TAURI_INTERNALS__: {} }, channel: () => channel }));
    expect(tauri.channel(onMessage)).toBe(channel);
    const http = createBackend(env({ channel: () => channel }));
    expect(http.channel(onMessage)).toBeNull();
  });

  it('maps a 401 without a JSON body to an unauthorized ApiError', async () => {
    const e = env({ fetch: vi.fn(async () => new Response('', { status: 401, statusText: 'Unauthorized' })) });
    await expect(createBackend(e).call('stats')).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('turns a network failure into a readable ApiError', async () => {
    const e = env({
      fetch: vi.fn(async () => {
        throw new TypeError('Failed to fetch');
      }),
    });
    await expect(createBackend(e).call('stats')).rejects.toMatchObject({ code: 'network', message: 'Failed to fetch' });
  });

  it('the api helpers refuse desktop-only commands over HTTP', async () => {
    const { api, setBackend } = await import('./backend');
    const fetch = vi.fn(async (_url: string, _init?: RequestInit) => new Response('{}', { status: 200 }));
    setBackend(createBackend(env({ fetch: fetch as unknown as typeof globalThis.fetch })));
    await expect(api.indexArchive(() => {})).rejects.toMatchObject({ code: 'unsupported' });
    await expect(api.openArchive('/x')).rejects.toMatchObject({ code: 'unsupported' });
    await expect(api.sampleArchive()).resolves.toBeNull();
    await api.show('a.md');
    expect(JSON.parse(String(fetch.mock.calls[0]?.[1]?.body))).toEqual({ path: 'a.md' });
    setBackend(undefined);
  });
});
