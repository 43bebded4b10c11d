/**
 * A DuckDB first load stages its rows in files of STAGE_FILE_ROWS rows and
 * inserts each full file while the walk goes on (parquetStage in
 * src/export/load/duckdb.ts). These runs cross that boundary (a little more
 * than one file of contacts), so one file is inserted during the walk and the
 * last one after it: the table must equal a Parquet export of the same run,
 * and every way the load can stop after a file was handed to DuckDB must
 * leave no table and no staging file.
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { STAGE_FILE_ROWS } from '../../../src/export/load/duckdb.js';
import { envFor, spawnCli } from '../../helpers/cli.js';
import { withEmulator } from '../../helpers/with-emulator.js';
import { createFaultProxy } from '../fault-proxy.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { selectList } from './table-check.js';

/** Contacts: one full staging file, and a few pages more for the last file. */
const CONTACTS = STAGE_FILE_ROWS + 3_000;
/** The page (999 contacts each) after which the first file has been handed to DuckDB. */
const PAGE_PAST_FIRST_FILE = Math.ceil(STAGE_FILE_ROWS / 999) + 1;

const stageFiles = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('.pylon-stage-'));

async function withDb<T>(file: string, fn: (run: (sql: string) => Promise<unknown[][]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return await fn(async (sql) => (await connection.runAndReadAll(sql)).getRows());
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const tables = async (db: string): Promise<string[]> => (existsSync(db) ? withDb(db, async (run) => (await run(`SELECT table_name FROM information_schema.tables ORDER BY 1`)).map((r) => String(r[0]))) : []);

test('duckdb first load past one staging file: interrupted, failing Pylon, or DuckDB failing the insert of a file handed over during the walk, it leaves no table and no staging file; then the table equals the Parquet export of its run', async (t) => {
  t.true(STAGE_FILE_ROWS % 122_880 === 0, 'a staging file holds whole row groups of DuckDB\'s size');
  await withEmulator({ seed: 191, seedRandom: CONTACTS }, async (emulator) => {
    const dir = await tempDir();
    const db = join(dir, 'w.duckdb');
    const to = `duckdb:${db}`;

    // Interrupted once the walk is past the first file (handed to DuckDB: inserting, or inserted into the uncommitted table).
    const stop = new AbortController();
    const seen = new Set<string>();
    const interrupted = await exportFrom(emulator, { to, runId: 'o1' }, {
      signal: stop.signal,
      onProgress: (s) => {
        for (const name of stageFiles(dir)) seen.add(name);
        if (s.pages === PAGE_PAST_FIRST_FILE && !stop.signal.aborted) stop.abort(new Error('interrupted by SIGINT'));
      },
    });
    t.like(interrupted, { complete: false, interrupted: true });
    t.true(seen.size >= 2, `a second staging file was begun during the walk: ${[...seen].join(', ')}`);
    t.deepEqual(stageFiles(dir), [], 'every staging file is removed');
    t.false((await tables(db)).includes('contacts'), 'no table: the rows inserted during the walk rolled back');

    // Pylon fails after the first file was handed over.
    const proxy = await createFaultProxy(emulator.url, { failFromPage: PAGE_PAST_FIRST_FILE + 1, fault: 'status=400' });
    try {
      const failed = await exportFrom(emulator, { to, runId: 'o2', baseUrl: proxy.url });
      t.false(failed.complete);
      t.true(failed.pages >= PAGE_PAST_FIRST_FILE, `the walk read ${failed.pages} pages before it failed`);
    } finally {
      await proxy.close();
    }
    t.deepEqual(stageFiles(dir), []);
    t.false((await tables(db)).includes('contacts'));

    // DuckDB fails the insert of the file handed over during the walk (a 4MB cap: the load opens and stages within it, the insert of a file does not; a 1MB cap fails before the first page).
    const starved = await spawnCli(['export', '--to', to, '--rate', 'list=100000000,customFields=100000', '--quiet', '--json'], { env: { ...envFor(emulator, emulator.token), PYLON_DUCKDB_MEMORY_LIMIT: '4MB' } }).result;
    t.is(starved.code, 1, starved.stderr);
    t.regex(starved.stderr, /DuckDB ran out of its memory cap \(4MB\)/);
    t.notRegex(starved.stderr, /\n\s+at /, 'no stack trace');
    const summary = JSON.parse(starved.stdout) as { complete: boolean; pages: number };
    t.false(summary.complete);
    t.true(summary.pages >= PAGE_PAST_FIRST_FILE - 1, `the first file was handed over before the failure (${summary.pages} pages read)`);
    t.deepEqual(stageFiles(dir), []);
    t.false((await tables(db)).includes('contacts'));

    // The whole run: a Parquet file and the table from one walk hold the same rows, both ways round.
    const out = join(dir, 'contacts.parquet');
    const loaded = await exportFrom(emulator, { output: out, to, runId: 'o4' });
    t.like(loaded, { complete: true, rows: CONTACTS });
    t.like(loaded.load, { inserted: CONTACTS, updated: 0, unchanged: 0, deleted: 0 });
    t.deepEqual(stageFiles(dir), []);
    const manifest = await readManifest(`${out}.manifest.json`);
    const list = selectList(manifest.schema!.columns, 'duckdb');
    await withDb(db, async (run) => {
      const file = `read_parquet('${out.replaceAll("'", "''")}')`;
      t.deepEqual(await run(`SELECT count(*)::INTEGER, count(DISTINCT id)::INTEGER FROM contacts WHERE _run_id = 'o4' AND _deleted_at IS NULL`), [[CONTACTS, CONTACTS]]);
      t.deepEqual(await run(`SELECT count(*)::INTEGER FROM (SELECT ${list} FROM contacts EXCEPT ALL SELECT ${list} FROM ${file})`), [[0]], 'every table row is in the file');
      t.deepEqual(await run(`SELECT count(*)::INTEGER FROM (SELECT ${list} FROM ${file} EXCEPT ALL SELECT ${list} FROM contacts)`), [[0]], 'every file row is in the table');
      t.deepEqual(await run(`SELECT count(*)::INTEGER FROM _pylon_loads WHERE run_id = 'o4' AND status = 'committed'`), [[1]]);
    });
  });
});
