import test from 'ava';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ConfigError } from '../../../src/errors.js';
import { openLoader, STATE_PART_BYTES } from '../../../src/export/load/loader.js';
import { parseLoadTarget } from '../../../src/export/load/target.js';
import { typedColumns, type TypedRow } from '../../../src/export/schema.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { tempDir } from '../helpers.js';

const columns = typedColumns([
  { name: 'id', multi: false },
  { name: 'name', multi: false },
]);

async function night(to: string, dir: string, runId: string, rows: TypedRow[], state: Buffer | undefined, outcome: 'commit' | 'abort') {
  const loader = await openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });
  const before = await loader.readState();
  await loader.add(rows, rows.map((r) => `h-${String(r[1])}`));
  await loader.merge({ runId, extractedAt: '2026-12-04T02:00:00.000Z', hardDelete: false });
  if (state) await loader.writeState(state);
  if (outcome === 'commit') await loader.commit();
  else await loader.abort();
  return before;
}

async function stateNights(t: import('ava').ExecutionContext, to: string) {
  const dir = await tempDir();
  const first = Buffer.from('state of night 1\n\u0000binary ok');
  t.is(await night(to, dir, 'n1', [['a', 'Ada']], first, 'commit'), undefined, 'no state before the first load');
  // A load that writes its state and then fails: neither the rows nor the state change.
  t.deepEqual(await night(to, dir, 'n2', [['a', 'Ada'], ['b', 'Bob']], Buffer.from('state of night 2'), 'abort'), first);
  t.deepEqual(await night(to, dir, 'n3', [['a', 'Ada']], undefined, 'commit'), first, 'the failed night left the committed state');
  // writeState outside the merge's transaction is refused.
  const loader = await openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });
  try {
    const error = await t.throwsAsync(loader.writeState(Buffer.from('x')));
    t.regex(error!.message, /inside the merge transaction/);
  } finally {
    await loader.abort();
  }
}

test('duckdb: readState()/writeState() keep the pipeline state in _pylon_state, committed with the merge or not at all', async (t) => {
  await stateNights(t, `duckdb:${join(await tempDir(), 's.duckdb')}`);
});

pgTest(`postgres: readState()/writeState() keep the pipeline state in _pylon_state, committed with the merge or not at all${PG_SKIP_NOTE}`, async (t) => {
  await stateNights(t, `${PG_URL}#${uniqueTable('state')}`);
});

/**
 * A state of many parts (more than one INSERT of parts, and a last part shorter
 * than the others) comes back byte for byte; a state an earlier version kept as
 * one base64 value is still read; a missing part is a corrupt state (exit 2).
 */
async function partedState(t: import('ava').ExecutionContext, to: string, sql: (statement: string) => Promise<void>, table: string, partsTable: string) {
  const dir = await tempDir();
  const big = Buffer.alloc(STATE_PART_BYTES * 600 + 17);
  for (let i = 0; i < big.length; i += 1) big[i] = (i * 31 + (i >> 9)) & 0xff;
  // Given as a stream of odd-sized chunks, as the export hands over its staged state file.
  async function* chunks() {
    for (let offset = 0; offset < big.length; offset += 100_003) yield big.subarray(offset, offset + 100_003);
  }
  await night(to, dir, 'p1', [['a', 'Ada']], undefined, 'commit');
  const loader = await openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });
  await loader.add([['a', 'Ada']], ['h-Ada']);
  await loader.merge({ runId: 'p2', extractedAt: '2026-12-05T02:00:00.000Z', hardDelete: false });
  await loader.writeState(chunks());
  await loader.commit();
  t.true((await night(to, dir, 'p3', [['a', 'Ada']], undefined, 'abort'))!.equals(big), 'the parted state reads back byte for byte');
  // An earlier version's row: the whole state as one base64 value.
  await sql(`DELETE FROM ${partsTable} WHERE table_name = '${table}'`);
  await sql(`UPDATE _pylon_state SET state = '${Buffer.from('old single value').toString('base64')}' WHERE table_name = '${table}'`);
  t.deepEqual(await night(to, dir, 'p4', [['a', 'Ada']], undefined, 'abort'), Buffer.from('old single value'));
  // Parts that went missing: a clear, coded error before anything is staged.
  await sql(`UPDATE _pylon_state SET state = 'parts:3' WHERE table_name = '${table}'`);
  const error = await t.throwsAsync(openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir }));
  t.is((error as ConfigError).code, 'INPUT_UNREADABLE');
  t.regex(error!.message, /lacks part 0 of 3 in _pylon_state_parts \(corrupt\); delete its row/);
  t.true(error instanceof ConfigError, 'a ConfigError: exit 2');
}

test('duckdb: a state of many parts round-trips; an old single-value state is read; a missing part is reported', async (t) => {
  const file = join(await tempDir(), 'p.duckdb');
  const sql = async (statement: string) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      await connection.run(statement);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  await partedState(t, `duckdb:${file}`, sql, 'contacts', '_pylon_state_blobs');
});

pgTest(`postgres: a state of many parts round-trips; an old single-value state is read; a missing part is reported${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('parts');
  await partedState(t, `${PG_URL}#${table}`, (statement) => withPg(async (client) => void (await client.query(statement))), table, '_pylon_state_parts');
});

type Query = (statement: string) => Promise<Array<Record<string, unknown>>>;

/** A DuckDB file's query runner: the file is opened and closed for each statement (the loader opens it in between). */
const duckQuery =
  (file: string): Query =>
  async (statement) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      return (await connection.runAndReadAll(statement)).getRowObjects() as Array<Record<string, unknown>>;
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };

const pgQuery: Query = (statement) => withPg(async (client) => (await client.query(statement)).rows as Array<Record<string, unknown>>);
/**
 * DDL on tables every load of the shared test database may create at the same moment: under the loads' own lock, as the
 * loader runs its DDL (two sessions' concurrent CREATE TABLE IF NOT EXISTS of one name can fail on PostgreSQL's catalog).
 */
const pgLockedDdl: Query = (statement) =>
  withPg(async (client) => {
    await client.query('BEGIN');
    try {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('pylon-contacts:load'))`);
      await client.query(statement);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    return [];
  });

/** A state of `lines` lines as the export writes them (`<16 hex> <id>`). */
const stateOf = (lines: number, salt: string) =>
  Buffer.from(Array.from({ length: lines }, (_, i) => `${((i * 2654435761) % 2 ** 32).toString(16).padStart(16, '0')} ${salt}-${i}\n`).join(''));

/**
 * Night 1 as an earlier version left it, built by SQL: the state as base64
 * parts of STATE_PART_BYTES in _pylon_state_parts, `parts:<count>` in
 * _pylon_state. Night 2 reads it byte for byte and keeps its own state in the
 * dialect's layout (`mark`, rows in `partsTable`), leaving no rows of this
 * table in `otherTable`; night 3 reads night 2's state back.
 */
async function oldPartsHealed(t: import('ava').ExecutionContext, to: string, query: Query, table: string, layout: { mark: RegExp; partsTable: string; otherTable?: string; ddl?: Query }) {
  const dir = await tempDir();
  await night(to, dir, 'o1', [['a', 'Ada']], undefined, 'commit');
  const old = stateOf(3000, 'old');
  const parts = Array.from({ length: Math.ceil(old.length / STATE_PART_BYTES) }, (_, i) => old.subarray(i * STATE_PART_BYTES, (i + 1) * STATE_PART_BYTES).toString('base64'));
  t.true(parts.length > 30, 'the old state has many parts');
  const ddl = layout.ddl ?? query;
  await ddl(`CREATE TABLE IF NOT EXISTS _pylon_state (table_name TEXT PRIMARY KEY, run_id TEXT NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL, state TEXT NOT NULL)`);
  await ddl(`CREATE TABLE IF NOT EXISTS _pylon_state_parts (table_name TEXT NOT NULL, part BIGINT NOT NULL, data TEXT NOT NULL)`);
  await query(`INSERT INTO _pylon_state_parts VALUES ${parts.map((part, i) => `('${table}', ${i}, '${part}')`).join(', ')}`);
  await query(`INSERT INTO _pylon_state VALUES ('${table}', 'o1', CAST('2026-12-03T02:00:00Z' AS TIMESTAMP WITH TIME ZONE), 'parts:${parts.length}')`);

  const second = stateOf(5000, 'new');
  t.true((await night(to, dir, 'o2', [['a', 'Ada']], second, 'commit'))!.equals(old), "night 2 reads the earlier version's state byte for byte");
  const count = async (partsTable: string) => Number((await query(`SELECT count(*) AS n FROM ${partsTable} WHERE table_name = '${table}'`))[0]!.n);
  const mark = String((await query(`SELECT state FROM _pylon_state WHERE table_name = '${table}'`))[0]!.state);
  t.regex(mark, layout.mark);
  t.is(await count(layout.partsTable), Number(mark.split(':')[1]), 'the state row counts the parts stored');
  if (layout.otherTable !== undefined) t.is(await count(layout.otherTable), 0, 'the old layout’s parts are gone');
  t.true((await night(to, dir, 'o3', [['a', 'Ada']], undefined, 'abort'))!.equals(second), "night 3 reads night 2's state byte for byte");
}

test('duckdb: a state an earlier version kept as base64 parts is read, and the next state is kept gzip-compressed in _pylon_state_blobs', async (t) => {
  const file = join(await tempDir(), 'o.duckdb');
  await oldPartsHealed(t, `duckdb:${file}`, duckQuery(file), 'contacts', { mark: /^gzip:\d+$/, partsTable: '_pylon_state_blobs', otherTable: '_pylon_state_parts' });
  // The gzip layout stores less than the text it replaced: 5,000 lines of ~30 bytes in fewer bytes than their base64.
  const stored = Number((await duckQuery(file)(`SELECT sum(octet_length(data)) AS n FROM _pylon_state_blobs`))[0]!.n);
  t.true(stored > 0 && stored < stateOf(5000, 'new').length, `the compressed parts hold ${stored} bytes`);
});

pgTest(`postgres: a state of base64 parts built by SQL is read, and the next one is kept as base64 parts again${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('old');
  await oldPartsHealed(t, `${PG_URL}#${table}`, pgQuery, table, { mark: /^parts:\d+$/, partsTable: '_pylon_state_parts', ddl: pgLockedDdl });
});

test('duckdb: a state in a layout of a newer version, or gzip parts that do not unpack, stop the load with a clear error (exit 2)', async (t) => {
  const file = join(await tempDir(), 'n.duckdb');
  const to = `duckdb:${file}`;
  const dir = await tempDir();
  const query = duckQuery(file);
  await night(to, dir, 'n1', [['a', 'Ada']], stateOf(2000, 'n'), 'commit');
  const mark = String((await query(`SELECT state FROM _pylon_state`))[0]!.state);
  t.regex(mark, /^gzip:\d+$/);
  const open = () => openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });

  await query(`UPDATE _pylon_state SET state = 'zstd:4'`);
  const newer = await t.throwsAsync(open());
  t.true(newer instanceof ConfigError, 'a ConfigError: exit 2');
  t.is((newer as ConfigError).code, 'INPUT_UNREADABLE');
  t.regex(newer!.message, /the state kept in duckdb:.* \(table _pylon_state\) was written by a newer version of pylon-contacts \(layout zstd; this version reads parts and gzip\); upgrade, or delete its row/);

  await query(`UPDATE _pylon_state SET state = '${mark}'`);
  await query(`UPDATE _pylon_state_blobs SET data = 'not gzip'::BLOB WHERE part = 0`);
  const corrupt = await t.throwsAsync(open());
  t.true(corrupt instanceof ConfigError, 'a ConfigError: exit 2');
  t.regex(corrupt!.message, /the state kept in duckdb:.* \(table _pylon_state\) has parts in _pylon_state_blobs that do not unpack \(.+\) \(corrupt\); delete its row to start again with a full export/);
});
