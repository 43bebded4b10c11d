/**
 * A custom field deleted in Pylon: the first load after it is refused
 * (LOAD_TABLE_CONFLICT) until --allow-schema-change accepts keeping its column.
 * Once accepted, the change sticks: later nights (the cron line, without the
 * flag) go on, the column keeps its values, and the load log records the
 * change once. Before, every later night was refused again unless the flag
 * was passed again. With the table's kept state as baseline and with a
 * --state file. Real emulator, real databases.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import { PylonCliError } from '../../../src/errors.js';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, tempDir } from '../helpers.js';
import { duckRows } from './table-check.js';

interface Db {
  to: string;
  table: string;
  /** The table's name as the load log holds it. */
  name: string;
  loads: string;
  run(sql: string): Promise<Array<Record<string, unknown>>>;
}

async function nights(t: ExecutionContext, db: Db, withStateFile: boolean) {
  const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  await withEmulator({ seed: 94, seedRandom: 10, customFields }, async (emulator) => {
    const dir = await tempDir();
    const night = (runId: string, allowSchemaChange: boolean) =>
      exportFrom(emulator, { output: join(dir, `c-${runId}.parquet`), to: db.to, runId, allowSchemaChange, ...(withStateFile ? { state: join(dir, 'c.state') } : {}) });
    t.like(await night('n1', false), { complete: true });
    const held = async () => Number((await db.run(`SELECT count(custom_interests) AS n FROM ${db.table}`))[0]!.n);
    const before = await held();
    t.true(before > 0);
    customFields.splice(customFields.findIndex((f) => f.slug === 'interests'), 1);
    const refused = await night('n2', false).then(
      (stats) => stats.stoppedAt,
      (error: unknown) => (error instanceof PylonCliError ? { code: error.code, message: error.message } : { code: String(error), message: '' }),
    );
    t.is(refused?.code, 'LOAD_TABLE_CONFLICT');
    t.regex(refused?.message ?? '', /custom_interests.*--allow-schema-change/);
    const accepted = await night('n3', true);
    t.like(accepted, { complete: true });
    t.true(
      accepted.load!.schemaChanges?.includes('kept column custom_interests, which the export no longer fills (later loads keep it without --allow-schema-change)'),
      accepted.load!.schemaChanges?.join(' | '),
    );
    // The cron line, without the flag, goes on from here, night after night.
    for (const runId of ['n4', 'n5']) {
      const later = await night(runId, false);
      t.like(later, { complete: true }, later.stoppedAt?.message);
      t.like(later.load, { inserted: 0, updated: 0, deleted: 0 });
      t.is(later.load!.schemaChanges, undefined);
    }
    t.is(await held(), before, 'the kept column keeps its values');
    const logged = await db.run(`SELECT run_id FROM ${db.loads} WHERE table_name = '${db.name}' AND status = 'committed' AND schema_changes LIKE '%kept column custom_interests%'`);
    t.deepEqual(logged.map((r) => String(r.run_id)), ['n3'], 'the load log records the change once');
  });
}

for (const withStateFile of [false, true]) {
  const how = withStateFile ? ' (--state file)' : '';
  pgTest(`postgres: a deleted field's column, kept once with the flag, needs no flag on later nights${how}${PG_SKIP_NOTE}`, async (t) => {
    const table = uniqueTable('sticks');
    await nights(t, { to: `${PG_URL}#${table}`, table: `"${table}"`, name: table, loads: '"_pylon_loads"', run: (sql) => withPg(async (c) => (await c.query(sql)).rows) }, withStateFile);
  });
  test(`duckdb: a deleted field's column, kept once with the flag, needs no flag on later nights${how}`, async (t) => {
    const file = join(await tempDir(), 'w.duckdb');
    await nights(t, { to: `duckdb:${file}`, table: 'contacts', name: 'contacts', loads: '_pylon_loads', run: (sql) => duckRows(file, sql) }, withStateFile);
  });
}

// Files only: the --state file (and a --since manifest) hold the accepted night's schema, so a later night compares against it and goes on.
for (const baseline of ['state', 'since'] as const) {
  test(`files: a night after a drop accepted with the flag needs no flag (--${baseline})`, async (t) => {
    const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
    await withEmulator({ seed: 95, seedRandom: 10, customFields }, async (emulator) => {
      const dir = await tempDir();
      const night = (runId: string, allowSchemaChange: boolean, since?: string) =>
        exportFrom(emulator, { output: join(dir, `c-${runId}.parquet`), runId, allowSchemaChange, ...(baseline === 'state' ? { state: join(dir, 'c.state') } : since ? { since } : {}) });
      t.like(await night('n1', false), { complete: true });
      customFields.splice(customFields.findIndex((f) => f.slug === 'interests'), 1);
      const manifest = (runId: string) => join(dir, `c-${runId}.parquet.manifest.json`);
      const refused = await night('n2', false, manifest('n1')).then(
        (stats) => stats.stoppedAt?.code,
        (error: unknown) => (error instanceof PylonCliError ? error.code : String(error)),
      );
      t.is(refused, 'SCHEMA_CHANGED');
      t.like(await night('n3', true, manifest('n1')), { complete: true });
      const later = await night('n4', false, manifest('n3'));
      t.like(later, { complete: true }, later.stoppedAt?.message);
    });
  });
}
