// Remote images in the reader. The core parks every remote `<img>` address in `data-remote-src`
// and the CSP forbids remote loads, so nothing is fetched while a post is read. When the user
// asks ("Load images for this post", or "Always for this site", remembered here), each address
// is fetched by the core (`api.fetchImage`) and the image gets a `data:` URL as its `src`.
//
// Everything here works on a small element interface so that it can be tested without a DOM.

import type { FetchedImage } from './bindings/FetchedImage';

/** The attribute that carries a blocked image's address (see the core's `render`). */
export const REMOTE_ATTR = 'data-remote-src';
/** Set on an image that was loaded, with its address. */
export const LOADED_ATTR = 'data-loaded-src';
/** Set on an image that could not be loaded (its `title` says why). */
export const FAILED_ATTR = 'data-remote-failed';
/** localStorage: the sites whose images load without asking. */
export const IMAGE_SITES_KEY = 'shelfmark.imageSites';

type KeyValue = Pick<Storage, 'getItem' | 'setItem'>;

/** The sites whose images the user chose to always load (lower case). */
export function allowedSites(storage: KeyValue | undefined): Set<string> {
  try {
    const raw = storage?.getItem(IMAGE_SITES_KEY);
    const list: unknown = raw ? JSON.parse(raw) : [];
    if (!Array.isArray(list)) return new Set();
    return new Set(list.filter((s): s is string => typeof s === 'string' && s.length > 0).map((s) => s.toLowerCase()));
  } catch {
    return new Set();
  }
}

/** Remembers (or forgets) a site; returns the new set. Storage failures keep the choice in memory. */
export function setSiteAllowed(storage: KeyValue | undefined, site: string, allowed: boolean): Set<string> {
  const sites = allowedSites(storage);
  const key = site.toLowerCase();
  if (allowed) sites.add(key);
  else sites.delete(key);
  try {
    storage?.setItem(IMAGE_SITES_KEY, JSON.stringify([...sites].sort()));
  } catch {
    // Private mode or full storage: the choice lasts for this page only.
  }
  return sites;
}

/**
 * The "site" a post's images are remembered under: the post's own site (as the core reports it),
 * else the host of its images when they all come from one host.
 */
export function siteKey(postSite: string | null | undefined, imageHosts: readonly string[]): string | null {
  const site = postSite?.trim().toLowerCase();
  if (site) return site;
  const hosts = new Set(imageHosts.map((h) => h.toLowerCase()));
  return hosts.size === 1 ? ([...hosts][0] ?? null) : null;
}

/** Whether a post's images load without asking. */
export function loadsAutomatically(sites: ReadonlySet<string>, key: string | null): boolean {
  return key !== null && sites.has(key);
}

/** An image address as the core lists it: `//host/x` is `https://host/x`; only http(s). */
export function normalizeImageUrl(raw: string | null): string | null {
  if (!raw) return null;
  const trimmed = raw.trim();
  const full = trimmed.startsWith('//') ? `https:${trimmed}` : trimmed;
  try {
    const u = new URL(full);
    return u.protocol === 'http:' || u.protocol === 'https:' ? full : null;
  } catch {
    return null;
  }
}

/** Only raster images as `data:` URLs go into `src` (the core promises this; check anyway). */
export function safeDataUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /^data:image\/([a-z0-9.+-]+);base64,/i.exec(value);
  if (!m || (m[1] ?? '').toLowerCase().startsWith('svg')) return null;
  return value;
}

/** The part of an `<img>` element this module touches. */
export interface ImageElement {
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
}

export interface LoadOptions {
  /** Fetches at the same time (default 4). */
  concurrency?: number;
  /** False once the reader shows another post: answers are then dropped. */
  isCurrent?: () => boolean;
  /** Called after each address is done, for progress. */
  onProgress?: (done: number, total: number) => void;
}

export interface LoadResult {
  loaded: number;
  failed: number;
  /** Distinct error messages, first ones first. */
  errors: string[];
  /** The reader moved on before all answers came. */
  stale: boolean;
}

/**
 * Loads the blocked images among `images`: each distinct address is fetched once with `fetch`
 * (at most `concurrency` at a time), then every image with that address gets the `data:` URL.
 * Nothing is fetched for images that are not blocked or whose address is not http(s).
 */
export async function loadRemoteImages(
  images: Iterable<ImageElement>,
  fetch: (url: string) => Promise<FetchedImage>,
  opts: LoadOptions = {},
): Promise<LoadResult> {
  const isCurrent = opts.isCurrent ?? (() => true);
  const byUrl = new Map<string, ImageElement[]>();
  for (const img of images) {
    const url = normalizeImageUrl(img.getAttribute(REMOTE_ATTR));
    if (!url) continue;
    const list = byUrl.get(url);
    if (list) list.push(img);
    else byUrl.set(url, [img]);
  }
  const queue = [...byUrl.keys()];
  const total = queue.length;
  const result: LoadResult = { loaded: 0, failed: 0, errors: [], stale: false };
  let done = 0;

  const fail = (imgs: ImageElement[], message: string) => {
    result.failed += imgs.length;
    if (!result.errors.includes(message)) result.errors.push(message);
    for (const img of imgs) {
      img.setAttribute(FAILED_ATTR, '');
      img.setAttribute('title', message);
    }
  };

  async function worker() {
    for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
      if (!isCurrent()) {
        result.stale = true;
        return;
      }
      const imgs = byUrl.get(url) ?? [];
      let answer: FetchedImage | null = null;
      let message: string | null = null;
      try {
        answer = await fetch(url);
      } catch (e) {
        message = e instanceof Error ? e.message : String(e);
      }
      if (!isCurrent()) {
        result.stale = true;
        return;
      }
      const src = answer ? safeDataUrl(answer.data_url) : null;
      if (src) {
        result.loaded += imgs.length;
        for (const img of imgs) {
          img.removeAttribute(FAILED_ATTR);
          img.setAttribute('src', src);
          img.setAttribute(LOADED_ATTR, url);
          img.removeAttribute(REMOTE_ATTR);
        }
      } else {
        fail(imgs, message ?? `Not a picture: ${url}`);
      }
      done++;
      opts.onProgress?.(done, total);
    }
  }

  const workers = Math.max(1, Math.min(opts.concurrency ?? 4, total));
  await Promise.all(Array.from({ length: workers }, () => worker()));
  return result;
}
