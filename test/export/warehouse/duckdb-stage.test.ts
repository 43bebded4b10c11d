import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { envFor, spawnCli } from '../../helpers/cli.js';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { createFaultProxy } from '../fault-proxy.js';
import { exportFrom, tempDir } from '../helpers.js';

/** The DuckDB staging files (names and emails) in `dir`. */
const stageFiles = async (dir: string) => (await readdir(dir)).filter((name) => name.startsWith('.pylon-stage-'));

/** The tables of a DuckDB file (none when the file was never written). */
async function tables(db: string): Promise<string[]> {
  if (!existsSync(db)) return [];
  const instance = await DuckDBInstance.create(db);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(`SELECT table_name FROM information_schema.tables ORDER BY table_name`)).getRows().map((row) => String(row[0]));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function liveCount(db: string): Promise<number> {
  const instance = await DuckDBInstance.create(db);
  const connection = await instance.connect();
  try {
    return Number((await connection.runAndReadAll(`SELECT count(*) FROM contacts WHERE _deleted_at IS NULL`)).getRows()[0]![0]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function nameOf(db: string, id: string): Promise<string> {
  const instance = await DuckDBInstance.create(db);
  const connection = await instance.connect();
  try {
    return String((await connection.runAndReadAll(`SELECT name FROM contacts WHERE id = $1`, [id])).getRows()[0]![0]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

test('duckdb first load: stopped mid-walk (interrupted, then Pylon failing) it leaves no table and no staging file; the next run loads everything; a second night merges from the staging file and removes it', async (t) => {
  await withEmulator({ seed: 95, seedRandom: 40 }, async (emulator) => {
    const dir = await tempDir();
    const db = join(dir, 'w.duckdb');
    const to = `duckdb:${db}`;

    // Interrupted after two pages: the rows read so far were being staged in a file beside the database.
    const controller = new AbortController();
    let stagedDuringWalk: string[] = [];
    const interrupted = await exportFrom(emulator, { to, pageSize: 10, runId: 's1' }, {
      signal: controller.signal,
      onProgress: (s) => {
        if (s.pages !== 2 || controller.signal.aborted) return;
        // Read synchronously: the walk waits for this callback, so the file is listed before the abort removes it.
        stagedDuringWalk = readdirSync(dir).filter((name) => name.startsWith('.pylon-stage-'));
        controller.abort(new Error('interrupted by SIGINT'));
      },
    });
    t.like(interrupted, { complete: false, interrupted: true });
    t.is(stagedDuringWalk.length, 1, `one staging file while the walk ran: ${stagedDuringWalk.join(', ')}`);
    t.deepEqual(await stageFiles(dir), [], 'the staging file is removed');
    t.deepEqual(await tables(db), [], 'no table: the first load rolled back');

    // Pylon fails from page 3 on: the load stops with the walk.
    const proxy = await createFaultProxy(emulator.url, { failFromPage: 3, fault: 'status=400' });
    try {
      const failed = await exportFrom(emulator, { to, pageSize: 10, runId: 's2', baseUrl: proxy.url });
      t.false(failed.complete);
      t.true(failed.pages >= 2, 'the walk read pages before it failed');
    } finally {
      await proxy.close();
    }
    t.deepEqual(await stageFiles(dir), []);
    t.deepEqual(await tables(db), []);

    const loaded = await exportFrom(emulator, { to, pageSize: 10, runId: 's3' });
    t.like(loaded, { complete: true });
    t.like(loaded.load, { inserted: 40, updated: 0, deleted: 0 });
    t.is(await liveCount(db), 40);
    t.deepEqual(await stageFiles(dir), []);
    t.deepEqual(await tables(db), ['_pylon_columns', '_pylon_loads', '_pylon_state', '_pylon_state_blobs', 'contacts']);

    // A second night merges from the staged file in place: one changed row, then the file is gone; an interrupted one leaves the table and no file.
    const api = client(emulator);
    const id = (await api.get('/contacts?limit=1')).body.data[0].id as string;
    await api.patch(`/contacts/${id}`, { name: 'Renamed For Night Four' });
    const night = await exportFrom(emulator, { to, pageSize: 10, runId: 's4' });
    t.like(night.load, { inserted: 0, updated: 1, unchanged: 39, deleted: 0 });
    t.deepEqual(await stageFiles(dir), []);
    await api.patch(`/contacts/${id}`, { name: 'Renamed For Night Five' });
    const stop = new AbortController();
    const stopped = await exportFrom(emulator, { to, pageSize: 10, runId: 's5' }, { signal: stop.signal, onProgress: (s) => void (s.pages === 2 && stop.abort(new Error('interrupted by SIGINT'))) });
    t.like(stopped, { complete: false, interrupted: true });
    t.deepEqual(await stageFiles(dir), []);
    t.is(await nameOf(db, id), 'Renamed For Night Four', 'the interrupted night changed nothing');
  });
});

test('duckdb first load killed mid-walk (SIGKILL): no table is left; the next run sweeps the staging file and loads everything', async (t) => {
  await withEmulator({ seed: 96, seedRandom: 30 }, async (emulator) => {
    const dir = await tempDir();
    const db = join(dir, 'w.duckdb');
    // One contact per page at 120 pages a minute: about 15 s if left alone.
    const { child, result } = spawnCli(['export', '--to', `duckdb:${db}`, '--page-size', '1', '--rate', 'list=120,customFields=1000', '--quiet'], { env: envFor(emulator, emulator.token) });
    // Killed once its staging file exists and a few pages went into it (the test's timeout bounds the wait).
    while (child.exitCode === null && ((await stageFiles(dir)).length === 0 || (emulator.stats().requests.list ?? 0) < 4)) await sleep(20);
    const staged = await stageFiles(dir);
    child.kill('SIGKILL');
    const killed = await result;
    t.is(killed.signal, 'SIGKILL', killed.stderr);
    t.is(staged.length, 1);
    t.false((await tables(db)).includes('contacts'), 'the uncommitted table is not in the file');

    const loaded = await exportFrom(emulator, { to: `duckdb:${db}`, runId: 'k2' });
    t.like(loaded, { complete: true });
    t.like(loaded.load, { inserted: 30 });
    t.is(await liveCount(db), 30);
    t.deepEqual(await stageFiles(dir), [], 'the killed run\'s staging file was swept');
  });
});

test('duckdb first load failing in DuckDB (a 1MB memory cap, which DuckDB refuses as the load opens, before the walk): exit 1, no table, no staging file', async (t) => {
  await withEmulator({ seed: 97, seedRandom: 2000 }, async (emulator) => {
    const dir = await tempDir();
    const db = join(dir, 'w.duckdb');
    const run = await spawnCli(['export', '--to', `duckdb:${db}`, '--rate', 'list=100000000,customFields=100000', '--quiet', '--json'], { env: { ...envFor(emulator, emulator.token), PYLON_DUCKDB_MEMORY_LIMIT: '1MB' } }).result;
    t.is(run.code, 1, run.stderr);
    t.regex(run.stderr, /DuckDB ran out of its memory cap \(1MB\)/);
    t.deepEqual(await stageFiles(dir), []);
    t.false((await tables(db)).includes('contacts'));
  });
});
