/**
 * A NOT NULL column the export no longer fills (a deleted multiselect field's
 * list column; `emails` renamed by hand to `emails_old`) is kept with
 * --allow-schema-change, but every row inserted later got no value for it:
 * from the first new contact on, every night failed on the NOT NULL
 * constraint, with the flag too. Now the load makes such a column nullable and
 * the load log says so.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, tempDir } from '../helpers.js';
import { duckRows } from './table-check.js';

interface Db {
  to: string;
  table: string;
  loads: string;
  run(sql: string): Promise<Array<Record<string, unknown>>>;
}

async function nights(t: ExecutionContext, db: Db, change: 'field' | 'rename') {
  const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  await withEmulator({ seed: 93, seedRandom: 10, customFields }, async (emulator) => {
    const api = client(emulator);
    const dir = await tempDir();
    const night = async (runId: string) => {
      const stats = await exportFrom(emulator, { output: join(dir, 'c.parquet'), to: db.to, runId, allowSchemaChange: true });
      t.like(stats, { complete: true }, stats.stoppedAt?.message);
      return stats;
    };
    await night('n1');
    const column = change === 'field' ? 'custom_interests' : 'emails_old';
    if (change === 'field') customFields.splice(customFields.findIndex((f) => f.slug === 'interests'), 1);
    else await db.run(`ALTER TABLE ${db.table} RENAME COLUMN emails TO emails_old`);
    await night('n2');
    const added = (await api.post('/contacts', { name: 'Late Comer', email: 'late.comer@kept.example' })).body.data.id as string;
    const third = await night('n3');
    t.like(third.load, { inserted: 1 });
    t.deepEqual(await db.run(`SELECT ${column} AS v FROM ${db.table} WHERE id = '${added}'`), [{ v: null }], 'the new row has no value in the kept column');
    const logged = (await db.run(`SELECT run_id, schema_changes FROM ${db.loads} WHERE schema_changes LIKE '%nullable%'`)).map((r) => String(r.schema_changes));
    t.true(logged.some((c) => c.includes(`made column ${column} nullable: the export no longer fills it`)), logged.join(' | '));
    t.like((await night('n4')).load, { inserted: 0, updated: 0 });
  });
}

for (const change of ['field', 'rename'] as const) {
  const what = change === 'field' ? 'a deleted multiselect field' : 'a list column renamed by hand';
  pgTest(`postgres: ${what} is kept nullable, and later nights load new contacts${PG_SKIP_NOTE}`, async (t) => {
    const table = uniqueTable('kept');
    await nights(t, { to: `${PG_URL}#${table}`, table: `"${table}"`, loads: '"_pylon_loads"', run: (sql) => withPg(async (c) => (await c.query(sql)).rows) }, change);
  });
  test(`duckdb: ${what} is kept nullable, and later nights load new contacts`, async (t) => {
    const file = join(await tempDir(), 'w.duckdb');
    await nights(t, { to: `duckdb:${file}`, table: 'contacts', loads: '_pylon_loads', run: (sql) => duckRows(file, sql) }, change);
  });
}
