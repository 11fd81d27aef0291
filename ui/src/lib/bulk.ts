// The paths of the selected rows, for a bulk action on a selection. Rows whose page is not
// loaded (a selection made by shift-click over thousands of rows, or "all but a few") are fetched
// in contiguous runs, in the list's own query and sort.

import type { SearchHit } from './bindings/SearchHit';

/** The path of a hit as the api wants it (`hex:` for a name that is not UTF-8). */
export function hitPath(hit: Pick<SearchHit, 'path' | 'path_bytes_hex'>): string {
  return hit.path_bytes_hex ? `hex:${hit.path_bytes_hex}` : hit.path;
}

/** Contiguous runs `[start, end)` of sorted indices, each at most `max` long. */
export function runs(indices: number[], max = 500): [number, number][] {
  const out: [number, number][] = [];
  for (const i of indices) {
    const last = out[out.length - 1];
    if (last && last[1] === i && last[1] - last[0] < max) last[1] = i + 1;
    else out.push([i, i + 1]);
  }
  return out;
}

/**
 * The paths of rows `indices` (sorted): from `get` when loaded, else from `fetch(offset, limit)`
 * of the same query. Rows that no longer exist are left out.
 */
export async function collectPaths(
  indices: number[],
  get: (i: number) => Pick<SearchHit, 'path' | 'path_bytes_hex'> | undefined,
  fetch: (offset: number, limit: number) => Promise<Pick<SearchHit, 'path' | 'path_bytes_hex'>[]>,
): Promise<string[]> {
  const found = new Map<number, string>();
  const missing: number[] = [];
  for (const i of indices) {
    const hit = get(i);
    if (hit) found.set(i, hitPath(hit));
    else missing.push(i);
  }
  for (const [start, end] of runs(missing)) {
    const hits = await fetch(start, end - start);
    hits.forEach((h, k) => found.set(start + k, hitPath(h)));
  }
  return indices.filter((i) => found.has(i)).map((i) => found.get(i)!);
}
