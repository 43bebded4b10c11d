/**
 * A list that keeps changing through every walk (the emulator's --list-churn:
 * newest first, offset cursors, a contact created or deleted on each page)
 * ends the export `unverified`: a contact present throughout may have been
 * skipped. Such a night must not call anyone deleted: no delete in the change
 * log, no row marked deleted in the table, and the state keeps the unmet
 * contacts' entries, so a later night settles them. Real CLI child processes
 * into a DuckDB file.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { storeContacts } from '../helpers.js';

test('an unverified night (the list changed through every walk) marks no contact deleted in the change log, the table or the state', async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 60 });
  const dir = tempDir(t, 'pylon-unverified-');
  const db = join(dir, 'w.duckdb');
  const night = (runId: string) =>
    runCli(['export', 'c.csv', '--to', `duckdb:${db}`, '--state', 'c.state', '--changes', `changes-${runId}.csv`, '--run-id', runId, '--page-size', '10', '--rate', FAST_RATE, '--quiet'], { cwd: dir, env: envFor(emulator) });
  const first = await night('n1');
  t.is(first.code, 0, first.stderr);
  const stateEntries = (text: string) => text.split('\n').filter((line) => /^[0-9a-f]{16} /.test(line)).map((line) => line.slice(17)).sort();
  const before = stateEntries(readFileSync(join(dir, 'c.state'), 'utf8'));

  // From now on every page with a cursor creates or deletes a contact.
  emulator.options.listChurn = 1000;
  const second = await night('n2');
  t.is(second.code, 3, second.stderr);
  t.regex(second.stderr, /list unverified after \d+ walks/);
  t.regex(second.stderr, /the list was still changing when the export ended, so the \d+ contacts? of the last committed run it did not meet (?:were kept as they were|was kept as it was) \(in the state and the table\), not reported as deleted/);
  const ops = readFileSync(join(dir, 'changes-n2.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[0]);
  t.false(ops.includes('delete'), 'no delete in the change log');
  const after = stateEntries(readFileSync(join(dir, 'c.state'), 'utf8'));
  t.deepEqual(before.filter((id) => !after.includes(id)), [], 'every contact of night 1 is still in the state');
  const instance = await DuckDBInstance.create(db);
  const connection = await instance.connect();
  try {
    const marked = (await connection.runAndReadAll('SELECT id FROM contacts WHERE _deleted_at IS NOT NULL')).getRowObjectsJS().map((r) => String(r.id));
    const present = new Set(storeContacts(emulator).map((c) => c.id));
    t.deepEqual(marked.filter((id) => present.has(id)), [], 'no contact Pylon still has is marked deleted');
    t.deepEqual(marked, [], 'no row marked deleted on an unverified night');
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});
