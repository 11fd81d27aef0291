// The post open in the reader: its details and rendered body, loading and failure. Only the
// latest `open` counts: an answer for a post the user has left is dropped. `wholePage` (the
// article alone, or the whole page around it) is kept for the session, from post to post.

import { errorText } from './errors';
import type { PostDetail } from './bindings/PostDetail';
import type { RenderedBody } from './bindings/RenderedBody';

export type PostLoader = (path: string, wholePage: boolean) => Promise<[PostDetail, RenderedBody | null]>;

export class OpenPost {
  detail = $state.raw<PostDetail | null>(null);
  body = $state.raw<RenderedBody | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  /** Show the whole page, not only the article (kept while moving between posts). */
  wholePage = $state(false);

  readonly #load: PostLoader;
  #request = 0;
  #path: string | null = null;

  constructor(load: PostLoader) {
    this.#load = load;
  }

  /** Whether the reader has something to show (a post, its loading, or its failure). */
  get showing(): boolean {
    return this.detail !== null || this.loading || this.error !== null;
  }

  /** Loads the post at `path`; resolves true if it is still the one wanted when done. */
  async open(path: string): Promise<boolean> {
    const id = ++this.#request;
    this.#path = path;
    this.loading = true;
    this.error = null;
    try {
      const [detail, body] = await this.#load(path, this.wholePage);
      if (id === this.#request) {
        this.detail = detail;
        this.body = body;
      }
    } catch (e) {
      if (id === this.#request) {
        this.detail = null;
        this.body = null;
        this.error = errorText(e);
      }
    } finally {
      if (id === this.#request) this.loading = false;
    }
    return id === this.#request;
  }

  /** Article only or the whole page: for this post (loaded again) and the ones opened next. */
  async setWholePage(whole: boolean): Promise<boolean> {
    if (whole === this.wholePage) return true;
    this.wholePage = whole;
    return this.#path === null ? true : this.open(this.#path);
  }

  /** Empties the reader; an `open` still on its way is dropped. */
  close() {
    this.#path = null;
    this.#request++;
    this.detail = null;
    this.body = null;
    this.error = null;
    this.loading = false;
  }
}
