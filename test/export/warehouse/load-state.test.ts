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
async function partedState(t: import('ava').ExecutionContext, to: string, sql: (statement: string) => Promise<void>, table: string) {
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
  await sql(`DELETE FROM _pylon_state_parts WHERE table_name = '${table}'`);
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
  await partedState(t, `duckdb:${file}`, sql, 'contacts');
});

pgTest(`postgres: a state of many parts round-trips; an old single-value state is read; a missing part is reported${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('parts');
  await partedState(t, `${PG_URL}#${table}`, (statement) => withPg(async (client) => void (await client.query(statement))), table);
});
