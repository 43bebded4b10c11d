/**
 * Ctrl-C in the middle of an export: exit 130, nothing published, and the summary says the way on. An import's
 * summary says `--resume`; an export keeps no journal, and its summary said only that nothing was published, so
 * a newcomer looked for a --resume the export does not have. It now says to run the same command again.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { envFor, spawnCli, startEmulator, tempDir, TOKEN } from '../helpers/cli.js';

test('an export stopped by Ctrl-C publishes nothing and says to run the same command again', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 50 });
  const dir = tempDir(t, 'pylon-export-sigint-');
  // One contact a page at 120 pages a minute: some 25 s if left alone.
  const { child, result } = spawnCli(['export', 'c.csv', '--page-size', '1', '--rate', 'list=120,customFields=1000'], { env: envFor(emulator), cwd: dir });
  // Interrupt once the walk is under way (the child's safety net bounds the wait, not a count of sleeps).
  while ((emulator.stats().requests.list ?? 0) < 2 && child.exitCode === null) await sleep(20);
  child.kill('SIGINT');
  const run = await result;
  t.is(run.code, 130, run.stderr);
  t.regex(run.stderr, /^Export to c\.csv: interrupted after /m);
  t.regex(run.stderr, /\n {2}to finish: run the same command again \(an export starts over; it has nothing to resume\)\n/);
  t.false(existsSync(join(dir, 'c.csv')), 'nothing published');
  t.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.partial')), []);
  t.notRegex(run.stderr, /\n\s+at /);
  t.false(run.stderr.includes(TOKEN) || run.stdout.includes(TOKEN));
});
