import test from 'ava';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openLoader } from '../../../src/export/load/loader.js';
import { parseLoadTarget } from '../../../src/export/load/target.js';
import { typedColumns, type TypedRow } from '../../../src/export/schema.js';
import { tempDir } from '../helpers.js';

/**
 * DuckDB's merge (diffMergeStatements: one join on ids and hashes, then the
 * changed rows deleted and inserted again by rowid) against the table it
 * leaves, night by night: new, changed, unchanged, gone, back after a soft
 * delete, --hard-delete of live and soft-deleted rows, and a column the
 * export no longer writes keeping its values in rewritten rows.
 */

const both = typedColumns([
  { name: 'id', multi: false },
  { name: 'name', multi: false },
]);

async function night(file: string, dir: string, runId: string, rows: TypedRow[], options: { hardDelete?: boolean; columns?: typeof both; allowSchemaChange?: boolean } = {}) {
  const loader = await openLoader({ target: parseLoadTarget(`duckdb:${file}`), columns: options.columns ?? both, allowSchemaChange: options.allowSchemaChange ?? false, tempDir: dir });
  await loader.add(rows, rows.map((r) => `h-${r.join('/')}`));
  const steps: string[] = [];
  const counts = await loader.merge({ runId, extractedAt: `2026-12-0${runId.slice(1)}T02:00:00.000Z`, hardDelete: options.hardDelete ?? false, onStep: (step) => steps.push(step) });
  await loader.commit();
  return { counts, steps };
}

async function table(file: string, columns = 'id, name, _row_hash, _run_id, _deleted_at IS NOT NULL AS deleted') {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(`SELECT ${columns} FROM contacts ORDER BY id`)).getRowObjectsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

test('duckdb merge: new, changed, unchanged, gone, back after a soft delete, and --hard-delete, counted and stored', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'm.duckdb');
  const first = await night(file, dir, 'n1', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cy'], ['d', 'Di']]);
  t.deepEqual(first.counts, { inserted: 4, updated: 0, unchanged: 0, deleted: 0 });
  t.deepEqual(first.steps, ['staged', 'updated', 'inserted', 'deleted'], 'every step is reported, the skipped ones of a new table included');

  const second = await night(file, dir, 'n2', [['a', 'Ada'], ['b', 'Bobby'], ['e', 'Eve']]);
  t.deepEqual(second.counts, { inserted: 1, updated: 1, unchanged: 1, deleted: 2 });
  t.deepEqual(await table(file), [
    { id: 'a', name: 'Ada', _row_hash: 'h-a/Ada', _run_id: 'n1', deleted: false },
    { id: 'b', name: 'Bobby', _row_hash: 'h-b/Bobby', _run_id: 'n2', deleted: false },
    { id: 'c', name: 'Cy', _row_hash: 'h-c/Cy', _run_id: 'n2', deleted: true },
    { id: 'd', name: 'Di', _row_hash: 'h-d/Di', _run_id: 'n2', deleted: true },
    { id: 'e', name: 'Eve', _row_hash: 'h-e/Eve', _run_id: 'n2', deleted: false },
  ]);

  // c comes back unchanged: a soft-deleted row is written again; d stays as night 2 marked it.
  const third = await night(file, dir, 'n3', [['a', 'Ada'], ['b', 'Bobby'], ['c', 'Cy']]);
  t.deepEqual(third.counts, { inserted: 0, updated: 1, unchanged: 2, deleted: 1 });
  t.deepEqual(await table(file, 'id, _run_id, _deleted_at IS NOT NULL AS deleted'), [
    { id: 'a', _run_id: 'n1', deleted: false },
    { id: 'b', _run_id: 'n2', deleted: false },
    { id: 'c', _run_id: 'n3', deleted: false },
    { id: 'd', _run_id: 'n2', deleted: true },
    { id: 'e', _run_id: 'n3', deleted: true },
  ]);

  // --hard-delete removes the live row that went (c) and the rows already marked deleted (d, e).
  const fourth = await night(file, dir, 'n4', [['a', 'Ada'], ['b', 'Bob']], { hardDelete: true });
  t.deepEqual(fourth.counts, { inserted: 0, updated: 1, unchanged: 1, deleted: 3 });
  t.deepEqual(await table(file, 'id, name, _run_id'), [
    { id: 'a', name: 'Ada', _run_id: 'n1' },
    { id: 'b', name: 'Bob', _run_id: 'n4' },
  ]);
});

test('duckdb merge: a column the export no longer writes keeps its values in the rows a load rewrites (--allow-schema-change)', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'k.duckdb');
  await night(file, dir, 'n1', [['a', 'Ada'], ['b', 'Bob']]);
  const idOnly = both.filter((c) => c.name === 'id');
  // The hashes change (they cover other values now): every row is rewritten, and `name` stays.
  const next = await night(file, dir, 'n2', [['a'], ['c']], { columns: idOnly, allowSchemaChange: true });
  // The kept column is recorded once, so later nights keep it without the flag (kept-column-sticks.test.ts).
  t.deepEqual(next.counts, { inserted: 1, updated: 1, unchanged: 0, deleted: 1, schemaChanges: ['kept column name, which the export no longer fills (later loads keep it without --allow-schema-change)'] });
  t.deepEqual(await table(file), [
    { id: 'a', name: 'Ada', _row_hash: 'h-a', _run_id: 'n2', deleted: false },
    { id: 'b', name: 'Bob', _row_hash: 'h-b/Bob', _run_id: 'n2', deleted: true },
    { id: 'c', name: null, _row_hash: 'h-c', _run_id: 'n2', deleted: false },
  ]);
});

test('duckdb merge: an id the table holds twice (a row inserted by hand; DuckDB has no key to refuse it) ends as one row, Pylon\'s, counted as one contact', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'd.duckdb');
  await night(file, dir, 'n1', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cy'], ['d', 'Di']]);
  const byHand = async (sql: string) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      await connection.run(sql);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  // a twice as it was, b twice with a value edited by hand in the copy, c twice (and changed in Pylon this night), d twice (and gone from Pylon).
  await byHand(`INSERT INTO contacts SELECT * FROM contacts WHERE id IN ('a', 'c', 'd'); INSERT INTO contacts SELECT * REPLACE ('Bob by hand' AS name) FROM contacts WHERE id = 'b'`);
  const second = await night(file, dir, 'n2', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cyd'], ['e', 'Eve']]);
  // c: one contact changed (its two rows rewritten as one); a and b: their second rows replaced by Pylon's one, counted updated; e new; d (both rows) gone, one contact deleted.
  t.deepEqual(second.counts, { inserted: 1, updated: 3, unchanged: 0, deleted: 1 });
  t.deepEqual(await table(file, 'id, name, _deleted_at IS NOT NULL AS deleted'), [
    { id: 'a', name: 'Ada', deleted: false },
    { id: 'b', name: 'Bob', deleted: false },
    { id: 'c', name: 'Cyd', deleted: false },
    { id: 'd', name: 'Di', deleted: true },
    { id: 'd', name: 'Di', deleted: true },
    { id: 'e', name: 'Eve', deleted: false },
  ]);
  const third = await night(file, dir, 'n3', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cyd'], ['e', 'Eve']]);
  t.deepEqual(third.counts, { inserted: 0, updated: 0, unchanged: 4, deleted: 0 }, 'nothing left to repair');
});

async function byHand(file: string, sql: string) {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    await connection.run(sql);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

test('duckdb merge: an id the table holds twice is repaired too when the table keeps a column the export no longer writes (rows updated in place), its value kept', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'kd.duckdb');
  await night(file, dir, 'n1', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cy']]);
  const idOnly = both.filter((c) => c.name === 'id');
  await night(file, dir, 'n2', [['a'], ['b'], ['c']], { columns: idOnly, allowSchemaChange: true });
  await byHand(file, `INSERT INTO contacts SELECT * FROM contacts WHERE id IN ('a', 'b')`);
  // Before: the in-place merge never looked for such ids, so a and b kept two live rows night after night (counted unchanged).
  const third = await night(file, dir, 'n3', [['a'], ['b'], ['c']], { columns: idOnly, allowSchemaChange: true });
  t.deepEqual(third.counts, { inserted: 0, updated: 2, unchanged: 1, deleted: 0 });
  t.deepEqual(await table(file, 'id, name, _run_id, _deleted_at IS NOT NULL AS deleted'), [
    { id: 'a', name: 'Ada', _run_id: 'n3', deleted: false },
    { id: 'b', name: 'Bob', _run_id: 'n3', deleted: false },
    { id: 'c', name: 'Cy', _run_id: 'n2', deleted: false },
  ]);
  const fourth = await night(file, dir, 'n4', [['a'], ['b'], ['c']], { columns: idOnly, allowSchemaChange: true });
  t.deepEqual(fourth.counts, { inserted: 0, updated: 0, unchanged: 3, deleted: 0 }, 'nothing left to repair');
});

test('duckdb merge: a soft-deleted contact back in Pylon while a live copy of it was inserted by hand is one contact updated, not two', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'sd.duckdb');
  await night(file, dir, 'n1', [['a', 'Ada'], ['b', 'Bob']]);
  await night(file, dir, 'n2', [['a', 'Ada']]);
  await byHand(file, `INSERT INTO contacts SELECT * REPLACE (NULL AS _deleted_at) FROM contacts WHERE id = 'b'`);
  // Before: b counted updated by the merge (its soft-deleted row) and again by the repair: updated 2, unchanged 0.
  const third = await night(file, dir, 'n3', [['a', 'Ada'], ['b', 'Bob']]);
  t.deepEqual(third.counts, { inserted: 0, updated: 1, unchanged: 1, deleted: 0 });
  t.deepEqual(await table(file, 'id, name, _run_id, _deleted_at IS NOT NULL AS deleted'), [
    { id: 'a', name: 'Ada', _run_id: 'n1', deleted: false },
    { id: 'b', name: 'Bob', _run_id: 'n3', deleted: false },
  ]);
});
