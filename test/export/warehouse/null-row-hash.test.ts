/**
 * A row whose `_row_hash` was set NULL by hand (with a value of it) is
 * rewritten by the next night, on both databases. Before, every merge
 * compared hashes with `<>`, which is unknown (never true) for NULL, and a
 * night that staged only changes did not stage the row at all: the row kept
 * its NULLs night after night. Real CLI child process, real databases.
 */
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../../helpers/cli.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { readManifest } from '../helpers.js';
import { duckRows, selectList, valuesSha256 } from './table-check.js';
import type { ExportStats } from '../../../src/export/run-export.js';

interface Db {
  to: string;
  /** The table, quoted. */
  table: string;
  run(sql: string): Promise<Array<Record<string, unknown>>>;
  dialect: 'postgres' | 'duckdb';
}

async function nights(t: ExecutionContext, db: Db) {
  const emulator = await startEmulator(t, { seedRandom: 40 });
  const dir = tempDir(t, 'pylon-null-hash-');
  const night = async (runId: string) => {
    const result = await runCli(['export', 'c.parquet', '--run-id', runId, '--to', db.to, '--rate', FAST_RATE, '--json', '--quiet'], { cwd: dir, env: envFor(emulator) });
    t.is(result.code, 0, result.stderr);
    return statsOf<ExportStats>(result);
  };
  t.like((await night('n1')).load, { inserted: 40 });
  const { table } = db;
  const victim = String((await db.run(`SELECT id FROM ${table} ORDER BY id LIMIT 1`))[0]!.id);
  await db.run(`ALTER TABLE ${table} ALTER COLUMN _row_hash DROP NOT NULL`);
  await db.run(`UPDATE ${table} SET _row_hash = NULL, name = NULL WHERE id = '${victim}'`);

  const second = await night('n2');
  t.like(second.load, { inserted: 0, updated: 1, unchanged: 39, deleted: 0, staged: 'all' });
  const row = (await db.run(`SELECT name, _row_hash, _run_id FROM ${table} WHERE id = '${victim}'`))[0]!;
  t.is(row.name, emulator.store.get(victim)!.name, 'the NULL name is Pylon name again');
  t.truthy(row._row_hash, 'the row has its hash again');
  t.is(row._run_id, 'n2');
  const manifest = await readManifest(join(dir, 'c.parquet.manifest.json'));
  const live = await db.run(`SELECT ${selectList(manifest.schema!.columns, db.dialect)} FROM ${table} WHERE _deleted_at IS NULL`);
  t.is(valuesSha256(manifest.schema!.columns, live), manifest.values!.sha256, 'the table holds the values the export read from Pylon');
  // Healed: the next night stages only the changes again and rewrites nothing.
  t.like((await night('n3')).load, { inserted: 0, updated: 0, unchanged: 40, deleted: 0, staged: 'changes' });
}

pgTest(`postgres: a row whose _row_hash and name were set NULL by hand is rewritten by the next night and equals Pylon${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('nullhash');
  await nights(t, { to: `${PG_URL}#${table}`, table: `"${table}"`, dialect: 'postgres', run: (sql) => withPg(async (c) => (await c.query(sql)).rows) });
});

test('duckdb: a row whose _row_hash and name were set NULL by hand is rewritten by the next night and equals Pylon', async (t) => {
  const file = join(tempDir(t, 'pylon-null-hash-db-'), 'w.duckdb');
  await nights(t, { to: `duckdb:${file}`, table: 'contacts', dialect: 'duckdb', run: (sql) => duckRows(file, sql) });
});
