import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { selectList, valuesSha256 } from './table-check.js';

/**
 * A select field made multiselect in Pylon (loaded with --allow-schema-change into a typed variant column,
 * custom_tier__v_string_list, custom_tier NULL from then on), then made a select again. Before: that night loaded
 * into custom_tier again, but the contacts' hashes had not changed, so no row was rewritten: custom_tier stayed NULL
 * in every row (the table no longer held Pylon's values) while the variant kept the old lists, and every later night
 * was refused (LOAD_TABLE_CONFLICT: "it has column custom_tier__v_string_list that this export does not"). Now the
 * field's values move back: the variant is cleared and every row rewritten, once; the variant is the field's own
 * column, not an extra one, so later nights need no flag; and the same when the field becomes multiselect again.
 */

interface Db {
  dialect: 'postgres' | 'duckdb';
  to: string;
  table: string;
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
}

async function backAndForth(t: ExecutionContext, db: Db) {
  const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  const tier = customFields.find((f) => f.slug === 'tier')!;
  await withEmulator({ seed: 83, seedRandom: 30, customFields }, async (emulator) => {
    const dir = await tempDir();
    const night = (runId: string, allowSchemaChange = false) => exportFrom(emulator, { to: db.to, manifest: join(dir, `${runId}.json`), runId, allowSchemaChange });
    /** The live rows' values, hashed as the manifest's values are, reading each field from the column `columns` maps it to. */
    const tableValues = async (runId: string, columns: Record<string, string> = {}) => {
      const manifest = await readManifest(join(dir, `${runId}.json`));
      const schema = manifest.schema!.columns;
      const read = schema.map((c) => ({ ...c, name: columns[c.name] ?? c.name }));
      const rows = await db.rows(`SELECT ${selectList(read, db.dialect)} FROM "${db.table}" WHERE _deleted_at IS NULL`);
      return { table: valuesSha256(schema, rows.map((r) => Object.fromEntries(schema.map((c, i) => [c.name, r[read[i]!.name]])))), pylon: manifest.values!.sha256 };
    };
    const held = async (column: string) => Number((await db.rows(`SELECT count(*) AS n FROM "${db.table}" WHERE _deleted_at IS NULL AND "${column}" IS NOT NULL`))[0]!.n);

    t.like((await night('n1')).load, { inserted: 30 });
    const tiered = await held('custom_tier');
    t.true(tiered > 0, 'some contacts have a tier');

    tier.type = 'multiselect';
    const toList = await night('n2', true);
    t.like(toList.load, { updated: 30 });
    t.deepEqual(toList.load!.schemaChanges, ['added variant column custom_tier__v_string_list (list<string>) for custom.tier; custom_tier (string) is NULL in rows loaded from now on']);

    tier.type = 'select';
    const back = await night('n3', true);
    t.true(back.complete, back.stoppedAt?.message);
    t.like(back.load, { updated: 30, unchanged: 0, staged: 'all' });
    t.deepEqual(back.load!.schemaChanges, ['custom.tier is loaded into custom_tier again; its values were in custom_tier__v_string_list, cleared in every row, which was rewritten']);
    const n3 = await tableValues('n3');
    t.is(n3.table, n3.pylon, 'the table holds Pylon\'s values, the tiers in custom_tier');
    t.is(await held('custom_tier'), tiered);
    t.is(await held('custom_tier__v_string_list'), 0, 'the variant holds no stale list');

    const later = await night('n4');
    t.true(later.complete, later.stoppedAt?.message);
    t.like(later.load, { inserted: 0, updated: 0, unchanged: 30, staged: 'changes' });
    t.is(later.load!.schemaChanges, undefined);

    tier.type = 'multiselect';
    const again = await night('n5', true);
    t.true(again.complete, again.stoppedAt?.message);
    t.like(again.load, { updated: 30 });
    t.deepEqual(again.load!.schemaChanges, ['custom.tier is loaded into custom_tier__v_string_list again; its values were in custom_tier, cleared in every row, which was rewritten']);
    const n5 = await tableValues('n5', { custom_tier: 'custom_tier__v_string_list' });
    t.is(n5.table, n5.pylon, 'the tiers are in the variant again');
    t.is(await held('custom_tier'), 0);
    t.like((await night('n6')).load, { updated: 0, unchanged: 30, staged: 'changes' });
  });
}

pgTest(`postgres: a select field made multiselect and back (--allow-schema-change) moves its values back out of the variant column; later nights need no flag${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('variantback');
  await backAndForth(t, { dialect: 'postgres', to: `${PG_URL}#${table}`, table, rows: (sql) => withPg(async (c) => (await c.query(sql)).rows) });
});

test('duckdb: a select field made multiselect and back (--allow-schema-change) moves its values back out of the variant column; later nights need no flag', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  await backAndForth(t, {
    dialect: 'duckdb',
    to: `duckdb:${file}`,
    table: 'contacts',
    rows: async (sql) => {
      const instance = await DuckDBInstance.create(file);
      const connection = await instance.connect();
      try {
        return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>;
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    },
  });
});
