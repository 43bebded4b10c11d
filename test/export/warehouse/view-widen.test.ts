import { join } from 'node:path';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { readManifest } from '../helpers.js';
import { selectList, valuesSha256 } from './table-check.js';

/**
 * A view (a dbt model, say) that reads a column whose field's type changed in
 * Pylon: PostgreSQL cannot change the type of a column a view uses. Before,
 * `--allow-schema-change` walked every contact and then failed in the merge with
 * the server's raw `cannot alter type of a column used by a view or rule`; now
 * the load is refused as it opens (LOAD_TABLE_CONFLICT, exit 1), naming the
 * views, the column, both types and the way on, before any contact is read.
 */
pgTest(`postgres: --allow-schema-change that would widen a column a view uses is refused before the walk, naming the view and the way on; the table and the view are as they were, and the night after the view is dropped widens${PG_SKIP_NOTE}`, async (t) => {
  const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  const emulator = await startEmulator(t, { seed: 42, seedRandom: 25, customFields });
  const dir = tempDir(t);
  const table = uniqueTable('viewed');
  const to = `${PG_URL}#${table}`;
  const night = (runId: string, ...extra: string[]) =>
    runCli(['export', `${runId}.parquet`, '--to', to, '--run-id', runId, '--rate', FAST_RATE, '--quiet', ...extra], { cwd: dir, env: envFor(emulator) });

  const first = await night('n1');
  t.is(first.code, 0, first.stderr);
  await withPg(async (db) => {
    await db.query(`CREATE VIEW "${table}_seats" AS SELECT id, custom_seats FROM "${table}"`);
    await db.query(`CREATE MATERIALIZED VIEW "${table}_m" AS SELECT id, name, custom_seats + 1 AS more FROM "${table}"`);
  });

  customFields.find((f) => f.slug === 'seats')!.type = 'text';
  const listed = emulator.stats().requests.list ?? 0;
  const refused = await night('n2', '--allow-schema-change');
  t.is(refused.code, 1, refused.stderr);
  t.regex(refused.stderr, /LOAD_TABLE_CONFLICT/);
  t.regex(refused.stderr, new RegExp(`would change the type of column custom_seats \\(bigint → text\\) of ${table}, which these use: materialized view "?${table}_m"? \\(custom_seats\\), view "?${table}_seats"? \\(custom_seats\\)`));
  t.regex(refused.stderr, /PostgreSQL cannot change the type of a column a view or rule uses\. Drop them \(DROP MATERIALIZED VIEW .*; DROP VIEW .*;\), run the export again/);
  t.notRegex(refused.stderr, /cannot alter type of a column used by a view or rule/, 'not the server\'s raw error');
  t.notRegex(refused.stderr, /\n\s+at /, 'no stack trace');
  t.is(emulator.stats().requests.list ?? 0, listed, 'refused before the first page');
  await withPg(async (db) => {
    const type = (await db.query(`SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'custom_seats'`, [`"${table}"`])).rows[0].type;
    t.is(type, 'bigint', 'the table is as it was');
    t.is(Number((await db.query(`SELECT count(*) AS n FROM "${table}_seats"`)).rows[0].n), 25, 'the view still reads');
    const log = (await db.query(`SELECT run_id, status, error FROM _pylon_loads WHERE table_name = $1 ORDER BY started_at`, [table])).rows;
    t.deepEqual(log.map((r) => [r.run_id, r.status]), [['n1', 'committed'], ['n2', 'failed']]);
    t.regex(log[1].error, /would change the type of column custom_seats/);
  });

  // The way on: drop the views, run again.
  await withPg((db) => db.query(`DROP MATERIALIZED VIEW "${table}_m"; DROP VIEW "${table}_seats"`));
  const widened = await night('n3', '--allow-schema-change', '--json');
  t.is(widened.code, 0, widened.stderr);
  const manifest = await readManifest(join(dir, 'n3.parquet.manifest.json'));
  t.deepEqual(manifest.load?.schemaChanges, ['widened custom_seats (custom.seats) from int64 to string']);
  const columns = manifest.schema!.columns;
  await withPg(async (db) => {
    t.is(valuesSha256(columns, (await db.query(`SELECT ${selectList(columns, 'postgres')} FROM "${table}" WHERE _deleted_at IS NULL`)).rows), manifest.values!.sha256, 'the table equals Pylon');
  });
});
