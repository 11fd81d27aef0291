// Remote images in the reader. The core parks every remote `<img>` address in `data-remote-src`
// and the CSP forbids remote loads, so nothing is fetched while a post is read. When the user
// asks ("Load images for this post", or "Always for <image host>", remembered here), each address
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
/**
 * localStorage: the image hosts whose images load without asking. Trust is per image host (the
 * host in the image's own address), never per site a post claims: a post's front matter is
 * written by whoever made the archive, and may name any site.
 */
export const IMAGE_HOSTS_KEY = 'shelfmark.imageHosts';

type KeyValue = Pick<Storage, 'getItem' | 'setItem'>;

/** The image hosts the user chose to always load (lower case). */
export function allowedHosts(storage: KeyValue | undefined): Set<string> {
  try {
    const raw = storage?.getItem(IMAGE_HOSTS_KEY);
    const list: unknown = raw ? JSON.parse(raw) : [];
    if (!Array.isArray(list)) return new Set();
    return new Set(list.filter((s): s is string => typeof s === 'string' && s.length > 0).map((s) => s.toLowerCase()));
  } catch {
    return new Set();
  }
}

/** Remembers (or forgets) image hosts; returns the new set. Storage failures keep the choice in memory. */
export function setHostsAllowed(storage: KeyValue | undefined, hosts: Iterable<string>, allowed: boolean): Set<string> {
  const all = allowedHosts(storage);
  for (const host of hosts) {
    const key = host.toLowerCase();
    if (!key) continue;
    if (allowed) all.add(key);
    else all.delete(key);
  }
  try {
    storage?.setItem(IMAGE_HOSTS_KEY, JSON.stringify([...all].sort()));
  } catch {
    // Private mode or full storage: the choice lasts for this page only.
  }
  return all;
}

/** The host of an image address (lower case, as the core writes `remote_hosts`), or null. */
export function imageHost(raw: string | null): string | null {
  const url = normalizeImageUrl(raw);
  if (!url) return null;
  try {
    return new URL(url).hostname.toLowerCase() || null;
  } catch {
    return null;
  }
}

/** A post's image hosts, split into those that load without asking and those still to ask for. */
export interface ImageHosts {
  /** Remembered with "Always": their images load as soon as the post is shown. */
  trusted: string[];
  /** Not remembered: their images wait for a click. */
  pending: string[];
  /** How many of the post's image addresses are on pending hosts. */
  pendingImages: number;
}

/** Splits a post's image addresses by host (each host once, in order of first appearance). */
export function splitImageHosts(urls: readonly string[], allowed: ReadonlySet<string>): ImageHosts {
  const out: ImageHosts = { trusted: [], pending: [], pendingImages: 0 };
  for (const url of urls) {
    const host = imageHost(url);
    if (!host) continue;
    const trusted = allowed.has(host);
    if (!trusted) out.pendingImages++;
    const list = trusted ? out.trusted : out.pending;
    if (!list.includes(host)) list.push(host);
  }
  return out;
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
  /** Only images whose address is on one of these hosts (default: every image). */
  hosts?: ReadonlySet<string>;
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
 * Nothing is fetched for images that are not blocked, whose address is not http(s), or (with
 * `opts.hosts`) whose host is not one of those given.
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
    if (opts.hosts) {
      const host = imageHost(url);
      if (!host || !opts.hosts.has(host)) continue;
    }
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
