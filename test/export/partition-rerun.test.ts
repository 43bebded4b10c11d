/**
 * The nightly line run twice on one {date}: a delta written to the same
 * templated path replaces the first run's file (and a templated change log),
 * so the first run's rows leave the lake. The summary says so; with {run_id}
 * in the file names (the documented recipe) each run keeps its own file.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { client } from '../helpers/with-emulator.js';

test('a delta that replaces an earlier run’s file in the same partition warns that those rows leave the lake; {run_id} in the names keeps both runs’ files', async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 10 });
  const dir = tempDir(t, 'pylon-rerun-');
  const api = client({ url: emulator.url, token: TOKEN });
  const ids = ((await api.get('/contacts?limit=999')).body.data as Array<{ id: string }>).map((c) => c.id);
  const run = (file: string, changes: string, runId: string) =>
    runCli(['export', file, '--state', 'lake.state', '--changes', changes, '--run-id', runId, '--rate', FAST_RATE, '--quiet'], { cwd: dir, env: envFor(emulator) });

  // The same names twice on one date: the second run's delta replaces the first run's file and change log.
  const first = await run('lake/dt={date}/c.csv', 'changes/dt={date}/changes.csv', 'r1');
  t.is(first.code, 0, first.stderr);
  t.notRegex(first.stderr, /warning/);
  await api.patch(`/contacts/${ids[0]}`, { name: 'Second Run Same Day' });
  const second = await run('lake/dt={date}/c.csv', 'changes/dt={date}/changes.csv', 'r2');
  t.is(second.code, 0, second.stderr);
  t.regex(second.stderr, /warning: lake\/dt=\d{4}-\d{2}-\d{2}\/c\.csv held the 10 rows of run r1; this delta replaces that file \(and the change log changes\/dt=.*\/changes\.csv, if it was that run's\), so those rows are no longer in the lake/);

  // {run_id} in the names: one file per run in the partition, nothing replaced, no warning.
  const third = await run('lake/dt={date}/c-{run_id}.csv', 'changes/dt={date}/changes-{run_id}.csv', 'r3');
  await api.patch(`/contacts/${ids[1]}`, { name: 'Fourth Run Same Day' });
  const fourth = await run('lake/dt={date}/c-{run_id}.csv', 'changes/dt={date}/changes-{run_id}.csv', 'r4');
  for (const result of [third, fourth]) {
    t.is(result.code, 0, result.stderr);
    t.notRegex(result.stderr, /warning/);
  }
  const [partition] = readdirSync(join(dir, 'lake'));
  t.deepEqual(readdirSync(join(dir, 'lake', partition!)).sort(), ['_SUCCESS', 'c-r3.csv', 'c-r4.csv', 'c.csv']);
});
