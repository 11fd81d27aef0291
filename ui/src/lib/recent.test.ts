import { describe, expect, it } from 'vitest';
import { forgetRecent, loadRecent, rememberRecent } from './recent';

function store() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe('recent archives', () => {
  it('keeps the newest first, without duplicates, at most eight', () => {
    const s = store();
    for (let i = 0; i < 10; i++) rememberRecent(`/a${i}`, s);
    rememberRecent('/a5', s);
    const list = loadRecent(s);
    expect(list[0]).toBe('/a5');
    expect(list).toHaveLength(8);
    expect(new Set(list).size).toBe(8);
    expect(forgetRecent('/a5', s)[0]).toBe('/a9');
  });

  it('survives garbage in storage', () => {
    const s = store();
    s.setItem('shelfmark.recent', '{not json');
    expect(loadRecent(s)).toEqual([]);
  });
});
