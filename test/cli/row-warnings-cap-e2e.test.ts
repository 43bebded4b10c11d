/**
 * The row warnings of a migration (a phone number dropped, …) are listed up to 200; past that the
 * list ends with one line counting the rest and the total, on stderr and in --json `warnings`, so
 * a long list is not taken for the whole.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

test('250 dropped phone numbers: 200 listed, then "… and 50 more row warnings like these (250 in all)"', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  const rows = Array.from({ length: 250 }, (_, i) => `0035g00000Q${String(i).padStart(4, '0')},Ann,Row${i},ann${i}@sf.example,call me`);
  writeFileSync(input, ['Id,FirstName,LastName,Email,Phone', ...rows, ''].join('\n'));
  const res = await runCli(['import', input, '--from', 'salesforce', '--dry-run', '--rate', FAST_RATE, '--json'], { env: envFor(emulator), cwd: dir });
  t.is(res.code, 0, res.stderr);
  const stats = statsOf(res);
  t.is(stats.phonesDropped, 250);
  const lines = stats.warnings.filter((w) => /^line \d+: phone number dropped/.test(w));
  t.is(lines.length, 200);
  const more = stats.warnings.filter((w) => w.startsWith('…'));
  t.deepEqual(more, ["… and 50 more row warnings like these (250 in all), not listed here: each row's _message in --results says what was changed in it"]);
  t.regex(res.stderr, /warning: … and 50 more row warnings like these \(250 in all\)/);
});
