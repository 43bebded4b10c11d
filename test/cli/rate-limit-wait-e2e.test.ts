/**
 * A long wait Pylon asks for (a 429 with a long Retry-After) is said in one
 * line when it starts, rather than leaving the run silent with a stale ETA.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contactsCsv, envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

test('import: a 429 asking to wait 6 s is said once ("Pylon asked to wait 6 s (rate limit on create); waiting"), then the run goes on', async (t) => {
  const emulator = await startEmulator(t);
  let refused = false;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (refused || method !== 'POST' || path !== '/contacts') return undefined;
    refused = true;
    return 'retry-after=6';
  });
  const dir = tempDir(t);
  const file = join(dir, 'new.csv');
  writeFileSync(file, contactsCsv(3, 'wait'));
  const run = await runCli(['import', file, '--json', '--no-undo', '--rate', FAST_RATE, '--concurrency', '1'], { env: envFor(proxy) });
  t.is(run.code, 0, run.stderr);
  t.true(refused);
  t.like(statsOf(run), { created: 3, rateLimited: 1 });
  t.is(run.stderr.match(/Pylon asked to wait 6 s \(rate limit on create\); waiting/g)?.length, 1, run.stderr);
});

test('export: a 429 asking to wait 6 s is said once ("Pylon asked to wait 6 s (rate limit on list); waiting"), then the export completes', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 30 });
  let refused = false;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (refused || method !== 'GET' || !path.startsWith('/contacts')) return undefined;
    refused = true;
    return 'retry-after=6';
  });
  const dir = tempDir(t);
  const run = await runCli(['export', join(dir, 'out.csv'), '--rate', FAST_RATE], { env: envFor(proxy) });
  t.is(run.code, 0, run.stderr);
  t.true(refused);
  t.regex(run.stderr, /complete after .*30 rows written/);
  t.is(run.stderr.match(/Pylon asked to wait 6 s \(rate limit on list\); waiting/g)?.length, 1, run.stderr);
});
