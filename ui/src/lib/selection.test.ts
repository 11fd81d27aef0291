import { describe, expect, it } from 'vitest';
import { Selection } from './selection.svelte';

describe('Selection', () => {
  it('click selects one, ctrl-click toggles, shift-click selects a range from the anchor', () => {
    const s = new Selection();
    s.click(3);
    expect(s.indices(100)).toEqual([3]);
    s.click(7, { shift: true });
    expect(s.indices(100)).toEqual([3, 4, 5, 6, 7]);
    s.click(5, { toggle: true });
    expect(s.indices(100)).toEqual([3, 4, 6, 7]);
    s.click(1, { shift: true });
    expect(s.indices(100)).toEqual([1, 2, 3, 4, 5]);
    s.click(9);
    expect(s.indices(100)).toEqual([9]);
  });

  it('select all is cheap and honours exceptions', () => {
    const s = new Selection();
    s.selectAll();
    expect(s.count(70_000)).toBe(70_000);
    expect(s.has(69_999)).toBe(true);
    s.click(10, { toggle: true });
    expect(s.has(10)).toBe(false);
    expect(s.count(70_000)).toBe(69_999);
    s.clear();
    expect(s.count(70_000)).toBe(0);
  });
});
