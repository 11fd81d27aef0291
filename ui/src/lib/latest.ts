// Search as you type without a fixed wait: the first keystroke's query is sent at once; newer
// keystrokes only replace the one value waiting to go next, so no stale query is ever sent (only
// the latest waiting one is), and the last keystroke waits for no timer.
//
// `maxRunning` is how many tasks may run at once. With 1, the latest value waits for the task
// already running. The search box allows 2: the core stops a search as soon as another query
// supersedes it (`search::readers`), so the last keystroke's query goes at once instead of
// waiting for a prefix's search to finish, and at most two searches share the machine's cores.

export interface LatestOnly<T> {
  /** Run `task(value)` now if fewer than `maxRunning` tasks run, else once one ends (unless replaced). */
  (value: T): void;
  /** Whether a value is waiting to be run. */
  pending(): boolean;
  /** Drop the waiting value (tasks running finish). */
  cancel(): void;
  /** Whether a task is running. */
  busy(): boolean;
}

export function latestOnly<T>(task: (value: T) => Promise<unknown> | unknown, maxRunning = 1): LatestOnly<T> {
  let running = 0;
  let waiting: { value: T } | null = null;

  async function runOne(value: T) {
    running++;
    try {
      await task(value);
    } catch {
      // The task reports its own errors; the next value still runs.
    } finally {
      running--;
      startWaiting();
    }
  }

  function startWaiting() {
    if (waiting && running < Math.max(1, maxRunning)) {
      const { value } = waiting;
      waiting = null;
      void runOne(value);
    }
  }

  const call = ((value: T) => {
    waiting = { value };
    startWaiting();
  }) as LatestOnly<T>;
  call.pending = () => waiting !== null;
  call.cancel = () => {
    waiting = null;
  };
  call.busy = () => running > 0;
  return call;
}
