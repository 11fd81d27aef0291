import { describe, expect, it } from 'vitest';
import { diffStats, frontMatterFromDiff, parseDiff } from './diff';

// As the core's preview produces them (similar's unified diff, context 1).
const CRLF_TAG = [
  '--- a/_posts/x.md',
  '+++ b/_posts/x.md',
  '@@ -3,3 +3,3 @@',
  ' title: "CRLF post" # a comment\r',
  '-tags: [ alpha, beta ]\r',
  '+tags: [ alpha, beta, gamma ]\r',
  ' date: 2021-03-04\r',
  '',
].join('\n');

describe('parseDiff', () => {
  it('reads hunks, line numbers and CRLF ends', () => {
    const hunks = parseDiff(CRLF_TAG);
    expect(hunks).toHaveLength(1);
    expect(hunks[0]!.header).toBe('@@ -3,3 +3,3 @@');
    expect(hunks[0]!.lines).toEqual([
      { kind: 'ctx', text: 'title: "CRLF post" # a comment', crlf: true, old: 3, new: 3 },
      { kind: 'del', text: 'tags: [ alpha, beta ]', crlf: true, old: 4, new: null },
      { kind: 'add', text: 'tags: [ alpha, beta, gamma ]', crlf: true, old: null, new: 4 },
      { kind: 'ctx', text: 'date: 2021-03-04', crlf: true, old: 5, new: 5 },
    ]);
    expect(diffStats(hunks)).toEqual({ added: 1, removed: 1 });
  });

  it('a removed line that starts with dashes is not a file header', () => {
    const d = '--- a/x\n+++ b/x\n@@ -1,2 +1,1 @@\n----\n ok\n\\ No newline at end of file\n';
    const [h] = parseDiff(d);
    expect(h!.lines.map((l) => [l.kind, l.text])).toEqual([
      ['del', '---'],
      ['ctx', 'ok'],
      ['note', 'No newline at end of file'],
    ]);
  });

  it('an empty diff has no hunks', () => {
    expect(parseDiff('')).toEqual([]);
  });
});

describe('frontMatterFromDiff', () => {
  it('gives back the removed front matter exactly, with its line ends', () => {
    const d = [
      '--- a/x',
      '+++ b/x',
      '@@ -1,5 +1,2 @@',
      ' ---\r',
      '-layout: post\r',
      '-title: "T" # c\r',
      '-\r',
      ' ---\r',
      '',
    ].join('\n');
    expect(frontMatterFromDiff(d)).toEqual({ text: 'layout: post\r\ntitle: "T" # c\r\n\r\n', crlf: true });
    expect(frontMatterFromDiff('--- a/x\n+++ b/x\n@@ -1,3 +1,2 @@\n ---\n-a: 1\n ---\n')).toEqual({
      text: 'a: 1\n',
      crlf: false,
    });
    expect(frontMatterFromDiff('')).toEqual({ text: '', crlf: false });
  });
});
