import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debounce } from './debounce';

describe('debounce', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('calls once with the last arguments after the quiet time', () => {
    const fn = vi.fn();
    const d = debounce(fn, 70);
    d('两');
    vi.advanceTimersByTime(40);
    d('两岸');
    expect(d.pending()).toBe(true);
    vi.advanceTimersByTime(69);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith('两岸');
    expect(d.pending()).toBe(false);
  });

  it('flush runs a waiting call now; cancel drops it', () => {
    const fn = vi.fn();
    const d = debounce(fn, 70);
    d('a');
    d.flush();
    expect(fn).toHaveBeenCalledWith('a');
    d('b');
    d.cancel();
    expect(d.pending()).toBe(false);
    vi.advanceTimersByTime(500);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
