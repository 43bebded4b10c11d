/**
 * A run started at once after another, against a server whose search lags
 * behind writes and that accepts duplicate emails: the first run's contacts are
 * not searchable yet, and a lookup by search would miss them and create them
 * again. The first run records the lag it measured and when it wrote
 * (servers.json); the second waits for those writes to show before it looks
 * rows up, and says so.
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorOptionsInput } from '../../src/emulator/index.js';
import { settleMs } from '../../src/import/search-visibility.js';
import { contactsCsv, emailOf, envFor, FAST_RATE, filesUnder, notExactlyOnce, runCli, spawnCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const ROWS = 10;

/** An emulator that accepts duplicate emails, a file of ROWS new contacts (`prefix`), and the import both runs make. */
async function lagging(t: ExecutionContext, options: EmulatorOptionsInput, prefix: string) {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow', ...options });
  const dir = tempDir(t);
  const file = join(dir, 'new.csv');
  writeFileSync(file, contactsCsv(ROWS, prefix));
  // servers.json of this test alone; creates paced to 1 a second, so the first run's last ones are seconds old when it ends.
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  const args = ['import', file, '--json', '--no-undo', '--rate', FAST_RATE.replace(/create=\d+/, 'create=60')];
  return { emulator, dir, env, args };
}

test('an immediate second run of the same file against a lagging search that accepts duplicate emails creates no duplicate', async (t) => {
  // More than one list page, so that --lookup auto searches (as against a large organisation) rather than read the list.
  const { emulator, dir, env, args } = await lagging(t, { searchLagMs: 4000, seedRandom: 1200 }, 'lag');

  const first = await runCli(args, { env });
  t.is(first.code, 0, first.stderr);
  t.is(statsOf(first).created, ROWS);
  t.regex(first.stderr, /search shows a new contact only after about/);
  // What the first run recorded: search's lag and a time no earlier than its last write. Until that time plus the lag
  // (with its margin) a later run must not search.
  const [memoryPath] = filesUnder(join(dir, 'state')).filter((f) => f.endsWith('servers.json'));
  const [host] = Object.values(JSON.parse(readFileSync(memoryPath!, 'utf8')) as Record<string, { search_lag: { ms: number }; last_contact_write: { at: string } }>);
  // Measured from the create's answer, not from its write: an answer a busy machine delayed makes it shorter than the
  // emulator's 4 s (3742 ms at a load of 50).
  t.true(host!.search_lag.ms > 0, `lag recorded: ${host!.search_lag.ms} ms`);
  const searchFrom = Date.parse(host!.last_contact_write.at) + settleMs(host!.search_lag.ms);

  // When the second run's first search reaches the emulator (seen no earlier than it came).
  const searchesBefore = emulator.stats().requests.search;
  const run = spawnCli(args, { env });
  let firstSearchAt: number | undefined;
  const watch = setInterval(() => {
    if (firstSearchAt === undefined && emulator.stats().requests.search > searchesBefore) firstSearchAt = Date.now();
  }, 10);
  const second = await run.result.finally(() => clearInterval(watch));
  t.is(second.code, 0, second.stderr);
  const stats = statsOf(second);
  t.is(stats.lookupStrategy, 'search');
  t.is(stats.created, 0, second.stderr);
  t.is(stats.unchanged, ROWS);
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: ROWS }, (_, i) => emailOf('lag', i))), []);
  // The rule itself, whatever the machine's speed: no search before the first run's writes show. A second run that
  // started within that time waits and says so (at once on a quiet machine); one that a busy machine started after it
  // has nothing to wait for (seen at a load of 44: its node process and first calls took longer than the 6.5 s).
  t.true(firstSearchAt !== undefined && firstSearchAt >= searchFrom - 5, `first search ${firstSearchAt! - searchFrom} ms after the first run's writes show`);
  const waited = /search shows a contact only about [\d.]+ s after it is written, and a run wrote contacts there moments ago: waiting \d+ s before looking rows up/.test(second.stderr);
  t.log(waited ? 'the second run waited for the first run\'s writes to show' : 'the second run started after the first run\'s writes showed: nothing to wait for');
});

// A server whose list (and search) lag behind writes, on an organisation small enough for a lookup by list: the list did not
// show the first run's newest contacts yet, and a lookup by list created them again (an explorer's independent server: 36
// of 40 rows created twice). The first run measures the lag on search and records when it wrote (servers.json); the second
// waits for those writes to show before its first list page, as a lookup by search does. With a 4 s lag the old code passed
// on a busy machine (its second run started after the lag), so the lag is 10 s.
test('an immediate second run of the same file against a lagging list that accepts duplicate emails creates no duplicate', async (t) => {
  const { emulator, env, args } = await lagging(t, { listLagMs: 10_000, searchLagMs: 10_000 }, 'listlag');
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
