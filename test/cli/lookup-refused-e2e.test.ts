/**
 * A lookup Pylon refuses (search answered 400, as a server that rejects the filter would): the call served a whole
 * chunk of rows, so the run stops there. Every row read ends in an outcome: the rows done before it as they were,
 * the chunk's and the rest "not processed", for --resume (before, the run ended fatal with those rows in no count:
 * total 3, every outcome 0). The built CLI in a child process, through a real proxy, against the emulator.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, notExactlyOnce, runCli, startEmulator, startFaultProxy, tempDir } from '../helpers/cli.js';

interface Stats {
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
  notProcessed: number;
  fatal?: { code: string };
}

const outcomes = (s: Stats) => s.created + s.updated + s.unchanged + s.skipped + s.failed + s.notProcessed;

test('search refused mid-run: the rows done stay done, every other row read is not processed, --resume finishes each contact once', async (t) => {
  const emulator = await startEmulator(t);
  let searches = 0;
  let refusing = true;
  // One email per search call: the first searches (the case probe, rows 1 and 2) go through, every later one is refused.
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (!refusing || method !== 'POST' || !path.startsWith('/contacts/search')) return undefined;
    return ++searches > 3 ? 'status=400' : undefined;
  });
  const dir = tempDir(t);
  const file = join(dir, 'in.csv');
  const emails = ['a', 'b', 'c', 'd', 'e'].map((n) => `${n}@refused.test`);
  writeFileSync(file, `name,email\n${emails.map((e) => `${e[0]!.toUpperCase()},${e}`).join('\n')}\n`);
  const args = ['import', file, '--lookup', 'search', '--lookup-batch', '1', '--concurrency', '1', '--rate', FAST_RATE];
  const env = envFor(proxy);

  const stopped = await runCli([...args, '--json'], { env });
  t.is(stopped.code, 1, stopped.stderr);
  t.true(proxy.injected.length > 0, 'a search was refused');
  const stats = JSON.parse(stopped.stdout) as Stats;
  t.is(stats.fatal?.code, 'PYLON_HTTP');
  t.is(stats.total, 5);
  t.is(outcomes(stats), stats.total, 'every row read has one outcome');
  t.true(stats.notProcessed > 0);
  t.is(stats.failed, 0, 'no row is failed for the refused lookup');
  t.is(emulator.store.size, stats.created, 'the store holds the contacts the run counted created, and no other');

  refusing = false;
  const resumed = await runCli([...args, '--resume', '--json'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  t.deepEqual(notExactlyOnce(emulator, emails), []);
});
