import { describe, expect, it } from 'vitest';
import { latestOnly } from './latest';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A `latestOnly` whose tasks record their value and run until their gate is resolved. */
function gated(maxRunning?: number) {
  const started: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const run = latestOnly((q: string) => {
    started.push(q);
    const d = deferred();
    gates.set(q, d);
    return d.promise;
  }, maxRunning);
  return { run, started, gates };
}

describe('latestOnly', () => {
  it('runs at once when idle, and only the latest of the values given while busy', async () => {
    const { run, started, gates } = gated();
    run('两');
    expect(started).toEqual(['两']); // no timer: sent on the keystroke
    expect(run.busy()).toBe(true);
    run('两岸');
    run('两岸关');
    run('两岸关系');
    expect(run.pending()).toBe(true);
    expect(started).toEqual(['两']);
    gates.get('两')?.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual(['两', '两岸关系']); // the stale ones were never sent
    expect(run.pending()).toBe(false);
    gates.get('两岸关系')?.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(run.busy()).toBe(false);
  });

  it('cancel drops the waiting value; a failing task does not stop the next', async () => {
    const started: string[] = [];
    const first = deferred();
    const run = latestOnly(async (q: string) => {
      started.push(q);
      if (q === 'a') await first.promise;
      if (q === 'b') throw new Error('bad query');
    });
    run('a');
    run('x');
    run.cancel();
    run('b');
    first.resolve();
    await new Promise((r) => setTimeout(r, 0));
    run('c');
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual(['a', 'b', 'c']);
    expect(run.busy()).toBe(false);
  });
});

describe('latestOnly with two running', () => {
  it('sends the latest value at once beside the running task, and never more than two', async () => {
    const { run, started, gates } = gated(2);
    run('两');
    run('两岸');
    expect(started).toEqual(['两', '两岸']); // the second did not wait for the first
    run('两岸关');
    run('两岸关系');
    expect(started).toEqual(['两', '两岸']);
    expect(run.pending()).toBe(true);
    gates.get('两')?.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual(['两', '两岸', '两岸关系']); // 两岸关 was replaced before it could go
    expect(run.pending()).toBe(false);
    gates.get('两岸')?.resolve();
    gates.get('两岸关系')?.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(run.busy()).toBe(false);
  });
});
