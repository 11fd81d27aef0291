import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from './bindings/HistoryEntry';
import { translate } from './i18n.svelte';
import { describeEntry } from './history';

const entry = (ops: HistoryEntry['ops'], path: string | null = null): HistoryEntry => ({
  id: 1,
  label: 'add tags 秘密',
  ops,
  path,
  created: '2026-01-01T00:00:00Z',
  state: 'applied',
  files: path ? 1 : 3,
  journal_bytes: 10,
});

const list = (items: string[]) => items.join(', ');

describe('history in words', () => {
  it('says an operation in each language, from its ops', () => {
    const e = entry([{ op: 'add-items', key: 'tags', items: ['秘密', 'x'] }]);
    expect(describeEntry(e, (k, v) => translate('en', k, v), list)).toBe('add tags 秘密, x');
    expect(describeEntry(e, (k, v) => translate('zh-CN', k, v), list)).toBe('向 tags 添加：秘密, x');
  });

  it('names a merge, the file of a one-file edit, and every op', () => {
    const e = entry(
      [
        { op: 'rename-items', key: 'categories', from: ['a', 'b'], to: 'c' },
        { op: 'set', key: 'title', value: 'New' },
      ],
      '_posts/2021-01-01-x.md',
    );
    expect(describeEntry(e, (k, v) => translate('en', k, v), list)).toBe(
      'edit 2021-01-01-x.md: merge categories a, b → c; set title = New',
    );
    expect(describeEntry(e, (k, v) => translate('zh-CN', k, v), list)).toBe(
      '2021-01-01-x.md：将 categories 中的 a, b 合并为 c；将 title 设为 New',
    );
  });

  it('names the computed fixes of the data-quality findings', () => {
    const e = entry([
      { op: 'clean', key: 'author', how: 'decode-entities' },
      { op: 'date-from', source: 'epoch' },
    ]);
    expect(describeEntry(e, (k, v) => translate('en', k, v), list)).toBe(
      'clean author: decode HTML entities; date from the epoch comment',
    );
    expect(describeEntry(e, (k, v) => translate('zh-CN', k, v), list)).toBe(
      '清理 author：解码 HTML 实体；从时间戳注释取日期',
    );
  });

  it('falls back to the English label for operations without ops', () => {
    expect(describeEntry(entry([]), (k, v) => translate('zh-CN', k, v), list)).toBe('add tags 秘密');
  });
});
