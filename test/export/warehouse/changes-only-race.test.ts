/**
 * A second night that stages only what changed checks, when it opens, that
 * the table is still as its kept state describes it, and checks again under
 * the load lock before it merges. A row inserted by hand between the two
 * (while the run reads Pylon) must stop the load: the staged changes were
 * chosen against a table that is no longer there. Deterministic: the test
 * holds the loads' advisory lock, so the run's merge waits, and inserts the
 * row once the run has staged its table (after its first check).
 */
import pg from 'pg';
import { FAST_RATE, TOKEN, envFor, runCli, spawnCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { client } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';

pgTest(`postgres: a row inserted by hand while a changes-only night reads Pylon stops the load (LOAD_FAILED, exit 1, nothing loaded); the next night stages every row and heals${PG_SKIP_NOTE}`, async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 20 });
  const dir = tempDir(t, 'pylon-changes-race-');
  const table = uniqueTable('race');
  const args = (runId: string) => ['export', '--to', `${PG_URL}#${table}`, '--run-id', runId, '--rate', FAST_RATE, '--quiet', '--json'];
  const first = await runCli(args('n1'), { cwd: dir, env: envFor(emulator) });
  t.is(first.code, 0, first.stderr);

  const api = client({ url: emulator.url, token: TOKEN });
  const id = ((await api.get('/contacts?limit=1')).body.data as Array<{ id: string }>)[0]!.id;
  t.is((await api.patch(`/contacts/${id}`, { name: 'Changed During The Race' })).status, 200);
  const rows = () => withPg(async (db) => (await db.query(`SELECT id, name, _run_id, _deleted_at FROM "${table}" ORDER BY id`)).rows);
  const tableBefore = await rows();

  // Hold the loads' lock: the run's merge waits for it; its first check (at open) does not take it.
  const holder = new pg.Client({ connectionString: PG_URL });
  await holder.connect();
  t.teardown(() => holder.end().catch(() => {}));
  await holder.query('BEGIN');
  await holder.query(`SELECT pg_advisory_xact_lock(hashtext('pylon-contacts:load'))`);
  const run = spawnCli(args('n2'), { cwd: dir, env: envFor(emulator) });
  // The run creates its staging table after its first check: wait for it (the catalog is shared, the table is the child's).
  const watcher = new pg.Client({ connectionString: PG_URL });
  await watcher.connect();
  t.teardown(() => watcher.end().catch(() => {}));
  let staged = false;
  while (!staged && run.child.exitCode === null) {
    staged = (await watcher.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [`_pylon_stage_${run.child.pid}`])).rowCount! > 0;
    if (!staged) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.true(staged, 'the run opened its load and staged into its table');
  // A copy of a loaded row under an id Pylon does not have (every NOT NULL column filled).
  for (const statement of [`CREATE TEMP TABLE hand AS SELECT * FROM "${table}" WHERE id = '${tableBefore[0].id}'`, `UPDATE hand SET id = 'hand-made'`, `INSERT INTO "${table}" SELECT * FROM hand`]) await watcher.query(statement);
  await holder.query('COMMIT');

  const second = await run.result;
  t.is(second.code, 1, second.stderr);
  t.regex(second.stderr, new RegExp(`table ${table} changed while the run read Pylon`));
  const logged = await withPg(async (db) => (await db.query(`SELECT status, error FROM "_pylon_loads" WHERE run_id = 'n2' AND table_name = $1`, [table])).rows);
  t.is(logged.length, 1);
  t.is(logged[0].status, 'failed');
  t.regex(logged[0].error, new RegExp(`table ${table} changed while the run read Pylon`), 'the load log gives the cause');
  const password = decodeURIComponent(new URL(PG_URL!).password);
  if (password !== '') t.false(logged[0].error.includes(password), 'and no password');
  t.deepEqual(await rows(), [...tableBefore, { ...tableBefore[0], id: 'hand-made' }].sort((a, b) => (a.id < b.id ? -1 : 1)), 'nothing was loaded: only the hand-made row differs');

  // The next night finds the table off its kept state, stages every row, loads the change and marks the hand-made row deleted.
  const third = await runCli(args('n3'), { cwd: dir, env: envFor(emulator) });
  t.is(third.code, 0, third.stderr);
  const load = (JSON.parse(third.stdout.trim().split('\n').pop()!) as { load: { staged: string; updated: number; deleted: number } }).load;
  t.like(load, { staged: 'all', updated: 1, deleted: 1 });
  const after = await rows();
  t.like(after.find((r: { id: string }) => r.id === id), { name: 'Changed During The Race', _run_id: 'n3' });
  t.like(after.find((r: { id: string }) => r.id === 'hand-made'), { _run_id: 'n3' });
  t.not(after.find((r: { id: string }) => r.id === 'hand-made')._deleted_at, null);
});
