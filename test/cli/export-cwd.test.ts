/**
 * The export and the CLI context's working directory, in process (no
 * process.chdir): every relative path the export reads or writes (the file,
 * manifest, state, change log, --since, sidecars, _SUCCESS, the lake's
 * `<root>._meta`, a DuckDB file) resolves from `ctx.cwd`, and nothing lands in
 * the process's folder. Run from its own folder (a child process), the CLI
 * shows relative paths as they were typed.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli/index.js';
import { cliContext } from '../helpers/context.js';
import { resolveExportOptions } from '../../src/export/options.js';
import { FAST_RATE, envFor, filesUnder, runCli as runChild, startEmulator, tempDir } from '../helpers/cli.js';

const context = cliContext;

/** Runs `export …` in process from `cwd`; the --json stats when asked for. */
async function exportIn(env: Record<string, string>, cwd: string, args: string[]) {
  const { ctx, out } = context(env, cwd);
  const code = await runCli(['export', ...args, '--rate', FAST_RATE, '--quiet'], ctx);
  const last = out.stdout.trim().split('\n').pop();
  return { code, out, stats: args.includes('--json') && last ? (JSON.parse(last) as Record<string, any>) : undefined };
}

const relativeFiles = (dir: string) => filesUnder(dir).map((p) => p.slice(dir.length + 1)).sort();

/** Every top-level name the runs below could create by resolving from the process's folder. */
const NAMES = ['first.ndjson', 'first.ndjson.manifest.json', 'first.ndjson.state', 'changes.csv', '_SUCCESS', 'second.csv', 'lake', 'lake._meta', 'nightly.state', '_meta', 'run=r5', 'fail.csv.manifest.json', 'failed-pages.csv', 'wh.duckdb', 'load.manifest.json', 'load.state'];

test('every relative path of an export resolves from ctx.cwd, and nothing is written in the process folder', async (t) => {
  for (const name of NAMES) t.false(existsSync(join(process.cwd(), name)), `${name} is not in the process folder before the runs`);
  const emulator = await startEmulator(t, { seedRandom: 12 });
  const env = envFor(emulator);
  const dir = tempDir(t, 'pylon-export-cwd-');

  // A typed NDJSON file: manifest, state and schema sidecars beside it, a change log, _SUCCESS.
  const first = await exportIn(env, dir, ['first.ndjson', '--typed', '--changes', 'changes.csv', '--success-marker', '--run-id', 'r1', '--json']);
  t.is(first.code, 0, first.out.stderr);
  t.like(first.stats, { complete: true, rows: 12, manifestPath: join(dir, 'first.ndjson.manifest.json'), statePath: join(dir, 'first.ndjson.state'), changes: { path: join(dir, 'changes.csv'), insert: 12 } });
  t.deepEqual(first.stats!.schemaFiles, ['schema.json', 'bigquery.json', 'postgres.sql'].map((ext) => join(dir, `first.ndjson.${ext}`)));
  const manifest = JSON.parse(readFileSync(join(dir, 'first.ndjson.manifest.json'), 'utf8'));
  t.like(manifest, { complete: true, file: 'first.ndjson', rows: 12, state: { path: 'first.ndjson.state' }, changes: { path: 'changes.csv' } });
  t.is(readFileSync(join(dir, 'first.ndjson'), 'utf8').trim().split('\n').length, 12);

  // A delta against the first run's manifest, named relative to ctx.cwd.
  const [gone] = [...emulator.store.all()];
  emulator.store.delete(gone!.id);
  emulator.store.insert({ name: 'New One', email: 'new-one@example.com' } as never);
  const second = await exportIn(env, dir, ['second.csv', '--since', 'first.ndjson.manifest.json', '--run-id', 'r2', '--json']);
  t.is(second.code, 0, second.out.stderr);
  t.like(second.stats, { complete: true, rows: 1, delta: { since: join(dir, 'first.ndjson.manifest.json'), new: 1, deleted: 1, deletedPath: join(dir, 'second.csv.deleted.csv') } });
  t.true(readFileSync(join(dir, 'second.csv.deleted.csv'), 'utf8').includes(gone!.id));

  // A partition of a dataset with a fixed --state: the data file and _SUCCESS in the partition, the rest under lake._meta.
  const third = await exportIn(env, dir, ['lake/run={run_id}/c.csv', '--state', 'nightly.state', '--run-id', 'r3']);
  t.is(third.code, 0, third.out.stderr);
  // Run again: the state is read back from ctx.cwd (nothing changed since).
  const fourth = await exportIn(env, dir, ['lake/run={run_id}/c.csv', '--state', 'nightly.state', '--run-id', 'r4', '--json']);
  t.is(fourth.code, 0, fourth.out.stderr);
  t.like(fourth.stats, { rows: 0, delta: { new: 0, changed: 0, deleted: 0, unchanged: 12 } });

  // The current folder as the dataset root: the sidecars go to _meta inside it.
  const fifth = await exportIn(env, dir, ['run={run_id}/d.csv', '--run-id', 'r5']);
  t.is(fifth.code, 0, fifth.out.stderr);

  // A failed run: its error report and failed manifest land under ctx.cwd too.
  const failed = await exportIn(env, dir, ['fail.csv', '--page-size', '1', '--max-pages', '1', '--errors', 'failed-pages.csv']);
  t.is(failed.code, 1, failed.out.stderr);
  t.regex(readFileSync(join(dir, 'failed-pages.csv'), 'utf8'), /pagination/);
  t.like(JSON.parse(readFileSync(join(dir, 'fail.csv.manifest.json'), 'utf8')), { complete: false, status: 'failed' });

  // A load into a DuckDB file named relative to ctx.cwd, with a manifest and no data file.
  const loaded = await exportIn(env, dir, ['--to', 'duckdb:wh.duckdb', '--manifest', 'load.manifest.json', '--run-id', 'r6', '--json']);
  t.is(loaded.code, 0, loaded.out.stderr);
  t.like(loaded.stats, { complete: true, load: { target: 'duckdb:wh.duckdb#contacts', inserted: 12 } });

  t.deepEqual(relativeFiles(dir), [
    '_meta/run=r5/d.csv.manifest.json',
    '_meta/run=r5/d.csv.state',
    'changes.csv',
    'fail.csv.manifest.json',
    'failed-pages.csv',
    'first.ndjson',
    'first.ndjson.bigquery.json',
    'first.ndjson.manifest.json',
    'first.ndjson.postgres.sql',
    'first.ndjson.schema.json',
    'first.ndjson.state',
    '_SUCCESS',
    'lake._meta/run=r3/c.csv.manifest.json',
    'lake._meta/run=r4/c.csv.deleted.csv',
    'lake._meta/run=r4/c.csv.manifest.json',
    'lake/run=r3/_SUCCESS',
    'lake/run=r3/c.csv',
    'lake/run=r4/_SUCCESS',
    'lake/run=r4/c.csv',
    'load.manifest.json',
    'load.state',
    'nightly.state',
    'run=r5/_SUCCESS',
    'run=r5/d.csv',
    'second.csv',
    'second.csv.deleted.csv',
    'second.csv.manifest.json',
    'second.csv.state',
    'wh.duckdb',
  ].sort());
  for (const name of NAMES) t.false(existsSync(join(process.cwd(), name)), `${name} is not in the process folder after the runs`);
});

test('options: a relative path stays as typed when ctx.cwd is the process folder, and is made absolute from another folder', (t) => {
  const here = resolveExportOptions({ token: 'tok-test', env: {}, output: 'out/c.csv', changes: 'ch.csv', to: 'duckdb:w.duckdb', cwd: process.cwd() });
  t.like(here, { output: 'out/c.csv', manifestPath: 'out/c.csv.manifest.json', changesPath: 'ch.csv', to: { path: join(process.cwd(), 'w.duckdb'), display: 'duckdb:w.duckdb#contacts' } });
  const there = resolveExportOptions({ token: 'tok-test', env: {}, output: 'out/c.csv', changes: 'ch.csv', to: 'duckdb:w.duckdb', cwd: '/srv/pipeline' });
  t.like(there, { output: '/srv/pipeline/out/c.csv', manifestPath: '/srv/pipeline/out/c.csv.manifest.json', changesPath: '/srv/pipeline/ch.csv', to: { path: '/srv/pipeline/w.duckdb', display: 'duckdb:w.duckdb#contacts' } });
  // Absolute paths and stdout are left alone.
  t.like(resolveExportOptions({ token: 'tok-test', env: {}, output: '-', manifest: '/var/m.json', cwd: '/srv/pipeline' }), { output: '-', toStdout: true, manifestPath: '/var/m.json' });
});

test('the CLI run from a folder shows relative paths as typed in its messages and --json stats', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 3 });
  const dir = tempDir(t, 'pylon-export-cwd-child-');
  const result = await runChild(['export', 'c.csv', '--changes', 'ch.csv', '--json', '--rate', FAST_RATE], { env: envFor(emulator), cwd: dir });
  t.is(result.code, 0, result.stderr);
  t.like(JSON.parse(result.stdout.trim().split('\n').pop()!), { rows: 3, manifestPath: 'c.csv.manifest.json', statePath: 'c.csv.state', changes: { path: 'ch.csv', insert: 3 } });
  t.regex(result.stderr, /c\.csv/);
  t.deepEqual(relativeFiles(dir), ['c.csv', 'c.csv.manifest.json', 'c.csv.state', 'ch.csv']);
});
