/**
 * A CSV from a spreadsheet or another tool names its columns its own way (`Full Name`, `Email Address`, `Phone`):
 * the refusal suggests the field each one is usually meant for and gives the --map content that reads them, so a
 * newcomer can copy it into mapping.json. Before, such headers got no suggestion and the message said only "map
 * them with --map mapping.json". The guess is never applied without the map. A typo (`emial`) keeps its "did you
 * mean" and joins the example; a header nothing resembles gets none.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

test('headers other tools write get the field they mean and a --map that reads them, which then imports the file', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-usual-headers-');
  const env = envFor(emulator);
  writeFileSync(join(dir, 'people.csv'), 'Full Name,Email Address,Phone,favourite_colour\nAda Lovelace,ada.usual@example.com,+1 415 555 0142,blue\n');
  const refused = await runCli(['import', 'people.csv', '--dry-run'], { env, cwd: dir });
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /^pylon-contacts: Unknown columns in the header: "Full Name" \(did you mean name\?\), "Email Address" \(did you mean email\?\), "Phone" \(did you mean phone_numbers\?\), "favourite_colour"\. /);
  const map = /map them with --map mapping\.json holding (\{[^}]*\}), or skip them with --ignore-unknown-columns\./.exec(refused.stderr);
  t.truthy(map, refused.stderr);
  t.deepEqual(JSON.parse(map![1]!), { 'Full Name': 'name', 'Email Address': 'email', Phone: 'phone_numbers' });
  t.notRegex(refused.stderr, /\n\s+at /);
  t.is(writes(emulator), 0, 'nothing guessed is sent');

  // The map it gives, copied into a file, imports the row (the column nothing resembles skipped).
  writeFileSync(join(dir, 'mapping.json'), map![1]!);
  const run = await runCli(['import', 'people.csv', '--map', 'mapping.json', '--ignore-unknown-columns', '--json'], { env, cwd: dir });
  t.is(run.code, 0, run.stderr);
  const stored = [...emulator.store.all()].filter((c) => c.email === 'ada.usual@example.com');
  t.is(stored.length, 1);
  t.is(stored[0]!.name, 'Ada Lovelace');
  t.deepEqual(stored[0]!.phone_numbers, ['14155550142']);
  t.true(readFileSync(join(dir, 'mapping.json'), 'utf8').includes('Email Address'));

  // A typo keeps its own suggestion and is in the example too.
  writeFileSync(join(dir, 'typo.csv'), 'name,emial\nBo,bo.usual@example.com\n');
  const typo = await runCli(['import', 'typo.csv', '--dry-run'], { env, cwd: dir });
  t.is(typo.code, 2);
  t.regex(typo.stderr, /"emial" \(did you mean email\?\)\. .*--map mapping\.json holding \{"emial":"email"\}, or skip/);
});
