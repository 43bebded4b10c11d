/**
 * A fatal stop ends the run whatever its concurrency: a 429 asking for a wait longer than the rate-limit
 * maximum stops the run, and the requests queued behind it (held by the pause that 429 put on the bucket)
 * are let go at once, instead of keeping the process alive for the server's 24 hours.
 */
import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contactsCsv, envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

test('import --concurrency 4: a 429 asking to wait 86400 s stops the run (exit 1, PYLON_RATE_LIMITED), releases its lock and leaves the rest for --resume', async (t) => {
  const emulator = await startEmulator(t);
  let creates = 0;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (method !== 'POST' || path !== '/contacts') return undefined;
    creates++;
    return creates === 2 ? 'retry-after=86400' : undefined;
  });
  const dir = tempDir(t);
  const file = join(dir, 'new.csv');
  writeFileSync(file, contactsCsv(12, 'far'));
  // Creates paced one a second: when the second one's 429 pauses the bucket, the next rows' creates are queued behind it.
  // The safety net of 60 s is far below the 24 h wait: a run that waits out the pause is killed and fails here.
  const rate = FAST_RATE.replace(/create=\d+/, 'create=2');
  const run = await runCli(['import', file, '--json', '--no-undo', '--rate', rate, '--rate-window', '2000', '--concurrency', '4'], { env: envFor(proxy), timeoutMs: 60_000 });
  t.is(run.code, 1, run.stderr);
  const stats = statsOf(run);
  t.is(stats.fatal?.code, 'PYLON_RATE_LIMITED');
  t.regex(stats.fatal?.message ?? '', /asked to wait 86400 s/);
  // Every row ends once: created, or not processed (left for --resume).
  t.is(stats.created + stats.notProcessed, 12);
  t.true(stats.notProcessed >= 1);
  t.is([...emulator.store.all()].length, stats.created);
  t.false(existsSync(join(dir, '.new.journal.jsonl.lock')), 'the run lock is released');
});
