import { describe, expect, it, vi } from 'vitest';
import type { DuplicateGroup } from './bindings/DuplicateGroup';
import type { DuplicatesResponse } from './bindings/DuplicatesResponse';
import { COMPARE_CHARS } from './dupes';
import { DuplicatesController, dupeBadge, isDuplicate, type DupesApi } from './dupestate.svelte';

function group(kind: DuplicateGroup['kind'], similarity: number, ...paths: string[]): DuplicateGroup {
  return {
    kind,
    similarity,
    posts: paths.map((path) => ({ path, title: path, date: null, source: null, hash: 'h', shingles: 1 })),
  };
}

const GROUPS = [
  group('near', 0.85, 'a.md', 'b.md'),
  group('exact', 1, 'c.md', 'd.md', 'e.md'),
  group('url', 1, 'f.md', 'g.md'),
];

function response(groups: DuplicateGroup[]): DuplicatesResponse {
  return {
    groups,
    counts: { exact: 0, url: 0, near: 0 },
    posts: 9,
    computed: 9,
    min_similarity: 0.8,
    decisions: 0,
  };
}

function fake(groups = GROUPS) {
  const api = {
    run: vi.fn<DupesApi['run']>(async (onProgress) => {
      onProgress({ done: 1, total: 2 });
      return response(groups);
    }),
    cancel: vi.fn(async () => null),
    show: vi.fn(async (path: string) => ({ text: `text of ${path}` })),
    notDuplicates: vi.fn(async () => null),
  };
  return { api, view: new DuplicatesController(api) };
}

const key = (k: string) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false });

describe('DuplicatesController', () => {
  it('runs, lists the largest group first and loads the two posts compared', async () => {
    const { api, view } = fake();
    await view.run();
    expect(view.phase).toBe('ready');
    expect(view.shown.map((g) => g.kind)).toEqual(['exact', 'url', 'near']);
    expect(view.current?.kind).toBe('exact');
    await vi.waitFor(() => expect(view.texts['d.md']).toBe('text of d.md'));
    expect(view.texts['c.md']).toBe('text of c.md');
    expect(api.show).toHaveBeenCalledTimes(2);
  });

  it('keeps no more of a huge post than the comparison reads', async () => {
    const { api, view } = fake();
    api.show.mockImplementation(async () => ({ text: 'x'.repeat(COMPARE_CHARS * 3) }));
    await view.run();
    await vi.waitFor(() => expect(view.texts['d.md']).toBeTruthy());
    expect(view.texts['c.md']).toHaveLength(COMPARE_CHARS + 1);
  });

  it('fills the duplicate badge from the last run', async () => {
    const { view } = fake();
    await view.run();
    expect(isDuplicate('a.md')).toBe(true);
    expect(isDuplicate('z.md')).toBe(false);
    expect(dupeBadge.paths.size).toBe(7);
    await view.notDuplicates(view.shown[2]!);
    expect(isDuplicate('a.md')).toBe(false);
    expect(isDuplicate('c.md')).toBe(true);
  });

  it('moves between groups with j/k and the arrows, within bounds', async () => {
    const { view } = fake();
    await view.run();
    expect(view.key(key('j'))).toBe('handled');
    expect(view.current?.kind).toBe('url');
    view.key(key('ArrowDown'));
    view.key(key('ArrowDown'));
    expect(view.current?.kind).toBe('near');
    view.key(key('k'));
    expect(view.current?.kind).toBe('url');
    expect(view.key(key('x'))).toBeNull();
  });

  it('steps the right-hand post through a larger group, never onto the left one', async () => {
    const { view } = fake();
    await view.run();
    expect([view.left, view.right]).toEqual([0, 1]);
    view.key(key('l'));
    expect(view.right).toBe(2);
    view.key(key('l'));
    expect(view.right).toBe(1);
    view.key(key('h'));
    expect(view.right).toBe(2);
  });

  it('asks for the resolve form with 1 and 2', async () => {
    const { view } = fake();
    await view.run();
    expect(view.key(key('1'))).toEqual({ keep: 'left' });
    expect(view.key(key('2'))).toEqual({ keep: 'right' });
  });

  it('records "not duplicates" with n: the group leaves and the cursor stays in place', async () => {
    const { api, view } = fake();
    await view.run();
    view.move(1);
    view.key(key('n'));
    await vi.waitFor(() => expect(view.groups).toHaveLength(2));
    expect(api.notDuplicates).toHaveBeenCalledWith(['f.md', 'g.md']);
    expect(view.current?.kind).toBe('near');
  });

  it('keeps the group on failure and says why', async () => {
    const { api, view } = fake();
    api.notDuplicates.mockRejectedValueOnce({ code: 'bad-request', message: 'no' });
    await view.run();
    expect(await view.notDuplicates()).toBe(false);
    expect(view.groups).toHaveLength(3);
    expect(view.error).toBeTruthy();
  });

  it('filters by kind and similarity, the cursor following', async () => {
    const { view } = fake();
    await view.run();
    view.kind = 'near';
    view.refilter();
    expect(view.shown).toHaveLength(1);
    expect(view.current?.kind).toBe('near');
    view.minPercent = 90;
    view.refilter();
    expect(view.current).toBeNull();
  });

  it('drops the answer of a run overtaken by a newer one', async () => {
    const { api, view } = fake();
    let release: (r: DuplicatesResponse) => void = () => {};
    api.run.mockImplementationOnce(() => new Promise((r) => (release = r)));
    const first = view.run();
    const second = view.run();
    await second;
    release(response([]));
    await first;
    expect(view.groups).toHaveLength(3);
  });

  it('reports a failed run', async () => {
    const { api, view } = fake();
    api.run.mockRejectedValueOnce({ code: 'cancelled', message: 'cancelled' });
    await view.run();
    expect(view.phase).toBe('failed');
    expect(view.error).toBeTruthy();
  });
});
