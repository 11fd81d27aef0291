// Search as you type without a fixed wait: the first keystroke's query is sent at once; while
// it is on its way, newer keystrokes only replace the one query waiting to go next. So at most
// one search is in flight, no stale query is ever sent (only the latest waiting one is), and
// the last keystroke waits at most for the search already running, not for a timer.

export interface LatestOnly<T> {
  /** Run `task(value)` now if idle, else once the running task ends (unless replaced). */
  (value: T): void;
  /** Whether a value is waiting to be run. */
  pending(): boolean;
  /** Drop the waiting value (the running task, if any, finishes). */
  cancel(): void;
  /** Whether a task is running. */
  busy(): boolean;
}

export function latestOnly<T>(task: (value: T) => Promise<unknown> | unknown): LatestOnly<T> {
  let running = false;
  let waiting: { value: T } | null = null;

  async function drain() {
    running = true;
    try {
      while (waiting) {
        const { value } = waiting;
        waiting = null;
        try {
          await task(value);
        } catch {
          // The task reports its own errors; the next value still runs.
        }
      }
    } finally {
      running = false;
    }
  }

  const call = ((value: T) => {
    waiting = { value };
    if (!running) void drain();
  }) as LatestOnly<T>;
  call.pending = () => waiting !== null;
  call.cancel = () => {
    waiting = null;
  };
  call.busy = () => running;
  return call;
}
