/**
 * A create answered 429 was not applied: a --resume after the run stopped on it (a 429 asking for a wait
 * longer than the rate-limit maximum) sends it again at once, without waiting out a late window for an
 * answer that was not lost.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contactsCsv, emailOf, envFor, FAST_RATE, notExactlyOnce, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

test('import: a create answered 429 at a fatal stop is no lost answer: --resume sends it again without checking for it', async (t) => {
  const emulator = await startEmulator(t);
  let creates = 0;
  let far = true;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (!far || method !== 'POST' || path !== '/contacts') return undefined;
    creates++;
    return creates === 2 ? 'retry-after=86400' : undefined;
  });
  const dir = tempDir(t);
  const file = join(dir, 'new.csv');
  writeFileSync(file, contactsCsv(4, 'late'));
  const args = ['import', file, '--json', '--no-undo', '--rate', FAST_RATE, '--concurrency', '1', '--timeout', '3000'];
  const first = await runCli(args, { env: envFor(proxy) });
  t.is(first.code, 1, first.stderr);
  t.is(statsOf(first).fatal?.code, 'PYLON_RATE_LIMITED');
  t.is(statsOf(first).created, 1);
  t.regex(readFileSync(join(dir, '.new.journal.jsonl'), 'utf8'), /"t":"unsent","l":3\b/, 'the journal says line 3 was not applied');
  far = false;
  const resumed = await runCli([...args, '--resume'], { env: envFor(proxy) });
  t.is(resumed.code, 0, resumed.stderr);
  t.like(statsOf(resumed), { created: 4, resumed: 1 });
  t.notRegex(resumed.stderr, /whose answer was lost/);
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: 4 }, (_, i) => emailOf('late', i))), []);
});
