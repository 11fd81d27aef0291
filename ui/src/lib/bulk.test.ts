import { describe, expect, it, vi } from 'vitest';
import { collectPaths, hitPath, runs } from './bulk';

describe('collectPaths', () => {
  it('groups missing rows into runs', () => {
    expect(runs([1, 2, 3, 7, 9, 10])).toEqual([
      [1, 4],
      [7, 8],
      [9, 11],
    ]);
    expect(runs([0, 1, 2, 3], 2)).toEqual([
      [0, 2],
      [2, 4],
    ]);
  });

  it('uses loaded rows and fetches the rest, in order', async () => {
    const loaded = new Map([
      [0, { path: 'a', path_bytes_hex: null }],
      [2, { path: 'c', path_bytes_hex: 'ff' }],
    ]);
    const fetch = vi.fn(async (offset: number, limit: number) =>
      Array.from({ length: limit }, (_, k) => ({ path: `p${offset + k}`, path_bytes_hex: null })),
    );
    const paths = await collectPaths([0, 2, 5, 6, 9], (i) => loaded.get(i), fetch);
    expect(paths).toEqual(['a', 'hex:ff', 'p5', 'p6', 'p9']);
    expect(fetch.mock.calls).toEqual([
      [5, 2],
      [9, 1],
    ]);
    expect(hitPath({ path: 'x', path_bytes_hex: null })).toBe('x');
  });

  it('leaves out rows that no longer exist', async () => {
    const paths = await collectPaths(
      [0, 1],
      () => undefined,
      async () => [{ path: 'only', path_bytes_hex: null }],
    );
    expect(paths).toEqual(['only']);
  });
});
