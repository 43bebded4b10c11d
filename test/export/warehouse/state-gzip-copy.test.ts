/**
 * A DuckDB load keeps the pipeline state in gzip parts, compressed while the
 * run walks (load/common.ts stateGzipCopy) instead of after it: the copy
 * uncompresses to the state file byte for byte, a copy that cannot be written
 * stops the run with OUTPUT_WRITE naming it, either database takes a state
 * given already compressed, and the table's kept state after a real export
 * is the state file's bytes.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { stateGzipCopy } from '../../../src/export/load/common.js';
import { openLoader } from '../../../src/export/load/loader.js';
import { parseLoadTarget } from '../../../src/export/load/target.js';
import { createStateWriter } from '../../../src/export/delta.js';
import { typedColumns } from '../../../src/export/schema.js';
import type { ExportRecord } from '../../../src/export/record.js';
import { PylonCliError } from '../../../src/errors.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable } from '../../helpers/postgres.js';
import { withEmulator } from '../../helpers/with-emulator.js';
import { exportFrom, tempDir } from '../helpers.js';

const columns = typedColumns([
  { name: 'id', multi: false },
  { name: 'name', multi: false },
]);

const record = (id: string, hex: string) => ({ id, hash: { hex }, cells: [], typed: undefined, line: undefined, json: undefined, change: 'new' }) as unknown as ExportRecord;

test('the state writer gzip copy uncompresses to the state file, header, entries and trailer alike', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'run.state');
  const copy = stateGzipCopy(join(dir, 'run.state.gz'));
  const writer = await createStateWriter(path, { org: 'org-1', host: 'api.example', columns: ['id', 'name'], runId: 'r1', startedAt: '2026-12-05T02:00:00.000Z' } as never, 'xxh64', copy);
  t.is(writer.copyPath, undefined, 'no copy path before the state is prepared');
  for (let page = 0; page < 40; page += 1) {
    await writer.page(Array.from({ length: 999 }, (_, i) => record(`c-${page}-${i}-ü`, (page * 999 + i).toString(16).padStart(16, '0'))));
  }
  await writer.prepare();
  t.is(writer.copyPath, join(dir, 'run.state.gz'));
  const state = readFileSync(writer.stagedPath!);
  t.true(state.length > 1_000_000, `${state.length} bytes of state`);
  t.true(gunzipSync(readFileSync(writer.copyPath!)).equals(state), 'the copy is the state, compressed');
  await writer.abort();
});

test('a copy that cannot be written stops the state writer with OUTPUT_WRITE naming its path', async (t) => {
  const dir = await tempDir();
  const missing = join(dir, 'gone', 'run.state.gz');
  const writer = await createStateWriter(join(dir, 'run.state'), undefined, 'xxh64', stateGzipCopy(missing));
  const error = await t.throwsAsync(async () => {
    for (let page = 0; page < 50; page += 1) await writer.page([record(`c-${page}`, '0000000000000001')]);
    await writer.prepare();
  });
  t.true(error instanceof PylonCliError);
  t.is((error as PylonCliError).code, 'OUTPUT_WRITE');
  t.true(error!.message.includes(missing), error!.message);
  await writer.abort();
  t.deepEqual(await readdir(dir), [], 'the aborted state left no file');
});

async function gzippedNight(t: import('ava').ExecutionContext, to: string) {
  const dir = await tempDir();
  const state = randomBytes(50_000);
  const loader = await openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });
  await loader.add([['a', 'Ada']], ['h-Ada']);
  await loader.merge({ runId: 'g1', extractedAt: '2026-12-05T02:00:00.000Z', hardDelete: false });
  const gz = gzipSync(state);
  await loader.writeState({
    gzipped: (async function* () {
      for (let at = 0; at < gz.length; at += 7_001) yield gz.subarray(at, at + 7_001);
    })(),
  });
  await loader.commit();
  const next = await openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });
  const read = await next.readState();
  await next.abort();
  t.true(read !== undefined && read.equals(state), 'the state reads back byte for byte');
}

test('duckdb: a state handed over already gzip-compressed is kept as it is and reads back', async (t) => {
  await gzippedNight(t, `duckdb:${join(await tempDir(), 'g.duckdb')}`);
});

pgTest(`postgres: a state handed over gzip-compressed is uncompressed into its base64 parts and reads back${PG_SKIP_NOTE}`, async (t) => {
  await gzippedNight(t, `${PG_URL}#${uniqueTable('gz')}`);
});

test('an export into DuckDB keeps the state file, byte for byte, in the table', async (t) => {
  await withEmulator({ seed: 91, seedRandom: 2500 }, async (emulator) => {
    const dir = await tempDir();
    const db = join(dir, 'w.duckdb');
    const statePath = join(dir, 'nightly.state');
    const stats = await exportFrom(emulator, { to: `duckdb:${db}`, state: statePath });
    t.true(stats.complete);
    const loader = await openLoader({ target: parseLoadTarget(`duckdb:${db}`), columns, allowSchemaChange: true, tempDir: dir });
    const kept = await loader.readState();
    await loader.abort();
    t.true(kept !== undefined && kept.equals(readFileSync(statePath)), 'the kept state is the state file');
    t.false((await readdir(dir)).some((name) => name.endsWith('.gz')), 'no compressed copy left beside the outputs');
  });
});
