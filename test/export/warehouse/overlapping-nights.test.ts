/**
 * Two PostgreSQL nights of one pipeline (the same table, whose kept state is
 * the baseline) that overlap: night B starts while night A is loading. Both read the same
 * baseline, so both deltas and change logs held the same changes; B waited
 * for A's lock, merged, and published too, and the change logs listed those
 * changes twice. Now the second to reach its merge finds that another load
 * committed into the table since it began, and refuses (LOAD_FAILED, exit 1),
 * publishing nothing. Deterministic: the test holds the loads' advisory lock
 * until both runs have staged (each read its baseline before), then lets them
 * go; whichever merges first commits, the other refuses. (Two nights that
 * share a --state file never get this far: the second is refused at its start
 * by the state file's lock, overlapping-state.test.ts.)
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import pg from 'pg';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';

/** Every change-log row (op and id) of every change log under `dir`. */
async function changeRows(dir: string): Promise<string[]> {
  const rows: string[] = [];
  for (const e of await readdir(join(dir, 'lake', 'changes'), { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.csv')) continue;
    rows.push(...(await readFile(join(e.parentPath, e.name), 'utf8')).trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 2).join(',')));
  }
  return rows.sort();
}

pgTest(`postgres: two overlapping nights of one pipeline (same table, no --state): the second to merge refuses (LOAD_FAILED, exit 1) and publishes nothing, so no change is logged twice${PG_SKIP_NOTE}`, async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const dir = tempDir(t, 'pylon-overlap-');
  const table = uniqueTable('overlap');
  const args = (runId: string) => [
    'export', 'lake/contacts/dt={date}/contacts-{run_id}.parquet', '--changes', 'lake/changes/dt={date}/changes-{run_id}.csv',
    '--to', `${PG_URL}#${table}`, '--run-id', runId, '--rate', FAST_RATE, '--quiet', '--json',
  ];
  const first = await runCli(args('n1'), { cwd: dir, env: envFor(emulator) });
  t.is(first.code, 0, first.stderr);
  const changed = [emulator.store.at(0)!.id, emulator.store.at(1)!.id];
  for (const id of changed) emulator.store.update(id, { name: `Changed ${id}` });

  // Hold the loads' lock: each run's merge waits for it; opening and staging do not take it.
  const holder = new pg.Client({ connectionString: PG_URL });
  await holder.connect();
  t.teardown(() => holder.end().catch(() => {}));
  await holder.query('BEGIN');
  await holder.query(`SELECT pg_advisory_xact_lock(hashtext('pylon-contacts:load'))`);
  const watcher = new pg.Client({ connectionString: PG_URL });
  await watcher.connect();
  t.teardown(() => watcher.end().catch(() => {}));
  const runs = [spawnCli(args('a'), { cwd: dir, env: envFor(emulator) }), spawnCli(args('b'), { cwd: dir, env: envFor(emulator) })];
  // Each run creates its staging table after it read its baseline (the table's kept state) and opened its load: wait for both.
  for (const run of runs) {
    let staged = false;
    while (!staged && run.child.exitCode === null) {
      staged = (await watcher.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [`_pylon_stage_${run.child.pid}`])).rowCount! > 0;
      if (!staged) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.true(staged, 'the run opened its load and staged into its table');
  }
  await holder.query('COMMIT');

  const [a, b] = await Promise.all(runs.map((r) => r.result));
  const codes = [a!.code, b!.code].sort();
  t.deepEqual(codes, [0, 1], `one night commits, the other refuses: ${a!.stderr} | ${b!.stderr}`);
  const [won, lost] = a!.code === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
  const refused = (a!.code === 0 ? b! : a!).stderr;
  t.regex(refused, new RegExp(`another load into ${table} committed \\(run ${won}\\) while this run read Pylon`), refused);
  t.regex(refused, /nothing was loaded or published/);

  const log = await withPg(async (db) => (await db.query(`SELECT run_id, status FROM "_pylon_loads" WHERE table_name = $1 ORDER BY started_at, run_id`, [table])).rows);
  t.deepEqual(log.filter((r: { status: string }) => r.status === 'committed').map((r: { run_id: string }) => r.run_id), ['n1', won]);
  t.deepEqual(log.filter((r: { run_id: string }) => r.run_id === lost).map((r: { status: string }) => r.status), ['failed']);
  t.deepEqual((await changeRows(dir)).filter((r) => !r.startsWith('insert,')), changed.map((id) => `update,${id}`).sort(), 'each change is in the change logs once');
  const lake = (await readdir(join(dir, 'lake'), { recursive: true })).map((p) => relative('', p));
  t.deepEqual(lake.filter((p) => p.includes(`-${lost}.`) && !p.startsWith('contacts._meta/')), [], 'no data file or change log of the refused night');
  // A failed night leaves its error report and a manifest saying so, as any failed night does.
  const manifest = JSON.parse(await readFile(join(dir, 'lake', 'contacts._meta', lake.find((p) => p.endsWith(`contacts-${lost}.parquet.manifest.json`))!.replace('contacts._meta/', '')), 'utf8')) as { complete: boolean; status: string };
  t.like(manifest, { complete: false, status: 'failed' });
});
