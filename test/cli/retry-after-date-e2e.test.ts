/**
 * `Retry-After` as an HTTP date: a date in the past (a server whose clock is behind ours) asks for no
 * wait the client can use. It is read as no header, so a rate-limited create backs off as usual
 * and the run finishes, instead of retrying at once until its retries run out and stopping fatal.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contactsCsv, envFor, FAST_RATE, notExactlyOnce, emailOf, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

for (const format of ['past-date', 'date'] as const) {
  test(`import: 429s whose Retry-After is ${format === 'date' ? 'an HTTP date ahead' : 'an HTTP date an hour in the past'} are waited out and the run finishes (exit 0)`, async (t) => {
    // Two creates a 3 s window, and no X-Rate-Limit-Remaining: the client meets the limit only through 429s.
    const emulator = await startEmulator(t, { rateOverrides: { create: 2 }, windowMs: 3000, remainingHeader: false, retryAfterHeader: 'retry-after', retryAfterFormat: format });
    const dir = tempDir(t);
    const file = join(dir, 'new.csv');
    writeFileSync(file, contactsCsv(5, 'ra'));
    const run = await runCli(['import', file, '--json', '--no-undo', '--rate', FAST_RATE, '--concurrency', '1'], { env: envFor(emulator) });
    t.is(run.code, 0, run.stderr);
    const stats = statsOf(run);
    t.is(stats.fatal, undefined);
    t.is(stats.created, 5);
    t.true(stats.rateLimited >= 1);
    t.deepEqual(notExactlyOnce(emulator, Array.from({ length: 5 }, (_, i) => emailOf('ra', i))), []);
  });
}
