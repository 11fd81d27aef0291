import { describe, expect, it, vi } from 'vitest';
import type { FetchedImage } from './bindings/FetchedImage';
import {
  FAILED_ATTR,
  IMAGE_HOSTS_KEY,
  LOADED_ATTR,
  REMOTE_ATTR,
  allowedHosts,
  imageHost,
  loadRemoteImages,
  normalizeImageUrl,
  safeDataUrl,
  setHostsAllowed,
  splitImageHosts,
  type ImageElement,
} from './images';

class FakeImg implements ImageElement {
  attrs = new Map<string, string>();
  constructor(attrs: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(attrs)) this.attrs.set(k, v);
  }
  getAttribute(name: string) {
    return this.attrs.get(name) ?? null;
  }
  setAttribute(name: string, value: string) {
    this.attrs.set(name, value);
  }
  removeAttribute(name: string) {
    this.attrs.delete(name);
  }
}

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    data,
  };
}

const PNG = 'data:image/png;base64,iVBORw0KGgo=';
const image = (url: string, data_url = PNG): FetchedImage => ({ url, mime: 'image/png', bytes: 8, data_url });

describe('remembered image hosts', () => {
  it('remembers and forgets hosts in storage, case-insensitively', () => {
    const storage = memoryStorage();
    expect(allowedHosts(storage).size).toBe(0);
    setHostsAllowed(storage, ['Images.Zaobao.com.sg'], true);
    setHostsAllowed(storage, ['ichef.bbci.co.uk', 'img.example.com'], true);
    expect([...allowedHosts(storage)].sort()).toEqual(['ichef.bbci.co.uk', 'images.zaobao.com.sg', 'img.example.com']);
    expect(JSON.parse(storage.data.get(IMAGE_HOSTS_KEY) ?? '')).toEqual([
      'ichef.bbci.co.uk',
      'images.zaobao.com.sg',
      'img.example.com',
    ]);
    setHostsAllowed(storage, ['IMAGES.zaobao.com.sg', 'img.example.com'], false);
    expect([...allowedHosts(storage)]).toEqual(['ichef.bbci.co.uk']);
  });

  it('ignores what the old site-keyed storage remembered', () => {
    // "Always for <site>" used to trust the site a post claimed; that list is not carried over.
    const storage = memoryStorage({ 'shelfmark.imageSites': '["cna.com.tw"]' });
    expect(allowedHosts(storage).size).toBe(0);
  });

  it('survives garbage and missing storage', () => {
    expect(allowedHosts(memoryStorage({ [IMAGE_HOSTS_KEY]: '{not json' })).size).toBe(0);
    expect(allowedHosts(memoryStorage({ [IMAGE_HOSTS_KEY]: '{"a":1}' })).size).toBe(0);
    expect([...allowedHosts(memoryStorage({ [IMAGE_HOSTS_KEY]: '[1,"x.com",null]' }))]).toEqual(['x.com']);
    expect(allowedHosts(undefined).size).toBe(0);
    const throwing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(allowedHosts(throwing).size).toBe(0);
    expect([...setHostsAllowed(throwing, ['x.com'], true)]).toEqual(['x.com']);
  });

  it('takes the host from each image address, never from what the post claims', () => {
    expect(imageHost('https://Images.Weserv.nl/?url=cna.com.tw/a.jpg')).toBe('images.weserv.nl');
    expect(imageHost('//cdn.example.net/b.png')).toBe('cdn.example.net');
    expect(imageHost('https://user@cna.com.tw.evil.example/x.png')).toBe('cna.com.tw.evil.example');
    expect(imageHost('javascript:alert(1)')).toBeNull();
    expect(imageHost(null)).toBeNull();

    // A post that claims to be from cna.com.tw, with images on a proxy and on the site itself:
    // trusting cna.com.tw loads only the image whose own host is cna.com.tw.
    const urls = [
      'https://images.weserv.nl/?url=a.jpg',
      'https://www.cna.com.tw/b.jpg',
      'https://images.weserv.nl/?url=c.jpg',
      'https://cna.com.tw/d.jpg',
    ];
    expect(splitImageHosts(urls, new Set())).toEqual({
      trusted: [],
      pending: ['images.weserv.nl', 'www.cna.com.tw', 'cna.com.tw'],
      pendingImages: 4,
    });
    expect(splitImageHosts(urls, new Set(['cna.com.tw']))).toEqual({
      trusted: ['cna.com.tw'],
      pending: ['images.weserv.nl', 'www.cna.com.tw'],
      pendingImages: 3,
    });
  });

  it('loads only images on the given hosts when asked to', async () => {
    const proxied = new FakeImg({ [REMOTE_ATTR]: 'https://images.weserv.nl/?url=a.jpg' });
    const own = new FakeImg({ [REMOTE_ATTR]: 'https://CNA.com.tw/d.jpg' });
    const fetch = vi.fn(async (url: string) => image(url));
    const r = await loadRemoteImages([proxied, own], fetch, { hosts: new Set(['cna.com.tw']) });
    expect(fetch.mock.calls.map((c) => c[0])).toEqual(['https://CNA.com.tw/d.jpg']);
    expect(r.loaded).toBe(1);
    expect(proxied.getAttribute(REMOTE_ATTR)).toBe('https://images.weserv.nl/?url=a.jpg');
    expect(proxied.getAttribute('src')).toBeNull();
    expect(own.getAttribute('src')).toBe(PNG);
  });
});

describe('addresses and data URLs', () => {
  it('normalizes addresses like the core and refuses other schemes', () => {
    expect(normalizeImageUrl(' //cdn.example.net/b.png')).toBe('https://cdn.example.net/b.png');
    expect(normalizeImageUrl('https://a.example/x.jpg')).toBe('https://a.example/x.jpg');
    expect(normalizeImageUrl('javascript:alert(1)')).toBeNull();
    expect(normalizeImageUrl('file:///etc/passwd')).toBeNull();
    expect(normalizeImageUrl('relative.png')).toBeNull();
    expect(normalizeImageUrl(null)).toBeNull();
  });

  it('accepts raster data URLs only', () => {
    expect(safeDataUrl(PNG)).toBe(PNG);
    expect(safeDataUrl('data:image/svg+xml;base64,PHN2Zz4=')).toBeNull();
    expect(safeDataUrl('data:text/html;base64,PGI+')).toBeNull();
    expect(safeDataUrl('https://evil.example/x.png')).toBeNull();
    expect(safeDataUrl(42)).toBeNull();
  });
});

describe('loading a post’s images', () => {
  it('fetches each address once and fills every image that shows it', async () => {
    const a1 = new FakeImg({ [REMOTE_ATTR]: 'https://img.example.com/a.jpg', alt: 'a' });
    const a2 = new FakeImg({ [REMOTE_ATTR]: 'https://img.example.com/a.jpg' });
    const b = new FakeImg({ [REMOTE_ATTR]: '//cdn.example.net/b.png' });
    const local = new FakeImg({ src: 'data:image/gif;base64,R0lGOD' });
    const fetch = vi.fn(async (url: string) => image(url));
    const progress: number[] = [];
    const r = await loadRemoteImages([a1, a2, b, local], fetch, { onProgress: (d) => progress.push(d) });
    expect(fetch.mock.calls.map((c) => c[0]).sort()).toEqual([
      'https://cdn.example.net/b.png',
      'https://img.example.com/a.jpg',
    ]);
    expect(r).toEqual({ loaded: 3, failed: 0, errors: [], stale: false });
    for (const img of [a1, a2, b]) {
      expect(img.getAttribute('src')).toBe(PNG);
      expect(img.getAttribute(REMOTE_ATTR)).toBeNull();
    }
    expect(b.getAttribute(LOADED_ATTR)).toBe('https://cdn.example.net/b.png');
    expect(local.getAttribute('src')).toBe('data:image/gif;base64,R0lGOD');
    expect(progress).toEqual([1, 2]);
  });

  it('marks failures with a readable reason and keeps going', async () => {
    const ok = new FakeImg({ [REMOTE_ATTR]: 'https://a.example/ok.png' });
    const gone = new FakeImg({ [REMOTE_ATTR]: 'https://a.example/gone.png' });
    const svg = new FakeImg({ [REMOTE_ATTR]: 'https://a.example/x.svg' });
    const fetch = vi.fn(async (url: string) => {
      if (url.endsWith('gone.png'))
        throw new Error('Could not load the image https://a.example/gone.png: the server answered 404 Not Found.');
      if (url.endsWith('.svg')) return image(url, 'data:image/svg+xml;base64,PHN2Zz4=');
      return image(url);
    });
    const r = await loadRemoteImages([ok, gone, svg], fetch, { concurrency: 1 });
    expect(r.loaded).toBe(1);
    expect(r.failed).toBe(2);
    expect(r.errors[0]).toContain('404');
    expect(gone.getAttribute(FAILED_ATTR)).toBe('');
    expect(gone.getAttribute('title')).toContain('gone.png');
    expect(gone.getAttribute('src')).toBeNull();
    expect(svg.getAttribute('src')).toBeNull();
    expect(ok.getAttribute('src')).toBe(PNG);
  });

  it('fetches nothing without blocked images, and at most `concurrency` at a time', async () => {
    const none = vi.fn(async (url: string) => image(url));
    expect(await loadRemoteImages([new FakeImg({ [REMOTE_ATTR]: 'ftp://x/a.png' })], none)).toMatchObject({
      loaded: 0,
      failed: 0,
    });
    expect(none).not.toHaveBeenCalled();

    let running = 0;
    let peak = 0;
    const slow = vi.fn(async (url: string) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return image(url);
    });
    const imgs = Array.from({ length: 10 }, (_, i) => new FakeImg({ [REMOTE_ATTR]: `https://a.example/${i}.png` }));
    const r = await loadRemoteImages(imgs, slow, { concurrency: 3 });
    expect(r.loaded).toBe(10);
    expect(peak).toBe(3);
  });

  it('drops answers once the reader shows another post', async () => {
    let current = true;
    const imgs = [1, 2, 3].map((i) => new FakeImg({ [REMOTE_ATTR]: `https://a.example/${i}.png` }));
    const fetch = vi.fn(async (url: string) => {
      current = false; // the user opened another post while this was on its way
      return image(url);
    });
    const r = await loadRemoteImages(imgs, fetch, { concurrency: 1, isCurrent: () => current });
    expect(r.stale).toBe(true);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(imgs.every((img) => img.getAttribute('src') === null)).toBe(true);
  });
});
