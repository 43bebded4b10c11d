/**
 * Ctrl-C while a load's merge runs: the walk is over and the merge waits on a
 * lock another session holds on the table (a long merge, seen from outside).
 * The first SIGINT must still stop the run: the merge's transaction rolls
 * back, nothing is published (data file, manifest, change log, state), the
 * exit code is 130. Before, the run went on once the lock was released,
 * committed everything and exited 0. Real CLI child process, real PostgreSQL.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import pg from 'pg';
import { FAST_RATE, TOKEN, envFor, runCli, spawnCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { client } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';

/** Every file under dir (relative path → content), to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = readFileSync(path, 'base64');
    }
  };
  walk(dir);
  return out;
}

pgTest(`postgres: SIGINT while the merge waits on a lock rolls the load back and publishes nothing (exit 130); the next night loads the change${PG_SKIP_NOTE}`, async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 30 });
  const dir = tempDir(t, 'pylon-interrupt-load-');
  const table = uniqueTable('sigint');
  const args = (runId: string) => ['export', 'lake/dt={run_id}/c.parquet', '--run-id', runId, '--state', 'c.state', '--changes', 'changes/{run_id}.csv', '--to', `${PG_URL}#${table}`, '--rate', FAST_RATE, '--quiet'];
  const first = await runCli(args('n1'), { cwd: dir, env: envFor(emulator) });
  t.is(first.code, 0, first.stderr);

  const api = client({ url: emulator.url, token: TOKEN });
  const id = ((await api.get('/contacts?limit=1')).body.data as Array<{ id: string }>)[0]!.id;
  t.is((await api.patch(`/contacts/${id}`, { name: 'Changed Before Ctrl-C' })).status, 200);
  const before = snapshot(dir);
  const rows = () => withPg(async (db) => (await db.query(`SELECT id, name, _run_id FROM "${table}" ORDER BY id`)).rows);
  const tableBefore = await rows();

  // Another session holds the table: the load's merge blocks on it after the walk.
  const holder = new pg.Client({ connectionString: PG_URL });
  await holder.connect();
  t.teardown(() => holder.end().catch(() => {}));
  await holder.query('BEGIN');
  await holder.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
  const run = spawnCli(args('n2'), { cwd: dir, env: envFor(emulator) });
  // Wait for the event (the loader's session waiting on the lock), polling the server's own view from a session
  // outside any transaction (pg_stat_activity is a snapshot held for the rest of a transaction).
  const watcher = new pg.Client({ connectionString: PG_URL });
  await watcher.connect();
  t.teardown(() => watcher.end().catch(() => {}));
  let waiting = false;
  while (!waiting && run.child.exitCode === null) {
    const found = await watcher.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%${table}%' AND pid <> pg_backend_pid()`);
    waiting = found.rowCount! > 0;
    if (!waiting) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.true(waiting, 'the load reached its merge and waits on the lock');
  // The lock is let go only once the child says it took the signal, so the merge is still blocked when it arrives.
  const noticed = new Promise<void>((resolve) => {
    const listen = (chunk: Buffer | string) => {
      if (String(chunk).includes('SIGINT: finishing')) {
        run.child.stderr!.off('data', listen);
        resolve();
      }
    };
    run.child.stderr!.on('data', listen);
    run.child.once('close', () => resolve());
  });
  run.child.kill('SIGINT');
  await noticed;
  await holder.query('COMMIT');
  const result = await run.result;
  t.is(result.code, 130, result.stderr);
  t.regex(result.stderr, /Interrupted while the outputs were being committed \(every page had been read\); nothing was published/);

  const after = snapshot(dir);
  const reports = Object.keys(after).filter((f) => f.startsWith('lake._meta/dt=n2/'));
  // The error report's line names no page or cursor: every page had been read.
  const errors = reports.find((f) => f.endsWith('.csv'));
  t.truthy(errors, `an error report among ${reports.join(', ')}`);
  const lines = Buffer.from(after[errors!]!, 'base64').toString('utf8').trim().split('\n');
  t.is(lines[0], 'kind,id,cursor,page,http_status,request_id,code,message');
  t.is(lines.length, 2, lines.join('\n'));
  t.true(lines[1]!.startsWith('interrupted,,,,,,RUN_ABORTED,Interrupted while the outputs were being committed'), lines[1]);
  for (const report of reports) delete after[report];
  t.deepEqual(after, before, 'every published file (data, manifest, change log, state) is as night 1 left it');
  t.deepEqual(await rows(), tableBefore, 'the table is as night 1 left it');
  const log = await withPg(async (db) => (await db.query(`SELECT run_id, status FROM _pylon_loads WHERE table_name = $1 ORDER BY finished_at`, [table])).rows);
  t.deepEqual(log, [{ run_id: 'n1', status: 'committed' }, { run_id: 'n2', status: 'failed' }]);

  // The next night loads the change the interrupted one did not publish.
  const third = await runCli(args('n3'), { cwd: dir, env: envFor(emulator) });
  t.is(third.code, 0, third.stderr);
  t.deepEqual(readFileSync(join(dir, 'changes/n3.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 2).join(' ')), [`update ${id}`]);
  t.like((await rows()).find((r: { id: string }) => r.id === id), { name: 'Changed Before Ctrl-C', _run_id: 'n3' });
});
