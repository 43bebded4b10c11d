import pLimit from 'p-limit';

/**
 * A bounded work pool: at most `concurrency` tasks run, and `whenReady()` lets
 * the reader wait until fewer than `highWater` tasks are running or queued, so
 * p-limit's queue never holds the file. Pull, don't push.
 */
export interface Pool {
  /** Resolves when another task may be scheduled without growing the queue past highWater. */
  whenReady(): Promise<void>;
  /** Schedules a task. Its rejection is the caller's to handle: attach handlers in `task`. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Resolves when every scheduled task has settled. */
  drain(): Promise<void>;
  readonly active: number;
  readonly size: number;
}

export function createPool(concurrency: number, highWater = concurrency * 2): Pool {
  const limit = pLimit(concurrency);
  const pending = new Set<Promise<unknown>>();
  let waiters: Array<() => void> = [];

  const settled = () => {
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };

  return {
    async whenReady() {
      while (pending.size >= highWater) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    run<T>(task: () => Promise<T>): Promise<T> {
      const promise = limit(task);
      const tracked = promise.then(
        () => undefined,
        () => undefined,
      );
      pending.add(tracked);
      void tracked.then(() => {
        pending.delete(tracked);
        settled();
      });
      return promise;
    },
    async drain() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    get active() {
      return limit.activeCount;
    },
    get size() {
      return pending.size;
    },
  };
}
