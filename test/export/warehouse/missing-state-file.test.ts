/**
 * A pipeline's --state file deleted (or lost) while its table keeps the
 * state of the last committed load. The run took the missing file as "no
 * baseline": its change log said insert for every contact, while the table
 * load found them all there and updated or left them. Now the run reads the
 * table's kept state as its baseline when the file is missing, says so, and
 * its change log agrees with the load: one update for the one changed contact.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
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
