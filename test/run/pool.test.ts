import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool } from '../../src/run/pool.js';

test('never runs more than the concurrency, and the reader waits at the high-water mark', async (t) => {
  const pool = createPool(3, 6);
  let running = 0;
  let peak = 0;
  let peakQueued = 0;
  let done = 0;
  for (let i = 0; i < 50; i++) {
    await pool.whenReady();
    peakQueued = Math.max(peakQueued, pool.size);
    void pool.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(2 + (i % 3));
      running--;
      done++;
    });
  }
  await pool.drain();
  t.is(done, 50);
  t.is(peak, 3);
  t.true(peakQueued <= 6, `queued ${peakQueued}`);
  t.is(pool.size, 0);
});

test('a failing task does not stop the others', async (t) => {
  const pool = createPool(2);
  const results = await Promise.allSettled([
    pool.run(async () => 1),
    pool.run(async () => {
      throw new Error('boom');
    }),
    pool.run(async () => 3),
  ]);
  await pool.drain();
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
});
