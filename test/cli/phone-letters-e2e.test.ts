/**
 * A phone cell holding text ("not a phone") is no number whatever its country: with or without --default-country the
 * row is told it holds letters (ROW_INVALID_PHONE), never to write it as +<country code> <number>, which fits a national
 * number only.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startEmulator, tempDir } from '../helpers/cli.js';
import { importFile } from '../helpers/corpus.js';

test('a phone cell holding letters is said to hold letters, with or without --default-country, dropped or failed', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'intercom.csv');
  writeFileSync(input, 'Name,Email,Phone,User ID\nPia,pia@x.example,not a phone,u1\n');
  for (const country of [[], ['--default-country', 'US']]) {
    const failed = await importFile(t, emulator, input, 'intercom', [...country, '--on-bad-phone', 'fail', '--dry-run']);
    t.deepEqual(failed.errors.map((e) => [e._line, e._error_code, e._error_field]), [['2', 'ROW_INVALID_PHONE', 'phone_numbers']], JSON.stringify(failed.errors));
    t.regex(failed.errors[0]?._error_message ?? '', /Phone number "not a phone" holds letters/);
    t.notRegex(failed.errors[0]?._error_message ?? '', /country code/);
    const dropped = await importFile(t, emulator, input, 'intercom', [...country, '--dry-run']);
    t.like(dropped.stats, { created: 1, failed: 0 });
    t.regex(dropped.results[0]?._message ?? '', /Phone number "not a phone" holds letters/);
    t.notRegex(dropped.results[0]?._message ?? '', /country code/);
  }
});
