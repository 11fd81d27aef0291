import { beforeEach, describe, expect, it, vi } from 'vitest';

const facets = vi.fn();
vi.mock('./backend', async (original) => ({
  ...(await original<typeof import('./backend')>()),
  api: { facets: (query: string) => facets(query) },
}));

const { archiveTerms, edited } = await import('./editstate.svelte');

const counted = (tag: string) => ({
  total: 1,
  facets: { tags: [{ value: tag, count: 1 }], categories: [], authors: [], sites: [], years: [], months: [] },
});

describe('archiveTerms', () => {
  beforeEach(() => {
    facets.mockReset();
    edited(null);
  });

  it('asks again when a newer search stopped the count', async () => {
    facets.mockRejectedValueOnce({ code: 'cancelled', message: 'cancelled' }).mockResolvedValueOnce(counted('a'));
    expect((await archiveTerms()).tags).toEqual([{ value: 'a', count: 1 }]);
    expect(facets).toHaveBeenCalledTimes(2);
    expect(facets).toHaveBeenCalledWith('');
  });

  it('gives up after three stops, and other errors at once, asking again next time', async () => {
    facets.mockRejectedValue({ code: 'cancelled', message: 'cancelled' });
    expect(await archiveTerms()).toEqual({ tags: [], categories: [] });
    expect(facets).toHaveBeenCalledTimes(3);
    facets.mockReset();
    facets.mockRejectedValueOnce({ code: 'io', message: 'disk' }).mockResolvedValueOnce(counted('b'));
    expect(await archiveTerms()).toEqual({ tags: [], categories: [] });
    expect(facets).toHaveBeenCalledTimes(1);
    expect((await archiveTerms()).tags).toEqual([{ value: 'b', count: 1 }]);
  });
});
