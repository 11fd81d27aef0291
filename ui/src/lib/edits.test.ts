import { describe, expect, it } from 'vitest';
import {
  addTerms,
  bulkOp,
  bulkTarget,
  cloneDraft,
  conflictOf,
  deleteRequest,
  draftChanged,
  draftFrom,
  editability,
  EMPTY_BULK_FORM,
  groupSkipped,
  keyProblem,
  opsFromDraft,
  postPath,
  renameRequest,
  saveRequest,
  sourceKeyOf,
  termQuery,
  toFileEol,
  withPending,
} from './edits';

const fields = {
  layout: 'post',
  title: 'Old title',
  date: '2021-03-04 10:00:00 +0800',
  url: 'https://example.com/a',
  tags: ['alpha', 'beta'],
  extra: 5,
  flags: { a: [1, 2] },
  note: 'plain',
};
const detail = { fields, tags: ['alpha', 'beta'], categories: [] as string[] };

describe('draftFrom', () => {
  it('types the known keys, keeps other keys in file order, non-strings as JSON', () => {
    const d = draftFrom(detail);
    expect(d.sourceKey).toBe('url');
    expect(d.typed).toEqual({
      title: 'Old title',
      date: '2021-03-04 10:00:00 +0800',
      author: '',
      url: 'https://example.com/a',
      layout: 'post',
    });
    expect(d.tags).toEqual(['alpha', 'beta']);
    expect(d.others.map((f) => [f.key, f.kind, f.text])).toEqual([
      ['extra', 'json', '5'],
      ['flags', 'json', '{"a":[1,2]}'],
      ['note', 'text', 'plain'],
    ]);
  });

  it('takes the first non-empty source key, else `from`', () => {
    expect(sourceKeyOf({ from: '', source: 's', url: 'u' })).toBe('source');
    expect(sourceKeyOf({ link: 'l' })).toBe('link');
    expect(sourceKeyOf({})).toBe('from');
  });
});

describe('opsFromDraft', () => {
  const before = draftFrom(detail);

  it('sends nothing for an unchanged draft', () => {
    const after = cloneDraft(before);
    expect(opsFromDraft(fields, before, after)).toEqual({ ops: [], errors: {}, keys: [] });
    expect(draftChanged(fields, before, after)).toBe(false);
  });

  it('sends only the changed keys', () => {
    const after = cloneDraft(before);
    after.typed.title = 'New title';
    after.typed.author = '王小明';
    after.typed.layout = '';
    after.tags = ['beta', 'gamma'];
    after.others[0]!.text = '6';
    after.others[1]!.text = '{ "a": [1, 2] }'; // the same value, spelled differently
    after.others[2]!.removed = true;
    after.others.push({ key: 'lang', kind: 'text', text: 'zh', added: true, removed: false });
    const { ops, errors, keys } = opsFromDraft(fields, before, after);
    expect(errors).toEqual({});
    expect(ops).toEqual([
      { op: 'set', key: 'title', value: 'New title' },
      { op: 'set', key: 'author', value: '王小明' },
      { op: 'unset', key: 'layout' },
      { op: 'remove-items', key: 'tags', items: ['alpha'] },
      { op: 'add-items', key: 'tags', items: ['gamma'] },
      { op: 'set', key: 'extra', value: 6 },
      { op: 'unset', key: 'note' },
      { op: 'set', key: 'lang', value: 'zh' },
    ]);
    expect(keys).toEqual(['title', 'author', 'layout', 'tags', 'extra', 'note', 'lang']);
  });

  it('an emptied field that was never in the file sends nothing', () => {
    const after = cloneDraft(before);
    after.typed.author = '  ';
    expect(opsFromDraft(fields, before, after).ops).toEqual([]);
  });

  it('reports bad JSON and unusable or taken new keys', () => {
    const after = cloneDraft(before);
    after.others[0]!.text = '{nope';
    after.others.push({ key: 'title', kind: 'text', text: 'x', added: true, removed: false });
    after.others.push({ key: '', kind: 'text', text: 'x', added: true, removed: false });
    after.others.push({ key: 'a', kind: 'text', text: '1', added: true, removed: false });
    after.others.push({ key: 'a', kind: 'text', text: '2', added: true, removed: false });
    const { ops, errors } = opsFromDraft(fields, before, after);
    expect(errors).toEqual({
      extra: 'edit.badJson',
      'new:3': 'edit.keyTaken',
      'new:4': 'edit.keyEmpty',
      'new:6': 'edit.keyTaken',
    });
    expect(ops).toEqual([{ op: 'set', key: 'a', value: '1' }]);
  });

  it('an added field counts as a change even before it has a key', () => {
    const after = cloneDraft(before);
    after.others.push({ key: '', kind: 'text', text: '', added: true, removed: false });
    expect(draftChanged(fields, before, after)).toBe(true);
  });

  it('keyProblem', () => {
    expect(keyProblem('ok', ['a'])).toBeNull();
    expect(keyProblem('a', ['a'])).toBe('edit.keyTaken');
    expect(keyProblem(' a', [])).toBe('edit.keySpaces');
    expect(keyProblem('a\nb', [])).toBe('edit.keyLine');
  });
});

describe('requests', () => {
  const post = { path: '_posts/2021-03-04-x.md', path_bytes_hex: null, hash: 'abc' };

  it('a save sends the hash the user saw, an overwrite does not', () => {
    const ops = [{ op: 'set' as const, key: 'title', value: 'x' }];
    expect(saveRequest(post, ops, ['title'])).toEqual({
      target: { kind: 'paths', paths: ['_posts/2021-03-04-x.md'], hashes: ['abc'] },
      ops,
      label: 'edit 2021-03-04-x.md: title',
    });
    expect(saveRequest(post, ops, ['title'], true).target).toEqual({
      kind: 'paths',
      paths: ['_posts/2021-03-04-x.md'],
    });
    expect(postPath({ path: 'x', path_bytes_hex: 'ff' })).toBe('hex:ff');
  });

  it('quotes query values, escaping quotes and backslashes', () => {
    expect(termQuery('tags', ['a b'])).toBe('tag:"a b"');
    expect(termQuery('tags', ['say "hi"', 'back\\slash'])).toBe('tag:"say \\"hi\\"" OR tag:"back\\\\slash"');
    expect(termQuery('categories', ['新闻'])).toBe('category:"新闻"');
  });

  it('rename, merge and delete', () => {
    expect(renameRequest('tags', ['old'], 'new')).toEqual({
      target: { kind: 'query', query: 'tag:"old"' },
      ops: [{ op: 'rename-items', key: 'tags', from: ['old'], to: 'new' }],
      label: 'rename tag old → new',
    });
    expect(renameRequest('categories', ['a', 'b'], 'c').label).toBe('merge category a, b → c');
    expect(renameRequest('categories', ['a', 'b'], 'c').target).toEqual({
      kind: 'query',
      query: 'category:"a" OR category:"b"',
    });
    expect(deleteRequest('tags', 'x')).toEqual({
      target: { kind: 'query', query: 'tag:"x"' },
      ops: [{ op: 'remove-items', key: 'tags', items: ['x'] }],
      label: 'delete tag x',
    });
  });

  it('bulk ops from the form', () => {
    const f = { ...EMPTY_BULK_FORM };
    expect(bulkOp('add-tags', { ...f, items: [' a ', '', 'b'] })).toEqual({
      op: { op: 'add-items', key: 'tags', items: ['a', 'b'] },
    });
    expect(bulkOp('remove-categories', { ...f, items: ['x'] })).toEqual({
      op: { op: 'remove-items', key: 'categories', items: ['x'] },
    });
    expect(bulkOp('add-tags', f)).toEqual({ error: 'bulk.needItems' });
    expect(bulkOp('set-field', { ...f, key: 'lang', value: 'zh' })).toEqual({
      op: { op: 'set', key: 'lang', value: 'zh' },
    });
    expect(bulkOp('set-field', { ...f, key: 'draft', value: 'true', json: true })).toEqual({
      op: { op: 'set', key: 'draft', value: true },
    });
    expect(bulkOp('set-field', { ...f, key: 'draft', value: 'yes', json: true })).toEqual({ error: 'edit.badJson' });
    expect(bulkOp('unset-field', { ...f, key: ' lang ' })).toEqual({ op: { op: 'unset', key: 'lang' } });
    expect(bulkOp('replace', { ...f, key: 'title', find: 'a+', replace: 'b', regex: true })).toEqual({
      op: { op: 'replace', key: 'title', find: 'a+', replace: 'b', regex: true },
    });
    expect(bulkOp('replace', { ...f, key: 'title' })).toEqual({ error: 'bulk.needFind' });
    expect(bulkTarget('selection', ['a'], 'q')).toEqual({ kind: 'paths', paths: ['a'] });
    expect(bulkTarget('query', ['a'], 'q')).toEqual({ kind: 'query', query: 'q' });
  });
});

describe('outcomes', () => {
  it('finds the conflict and groups skipped files by reason', () => {
    const skipped = [
      { path: 'a', reason: 'is read-only', kind: 'read-only' },
      { path: 'b', reason: 'changed on disk', kind: 'conflict' },
      { path: 'c', reason: 'is read-only', kind: 'read-only' },
    ];
    expect(conflictOf({ skipped })?.path).toBe('b');
    expect(conflictOf({ skipped: [] })).toBeNull();
    expect(groupSkipped(skipped)).toEqual([
      { reason: 'is read-only', kind: 'read-only', paths: ['a', 'c'] },
      { reason: 'changed on disk', kind: 'conflict', paths: ['b'] },
    ]);
  });

  it('line ends follow the file', () => {
    expect(toFileEol('a\nb\n', true)).toBe('a\r\nb\r\n');
    expect(toFileEol('a\r\nb\n', false)).toBe('a\nb\n');
  });
});

describe('pending terms', () => {
  it('adds typed terms split at commas, without repeats, up to max', () => {
    expect(addTerms(['a'], ' b， a,c ')).toEqual(['a', 'b', 'c']);
    expect(addTerms(['a'], '   ')).toEqual(['a']);
    expect(addTerms(['a'], 'b, c', 2)).toEqual(['a', 'b']);
  });

  it('a tag left in the box is a change, saved like one confirmed with Enter', () => {
    const before = draftFrom(detail);
    const draft = cloneDraft(before);
    expect(draftChanged(fields, before, draft)).toBe(false);
    const pending = withPending(draft, { tags: 'gamma', categories: '' });
    expect(draftChanged(fields, before, pending)).toBe(true);
    const confirmed = cloneDraft(before);
    confirmed.tags.push('gamma');
    expect(opsFromDraft(fields, before, pending).ops).toEqual(opsFromDraft(fields, before, confirmed).ops);
    expect(withPending(draft, { tags: ' ', categories: '' })).toBe(draft);
  });
});

describe('editability', () => {
  const problem = (kind: string) => ({
    path: 'a.md',
    path_bytes_hex: null,
    kind,
    message: 'm',
    line: null,
    column: null,
  });
  it('a UTF-8 file without problems is edited field by field', () => {
    expect(editability({ encoding: 'utf-8', problems: [] })).toEqual({ blocked: null, rawFirst: false });
    expect(editability({ encoding: 'utf-8', problems: [problem('bad-field')] }).rawFirst).toBe(false);
  });
  it('front matter YAML cannot read opens the raw view', () => {
    expect(editability({ encoding: 'utf-8', problems: [problem('malformed-front-matter')] })).toEqual({
      blocked: null,
      rawFirst: true,
    });
  });
  it('unclosed front matter and other encodings cannot be saved', () => {
    expect(editability({ encoding: 'utf-8', problems: [problem('unclosed-front-matter')] }).blocked?.key).toBe(
      'edit.cannotSave.unclosed',
    );
    expect(editability({ encoding: 'gb18030', problems: [problem('encoding')] }).blocked).toEqual({
      key: 'edit.cannotSave.encoding',
      vars: { encoding: 'gb18030' },
    });
  });
});
