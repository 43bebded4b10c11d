/**
 * A run killed with -9 while it writes or publishes its files, in the lake
 * layout whose names hold {date} and {run_id} (no later run writes those
 * paths again). Before, its `.partial` files (contact data) stayed for good,
 * and so did the files it had renamed into place (a data file, a change log,
 * a manifest saying `complete`) though its load never committed; the next run
 * loaded the same changes again, so two change logs listed one event. Now the
 * run records its files in a journal before it makes them (publish-journal.ts),
 * and the next run undoes a run that did not commit, or keeps one that did,
 * and says so in its summary.
 *
 * The child kills itself at an exact step (PYLON_TEST_KILL_AT, output-file.ts
 * killPoint): no timing. Real CLI child processes, a real DuckDB file.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { duckRows } from './warehouse/table-check.js';
import type { ExportStats } from '../../src/export/run-export.js';
import type { Emulator } from '../../src/emulator/index.js';

/** Every file under `dir`, relative to it, the DuckDB file aside. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((p) => !p.startsWith('w.duckdb'))
    .sort();
}

/** Every change-log row of every change log in the lake (op and id). */
async function changeRows(dir: string): Promise<string[]> {
  const rows: string[] = [];
  for (const path of (await files(dir)).filter((p) => /^lake\/changes\/.*\.csv$/.test(p))) {
    rows.push(...(await readFile(join(dir, path), 'utf8')).trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 2).join(',')));
  }
  return rows.sort();
}

interface Setup {
  emulator: Emulator;
  dir: string;
  night(runId: string, env?: Record<string, string>): ReturnType<typeof runCli>;
  load: boolean;
}

async function setUp(t: ExecutionContext, load: boolean): Promise<Setup> {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const dir = tempDir(t, 'pylon-killed-publish-');
  const args = [
    'export', 'lake/contacts/dt={date}/contacts-{run_id}.parquet', '--state', 'lake/contacts.state', '--changes', 'lake/changes/dt={date}/changes-{run_id}.csv',
    ...(load ? ['--to', 'duckdb:w.duckdb'] : []), '--rate', FAST_RATE, '--json', '--quiet',
  ];
  const night = (runId: string, env: Record<string, string> = {}) => runCli([...args, '--run-id', runId], { cwd: dir, env: { ...envFor(emulator), ...env } });
  const first = await night('k0');
  t.is(first.code, 0, first.stderr);
  return { emulator, dir, night, load };
}

const loads = async (dir: string) => (await duckRows<{ run_id: string }>(join(dir, 'w.duckdb'), `SELECT run_id FROM _pylon_loads WHERE status = 'committed' ORDER BY run_id`)).map((r) => r.run_id);

/** Kills night k1 at `point`, runs night k2, and checks that k1 left nothing behind and k2 loaded k1's change once. */
async function killedThenNext(t: ExecutionContext, load: boolean, point: string) {
  const { emulator, dir, night } = await setUp(t, load);
  const before = await files(dir);
  const changed = emulator.store.at(0)!.id;
  emulator.store.update(changed, { name: 'Changed Before The Kill' });

  const killed = await night('k1', { PYLON_TEST_KILL_AT: point });
  t.is(killed.signal, 'SIGKILL', `the child killed itself at ${point}: ${killed.stderr}`);
  const left = await files(dir);
  t.true(left.some((p) => p.includes('k1') || /\.(partial|previous|journal)$/.test(p)), `the killed run left files to settle: ${left.join(', ')}`);

  const next = await night('k2');
  t.is(next.code, 0, next.stderr);
  const stats = statsOf<ExportStats>(next);
  t.true(stats.complete);
  const said = stats.warnings.find((w) => w.includes('run k1'));
  t.truthy(said, `the summary says what happened to run k1: ${stats.warnings.join(' | ')}`);
  t.regex(said!, /killed before it committed/);

  const after = await files(dir);
  t.deepEqual(after.filter((p) => p.includes('k1')), [], 'no file of the killed run is in the lake');
  t.deepEqual(after.filter((p) => /(^|\/)\.[^/]*\.(partial|previous|journal)$/.test(p)), [], 'no temporary file, kept copy or journal is left');
  // The state, the lake's _SUCCESS and the k0 files are as k0 left them, then k2's: every k0 file is still there.
  for (const path of before) t.true(after.includes(path), `${path} (night k0) is still there`);
  t.deepEqual((await changeRows(dir)).filter((r) => !r.startsWith('insert,')), [`update,${changed}`], 'one update in all the change logs: the killed run\'s change is listed once, by k2');
  t.like(stats.delta, { changed: 1 }, 'k2 compared with k0\'s state (k1 never committed)');
  if (load) {
    t.deepEqual(await loads(dir), ['k0', 'k2']);
    // The killed night is in the load log too, as abandoned, written by the run that settled it.
    const log = await duckRows<{ run_id: string; status: string; error: string | null; started: boolean }>(
      join(dir, 'w.duckdb'),
      `SELECT run_id, status, error, started_at <= (SELECT started_at FROM _pylon_loads WHERE run_id = 'k2') AND finished_at >= started_at AS started FROM _pylon_loads WHERE run_id = 'k1'`,
    );
    t.is(log.length, 1, 'one row for the killed run');
    t.like(log[0], { run_id: 'k1', status: 'abandoned', started: true });
    t.regex(log[0]!.error ?? '', /^the run was killed \(process \d+\) before its load committed; run k2 found it and took back the files it had written; the table was left as it was$/);
    t.like(stats.load, { updated: 1 });
    const row = (await duckRows<{ name: string }>(join(dir, 'w.duckdb'), `SELECT name FROM contacts WHERE id = '${changed}'`))[0]!;
    t.is(row.name, 'Changed Before The Kill');
  }
}

for (const point of ['rename:0', 'rename:1', 'rename:8']) {
  test(`a run killed at ${point} of its publish (duckdb load, --state, --changes, {run_id} names): the next run removes its files, puts back what it replaced, and says so`, async (t) => {
    await killedThenNext(t, true, point);
  });
}

test('the next run names the files it took back as typed, relative to the run\'s folder, not as absolute paths', async (t) => {
  const { emulator, dir, night } = await setUp(t, true);
  emulator.store.update(emulator.store.at(0)!.id, { name: 'Changed Before The Kill' });
  const killed = await night('k1', { PYLON_TEST_KILL_AT: 'rename:2' });
  t.is(killed.signal, 'SIGKILL', killed.stderr);

  const next = await night('k2');
  t.is(next.code, 0, next.stderr);
  const said = statsOf<ExportStats>(next).warnings.find((w) => w.includes('run k1'))!;
  const removed = /removed the 2 files it had published \(([^)]*)\)/.exec(said);
  t.truthy(removed, said);
  t.false(said.includes(dir), `no absolute path in: ${said}`);
  const date = /dt=([0-9-]+)/.exec(removed![1]!)![1];
  t.deepEqual(removed![1]!.split(', ').sort(), [`lake/changes/dt=${date}/changes-k1.csv`, `lake/contacts/dt=${date}/contacts-k1.parquet`].sort());
});

test('a killed run whose files cannot all be settled is named as typed too: the file that could not be removed and the journal, relative to the run\'s folder', async (t) => {
  const { emulator, dir, night } = await setUp(t, true);
  emulator.store.update(emulator.store.at(0)!.id, { name: 'Changed Before The Kill' });
  const killed = await night('k1', { PYLON_TEST_KILL_AT: 'rename:2' });
  t.is(killed.signal, 'SIGKILL', killed.stderr);
  // The data file it published is now a folder (not empty): removing it fails.
  const published = (await files(dir)).find((p) => /contacts-k1\.parquet$/.test(p))!;
  await rm(join(dir, published));
  await mkdir(join(dir, published, 'in-the-way'), { recursive: true });

  const next = await night('k2');
  t.is(next.code, 0, next.stderr);
  const said = statsOf<ExportStats>(next).warnings.find((w) => w.includes('run k1'))!;
  t.regex(said, /could not all be settled/, said);
  t.false(said.includes(dir), `no absolute path in: ${said}`);
  t.true(said.includes(`(cannot remove ${published} (EISDIR))`), said);
  t.regex(said, /its journal is lake\/\.pylon-contacts-publish\.\d+\.k1\.journal\)/);
});

test('a run without a load killed at rename:3 of its publish: the next run removes its files and says so', async (t) => {
  await killedThenNext(t, false, 'rename:3');
});

test('a run killed right after its load committed keeps its files: the next run only drops the kept copies, and loads nothing twice', async (t) => {
  const { emulator, dir, night } = await setUp(t, true);
  const changed = emulator.store.at(0)!.id;
  emulator.store.update(changed, { name: 'Changed Before The Kill' });
  const killed = await night('k1', { PYLON_TEST_KILL_AT: 'commit' });
  t.is(killed.signal, 'SIGKILL', killed.stderr);
  t.true((await files(dir)).some((p) => /\.previous$/.test(p)), 'killed before it dropped its kept copies');

  const next = await night('k2');
  t.is(next.code, 0, next.stderr);
  const stats = statsOf<ExportStats>(next);
  t.deepEqual(await loads(dir), ['k0', 'k1', 'k2']);
  t.deepEqual((await duckRows<{ status: string }>(join(dir, 'w.duckdb'), `SELECT status FROM _pylon_loads WHERE run_id = 'k1'`)).map((r) => r.status), ['committed'], 'a committed run is not also abandoned');
  t.like(stats.delta, { changed: 0 }, 'k2 compared with k1\'s state: k1 committed');
  const after = await files(dir);
  t.true(after.some((p) => p.includes('contacts-k1.parquet')), 'the committed run\'s data file stays');
  t.deepEqual(after.filter((p) => /(^|\/)\.[^/]*\.(partial|previous|journal)$/.test(p)), []);
  t.is((await changeRows(dir)).filter((r) => r === `update,${changed}`).length, 1, 'the change is in k1\'s change log only');
});

/**
 * A run that fails (here Pylon refuses its token) writes its manifest saying `failed` at its own {run_id} path. Killed while it wrote
 * that manifest, it left its `.partial` there: that file was in no journal, and the next run's sweep by target looks only at its own
 * paths, so no later run ever met it. The failed manifest's temporary file is now in the run's journal, and the next run removes it.
 */
test('a failed run killed while it writes its manifest at a {run_id} path: the next run removes the manifest\'s .partial', async (t) => {
  const { dir, night } = await setUp(t, false);
  const killed = await night('k1', { PYLON_API_TOKEN: 'not-the-token', PYLON_TEST_KILL_AT: 'failed-manifest' });
  t.is(killed.signal, 'SIGKILL', `the child killed itself while writing its failed manifest: ${killed.stderr}`);
  const partial = /(^|\/)\.contacts-k1\.parquet\.manifest\.json\.\d+\.partial$/;
  t.true((await files(dir)).some((p) => partial.test(p)), `the failed manifest's .partial is there: ${(await files(dir)).join(', ')}`);

  const next = await night('k2');
  t.is(next.code, 0, next.stderr);
  const after = await files(dir);
  t.deepEqual(after.filter((p) => /\.(partial|previous|journal)$/.test(p)), [], `no temporary file or journal is left: ${after.join(', ')}`);
  const said = statsOf<ExportStats>(next).warnings.find((w) => w.includes('run k1'));
  t.regex(said ?? '', /removed its 1 temporary \(\.partial\) file/, statsOf<ExportStats>(next).warnings.join(' | '));
});
