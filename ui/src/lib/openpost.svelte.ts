// The post open in the reader: its details and rendered body, loading and failure. Only the
// latest `open` counts: an answer for a post the user has left is dropped.

import { errorText } from './errors';
import type { PostDetail } from './bindings/PostDetail';
import type { RenderedBody } from './bindings/RenderedBody';

export type PostLoader = (path: string) => Promise<[PostDetail, RenderedBody | null]>;

export class OpenPost {
  detail = $state.raw<PostDetail | null>(null);
  body = $state.raw<RenderedBody | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);

  readonly #load: PostLoader;
  #request = 0;

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
    this.loading = true;
    this.error = null;
    try {
      const [detail, body] = await this.#load(path);
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

  /** Empties the reader; an `open` still on its way is dropped. */
  close() {
    this.#request++;
    this.detail = null;
    this.body = null;
    this.error = null;
    this.loading = false;
  }
}
