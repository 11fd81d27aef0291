import { describe, expect, it } from 'vitest';
import {
  buildRequest,
  checkTemplate,
  collectionSetLine,
  defaultForm,
  folderName,
  layoutValue,
  parseKeys,
  parseSetLines,
  percent,
  previewKey,
  suggestFolder,
  yamlString,
} from './exporting';

const keys = (t: string) =>
  checkTemplate(t).map((i) => `${i.error ? 'E' : 'W'}:${i.key}${i.vars ? `:${i.vars.key}` : ''}`);

describe('checkTemplate', () => {
  it('accepts the usual templates', () => {
    expect(keys('{year}/{month}/{slug}.md')).toEqual([]);
    expect(keys('{category}/{title}.md')).toEqual([]);
    expect(keys('"{date}-{slug}"')).toEqual([]);
  });

  it('refuses an empty template, an unclosed brace and an empty placeholder', () => {
    expect(keys('  ')).toEqual(['E:export.template.empty']);
    expect(keys('///')).toEqual(['E:export.template.empty']);
    expect(keys('{year/{slug}.md')).toContain('E:export.template.unclosed');
    expect(keys('{year}/{}.md')).toContain('E:export.template.emptyKey');
  });

  it('warns of one name for every post, of dot folders and of front matter keys', () => {
    expect(keys('{year}/index.md')).toEqual(['W:export.template.fixedName']);
    expect(keys('../{slug}.md')).toEqual(['W:export.template.dots']);
    expect(keys('{layout}/{slug}.md')).toEqual(['W:export.template.fieldKey:layout']);
  });
});

describe('layoutValue', () => {
  it('prefixes templates', () => {
    expect(layoutValue('jekyll', 'x')).toBe('jekyll');
    expect(layoutValue('template', ' {year}/{slug}.md ')).toBe('template:{year}/{slug}.md');
  });
});

describe('yamlString', () => {
  it('keeps plain names plain and quotes the rest', () => {
    expect(yamlString('Hong Kong 2020')).toBe('Hong Kong 2020');
    expect(yamlString('两岸 关系')).toBe('两岸 关系');
    expect(yamlString('2020')).toBe('"2020"');
    expect(yamlString('yes')).toBe('"yes"');
    expect(yamlString('2020-01-02 notes')).toBe('"2020-01-02 notes"');
    expect(yamlString('a: b')).toBe('"a: b"');
    expect(yamlString('#tag')).toBe('"#tag"');
    expect(yamlString('say "hi"')).toBe('"say \\"hi\\""');
    expect(yamlString('')).toBe('""');
    expect(collectionSetLine('News')).toBe('collection: News');
  });
});

describe('parseSetLines', () => {
  it('takes KEY: VALUE and KEY=VALUE, whichever separator comes first', () => {
    expect(parseSetLines('collection: News\n\nurl=http://x/?a=b\n# note\nnote: a=b\n')).toEqual({
      ok: ['collection=News', 'url=http://x/?a=b', 'note=a=b'],
    });
    expect(parseSetLines('')).toEqual({ ok: [] });
  });
  it('reports lines it cannot read', () => {
    expect(parseSetLines('nothing here')).toEqual({ error: 'export.set.noValue', vars: { line: 'nothing here' } });
    expect(parseSetLines(': x')).toEqual({ error: 'export.set.noKey', vars: { line: ': x' } });
  });
});

describe('parseKeys', () => {
  it('splits on commas, spaces and lines, once each', () => {
    expect(parseKeys('draft, layout\nlayout  private，tmp')).toEqual(['draft', 'layout', 'private', 'tmp']);
    expect(parseKeys('  ')).toEqual([]);
  });
});

describe('buildRequest', () => {
  const source = { kind: 'collection', name: 'News' } as const;

  it('needs a folder', () => {
    expect(buildRequest(source, defaultForm(''), true)).toEqual({ error: 'export.needFolder' });
  });

  it('builds a copy export', () => {
    const form = { ...defaultForm('/tmp/out'), set: 'collection: News' };
    expect(buildRequest(source, form, false)).toEqual({
      ok: {
        source,
        to: '/tmp/out',
        layout: 'keep',
        format: 'copy',
        set: [],
        remove: [],
        zip: false,
        overwrite: false,
        delete_removed: false,
        dry_run: false,
      },
    });
  });

  it('sends set and remove only when rewriting', () => {
    const form = { ...defaultForm(' /tmp/out '), format: 'rewrite' as const, set: 'collection: News', remove: 'draft' };
    const r = buildRequest(source, form, true);
    expect('ok' in r && r.ok).toMatchObject({
      to: '/tmp/out',
      set: ['collection=News'],
      remove: ['draft'],
      dry_run: true,
    });
    const bad = buildRequest(source, { ...form, set: 'oops' }, true);
    expect(bad).toEqual({ error: 'export.set.noValue', vars: { line: 'oops' } });
  });

  it('refuses a broken template, keeps a warned one', () => {
    const form = { ...defaultForm('/tmp/out'), layout: 'template' as const, template: '{year/x' };
    expect(buildRequest(source, form, true)).toEqual({ error: 'export.template.unclosed', vars: undefined });
    const warned = buildRequest(
      source,
      { ...form, template: '{year}/index.md', zip: true, overwrite: true, deleteRemoved: true },
      false,
    );
    expect('ok' in warned && warned.ok).toMatchObject({
      layout: 'template:{year}/index.md',
      zip: true,
      overwrite: true,
      delete_removed: true,
    });
  });

  it('keys previews on what changes the plan only', () => {
    const a = buildRequest(source, defaultForm('/tmp/out'), true);
    const b = buildRequest(source, { ...defaultForm('/tmp/out'), overwrite: true }, false);
    const c = buildRequest(source, { ...defaultForm('/tmp/out'), layout: 'jekyll' }, true);
    if (!('ok' in a && 'ok' in b && 'ok' in c)) throw new Error('requests');
    expect(previewKey(a.ok)).toBe(previewKey(b.ok));
    expect(previewKey(a.ok)).not.toBe(previewKey(c.ok));
  });
});

describe('suggestFolder', () => {
  it('puts exports beside the archive', () => {
    expect(suggestFolder('/home/me/news', 'Hong Kong 2020')).toBe('/home/me/news-export/Hong Kong 2020');
    expect(suggestFolder('/home/me/news/', 'a/../b:c?')).toBe('/home/me/news-export/a_.._b_c_');
    expect(suggestFolder('C:\\Users\\me\\news', 'x')).toBe('C:\\Users\\me\\news-export\\x');
    expect(suggestFolder('/', 'x')).toBe('');
    expect(suggestFolder('', 'x')).toBe('');
  });
  it('makes any label a folder name', () => {
    expect(folderName('CON. ')).toBe('_CON');
    expect(folderName('aux.md')).toBe('_aux.md');
    expect(folderName('...')).toBe('export');
    expect(folderName('a\nb')).toBe('a_b');
    expect([...folderName('长'.repeat(100))]).toHaveLength(60);
  });
});

describe('percent', () => {
  it('is whole and bounded', () => {
    expect(percent(0, 0)).toBe(0);
    expect(percent(1, 3)).toBe(33);
    expect(percent(5, 3)).toBe(100);
  });
});
