/**
 * A run started at once after another, against a server whose search lags
 * behind writes and that accepts duplicate emails: the first run's contacts are
 * not searchable yet, and a lookup by search would miss them and create them
 * again. The first run records the lag it measured and when it wrote
 * (servers.json); the second waits for those writes to show before it looks
 * rows up, and says so.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contactsCsv, emailOf, envFor, FAST_RATE, notExactlyOnce, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const ROWS = 10;
/**
 * Search's lag. The second run waits only when it starts within about 1.5 × the lag of the first run's last
 * write: with 4 s (a window of some 6.5 s) a second run that took longer than that to start (node's start,
 * the first run's end) at a load of 35-45 found nothing left to wait for, and the test failed on the
 * missing "waiting" line. 15 s leaves some 24 s for that, and the first run's first search would have to
 * come 15 s after its create to miss the lag.
 */
const LAG_MS = 15_000;

test('an immediate second run of the same file against a lagging search that accepts duplicate emails creates no duplicate', async (t) => {
  // More than one list page, so that --lookup auto searches (as against a large organisation) rather than read the list.
  const emulator = await startEmulator(t, { duplicateEmail: 'allow', searchLagMs: LAG_MS, seedRandom: 1200 });
  const dir = tempDir(t);
  const file = join(dir, 'new.csv');
  writeFileSync(file, contactsCsv(ROWS, 'lag'));
  // servers.json of this test alone; creates paced to 1 a second, so the first run's last ones are seconds old when it ends.
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  const args = ['import', file, '--json', '--no-undo', '--rate', FAST_RATE.replace(/create=\d+/, 'create=60')];

  const first = await runCli(args, { env });
  t.is(first.code, 0, first.stderr);
  t.is(statsOf(first).created, ROWS);
  t.regex(first.stderr, /search shows a new contact only after about/);

  const second = await runCli(args, { env });
  t.is(second.code, 0, second.stderr);
  const stats = statsOf(second);
  t.is(stats.lookupStrategy, 'search');
  t.is(stats.created, 0, second.stderr);
  t.is(stats.unchanged, ROWS);
  t.regex(second.stderr, /search shows a contact only about [\d.]+ s after it is written, and a run wrote contacts there moments ago: waiting \d+ s before looking rows up/);
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: ROWS }, (_, i) => emailOf('lag', i))), []);
});
