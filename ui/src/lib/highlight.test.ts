import { describe, expect, it } from 'vitest';
import { segments } from './highlight';

describe('highlight segments', () => {
  it('uses character offsets, not UTF-16 units', () => {
    // 𠮷 is one character but two UTF-16 units: the range [1, 3) must cover 两岸.
    expect(segments('𠮷两岸x', [[1, 3]])).toEqual([
      { text: '𠮷', mark: false },
      { text: '两岸', mark: true },
      { text: 'x', mark: false },
    ]);
  });

  it('merges overlaps and clamps ranges', () => {
    expect(
      segments('abcdef', [
        [3, 9],
        [0, 2],
        [1, 4],
      ]),
    ).toEqual([
      { text: 'ab', mark: true },
      { text: 'cd', mark: true },
      { text: 'ef', mark: true },
    ]);
    expect(segments('abc', [])).toEqual([{ text: 'abc', mark: false }]);
    expect(segments('', [])).toEqual([]);
  });
});
