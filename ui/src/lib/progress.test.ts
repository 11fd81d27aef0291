import { afterEach, describe, expect, it, vi } from 'vitest';
import { withPolling } from './progress';

afterEach(() => vi.useRealTimers());

describe('withPolling', () => {
  it('polls while the call runs, and stops when it settles', async () => {
    vi.useFakeTimers();
    let finish!: (v: string) => void;
    const run = new Promise<string>((r) => (finish = r));
    let n = 0;
    const poll = vi.fn(async () => ++n);
    const seen: number[] = [];
    const result = withPolling(run, poll, (v) => seen.push(v), 100);
    await vi.advanceTimersByTimeAsync(350);
    expect(seen).toEqual([1, 2, 3]);
    finish('done');
    await expect(result).resolves.toBe('done');
    await vi.advanceTimersByTimeAsync(500);
    expect(poll).toHaveBeenCalledTimes(3);
  });

  it('never polls twice at once, and passes failures of the call on', async () => {
    vi.useFakeTimers();
    let fail!: (e: Error) => void;
    const run = new Promise<string>((_, r) => (fail = r));
    const poll = vi.fn(() => new Promise<number>(() => {})); // never answers
    const result = withPolling(run, poll, () => {}, 50);
    await vi.advanceTimersByTimeAsync(300);
    expect(poll).toHaveBeenCalledTimes(1);
    fail(new Error('boom'));
    await expect(result).rejects.toThrow('boom');
  });
});
