/**
 * SIGTERM while a load's COMMIT runs (every output already renamed into place): the run cannot stop there, and it
 * completes (exit 0, the manifest complete, the table committed), as docs/export.md's exit codes say of a signal
 * once the files are in place. It printed "finishing requests in flight and writing reports", which said the run
 * was stopping when it was not, and the summary said nothing of the signal. Now the signal's line says the COMMIT is
 * under way and the run ends complete, and the summary's warning says the signal came then. The COMMIT is held by a
 * deferred constraint trigger that waits on an advisory lock the test holds. Real CLI child, real PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { FAST_RATE, TOKEN, envFor, runCli, spawnCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { client } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';

pgTest(`postgres: SIGTERM during the load's COMMIT says the COMMIT is finishing, and the run completes (exit 0)${PG_SKIP_NOTE}`, async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 20 });
  const dir = tempDir(t, 'pylon-interrupt-commit-');
  const table = uniqueTable('sigterm_commit');
  const args = (runId: string) => ['export', 'lake/dt={run_id}/c.parquet', '--run-id', runId, '--state', 'c.state', '--to', `${PG_URL}#${table}`, '--rate', FAST_RATE, '--quiet'];
  const first = await runCli(args('n1'), { cwd: dir, env: envFor(emulator) });
  t.is(first.code, 0, first.stderr);

  // At COMMIT, a write to the table waits for advisory lock 4242, which the test holds until the child took the signal.
  await withPg(async (db) => {
    await db.query(`CREATE FUNCTION "${table}_hold"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NULL; END $$`);
    await db.query(`CREATE CONSTRAINT TRIGGER "${table}_hold" AFTER INSERT OR UPDATE ON "${table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${table}_hold"()`);
  });
  const api = client({ url: emulator.url, token: TOKEN });
  const id = ((await api.get('/contacts?limit=1')).body.data as Array<{ id: string }>)[0]!.id;
  t.is((await api.patch(`/contacts/${id}`, { name: 'Changed Before SIGTERM' })).status, 200);
  const holder = new pg.Client({ connectionString: PG_URL });
  await holder.connect();
  t.teardown(() => holder.end().catch(() => {}));
  await holder.query('SELECT pg_advisory_lock(4242)');

  const run = spawnCli(args('n2'), { cwd: dir, env: envFor(emulator) });
  const watcher = new pg.Client({ connectionString: PG_URL });
  await watcher.connect();
  t.teardown(() => watcher.end().catch(() => {}));
  let waiting = false;
  while (!waiting && run.child.exitCode === null) {
    const found = await watcher.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory' AND query = 'COMMIT' AND pid <> pg_backend_pid()`);
    waiting = found.rowCount! > 0;
    if (!waiting) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.true(waiting, "the load's COMMIT waits on the lock");
  const noticed = new Promise<void>((resolve) => {
    const listen = (chunk: Buffer | string) => {
      if (String(chunk).includes('SIGTERM:')) {
        run.child.stderr!.off('data', listen);
        resolve();
      }
    };
    run.child.stderr!.on('data', listen);
    run.child.once('close', () => resolve());
  });
  run.child.kill('SIGTERM');
  await noticed;
  await holder.query('SELECT pg_advisory_unlock(4242)');
  const result = await run.result;
  t.is(result.code, 0, result.stderr);
  t.notRegex(result.stderr, /finishing requests in flight/);
  t.regex(result.stderr, /SIGTERM: the load's COMMIT is under way, every output already in place: it is not stopped, and the run ends complete/);
  t.regex(result.stderr, /warning: SIGTERM came while the load's COMMIT was under way, every output already in place: it was not stopped, and the run completed/);
  const manifest = JSON.parse(readFileSync(join(dir, 'lake._meta/dt=n2/c.parquet.manifest.json'), 'utf8'));
  t.like(manifest, { complete: true, status: 'complete' });
  const row = await withPg(async (db) => (await db.query(`SELECT name, _run_id FROM "${table}" WHERE id = $1`, [id])).rows[0]);
  t.like(row, { name: 'Changed Before SIGTERM', _run_id: 'n2' });
});
