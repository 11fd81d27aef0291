import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STATE,
  filterState,
  filterToken,
  listFilters,
  parseHash,
  quoteValue,
  removeRange,
  toHash,
  toggleFilter,
  queryErrorSpan,
  excludedMissing,
} from './query';

describe('query state in location.hash', () => {
  it('round-trips a state, leaving defaults out', () => {
    const s = { q: '两岸 tag:"经济"', sort: '-date' as const, post: '_posts/a b.md', view: 'problems' as const };
    const hash = toHash(s);
    expect(hash.startsWith('#')).toBe(true);
    expect(parseHash(hash)).toEqual(s);
    expect(toHash(DEFAULT_STATE)).toBe('');
    expect(toHash({ ...DEFAULT_STATE, q: '港' })).toBe(`#q=${encodeURIComponent('港')}`);
  });

  it('keeps parameters that are not its own and drops stale ones', () => {
    expect(toHash({ ...DEFAULT_STATE, q: 'x' }, '#foo=1&post=old&q=y')).toBe('#foo=1&q=x');
  });

  it('keeps the duplicates view', () => {
    expect(parseHash(toHash({ ...DEFAULT_STATE, view: 'duplicates' })).view).toBe('duplicates');
    expect(toHash({ ...DEFAULT_STATE, view: 'duplicates' })).toBe('#view=duplicates');
  });

  it('reads garbage as defaults', () => {
    expect(parseHash('')).toEqual(DEFAULT_STATE);
    expect(parseHash('#sort=evil&view=nope')).toEqual(DEFAULT_STATE);
    expect(parseHash('#q=a%20b&sort=title').q).toBe('a b');
  });
});

describe('facet filters in the query text', () => {
  it('quotes values and escapes quotes and backslashes; dates stay bare', () => {
    expect(quoteValue('tag', '政治')).toBe('"政治"');
    expect(quoteValue('tag', 'New "York"\\')).toBe('"New \\"York\\"\\\\"');
    expect(quoteValue('date', '2021')).toBe('2021');
    expect(quoteValue('date', '2021-06')).toBe('2021-06');
    expect(filterToken('tag', '经济', true)).toBe('-tag:"经济"');
  });

  it('lists the filters written in a query, with their positions', () => {
    const q = '两岸 tag:"经济 发展" -site:bbc.com date:2021 author:“张 三” TAGS:x';
    const chips = listFilters(q);
    expect(chips.map((c) => [c.field, c.value, c.exclude])).toEqual([
      ['tag', '经济 发展', false],
      ['site', 'bbc.com', true],
      ['date', '2021', false],
      ['author', '张 三', false],
      ['tag', 'x', false],
    ]);
    for (const c of chips) expect(q.slice(c.start, c.end)).toBe(c.raw);
    expect(listFilters('tag:"a \\"b\\""')[0]?.value).toBe('a "b"');
    // Not a filter: inside a word, or an unknown field.
    expect(listFilters('xtag:a foo:bar')).toEqual([]);
  });

  it('adds, removes and flips a filter', () => {
    let q = toggleFilter('两岸', 'tag', '经济');
    expect(q).toBe('两岸 tag:"经济"');
    expect(filterState(q, 'tag', '经济')).toBe('include');
    q = toggleFilter(q, 'tag', '经济', true);
    expect(q).toBe('两岸 -tag:"经济"');
    expect(filterState(q, 'tag', '经济')).toBe('exclude');
    q = toggleFilter(q, 'tag', '经济', true);
    expect(q).toBe('两岸');
    expect(toggleFilter('', 'date', '2021')).toBe('date:2021');
    expect(toggleFilter('a tag:"x" b', 'tag', 'x')).toBe('a b');
    expect(filterState('tag:ABC', 'tag', 'abc')).toBe('include');
    expect(filterState('tag:abc', 'category', 'abc')).toBe(null);
  });

  it('removes a range and tidies the spaces', () => {
    expect(removeRange('a tag:"x" b', 2, 9)).toBe('a b');
    expect(removeRange('tag:"x"', 0, 7)).toBe('');
  });
});

describe('queryErrorSpan', () => {
  it('finds the term the message names first', () => {
    const q = 'tag:alpha date:2020-13';
    expect(queryErrorSpan(q, 'date:2020-13 is not a valid month; months go from 01 to 12')).toEqual([10, 22]);
    expect(queryErrorSpan('x -date:2020-13', 'date:2020-13 is not a valid month')).toEqual([3, 15]);
    expect(queryErrorSpan('a OR -b', '-b cannot be an OR alternative: a term is either excluded')).toEqual([5, 7]);
    expect(queryErrorSpan('date:2021..2021-13 x', 'date:2021..2021-13: 2021-13 is not a valid month')).toEqual([0, 18]);
  });
  it('is null when the message names no term', () => {
    expect(queryErrorSpan('a b', 'the query has 80 terms; a query can have at most 64 terms')).toBeNull();
    expect(queryErrorSpan('', 'anything')).toBeNull();
  });
});

describe('excludedMissing', () => {
  it('lists the excluded values of a field that the facet counts left out', () => {
    const q = '-tag:"a b" -tag:c tag:d -site:x.com';
    expect(excludedMissing(q, 'tag', [{ value: 'c' }])).toEqual(['a b']);
    expect(excludedMissing(q, 'site', [])).toEqual(['x.com']);
    expect(excludedMissing('tag:d', 'tag', [])).toEqual([]);
  });
});
