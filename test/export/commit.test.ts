import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { previousPathFor } from '../../src/output/output-file.js';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { resolveExportOptions } from '../../src/export/options.js';
import { client, withEmulator } from '../helpers/with-emulator.js';
import { envFor, runCli, startEmulator } from '../helpers/cli.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../helpers/postgres.js';
import { createFaultProxy } from './fault-proxy.js';
import { exportFrom, tempDir } from './helpers.js';
import { formatExportSummary } from '../../src/cli/commands/export.js';

/** Every file under `dir` (recursively) with its bytes; folders as `<dir>`. */
async function snapshot(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      out[prefix + entry.name + '/'] = '<dir>';
      Object.assign(out, await snapshot(path, `${prefix}${entry.name}/`));
    } else out[prefix + entry.name] = (await readFile(path)).toString('base64');
  }
  return out;
}

// The order in which a run publishes its files (run-export.ts): deleted ids, sidecars, data, change log, state, manifest, _SUCCESS.
const PUBLISH_ORDER = ['c.parquet.deleted.csv', 'c.parquet.schema.json', 'c.parquet.bigquery.json', 'c.parquet.postgres.sql', 'c.parquet', 'changes.csv', 'c.state', 'c.parquet.manifest.json', '_SUCCESS'];

test('a failure at each publish step leaves every other output as it was, and no staging file behind', async (t) => {
  await withEmulator({ seed: 95, seedRandom: 30 }, async (emulator) => {
    const api = client(emulator);
    const dir = await tempDir();
    const run = (runId: string, hooks = {}) =>
      exportFrom(emulator, { output: join(dir, 'c.parquet'), state: join(dir, 'c.state'), changes: join(dir, 'changes.csv'), successMarker: true, runId }, hooks);
    t.true((await run('night-1')).complete);
    // The second night has something to say in every file (a deleted id among them).
    t.true((await run('night-2')).complete);
    const ids = (await readFile(join(dir, 'c.state'), 'utf8')).split('\n').slice(2, 5).map((l) => l.slice(17));
    await api.patch(`/contacts/${ids[0]}`, { name: 'Changed For The Commit Test' });
    await api.delete(`/contacts/${ids[1]}`);
    t.deepEqual((await readdir(dir)).filter((n) => !n.startsWith('.')).sort(), [...PUBLISH_ORDER].sort(), 'every output exists before the failing nights');

    for (const [step, name] of PUBLISH_ORDER.entries()) {
      const target = join(dir, name);
      // A folder where this process would keep the file the target replaces: putting the new file in place fails at this step.
      const blocker = previousPathFor(target);
      await mkdir(blocker);
      await writeFile(join(blocker, 'x'), 'x');
      const before = await snapshot(dir);
      const stats = await run(`fail-${step}`);
      t.false(stats.complete, `${name}: the run fails`);
      t.is(stats.stoppedAt?.code, 'OUTPUT_WRITE', name);
      t.true(stats.stoppedAt!.message.includes(target), `${name}: the message names the file (${stats.stoppedAt?.message})`);
      const after = await snapshot(dir);
      for (const report of ['c.parquet.errors.csv', 'c.parquet.manifest.json.failed.json']) {
        delete after[report];
        delete before[report];
      }
      t.deepEqual(after, before, `${name}: every output is as it was, and no .partial or .previous file is left`);
      await rm(blocker, { recursive: true });
    }
    const again = await run('night-3');
    t.true(again.complete, 'the next good night publishes');
    t.like(again.delta, { changed: 1, deleted: 1 });
  });
});

test('--changes /dev/full: the run fails and the data file and manifest of the previous run stay', async (t) => {
  await withEmulator({ seed: 96, seedRandom: 20 }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    t.true((await exportFrom(emulator, { output: out })).complete);
    const before = await snapshot(dir);
    await client(emulator).post('/contacts', { name: 'After The First Run', email: 'after@commit.example' });
    const failed = await exportFrom(emulator, { output: out, changes: '/dev/full' });
    t.false(failed.complete);
    t.is(failed.stoppedAt?.code, 'OUTPUT_WRITE');
    // The message names the flag the file came from, not only the path.
    t.regex(failed.stoppedAt!.message, /^Cannot write the change log \(--changes\) \/dev\/full: ENOSPC/);
    const after = await snapshot(dir);
    delete after['c.csv.errors.csv'];
    delete after['c.csv.manifest.json.failed.json'];
    t.deepEqual(after, before, 'the data file, its manifest and state are as they were');
  });
});

test('a delta run that fails while it commits, or is interrupted mid-walk, names no deleted-ids file and claims no deleted count it did not make', async (t) => {
  const emulator = await startEmulator(t, { seed: 97, seedRandom: 20 });
  const dir = await tempDir();
  const out = join(dir, 'c.csv');
  const state = join(dir, 'c.state');
  t.true((await exportFrom(emulator, { output: out, state })).complete, 'night 1: the baseline');
  const ids = (await client(emulator).get('/contacts?limit=999')).body.data.map((c: { id: string }) => c.id) as string[];
  await client(emulator).delete(`/contacts/${ids[0]}`);

  // The change log cannot be written: the run fails while it commits, after the deleted ids were counted and staged.
  const cli = await runCli(['export', out, '--state', state, '--changes', '/dev/full', '--json', '--quiet'], { env: envFor(emulator), cwd: dir });
  t.is(cli.code, 1, cli.stderr);
  t.false((await readdir(dir)).includes('c.csv.deleted.csv'), 'no deleted-ids file was published');
  const stats = JSON.parse(cli.stdout) as { delta: { deleted: number | null; deletedPath: string | null } };
  t.like(stats.delta, { deleted: 1, deletedPath: null });
  t.regex(cli.stderr, /^ {2}delta since .*: new 0, changed 0, unchanged 19, deleted 1$/m, 'the summary names no file');
  t.notRegex(cli.stderr, /ids in/);
  const failedManifest = JSON.parse(await readFile(join(dir, 'c.csv.manifest.json.failed.json'), 'utf8')) as { delta: { deleted: number | null; deletedFile: string | null } };
  t.like(failedManifest.delta, { deleted: 1, deletedFile: null });

  // Ctrl-C during the walk (after its first page of two), before the run compares with the baseline: nothing counted, nothing named.
  const controller = new AbortController();
  const interrupted = await exportFrom(emulator, { output: out, state, pageSize: 10 }, { signal: controller.signal, onProgress: () => controller.abort() });
  t.true(interrupted.interrupted);
  t.like(interrupted.delta, { deleted: null, deletedPath: null });
  t.regex(formatExportSummary(interrupted), /unchanged 10, deleted not counted \(the run stopped first\)\n/);
  t.like(JSON.parse(await readFile(join(dir, 'c.csv.manifest.json.failed.json'), 'utf8')).delta, { deleted: null, deletedFile: null });
  t.false((await readdir(dir)).includes('c.csv.deleted.csv'));

  const good = await exportFrom(emulator, { output: out, state });
  t.like(good.delta, { deleted: 1, deletedPath: `${out}.deleted.csv` }, 'a run that publishes names its file');
  t.is(await readFile(`${out}.deleted.csv`, 'utf8'), `id\n${ids[0]}\n`);
});

test('colliding output paths are refused before the first request (exit 2)', async (t) => {
  const base = { token: 'tok_collide', baseUrl: 'http://127.0.0.1:9', env: {} };
  const dir = await tempDir();
  const out = join(dir, 'c.csv');
  for (const [input, message] of [
    [{ output: out, changes: out }, /`--changes`: .*c\.csv is also where the export \(<file>\) goes/],
    [{ output: out, changes: `${out}.manifest.json` }, /`--changes`: .* is also where --manifest/],
    [{ output: out, manifest: `${out}.state` }, /is also where --manifest/],
    [{ output: out, errors: out }, /`--errors`: .* is also where the export/],
    [{ output: out, state: `${out}.manifest.json` }, /`--state`: .* is also where --manifest/],
    [{ output: out, since: out }, /is the --since manifest this run reads/],
    // The DuckDB database a run loads into is no output's path: a rename over it would replace the warehouse.
    [{ output: join(dir, 'w.duckdb'), format: 'csv', to: `duckdb:${join(dir, 'w.duckdb')}` }, /`<file>`: .*w\.duckdb is the DuckDB database --to loads into/],
    [{ output: out, changes: join(dir, 'w.duckdb'), to: `duckdb:${join(dir, 'w.duckdb')}` }, /`--changes`: .*w\.duckdb is the DuckDB database --to loads into/],
    [{ output: out, state: join(dir, 'w.duckdb'), to: `duckdb:${join(dir, 'w.duckdb')}` }, /`--state`: .*w\.duckdb is the DuckDB database/],
    [{ output: out, errors: join(dir, 'w.duckdb.wal'), to: `duckdb:${join(dir, 'w.duckdb')}` }, /`--errors`: .*w\.duckdb\.wal is the DuckDB database --to loads into \(or one of its files\)/],
    [{ output: out, manifest: join(dir, 'w.duckdb.tmp', 'm.json'), to: `duckdb:${join(dir, 'w.duckdb')}` }, /`--manifest`: .* is the DuckDB database/],
    // "-" is stdout for the data file only: as another output's path it made a file named "-".
    [{ output: '-', changes: '-' }, /`--changes`: expected a file path \(- means stdout, which only the export file <file> can use\), got "-"/],
    [{ output: out, manifest: '-' }, /`--manifest`: expected a file path/],
    [{ output: out, errors: '-' }, /`--errors`: expected a file path/],
    [{ output: out, state: '-' }, /`--state`: expected a file path/],
  ] as const) {
    const error = t.throws(() => resolveExportOptions({ ...base, ...input }), { message }, JSON.stringify(input));
    t.true(error instanceof ConfigError);
  }
  const emulator = await startEmulator(t, { seedRandom: 3 });
  const cli = await runCli(['export', out, '--changes', out], { env: envFor(emulator) });
  t.is(cli.code, 2);
  t.regex(cli.stderr, /give each output its own path/);
  t.deepEqual(await readdir(dirname(out)), [], 'nothing written');

  // The command line of a user who named the database as the change log: refused, the database never opened.
  const load = await runCli(['export', out, '--changes', 'w.duckdb', '--to', 'duckdb:w.duckdb'], { env: envFor(emulator), cwd: dir });
  t.is(load.code, 2, load.stderr);
  t.regex(load.stderr, /Invalid option `--changes`: w\.duckdb is the DuckDB database --to loads into/);
  t.deepEqual(await readdir(dir), [], 'nothing written, no database file made');
  const dash = await runCli(['export', '-', '--changes', '-'], { env: envFor(emulator), cwd: dir });
  t.is(dash.code, 2, dash.stderr);
  t.is(dash.stdout, '');
  t.deepEqual(await readdir(dir), [], 'no file named "-"');
});

pgTest(`a load whose COMMIT fails (a deferred constraint refuses it) leaves the table and every file as they were; the message says so; the next night heals${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 97, seedRandom: 25 }, async (emulator) => {
    const dir = await tempDir();
    const table = uniqueTable('commit');
    const run = (runId: string) =>
      exportFrom(emulator, { output: join(dir, 'c.csv'), state: join(dir, 'c.state'), changes: join(dir, 'changes.csv'), to: `${PG_URL}#${table}`, runId });
    t.true((await run('night-1')).complete);
    const id = (await readFile(join(dir, 'c.state'), 'utf8')).split('\n')[2]!.slice(17);
    await withPg(async (db) => {
      await db.query(`CREATE FUNCTION "${table}_refuse"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit by the test'; END $$`);
      await db.query(`CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT OR UPDATE ON "${table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${table}_refuse"()`);
    });
    await client(emulator).patch(`/contacts/${id}`, { name: 'Refused At Commit' });
    const before = await snapshot(dir);
    const failed = await run('night-2');
    t.false(failed.complete);
    t.regex(failed.stoppedAt!.message, /refused at commit by the test.*; the table, the data file, its manifest, sidecars, change log and state were left as they were/);
    const after = await snapshot(dir);
    for (const report of ['c.csv.errors.csv', 'c.csv.manifest.json.failed.json']) delete after[report];
    t.deepEqual(after, before, 'every file is as it was');
    const rows = await withPg(async (db) => (await db.query(`SELECT name, _run_id FROM "${table}" WHERE id = $1`, [id])).rows as Array<{ name: string; _run_id: string }>);
    t.deepEqual(rows.map((r) => r._run_id), ['night-1'], 'the table is as it was');
    t.not(rows[0]!.name, 'Refused At Commit');

    await withPg((db) => db.query(`DROP TRIGGER refuse_at_commit ON "${table}"`));
    const healed = await run('night-3');
    t.true(healed.complete);
    t.like(healed.changes, { insert: 0, update: 1, delete: 0 });
    t.like(healed.load, { updated: 1 });
  });
});

test('a run killed while publishing left .previous copies: the next run puts them back before it starts, even when it then fails', async (t) => {
  await withEmulator({ seed: 99, seedRandom: 10 }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    t.true((await exportFrom(emulator, { output: out })).complete);
    const before = await snapshot(dir);
    // What a publish killed half-way leaves: the new data file in place, the old one kept under the dead process's name.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await rename(out, previousPathFor(out, dead));
    await writeFile(out, 'id\nnot-committed\n');
    const proxy = await createFaultProxy(emulator.url, { failFromPage: 1, fault: 'status=500' });
    try {
      t.false((await exportFrom(emulator, { output: out, baseUrl: proxy.url })).complete);
    } finally {
      await proxy.close();
    }
    const after = await snapshot(dir);
    for (const report of ['c.csv.errors.csv', 'c.csv.manifest.json.failed.json']) delete after[report];
    t.deepEqual(after, before, 'the data file is the committed one again, and the kept copy is gone');
  });
});
