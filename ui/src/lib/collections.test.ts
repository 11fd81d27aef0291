import { describe, expect, it } from 'vitest';
import type { CollectionSummary } from './bindings/CollectionSummary';
import {
  collectionQuery,
  movedPosition,
  nameProblem,
  queryCollectionName,
  quoteQueryValue,
  shownCollection,
  suggestName,
} from './collections';

const c = (name: string, id = name.toLowerCase()): CollectionSummary => ({
  id,
  name,
  kind: 'manual',
  query: null,
  count: 0,
  missing: 0,
});

describe('collectionQuery', () => {
  it('quotes the name', () => {
    expect(collectionQuery('Hong Kong 2020')).toBe('collection:"Hong Kong 2020"');
    expect(collectionQuery('两岸')).toBe('collection:"两岸"');
  });

  it('escapes backslashes and every closing quote of the query language', () => {
    expect(quoteQueryValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteQueryValue('a\\b')).toBe('"a\\\\b"');
    expect(quoteQueryValue('“中”＂')).toBe('"“中\\”\\＂"');
  });

  it('reads back as the same name', () => {
    for (const name of ['plain', 'say "hi"', 'a\\b\\', '“中”＂', 'in: x', 'trailing\\']) {
      expect(queryCollectionName(collectionQuery(name))).toBe(name);
    }
  });
});

describe('queryCollectionName', () => {
  it('finds a query that is only a collection', () => {
    expect(queryCollectionName('collection:"News"')).toBe('News');
    expect(queryCollectionName('  in:News ')).toBe('News');
    expect(queryCollectionName('Collection:News')).toBe('News');
  });

  it('is null for anything more or less', () => {
    expect(queryCollectionName('collection:"News" tag:x')).toBeNull();
    expect(queryCollectionName('tag:x collection:"News"')).toBeNull();
    expect(queryCollectionName('-collection:"News"')).toBeNull();
    expect(queryCollectionName('collection:""')).toBeNull();
    expect(queryCollectionName('collection:"unclosed')).toBeNull();
    expect(queryCollectionName('news')).toBeNull();
    expect(queryCollectionName('')).toBeNull();
  });
});

describe('shownCollection', () => {
  const list = [c('News', 'archive'), c('archive', 'archive-2'), c('Reading')];

  it('matches names first, then ignoring case, then ids', () => {
    expect(shownCollection('collection:"archive"', list)?.id).toBe('archive-2');
    expect(shownCollection('collection:"READING"', list)?.name).toBe('Reading');
    expect(shownCollection('in:reading', list)?.name).toBe('Reading');
    expect(shownCollection('collection:"Nope"', list)).toBeNull();
    expect(shownCollection('tag:x', list)).toBeNull();
  });
});

describe('nameProblem', () => {
  const list = [c('News'), c('Reading')];
  it('refuses what the core refuses', () => {
    expect(nameProblem('  ', list)).toBe('collections.nameEmpty');
    expect(nameProblem('news', list)).toBe('collections.nameTaken');
    expect(nameProblem(' NEWS ', list)).toBe('collections.nameTaken');
    expect(nameProblem('Other', list)).toBeNull();
  });
  it('lets a collection keep its own name (another case)', () => {
    expect(nameProblem('NEWS', list, 'news')).toBeNull();
    expect(nameProblem('reading', list, 'news')).toBe('collections.nameTaken');
  });
});

describe('suggestName', () => {
  it('is the query, tidied and unique', () => {
    expect(suggestName('  tag:x   site:y ', [])).toBe('tag:x site:y');
    expect(suggestName('tag:x', [c('tag:x'), c('tag:x (2)')])).toBe('tag:x (3)');
    expect(suggestName('', [])).toBe('');
  });
  it('shortens long queries', () => {
    const name = suggestName('字'.repeat(100), []);
    expect([...name]).toHaveLength(48);
    expect(name.endsWith('…')).toBe(true);
  });
});

describe('movedPosition', () => {
  it('moves within the list only', () => {
    expect(movedPosition(0, -1, 3)).toBeNull();
    expect(movedPosition(0, 1, 3)).toBe(1);
    expect(movedPosition(2, 1, 3)).toBeNull();
    expect(movedPosition(2, -1, 3)).toBe(1);
  });
});
