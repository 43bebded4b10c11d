/**
 * A run killed with -9 before its load committed gets an `abandoned` row in
 * `_pylon_loads`, written by the next run that settles it from its journal
 * (1bb7bee, tested there on DuckDB with files). A load that writes no file
 * (`export --to duckdb:F`, `export --to postgresql://…`) kept no journal, so
 * the next run never knew of the killed night and the load log had a gap:
 * the journal now goes beside the DuckDB file, or for PostgreSQL in the
 * tool's state folder. The PostgreSQL load is tested with and without files.
 *
 * The child kills itself at an exact step (PYLON_TEST_KILL_AT=rename:0, after
 * the merge ran in its open transaction and before any rename or COMMIT):
 * no timing. Real CLI child processes, real databases.
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../../helpers/cli.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { duckRows } from './table-check.js';
import type { ExportStats } from '../../../src/export/run-export.js';

type Rows = (sql: string) => Promise<Array<Record<string, unknown>>>;

/** Night k0 loads, k1 (one contact changed) is killed before its COMMIT, k2 loads: k1 is logged abandoned once, and its change loaded by k2. */
async function killedNight(t: ExecutionContext, to: string, files: string[], rows: Rows, expected: RegExp) {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const dir = tempDir(t, 'pylon-killed-load-');
  const night = (runId: string, env: Record<string, string> = {}) =>
    runCli(['export', ...files, '--to', to, '--run-id', runId, '--rate', FAST_RATE, '--json', '--quiet'], { cwd: dir, env: { ...envFor(emulator), ...env } });
  const first = await night('k0');
  t.is(first.code, 0, first.stderr);
  const changed = emulator.store.at(0)!.id;
  emulator.store.update(changed, { name: 'Changed Before The Kill' });

  const killed = await night('k1', { PYLON_TEST_KILL_AT: 'rename:0' });
  t.is(killed.signal, 'SIGKILL', `the child killed itself before its commit: ${killed.stderr}`);

  const next = await night('k2');
  t.is(next.code, 0, next.stderr);
  const stats = statsOf<ExportStats>(next);
  const said = stats.warnings.find((w) => w.includes('run k1'));
  t.truthy(said, `the summary says what happened to run k1: ${stats.warnings.join(' | ')}`);
  t.regex(said!, /killed before it committed \(its load into .* had not committed: the table was left as it was\)/);
  t.like(stats.load, { updated: 1 });

  const log = await rows(`SELECT run_id, status, error, started_at <= (SELECT started_at FROM _pylon_loads WHERE run_id = 'k2' AND table_name = 'TABLE') AND finished_at >= started_at AS started FROM _pylon_loads WHERE table_name = 'TABLE' ORDER BY started_at, run_id`);
  t.deepEqual(log.map((r) => [r.run_id, r.status]), [['k0', 'committed'], ['k1', 'abandoned'], ['k2', 'committed']], 'the killed night is in the load log once, as abandoned');
  t.true(Boolean(log[1]!.started), 'k1 started before k2 and finished when settled');
  t.regex(String(log[1]!.error), expected, said);
  const name = await rows(`SELECT name FROM TABLE WHERE id = '${changed}'`);
  t.is(name[0]!.name, 'Changed Before The Kill');
}

const noFile = /^the run was killed \(process \d+\) before its load committed; run k2 found it and had no file of it to take back \(it wrote none\); the table was left as it was$/;
const withFiles = /^the run was killed \(process \d+\) before its load committed; run k2 found it and took back the files it had written; the table was left as it was$/;

test('duckdb, no output file: a run killed before its load committed is logged abandoned by the next run', async (t) => {
  const dir = tempDir(t, 'pylon-killed-load-db-');
  const file = join(dir, 'w.duckdb');
  await killedNight(t, `duckdb:${file}`, [], (sql) => duckRows(file, sql.replaceAll("'TABLE'", "'contacts'").replaceAll('FROM TABLE', 'FROM contacts')), noFile);
});

for (const files of [false, true]) {
  pgTest(`postgres, ${files ? 'with --state and a file' : 'no output file'}: a run killed before its load committed is logged abandoned by the next run${PG_SKIP_NOTE}`, async (t) => {
    const table = uniqueTable(files ? 'killedf' : 'killedn');
    const args = files ? ['lake/contacts/dt={date}/contacts-{run_id}.parquet', '--state', 'lake/contacts.state'] : [];
    await killedNight(t, `${PG_URL}#${table}`, args, (sql) => withPg(async (c) => (await c.query(sql.replaceAll("'TABLE'", `'${table}'`).replaceAll('FROM TABLE', `FROM "${table}"`))).rows), files ? withFiles : noFile);
  });
}

/**
 * The next run of the same pipeline run from another folder (cron's, an orchestrator's), naming the same table another way: a DuckDB
 * file by another relative path, a PostgreSQL URL with the password in it the night before and in PGPASSWORD now (its redacted form
 * differed, and so did its journal's folder). The journal is known by the table it loads, not by the --to text: found and settled.
 */
async function killedElsewhere(t: ExecutionContext, dir: string, to: (from: 'first' | 'next', cwd: string) => string, env: (from: 'first' | 'next') => Record<string, string>, rows: Rows) {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const other = join(dir, 'elsewhere', 'deeper');
  mkdirSync(other, { recursive: true });
  const night = (runId: string, from: 'first' | 'next', extra: Record<string, string> = {}) =>
    runCli(['export', '--to', to(from, from === 'first' ? dir : other), '--run-id', runId, '--rate', FAST_RATE, '--json', '--quiet'], { cwd: from === 'first' ? dir : other, env: { ...envFor(emulator), ...env(from), ...extra } });
  const first = await night('e0', 'first');
  t.is(first.code, 0, first.stderr);
  const killed = await night('e1', 'first', { PYLON_TEST_KILL_AT: 'rename:0' });
  t.is(killed.signal, 'SIGKILL', `the child killed itself before its commit: ${killed.stderr}`);

  const next = await night('e2', 'next');
  t.is(next.code, 0, next.stderr);
  const stats = statsOf<ExportStats>(next);
  t.truthy(stats.warnings.find((w) => /^run e1 \(process \d+\) was killed before it committed .*it had written no file, so there was nothing to take back$/.test(w)), stats.warnings.join(' | '));
  const log = await rows(`SELECT run_id, status FROM _pylon_loads WHERE table_name = 'TABLE' ORDER BY started_at, run_id`);
  t.deepEqual(log.map((r) => [r.run_id, r.status]), [['e0', 'committed'], ['e1', 'abandoned'], ['e2', 'committed']], 'the killed night is logged abandoned by the run from the other folder');
}

test('duckdb, no output file: the next run from another folder (the file by another relative path) settles the killed run', async (t) => {
  const dir = tempDir(t, 'pylon-killed-elsewhere-db-');
  const file = join(dir, 'w.duckdb');
  // Each night names the file relative to its own folder: w.duckdb, then ../../w.duckdb.
  await killedElsewhere(t, dir, (_from, cwd) => `duckdb:${relative(cwd, file)}`, () => ({}), (sql) => duckRows(file, sql.replaceAll("'TABLE'", "'contacts'")));
});

pgTest(`postgres, no output file: the next run from another folder, with the password in PGPASSWORD instead of the URL, settles the killed run${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('killedx');
  const url = new URL(PG_URL!);
  const password = decodeURIComponent(url.password);
  const bare = new URL(PG_URL!);
  bare.password = '';
  if (password === '') url.password = 'unused';
  await killedElsewhere(
    t,
    tempDir(t, 'pylon-killed-elsewhere-pg-'),
    (from) => `${from === 'first' && password !== '' ? url.href : bare.href}#${table}`,
    (from): Record<string, string> => (from === 'next' && password !== '' ? { PGPASSWORD: password } : {}),
    (sql) => withPg(async (c) => (await c.query(sql.replaceAll("'TABLE'", `'${table}'`))).rows),
  );
});
