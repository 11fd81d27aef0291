import { describe, expect, it } from 'vitest';
import type { DuplicateGroup } from './bindings/DuplicateGroup';
import {
  COMPARE_CHARS,
  compareTexts,
  countKinds,
  dupeKey,
  dupePath,
  groupId,
  groupPaths,
  percent,
  resolveRequest,
  shownGroups,
} from './dupes';

function post(path: string, hash = `h-${path}`) {
  return { path, title: path, date: null, source: null, hash, shingles: 10 };
}
function group(kind: DuplicateGroup['kind'], similarity: number, ...paths: string[]): DuplicateGroup {
  return { kind, similarity, posts: paths.map((p) => post(p)) };
}

const GROUPS = [
  group('near', 0.82, 'a.md', 'b.md'),
  group('exact', 1, 'c.md', 'd.md'),
  group('near', 0.95, 'e.md', 'f.md', 'g.md'),
  group('url', 1, 'h.md', 'i.md'),
  group('near', 0.91, 'j.md', 'k.md'),
];

describe('shownGroups', () => {
  it('orders by size, then similarity, then kind', () => {
    const order = shownGroups(GROUPS, { kind: 'all', minSimilarity: 0 }).map((g) => g.posts[0]!.path);
    expect(order).toEqual(['e.md', 'c.md', 'h.md', 'j.md', 'a.md']);
  });

  it('filters by kind and by minimum similarity', () => {
    expect(shownGroups(GROUPS, { kind: 'near', minSimilarity: 0 }).map((g) => g.posts[0]!.path)).toEqual([
      'e.md',
      'j.md',
      'a.md',
    ]);
    expect(shownGroups(GROUPS, { kind: 'near', minSimilarity: 0.9 })).toHaveLength(2);
    expect(shownGroups(GROUPS, { kind: 'all', minSimilarity: 0.92 })).toHaveLength(3);
    expect(shownGroups(GROUPS, { kind: 'exact', minSimilarity: 1 })).toHaveLength(1);
  });

  it('does not reorder its input', () => {
    const before = GROUPS.map(groupId);
    shownGroups(GROUPS, { kind: 'all', minSimilarity: 0 });
    expect(GROUPS.map(groupId)).toEqual(before);
  });
});

describe('groups', () => {
  it('counts kinds and collects paths', () => {
    expect(countKinds(GROUPS)).toEqual({ exact: 1, url: 1, near: 3 });
    expect([...groupPaths(GROUPS)].sort()).toHaveLength(11);
    expect(groupPaths([]).size).toBe(0);
  });

  it('tells groups apart by kind and posts', () => {
    expect(groupId(group('near', 0.9, 'a', 'b'))).toBe(groupId(group('near', 0.8, 'a', 'b')));
    expect(groupId(group('near', 0.9, 'a', 'b'))).not.toBe(groupId(group('url', 1, 'a', 'b')));
    expect(groupId(group('near', 0.9, 'a', 'b'))).not.toBe(groupId(group('near', 0.9, 'a', 'bc')));
  });

  it('names non-UTF-8 paths by their bytes', () => {
    expect(dupePath({ path: 'x.md', path_bytes_hex: 'ff' })).toBe('hex:ff');
    expect(dupePath({ path: 'x.md' })).toBe('x.md');
  });

  it('shows similarity as a percentage', () => {
    expect(percent(0.826)).toBe(83);
    expect(percent(1)).toBe(100);
    expect(percent(2)).toBe(100);
  });
});

describe('dupeKey', () => {
  const k = (key: string, mods = {}) => dupeKey({ key, ctrlKey: false, metaKey: false, altKey: false, ...mods });
  it('maps the view keys', () => {
    expect(k('j')).toEqual({ kind: 'move', delta: 1 });
    expect(k('ArrowUp')).toEqual({ kind: 'move', delta: -1 });
    expect(k('l')).toEqual({ kind: 'compare', delta: 1 });
    expect(k('1')).toEqual({ kind: 'keep', side: 'left' });
    expect(k('2')).toEqual({ kind: 'keep', side: 'right' });
    expect(k('n')).toEqual({ kind: 'not-duplicates' });
    expect(k('x')).toBeNull();
    expect(k('j', { ctrlKey: true })).toBeNull();
  });
});

describe('resolveRequest', () => {
  const g = group('exact', 1, 'a.md', 'b.md', 'c.md');
  const form = { keep: 'b.md', action: 'tag' as const, tag: ' duplicate ', folder: '', recordSources: true };

  it('keeps one and names the others with the hashes seen', () => {
    const r = resolveRequest(g, form);
    expect(r).toEqual({
      request: {
        keep: 'b.md',
        others: ['a.md', 'c.md'],
        hashes: { 'a.md': 'h-a.md', 'b.md': 'h-b.md', 'c.md': 'h-c.md' },
        action: { kind: 'tag', tag: 'duplicate' },
        record_sources: true,
      },
    });
  });

  it('moves into a folder, deletes, and refuses incomplete forms', () => {
    const move = resolveRequest(g, { ...form, action: 'move', folder: '/dupes/' });
    expect('request' in move && move.request.action).toEqual({ kind: 'move', folder: 'dupes' });
    const del = resolveRequest(g, { ...form, action: 'delete' });
    expect('request' in del && del.request.action).toEqual({ kind: 'delete' });
    expect(resolveRequest(g, { ...form, tag: '  ' })).toEqual({ error: 'dupes.error.tag' });
    expect(resolveRequest(g, { ...form, action: 'move', folder: '/' })).toEqual({ error: 'dupes.error.folder' });
    expect(resolveRequest(g, { ...form, keep: 'z.md' })).toEqual({ error: 'dupes.error.keep' });
  });
});

describe('compareTexts', () => {
  const text = (c: ReturnType<typeof compareTexts>['left']) =>
    c.map((l) => l.parts.map((p) => (p.mark ? `[${p.text}]` : p.text)).join(''));

  it('marks nothing in equal texts', () => {
    const c = compareTexts('one\ntwo\nthree', 'one\ntwo\nthree');
    expect(c.changedLeft + c.changedRight).toBe(0);
    expect(text(c.left)).toEqual(['one', 'two', 'three']);
  });

  it('aligns lines and marks the characters that differ in a changed line', () => {
    const c = compareTexts('标题\n北京今天下雨。\n相关文章\n尾', '标题\n北京今天下大雨。\n尾');
    expect(text(c.left)).toEqual(['标题', '北京今天下[]雨。'.replace('[]', ''), '[相关文章]', '尾']);
    expect(text(c.right)).toEqual(['标题', '北京今天下[大]雨。', '尾']);
    expect(c.changedLeft).toBe(2);
    expect(c.changedRight).toBe(1);
  });

  it('keeps lines common to both in the middle unmarked', () => {
    const c = compareTexts('a\nx\nb\nc', 'a\nb\ny\nc');
    expect(text(c.left)).toEqual(['a', '[x]', 'b', 'c']);
    expect(text(c.right)).toEqual(['a', 'b', '[y]', 'c']);
  });

  it('is bounded for huge texts and says it cut them', () => {
    const big = 'line\n'.repeat(COMPARE_CHARS);
    const c = compareTexts(big, `${big}more`);
    expect(c.truncated).toBe(true);
    expect(c.left.length).toBeLessThanOrEqual(COMPARE_CHARS / 5 + 1);
    const wide = Array.from({ length: 5000 }, (_, i) => `a${i}`).join('\n');
    const other = Array.from({ length: 5000 }, (_, i) => `b${i}`).join('\n');
    const d = compareTexts(wide, other);
    expect(d.changedLeft).toBe(d.left.length);
  });
});
