/**
 * The documented repair of a table changed by hand: a run with --state naming
 * a new file has no baseline, and its merge now compares every column's value
 * (not only `_row_hash`, which a hand edit leaves as it was), so it rewrites
 * the rows that differ; a column narrowed by hand (custom_mrr to bigint
 * rounds 6654.98 to 6655) and widened back with --allow-schema-change gets
 * its values again. Before, both runs counted every row unchanged and left the
 * hand-made values in place.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { withEmulator } from '../../helpers/with-emulator.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { duckRows, selectList, valuesSha256 } from './table-check.js';

interface Db {
  to: string;
  table: string;
  dialect: 'postgres' | 'duckdb';
  narrow: string;
  run(sql: string): Promise<Array<Record<string, unknown>>>;
}

async function repair(t: ExecutionContext, db: Db) {
  await withEmulator({ seed: 95, seedRandom: 30 }, async (emulator) => {
    const dir = await tempDir();
    const manifest = join(dir, 'm.json');
    const night = async (runId: string, state: string, allowSchemaChange = false) => {
      const stats = await exportFrom(emulator, { to: db.to, manifest, state: join(dir, state), runId, allowSchemaChange });
      t.like(stats, { complete: true, recordErrors: 0 }, stats.stoppedAt?.message);
      return stats;
    };
    /** The table's live rows hash to the export's values. */
    const matches = async () => {
      const { schema, values } = await readManifest(manifest);
      const rows = await db.run(`SELECT ${selectList(schema!.columns, db.dialect)} FROM ${db.table} WHERE _deleted_at IS NULL`);
      return valuesSha256(schema!.columns, rows) === values!.sha256;
    };
    t.like((await night('n1', 'a.state')).load, { inserted: 30 });
    // A new state file with nothing changed: comparing every value finds no difference (nothing is rewritten for nothing).
    t.like((await night('n2', 'b.state')).load, { updated: 0, unchanged: 30 });

    const [{ id }] = (await db.run(`SELECT id FROM ${db.table} ORDER BY id LIMIT 1`)) as Array<{ id: string }>;
    await db.run(`UPDATE ${db.table} SET name = 'HACKED BY HAND' WHERE id = '${id}'`);
    t.false(await matches());
    // The same state: its hashes say nothing changed, so the row stays as it is (documented: only a new state file compares in full).
    t.like((await night('n3', 'b.state')).load, { updated: 0 });
    t.like((await night('n4', 'c.state')).load, { updated: 1, unchanged: 29 });
    t.true(await matches(), 'the hand edit is healed');

    const fractional = Number((await db.run(`SELECT count(*) AS n FROM ${db.table} WHERE custom_mrr <> round(custom_mrr)`))[0]!.n);
    t.true(fractional > 0, 'some MRR values have cents');
    await db.run(db.narrow);
    t.false(await matches());
    const widened = await night('n5', 'c.state', true);
    t.deepEqual(widened.load!.schemaChanges, ['widened custom_mrr (custom.mrr) from int64 to decimal(38,9)']);
    t.like(widened.load, { updated: fractional });
    t.true(await matches(), 'the widened column holds the exported values again');
  });
}

pgTest(`postgres: a run with a new --state file rewrites rows changed by hand; a column widened back gets its values${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('repair');
  await repair(t, {
    to: `${PG_URL}#${table}`,
    table: `"${table}"`,
    dialect: 'postgres',
    narrow: `ALTER TABLE "${table}" ALTER COLUMN custom_mrr TYPE bigint`,
    run: (sql) => withPg(async (c) => (await c.query(sql)).rows),
  });
});

test('duckdb: a run with a new --state file rewrites rows changed by hand; a column widened back gets its values', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  await repair(t, { to: `duckdb:${file}`, table: 'contacts', dialect: 'duckdb', narrow: 'ALTER TABLE contacts ALTER custom_mrr TYPE BIGINT', run: (sql) => duckRows(file, sql) });
});
