// Unified diffs from `preview_edit` (the core's `similar` output), parsed for display, and the
// raw front matter of a post recovered from the diff of a preview that empties it.

export type DiffLineKind = 'add' | 'del' | 'ctx' | 'note';

export interface DiffLine {
  kind: DiffLineKind;
  /** The line without its line end. */
  text: string;
  /** The line ended in `\r\n` (shown as a marker: line ends are part of what must not change). */
  crlf: boolean;
  /** Line numbers in the old and the new file (null where the line is not in that file). */
  old: number | null;
  new: number | null;
}

export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** The hunks of a unified diff (file headers dropped). */
export function parseDiff(diff: string): DiffHunk[] {
  const hunks: DiffHunk[] = [];
  let hunk: DiffHunk | null = null;
  let oldNo = 0;
  let newNo = 0;
  const lines = diff.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    const m = HUNK.exec(raw);
    if (m) {
      hunk = { header: raw, lines: [] };
      hunks.push(hunk);
      oldNo = Number(m[1]);
      newNo = Number(m[3]);
      continue;
    }
    // `--- a/…` and `+++ b/…` before the first hunk are the file names.
    if (!hunk) continue;
    const sign = raw.charAt(0);
    const body = raw.slice(1);
    const crlf = body.endsWith('\r');
    const text = crlf ? body.slice(0, -1) : body;
    if (sign === '+') {
      hunk.lines.push({ kind: 'add', text, crlf, old: null, new: newNo++ });
    } else if (sign === '-') {
      hunk.lines.push({ kind: 'del', text, crlf, old: oldNo++, new: null });
    } else if (sign === '\\') {
      hunk.lines.push({ kind: 'note', text: raw.slice(2), crlf: false, old: null, new: null });
    } else {
      hunk.lines.push({ kind: 'ctx', text, crlf, old: oldNo++, new: newNo++ });
    }
  }
  return hunks;
}

/** Lines added and removed by a diff. */
export function diffStats(hunks: DiffHunk[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const h of hunks)
    for (const l of h.lines) {
      if (l.kind === 'add') added++;
      else if (l.kind === 'del') removed++;
    }
  return { added, removed };
}

/**
 * The front matter text of a file, from the diff of a raw edit that empties it (every line of the
 * front matter is a removed line, in order, with its own line end). `crlf`: the file's lines end
 * in `\r\n` (any line of the diff says so). An empty diff means the front matter was empty already.
 */
export function frontMatterFromDiff(diff: string): { text: string; crlf: boolean } {
  const removed: string[] = [];
  let crlf = false;
  let last: DiffLine | null = null;
  for (const h of parseDiff(diff))
    for (const l of h.lines) {
      if (l.crlf) crlf = true;
      if (l.kind === 'del') {
        removed.push(l.text + (l.crlf ? '\r\n' : '\n'));
        last = l;
      } else if (l.kind === 'note' && last && removed.length) {
        // "\ No newline at end of file" after the last removed line.
        const i = removed.length - 1;
        removed[i] = removed[i]!.replace(/\r?\n$/, '');
      }
      if (l.kind !== 'del') last = null;
    }
  return { text: removed.join(''), crlf };
}
