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
    const err = await createBackend(e).call('post_get').catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'not_found', message: 'no such post', path: 'a.md' });
  });

  it('rejects command names that are not plain identifiers', async () => {
    const e = env();
    await expect(createBackend(e).call('../admin')).rejects.toMatchObject({ code: 'bad_command' });
    expect(e.fetch).not.toHaveBeenCalled();
  });
});
