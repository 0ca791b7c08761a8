import { describe, expect, it } from 'vitest';
import { WorkLimit } from './work-limit';

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkLimit', () => {
  it('runs at most `limit` tasks at once and the rest in arrival order', async () => {
    const limit = new WorkLimit(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((gate, i) =>
      limit.run(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect(limit.load).toEqual({ running: 2, waiting: 2 });
    gates[1]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    gates[3]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(limit.load).toEqual({ running: 0, waiting: 0 });
  });

  it('gives the slot back when a task fails', async () => {
    const limit = new WorkLimit(1);
    const failing = deferred();
    const first = limit.run(() => failing.promise);
    const second = limit.run(async () => 'ran');
    failing.reject(new Error('database away'));
    await expect(first).rejects.toThrow('database away');
    expect(await second).toBe('ran');
    expect(limit.load).toEqual({ running: 0, waiting: 0 });
  });
});
