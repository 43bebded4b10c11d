/**
 * A column of the loaded table dropped by hand comes back filled. The load
 * adds it again, and every row's hash still matched its kept state, so before
 * this every row counted unchanged and the column stayed NULL for good (and
 * so did the documented repair, a run with --state naming a new file). Now a
 * load that adds a column to a table that has rows rewrites every row: the
 * summary and the load log say so. Real CLI child process, real databases.
 */
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { FAST_RATE, REPO, envFor, runCli, startEmulator, statsOf, tempDir } from '../../helpers/cli.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { duckRows } from './table-check.js';
import type { ExportStats } from '../../../src/export/run-export.js';

interface Db {
  to: string;
  /** The table, quoted. */
  table: string;
  /** The load log, quoted. */
  loads: string;
  run(sql: string): Promise<Array<Record<string, unknown>>>;
}

/** samples/seed.json: 8 contacts, 2 with notes. */
const NOTES = 2;

async function dropAndHeal(t: ExecutionContext, db: Db, withStateFile: boolean) {
  const emulator = await startEmulator(t, { seedFile: join(REPO, 'samples', 'seed.json') });
  const dir = tempDir(t, 'pylon-dropped-column-');
  const night = async (runId: string, extra: string[] = []) => {
    const result = await runCli(['export', 'c.parquet', '--run-id', runId, '--to', db.to, ...extra, '--rate', FAST_RATE, '--json', '--quiet'], { cwd: dir, env: envFor(emulator) });
    t.is(result.code, 0, result.stderr);
    return statsOf<ExportStats>(result);
  };
  const notes = async () => Number((await db.run(`SELECT count(custom_notes) AS n FROM ${db.table}`))[0]!.n);
  t.like((await night('n1')).load, { inserted: 8 });
  t.is(await notes(), NOTES);
  await db.run(`ALTER TABLE ${db.table} DROP COLUMN custom_notes`);

  // The table's own kept state as the baseline (the cron line), or the documented repair: --state naming a new file.
  const healed = await night('n2', withStateFile ? ['--state', 'new.state'] : []);
  t.like(healed.load, { inserted: 0, updated: 8, unchanged: 0, deleted: 0, staged: 'all' });
  t.deepEqual(healed.load!.schemaChanges, ['added column custom_notes; every row was rewritten to fill it']);
  t.true(
    healed.warnings.some((w) => w.includes('custom_notes') && w.includes('every row')),
    `the summary says why every row was rewritten: ${healed.warnings.join(' | ')}`,
  );
  t.is(await notes(), NOTES, 'the column holds Pylon values again');
  const logged = await db.run(`SELECT schema_changes FROM ${db.loads} WHERE run_id = 'n2'`);
  t.is(logged[0]!.schema_changes, 'added column custom_notes; every row was rewritten to fill it', 'the load log records it');
  // Healed: the next night rewrites nothing.
  t.like((await night('n3', withStateFile ? ['--state', 'new.state'] : [])).load, { inserted: 0, updated: 0, unchanged: 8, deleted: 0 });
  t.is(await notes(), NOTES);
}

for (const withStateFile of [false, true]) {
  const how = withStateFile ? 'a run with --state naming a new file' : 'the next night';
  pgTest(`postgres: a column dropped by hand is added again and refilled by ${how}${PG_SKIP_NOTE}`, async (t) => {
    const table = uniqueTable('dropped');
    const run = (sql: string) => withPg(async (c) => (await c.query(sql)).rows);
    await dropAndHeal(t, { to: `${PG_URL}#${table}`, table: `"${table}"`, loads: '"_pylon_loads"', run }, withStateFile);
  });

  test(`duckdb: a column dropped by hand is added again and refilled by ${how}`, async (t) => {
    const file = join(tempDir(t, 'pylon-dropped-column-db-'), 'w.duckdb');
    await dropAndHeal(t, { to: `duckdb:${file}`, table: 'contacts', loads: '_pylon_loads', run: (sql) => duckRows(file, sql) }, withStateFile);
  });
}
