/**
 * A pipeline's --state file deleted (or lost) while its table keeps the
 * state of the last committed load. The run took the missing file as "no
 * baseline": its change log said insert for every contact, while the table
 * load found them all there and updated or left them. Now the run reads the
 * table's kept state as its baseline when the file is missing, says so, and
 * its change log agrees with the load: one update for the one changed contact.
 */
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../../helpers/cli.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable } from '../../helpers/postgres.js';
import type { ExportStats } from '../../../src/export/run-export.js';

async function changeLog(dir: string, runId: string): Promise<string[]> {
  return (await readFile(join(dir, 'lake', 'changes', `changes-${runId}.csv`), 'utf8')).trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 2).join(','));
}

async function stateLost(t: ExecutionContext, to: string) {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const dir = tempDir(t, 'pylon-state-lost-');
  const night = (runId: string) =>
    runCli(['export', 'lake/contacts/dt={date}/contacts-{run_id}.parquet', '--state', 'lake/contacts.state', '--changes', 'lake/changes/changes-{run_id}.csv', '--to', to, '--run-id', runId, '--rate', FAST_RATE, '--json', '--quiet'], { cwd: dir, env: envFor(emulator) });
  const first = await night('n1');
  t.is(first.code, 0, first.stderr);
  const changed = emulator.store.at(0)!.id;
  emulator.store.update(changed, { name: 'Changed While The State Was Lost' });
  await rm(join(dir, 'lake', 'contacts.state'));

  const second = await night('n2');
  t.is(second.code, 0, second.stderr);
  const stats = statsOf<ExportStats>(second);
  t.like(stats.load, { inserted: 0, updated: 1, deleted: 0 });
  t.deepEqual(await changeLog(dir, 'n2'), [`update,${changed}`], 'the change log lists what the load did: one update, no inserts');
  t.like(stats.delta, { new: 0, changed: 1, deleted: 0 });
  const said = stats.warnings.find((w) => w.includes('contacts.state does not exist'));
  t.truthy(said, `the summary says which state the run used: ${stats.warnings.join(' | ')}`);
  t.regex(said!, /the state kept in .* \(run n1\)/);
  t.true((await readdir(join(dir, 'lake'))).includes('contacts.state'), 'the state file is written again');

  // The next night goes on from the new state file as usual.
  const third = await night('n3');
  t.is(third.code, 0, third.stderr);
  t.deepEqual(await changeLog(dir, 'n3'), []);
  t.like(statsOf<ExportStats>(third).load, { inserted: 0, updated: 0, deleted: 0 });
}

test('duckdb: a deleted --state file while the table keeps its state: the run uses the table\'s state, and its change log agrees with the load', async (t) => {
  const dir = tempDir(t, 'pylon-state-lost-db-');
  await stateLost(t, `duckdb:${join(dir, 'w.duckdb')}`);
});

pgTest(`postgres: a deleted --state file while the table keeps its state: the run uses the table's state, and its change log agrees with the load${PG_SKIP_NOTE}`, async (t) => {
  await stateLost(t, `${PG_URL}#${uniqueTable('statelost')}`);
});

test('duckdb: a --state file written through another address of the same organisation is refused with the way out, and following it keeps the change log to the changes', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const dir = tempDir(t, 'pylon-state-host-');
  const night = (runId: string, url: string) =>
    runCli(['export', 'lake/contacts/dt={date}/contacts-{run_id}.parquet', '--state', 'lake/contacts.state', '--changes', 'lake/changes/changes-{run_id}.csv', '--to', 'duckdb:w.duckdb', '--run-id', runId, '--rate', FAST_RATE, '--json', '--quiet'], { cwd: dir, env: envFor({ url }) });
  t.is((await night('n1', emulator.url)).code, 0);
  const changed = emulator.store.at(0)!.id;
  emulator.store.update(changed, { name: 'Changed Before The Move' });
  // The same server by another name: a proxy, a new host name.
  const moved = emulator.url.replace('127.0.0.1', 'localhost');
  const refused = await night('n2', moved);
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /it holds contacts from 127\.0\.0\.1:\d+, this run reads localhost:\d+; run with the address that wrote it \(--base-url or PYLON_BASE_URL\), or, as both are the organisation Emulated Org \(reached another way: a proxy, another name for the host\), move the state file aside: the next run then takes the state kept in the table as its baseline, so its change log holds only the changes/);
  await rm(join(dir, 'lake', 'contacts.state'));
  const after = await night('n3', moved);
  t.is(after.code, 0, after.stderr);
  t.deepEqual(await changeLog(dir, 'n3'), [`update,${changed}`], 'the change log holds the one change, as the message said');
  t.like(statsOf<ExportStats>(after).load, { inserted: 0, updated: 1, deleted: 0 });
});

test('duckdb: a truncated --state file beside a table that keeps its state is refused saying the table\'s state takes over once it is deleted, and following that keeps the change log to the changes', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const dir = tempDir(t, 'pylon-state-cut-');
  const night = (runId: string) =>
    runCli(['export', 'lake/contacts/dt={date}/contacts-{run_id}.parquet', '--state', 'lake/contacts.state', '--changes', 'lake/changes/changes-{run_id}.csv', '--to', 'duckdb:w.duckdb', '--run-id', runId, '--rate', FAST_RATE, '--json', '--quiet'], { cwd: dir, env: envFor(emulator) });
  t.is((await night('n1')).code, 0);
  const changed = emulator.store.at(0)!.id;
  emulator.store.update(changed, { name: 'Changed Before The Cut' });
  const statePath = join(dir, 'lake', 'contacts.state');
  const whole = await readFile(statePath, 'utf8');
  // Cut after its last entry: the end line is gone, as a copy stopped short leaves it.
  await writeFile(statePath, whole.slice(0, whole.lastIndexOf('\n', whole.length - 2) + 1));
  const refused = await night('n2');
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /is truncated or was changed since it was written \(its end line does not match\); delete it: the next run then takes the state kept in the table as its baseline, so its change log holds only the changes/);
  t.notRegex(refused.stderr, /full export/, 'not the advice of a run without a table');
  await rm(statePath);
  const after = await night('n3');
  t.is(after.code, 0, after.stderr);
  t.deepEqual(await changeLog(dir, 'n3'), [`update,${changed}`], 'the change log holds the one change, as the message said');
  t.like(statsOf<ExportStats>(after).load, { inserted: 0, updated: 1, deleted: 0 });
});
