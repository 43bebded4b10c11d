/**
 * A run started at once after another, against a server whose list (and
 * search) lag behind writes and that accepts duplicate emails, on an
 * organisation small enough for a lookup by list: the list does not show the
 * first run's newest contacts yet, and a lookup by list created them again
 * (an explorer's independent server: 36 of 40 rows created twice). The first
 * run measures the lag on search and records when it wrote (servers.json);
 * the second waits for those writes to show before its first list page, as a
 * lookup by search does.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contactsCsv, emailOf, envFor, FAST_RATE, notExactlyOnce, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const ROWS = 10;

test('an immediate second run of the same file against a lagging list that accepts duplicate emails creates no duplicate', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow', listLagMs: 10_000, searchLagMs: 10_000 });
  const dir = tempDir(t);
  const file = join(dir, 'new.csv');
  writeFileSync(file, contactsCsv(ROWS, 'listlag'));
  // servers.json of this test alone; creates paced to 1 a second, so the first run's last ones are seconds old when it ends.
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  const args = ['import', file, '--json', '--no-undo', '--rate', FAST_RATE.replace(/create=\d+/, 'create=60')];

  const first = await runCli(args, { env });
  t.is(first.code, 0, first.stderr);
  t.is(statsOf(first).created, ROWS);
  t.is(statsOf(first).lookupStrategy, 'list');

  const second = await runCli(args, { env });
  t.is(second.code, 0, second.stderr);
  const stats = statsOf(second);
  t.is(stats.lookupStrategy, 'list');
  t.is(stats.created, 0, second.stderr);
  t.is(stats.unchanged, ROWS);
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: ROWS }, (_, i) => emailOf('listlag', i))), []);
});
