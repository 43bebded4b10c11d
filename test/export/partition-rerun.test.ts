/**
 * The nightly line run twice on one {date}: a delta written to the same
 * templated path replaces the first run's file (and a templated change log),
 * so the first run's rows leave the lake. The summary says so; with {run_id}
 * in the file names (the documented recipe) each run keeps its own file.
 */
import test from 'ava';
import { readdirSync, writeFileSync } from 'node:fs';
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

test('a run that publishes nothing leaves no partition folder it made: a refused state file (exit 2) and an unreachable Pylon (exit 1) add no empty dt= folder to the dataset root', async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 4 });
  const dir = tempDir(t, 'pylon-empty-partitions-');
  const run = (runId: string, env: Record<string, string>, state = 'lake.state') =>
    runCli(['export', 'lake/dt={run_id}/c.parquet', '--changes', 'changes/dt={run_id}/c.csv', '--run-id', runId, '--state', state, '--rate', FAST_RATE, '--timeout', '2000', '--quiet'], { cwd: dir, env });
  const first = await run('n1', envFor(emulator));
  t.is(first.code, 0, first.stderr);
  writeFileSync(join(dir, 'broken.state'), 'not a state\n');
  const refused = await run('n2', envFor(emulator), 'broken.state');
  t.is(refused.code, 2, refused.stderr);
  const unreachable = await run('n3', envFor({ url: 'http://127.0.0.1:9' }));
  t.is(unreachable.code, 1, unreachable.stderr);
  t.deepEqual(readdirSync(join(dir, 'lake')), ['dt=n1'], 'only the published partition is in the dataset root');
  t.deepEqual(readdirSync(join(dir, 'changes')), ['dt=n1']);
  t.deepEqual(readdirSync(join(dir, 'lake._meta')).sort(), ['dt=n1', 'dt=n3'], 'the failed run’s report and manifest stay beside the root');
});

test('--state inside the dataset root is refused before the first request (exit 2) unless directory readers skip its name; beside the root or named _… it is used', async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 3 });
  const dir = tempDir(t, 'pylon-state-in-root-');
  const run = (state: string, env: Record<string, string>) =>
    runCli(['export', 'lake/contacts/dt={date}/c-{run_id}.parquet', '--state', state, '--rate', FAST_RATE, '--timeout', '2000', '--quiet'], { cwd: dir, env });
  // An unreachable Pylon: a run that sent a request would fail with exit 1, so exit 2 says nothing was sent.
  const unreachable = envFor({ url: 'http://127.0.0.1:9' });
  for (const state of ['lake/contacts/state.json', 'lake/contacts/meta/contacts.state']) {
    const refused = await run(state, unreachable);
    t.is(refused.code, 2, refused.stderr);
    t.true(refused.stderr.includes(`Invalid option \`--state\`: ${state} is inside the dataset root (lake/contacts), where directory readers (pyarrow, polars, DuckDB) would take it for part of the data; put it beside the root (lake/contacts.state)`), refused.stderr);
    t.notRegex(refused.stderr, /\/tmp\/|at .*\.js/);
  }
  t.deepEqual(readdirSync(dir), [], 'nothing was written');
  // A name readers skip (_ or . below the root) and the documented place beside the root both work.
  for (const state of ['lake/contacts/_state.json', 'lake/contacts/.state.json', 'lake/contacts/_meta/contacts.state', 'lake/contacts.state']) {
    const ok = await run(state, envFor(emulator));
    t.is(ok.code, 0, `${state}: ${ok.stderr}`);
  }
  const [partition] = readdirSync(join(dir, 'lake/contacts')).filter((name) => name.startsWith('dt='));
  t.true(readdirSync(join(dir, 'lake/contacts', partition!)).every((name) => name.endsWith('.parquet') || name === '_SUCCESS'));
});
