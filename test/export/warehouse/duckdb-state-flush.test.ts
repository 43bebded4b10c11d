/**
 * The DuckDB load's memory settings and its state appender: DuckDB takes every
 * setting the load opens the file with (a misspelt or dropped name would fail
 * every load), and a state of a few thousand parts, handed from the appender
 * to the transaction in several flushes, reads back byte for byte.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openLoader, STATE_BLOB_BYTES } from '../../../src/export/load/loader.js';
import { DUCKDB_SETTINGS } from '../../../src/export/load/duckdb-settings.js';
import { parseLoadTarget } from '../../../src/export/load/target.js';
import { typedColumns } from '../../../src/export/schema.js';
import { tempDir } from '../helpers.js';

const columns = typedColumns([
  { name: 'id', multi: false },
  { name: 'name', multi: false },
]);

test('DuckDB opens a file with the load settings and reports each one as set (the staging file is not cached)', async (t) => {
  const instance = await DuckDBInstance.create(join(await tempDir(), 's.duckdb'), { ...DUCKDB_SETTINGS });
  const connection = await instance.connect();
  try {
    const read = async (name: string) => String((await connection.runAndReadAll(`SELECT current_setting('${name}')`)).getRows()[0]![0]);
    t.is(await read('enable_external_file_cache'), 'false');
    t.is(await read('preserve_insertion_order'), 'false');
    t.is(await read('allocator_background_threads'), 'true');
    // DuckDB reports the cap in MiB (80MB is 76.2 MiB).
    t.regex(await read('memory_limit'), /^76\.\d+ MiB$/);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});

test('duckdb: a state of thousands of parts (several appender flushes) commits and reads back byte for byte', async (t) => {
  const dir = await tempDir();
  const to = `duckdb:${join(dir, 'f.duckdb')}`;
  // Random bytes do not compress: about 2,700 parts of STATE_BLOB_BYTES.
  const state = randomBytes(STATE_BLOB_BYTES * 2700);
  async function* chunks() {
    for (let offset = 0; offset < state.length; offset += 65_537) yield state.subarray(offset, offset + 65_537);
  }
  const first = await openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });
  t.is(await first.readState(), undefined);
  await first.add([['a', 'Ada']], ['h-Ada']);
  await first.merge({ runId: 'f1', extractedAt: '2026-12-05T02:00:00.000Z', hardDelete: false });
  await first.writeState(chunks());
  await first.commit();

  const instance = await DuckDBInstance.create(join(dir, 'f.duckdb'));
  const connection = await instance.connect();
  try {
    const parts = Number((await connection.runAndReadAll(`SELECT count(*) FROM _pylon_state_blobs WHERE table_name = 'contacts'`)).getRows()[0]![0]);
    t.true(parts > 2000, `${parts} parts`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }

  const second = await openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });
  const read = await second.readState();
  await second.abort();
  t.true(read !== undefined && read.equals(state), 'the state reads back byte for byte');
});
