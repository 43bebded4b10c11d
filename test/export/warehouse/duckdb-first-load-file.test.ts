/**
 * A first DuckDB load that commits nothing (Ctrl-C, Pylon unreachable) leaves
 * no database file behind where none existed: before, an empty ~12 KB file
 * stayed. A database file that existed before the run is left byte-identical
 * by the same failures. Real CLI child processes, real DuckDB files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { FAST_RATE, TOKEN, closedPort, envFor, runCli, spawnCli, startEmulator, tempDir, type CliResult } from '../../helpers/cli.js';
import { createFaultProxy } from '../fault-proxy.js';
import type { Emulator } from '../../../src/emulator/index.js';

/** One contact per page at 120 pages a minute: the walk lasts about 15 s unless it is stopped. */
const SLOW = ['--page-size', '1', '--rate', 'list=120,customFields=1000,me=1000'];

/** Starts a load and, once the database file exists and two pages were read, does `stop` to it; resolves to the run's result. */
async function stoppedLoad(t: ExecutionContext, emulator: Emulator, db: string, stop: 'sigint' | 'unreachable'): Promise<CliResult> {
  const proxy = await createFaultProxy(emulator.url, { fault: 'none' });
  t.teardown(() => proxy.close());
  const run = spawnCli(['export', '--to', `duckdb:${db}`, ...SLOW, '--quiet'], { env: envFor({ url: proxy.url }) });
  // Waits for the events (the file there, pages read), checking the child is still running; the child's own timeout bounds the wait.
  while (run.child.exitCode === null && (!existsSync(db) || proxy.pageRequests < 2)) await sleep(20);
  t.is(run.child.exitCode, null, 'the run was still walking when it was stopped');
  if (stop === 'sigint') run.child.kill('SIGINT');
  else await proxy.close();
  return run.result;
}

const files = (db: string) => [db, `${db}.wal`].filter((path) => existsSync(path));

test('duckdb first load: SIGINT mid-walk (exit 130) and Pylon unreachable mid-walk or from the start (exit 1) leave no database file where none existed', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 30 });
  const dir = tempDir(t, 'pylon-duck-first-');

  const interrupted = await stoppedLoad(t, emulator, join(dir, 'a.duckdb'), 'sigint');
  t.is(interrupted.code, 130, interrupted.stderr);
  t.deepEqual(files(join(dir, 'a.duckdb')), [], 'no database file, no .wal');

  const unreachable = await stoppedLoad(t, emulator, join(dir, 'b.duckdb'), 'unreachable');
  t.is(unreachable.code, 1, unreachable.stderr);
  t.regex(unreachable.stderr, /PYLON_NETWORK|could not connect|ECONNREFUSED/i);
  t.deepEqual(files(join(dir, 'b.duckdb')), []);

  const closed = await runCli(['export', '--to', `duckdb:${join(dir, 'c.duckdb')}`, '--quiet'], { env: { PYLON_BASE_URL: `http://127.0.0.1:${await closedPort()}`, PYLON_API_TOKEN: TOKEN } });
  t.is(closed.code, 1, closed.stderr);
  t.deepEqual(files(join(dir, 'c.duckdb')), []);
});

test('duckdb: a database file that existed before is left byte-identical by a load stopped with SIGINT or by Pylon unreachable', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 30 });
  const dir = tempDir(t, 'pylon-duck-kept-');
  const db = join(dir, 'w.duckdb');
  const first = await runCli(['export', '--to', `duckdb:${db}`, '--rate', FAST_RATE, '--quiet'], { env: envFor(emulator) });
  t.is(first.code, 0, first.stderr);
  t.deepEqual(files(db), [db]);
  const before = readFileSync(db);
  // A change in Pylon, so the stopped runs would have had something to write.
  emulator.store.update(emulator.store.at(0)!.id, { name: 'Changed Before The Stop' });

  const interrupted = await stoppedLoad(t, emulator, db, 'sigint');
  t.is(interrupted.code, 130, interrupted.stderr);
  t.deepEqual(files(db), [db]);
  t.true(readFileSync(db).equals(before), 'byte-identical after SIGINT');

  const unreachable = await stoppedLoad(t, emulator, db, 'unreachable');
  t.is(unreachable.code, 1, unreachable.stderr);
  t.deepEqual(files(db), [db]);
  t.true(readFileSync(db).equals(before), 'byte-identical after Pylon went away');

  const closed = await runCli(['export', '--to', `duckdb:${db}`, '--quiet'], { env: { PYLON_BASE_URL: `http://127.0.0.1:${await closedPort()}`, PYLON_API_TOKEN: TOKEN } });
  t.is(closed.code, 1, closed.stderr);
  t.true(readFileSync(db).equals(before), 'byte-identical after a run that never reached Pylon');
});
