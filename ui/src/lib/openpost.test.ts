import { describe, expect, it } from 'vitest';
import type { PostDetail } from './bindings/PostDetail';
import type { RenderedBody } from './bindings/RenderedBody';
import { OpenPost, type PostLoader } from './openpost.svelte';

const detail = (path: string) => ({ path, title: path }) as unknown as PostDetail;

/** A loader whose answers the test releases one by one. */
function controlled() {
  const waiting = new Map<string, { ok: () => void; fail: (e: unknown) => void }>();
  const load: PostLoader = (path) =>
    new Promise<[PostDetail, RenderedBody | null]>((resolve, reject) => {
      waiting.set(path, { ok: () => resolve([detail(path), null]), fail: reject });
    });
  return { load, waiting };
}

describe('OpenPost', () => {
  it('keeps "whole page" from post to post and loads the open post again when it changes', async () => {
    const asked: [string, boolean][] = [];
    const post = new OpenPost(async (path, wholePage) => {
      asked.push([path, wholePage]);
      return [detail(path), null];
    });
    expect(post.wholePage).toBe(false);
    expect(await post.setWholePage(true)).toBe(true);
    expect(asked).toEqual([]);
    await post.open('a.md');
    await post.open('b.md');
    expect(await post.setWholePage(false)).toBe(true);
    expect(await post.setWholePage(false)).toBe(true);
    await post.open('c.md');
    expect(asked).toEqual([
      ['a.md', true],
      ['b.md', true],
      ['b.md', false],
      ['c.md', false],
    ]);
    post.close();
    await post.setWholePage(true);
    expect(asked.length).toBe(4);
    expect(post.detail).toBeNull();
  });

  it('shows the post it was asked for last, whatever order the answers come in', async () => {
    const { load, waiting } = controlled();
    const post = new OpenPost(load);
    const first = post.open('a.md');
    const second = post.open('b.md');
    expect(post.loading).toBe(true);
    expect(post.showing).toBe(true);
    waiting.get('b.md')?.ok();
    expect(await second).toBe(true);
    waiting.get('a.md')?.ok();
    expect(await first).toBe(false);
    expect(post.detail?.path).toBe('b.md');
    expect(post.loading).toBe(false);
  });

  it('reports a failure, and close drops an answer still on its way', async () => {
    const { load, waiting } = controlled();
    const post = new OpenPost(load);
    const failed = post.open('gone.md');
    waiting.get('gone.md')?.fail({ code: 'not-found', message: 'no such post' });
    expect(await failed).toBe(true);
    expect(post.error).toBe('Not found: no such post');
    expect(post.detail).toBeNull();

    const late = post.open('a.md');
    post.close();
    waiting.get('a.md')?.ok();
    expect(await late).toBe(false);
    expect(post.detail).toBeNull();
    expect(post.error).toBeNull();
    expect(post.showing).toBe(false);
  });
});
