// Highlight ranges from the core are `[start, end)` in CHARACTERS (Unicode scalar values, as
// Rust's `char`), not UTF-16 code units: a string is split by code points before slicing.

export interface Segment {
  text: string;
  mark: boolean;
}

export function segments(text: string, ranges: ReadonlyArray<readonly [number, number]>): Segment[] {
  if (!ranges.length) return text ? [{ text, mark: false }] : [];
  const chars = Array.from(text);
  const sorted = [...ranges]
    .map(([s, e]) => [Math.max(0, s), Math.min(chars.length, e)] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  const out: Segment[] = [];
  let at = 0;
  for (const [s0, e] of sorted) {
    const s = Math.max(s0, at);
    if (e <= s) continue;
    if (s > at) out.push({ text: chars.slice(at, s).join(''), mark: false });
    out.push({ text: chars.slice(s, e).join(''), mark: true });
    at = e;
  }
  if (at < chars.length) out.push({ text: chars.slice(at).join(''), mark: false });
  return out;
}
