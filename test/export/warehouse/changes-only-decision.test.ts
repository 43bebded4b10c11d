/**
 * When a load may stage only the changes (TableLoader.stageChangesOnly): the
 * table must still be what its kept state describes (as many live rows as the
 * state's ids, the state written by the table's last committed load), the load
 * must not alter the table, and the run must have said its baseline is the
 * table's state (LoaderInput.changesOnly). Real DuckDB files and PostgreSQL.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { openLoader } from '../../../src/export/load/loader.js';
import { parseLoadTarget } from '../../../src/export/load/target.js';
import { typedColumns, type TypedRow } from '../../../src/export/schema.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { tempDir } from '../helpers.js';

const two = typedColumns([
  { name: 'id', multi: false },
  { name: 'name', multi: false },
]);
const three = typedColumns([
  { name: 'id', multi: false },
  { name: 'name', multi: false },
  { name: 'email', multi: false },
]);

async function decisions(t: ExecutionContext, to: string, sql: (statement: string) => Promise<void>) {
  const dir = await tempDir();
  const open = (options: { changesOnly?: boolean; columns?: typeof two; allowSchemaChange?: boolean } = {}) =>
    openLoader({ target: parseLoadTarget(to), columns: options.columns ?? two, allowSchemaChange: options.allowSchemaChange ?? false, tempDir: dir, changesOnly: options.changesOnly ?? true });
  const load = async (runId: string, rows: TypedRow[], outcome: 'commit' | 'abort') => {
    const loader = await open({ changesOnly: false });
    await loader.add(rows, rows.map((r) => `h-${r.join('/')}`));
    await loader.merge({ runId, extractedAt: '2026-12-05T02:00:00.000Z', hardDelete: false });
    await loader.writeState(Buffer.from(`state of ${runId}`));
    if (outcome === 'commit') await loader.commit();
    else await loader.abort();
  };
  const decide = async (entries: number, options: Parameters<typeof open>[0] = {}) => {
    const loader = await open(options);
    try {
      return loader.stageChangesOnly({ entries });
    } finally {
      await loader.abort();
    }
  };

  await load('n1', [['a', 'Ada'], ['b', 'Bob'], ['c', 'Cy']], 'commit');
  t.true(await decide(3), 'the table matches its kept state');
  t.false(await decide(2), 'a state with another number of ids');
  t.false(await decide(3, { changesOnly: false }), 'the run did not say its baseline is the table\'s state');
  t.false(await decide(3, { columns: three, allowSchemaChange: true }), 'a load that adds a column stages every row');

  // A load that rolled back (logged as failed) changes nothing: the last committed load is still the state's.
  await load('n2', [['a', 'Ada']], 'abort');
  t.true(await decide(3));

  // A row marked deleted is not live: the count follows.
  await load('n3', [['a', 'Ada'], ['b', 'Bob']], 'commit');
  t.true(await decide(2));
  t.false(await decide(3));

  // A row inserted by hand, then the state's run no longer the last committed load.
  await sql(`INSERT INTO {T} ("id", "name", "_row_hash", "_run_id") VALUES ('x', 'By hand', 'h', 'hand')`);
  t.false(await decide(2), 'a row inserted by hand');
  await sql(`DELETE FROM {T} WHERE "id" = 'x'`);
  t.true(await decide(2));
  await sql(`UPDATE _pylon_state SET run_id = 'elsewhere' WHERE table_name = '{name}'`);
  t.false(await decide(2), 'a kept state another run wrote');
}

test('duckdb: a load stages only the changes when the table matches its kept state and the load does not alter it', async (t) => {
  const file = join(await tempDir(), 'd.duckdb');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  await decisions(t, `duckdb:${file}`, async (statement) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      await connection.run(statement.replaceAll('{T}', 'contacts').replaceAll('{name}', 'contacts'));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

pgTest(`postgres: a load stages only the changes when the table matches its kept state and the load does not alter it${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('decide');
  await decisions(t, `${PG_URL}#${table}`, (statement) => withPg(async (db) => void (await db.query(statement.replaceAll('{T}', `"${table}"`).replaceAll('{name}', table)))));
});
