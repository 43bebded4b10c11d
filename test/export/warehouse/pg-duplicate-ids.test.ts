import { join } from 'node:path';
import { openLoader } from '../../../src/export/load/loader.js';
import { parseLoadTarget } from '../../../src/export/load/target.js';
import { typedColumns, type TypedRow } from '../../../src/export/schema.js';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { selectList, valuesSha256 } from './table-check.js';

/**
 * A PostgreSQL table whose primary key was dropped by hand, then rows inserted
 * by hand with ids it already held: the merge repairs it as DuckDB's does
 * (duckdb-merge.test.ts), one live row per contact, Pylon's values, each
 * contact counted once. Before, such ids kept their two rows night after night
 * (the table never equalled Pylon, and every night staged every row).
 */

const both = typedColumns([
  { name: 'id', multi: false },
  { name: 'name', multi: false },
]);

async function night(table: string, dir: string, runId: string, rows: TypedRow[], options: { columns?: typeof both; allowSchemaChange?: boolean } = {}) {
  const loader = await openLoader({ target: parseLoadTarget(`${PG_URL}#${table}`), columns: options.columns ?? both, allowSchemaChange: options.allowSchemaChange ?? false, tempDir: dir });
  await loader.add(rows, rows.map((r) => `h-${r.join('/')}`));
  const counts = await loader.merge({ runId, extractedAt: `2026-12-0${runId.slice(1)}T02:00:00.000Z`, hardDelete: false });
  await loader.commit();
  return counts;
}

const rowsOf = (table: string, columns = 'id, name, _deleted_at IS NOT NULL AS deleted') =>
  withPg(async (db) => (await db.query(`SELECT ${columns} FROM "${table}" ORDER BY id, name`)).rows);

pgTest(`postgres merge: an id a keyless table holds twice (inserted by hand after its key was dropped) ends as one row, Pylon's, counted as one contact${PG_SKIP_NOTE}`, async (t) => {
  const dir = await tempDir();
  const table = uniqueTable('dup');
  await night(table, dir, 'n1', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cy'], ['d', 'Di']]);
  // a twice as it was, b twice with a value edited by hand in the copy, c twice (and changed in Pylon this night), d twice (and gone from Pylon).
  await withPg((db) =>
    db.query(`ALTER TABLE "${table}" DROP CONSTRAINT "${table}_pkey"; INSERT INTO "${table}" SELECT * FROM "${table}" WHERE id IN ('a', 'c', 'd'); INSERT INTO "${table}" SELECT id, 'Bob by hand', _row_hash, _run_id, _extracted_at, _deleted_at FROM "${table}" WHERE id = 'b'`),
  );
  const second = await night(table, dir, 'n2', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cyd'], ['e', 'Eve']]);
  // c: one contact changed (its two rows rewritten, one kept); a and b: their second rows gone, counted updated; e new; d (both rows) gone, one contact deleted.
  t.deepEqual(second, { inserted: 1, updated: 3, unchanged: 0, deleted: 1 });
  t.deepEqual(await rowsOf(table), [
    { id: 'a', name: 'Ada', deleted: false },
    { id: 'b', name: 'Bob', deleted: false },
    { id: 'c', name: 'Cyd', deleted: false },
    { id: 'd', name: 'Di', deleted: true },
    { id: 'd', name: 'Di', deleted: true },
    { id: 'e', name: 'Eve', deleted: false },
  ]);
  const third = await night(table, dir, 'n3', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cyd'], ['e', 'Eve']]);
  t.deepEqual(third, { inserted: 0, updated: 0, unchanged: 4, deleted: 0 }, 'nothing left to repair');
});

pgTest(`postgres merge: an id held twice in a keyless table that keeps a column the export no longer writes is repaired, the kept column's value kept${PG_SKIP_NOTE}`, async (t) => {
  const dir = await tempDir();
  const table = uniqueTable('dupk');
  await night(table, dir, 'n1', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cy']]);
  const idOnly = both.filter((c) => c.name === 'id');
  await night(table, dir, 'n2', [['a'], ['b'], ['c']], { columns: idOnly, allowSchemaChange: true });
  await withPg((db) => db.query(`ALTER TABLE "${table}" DROP CONSTRAINT "${table}_pkey"; INSERT INTO "${table}" SELECT * FROM "${table}" WHERE id IN ('a', 'b')`));
  const third = await night(table, dir, 'n3', [['a'], ['b'], ['c']], { columns: idOnly, allowSchemaChange: true });
  t.deepEqual(third, { inserted: 0, updated: 2, unchanged: 1, deleted: 0 });
  t.deepEqual(await rowsOf(table, 'id, name, _run_id, _deleted_at IS NOT NULL AS deleted'), [
    { id: 'a', name: 'Ada', _run_id: 'n3', deleted: false },
    { id: 'b', name: 'Bob', _run_id: 'n3', deleted: false },
    { id: 'c', name: 'Cy', _run_id: 'n2', deleted: false },
  ]);
});

pgTest(`postgres nights: duplicate ids inserted by hand into a table whose key was dropped are gone after the next night, the table equals Pylon, and the night after stages only changes${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 23, seedRandom: 40 }, async (emulator) => {
    const dir = await tempDir();
    const table = uniqueTable('dupn');
    const to = `${PG_URL}#${table}`;
    t.like((await exportFrom(emulator, { to, runId: 'n1', manifest: join(dir, 'n1.json') })).load, { inserted: 40 });
    await withPg((db) =>
      db.query(`ALTER TABLE "${table}" DROP CONSTRAINT "${table}_pkey"; INSERT INTO "${table}" SELECT * FROM "${table}" ORDER BY id LIMIT 3; UPDATE "${table}" SET name = 'by hand' WHERE ctid IN (SELECT max(ctid) FROM "${table}" GROUP BY id HAVING count(*) > 1)`),
    );
    const ids = (await client(emulator).get('/contacts?limit=999')).body.data.map((c: { id: string }) => c.id) as string[];
    await client(emulator).patch(`/contacts/${ids[10]}`, { name: 'Renamed In Pylon' });
    const second = await exportFrom(emulator, { to, runId: 'n2', manifest: join(dir, 'n2.json') });
    t.true(second.complete);
    t.like(second.load, { inserted: 0, updated: 4, unchanged: 36, deleted: 0, staged: 'all' });
    const manifest = await readManifest(join(dir, 'n2.json'));
    const columns = manifest.schema!.columns;
    await withPg(async (db) => {
      t.deepEqual((await db.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM "${table}"`)).rows, [{ n: 40, d: 40 }]);
      t.is(valuesSha256(columns, (await db.query(`SELECT ${selectList(columns, 'postgres')} FROM "${table}" WHERE _deleted_at IS NULL`)).rows), manifest.values!.sha256, 'the table holds Pylon\'s values');
    });
    const third = await exportFrom(emulator, { to, runId: 'n3' });
    t.like(third.load, { inserted: 0, updated: 0, unchanged: 40, deleted: 0, staged: 'changes' });
  });
});
