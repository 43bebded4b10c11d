/**
 * `_error_field` names the file's column, as the file spells it, whichever check failed the row: the
 * checks decided after validation (in-file duplicates, a missing source id, an unknown account, an email
 * another contact holds, a value the server refused) named the tool's canonical column (`email`,
 * `external_id`, `account_id`, `custom.seats`), which a HubSpot export or a renamed header does not have.
 * Through the built CLI against the emulator, with the HubSpot preset (a copy of it, as docs/migrate.md
 * says to add columns) and with a plain file read through a `--map`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';

const fieldsOf = (path: string) => readCsv(path).map((e) => [e._line, e._error_code, e._error_field]);

test('a HubSpot export through a copy of the preset: each later check names the export\'s column (Email, Record ID, Company ID, Seats)', async (t) => {
  const emulator = await startEmulator(t);
  // Contact 2001 of HubSpot already in Pylon; another contact holds taken@x.example.
  emulator.store.insert({ name: 'Old Owner', email: 'owner@x.example', external_ids: [{ external_id: '2001', label: 'hubspot' }] });
  emulator.store.insert({ name: 'Holder', email: 'taken@x.example' });
  const dir = tempDir(t);
  const preset = JSON.parse(readFileSync(new URL('../../presets/hubspot.json', import.meta.url), 'utf8')) as { fields: Record<string, unknown>; account?: unknown };
  delete preset.account; // the account comes from the Company ID column here, not by name
  preset.fields['account_id'] = 'Company ID';
  preset.fields['custom.seats'] = 'Seats';
  writeFileSync(join(dir, 'hubspot-seats.json'), JSON.stringify(preset));
  const input = join(dir, 'hubspot.csv');
  writeFileSync(
    input,
    [
      'Record ID,First Name,Last Name,Email,Company ID,Seats',
      '1001,Ann,Lee,ann@x.example,,3',
      '1002,Cat,Doe,ann@x.example,,', // duplicate email
      ',Dan,Poe,dan@x.example,,', // no source id
      '1004,Eve,Fox,eve@x.example,acc-none,', // no such account
      '2001,Old,Owner,taken@x.example,,', // its contact would take another contact's email
      '1006,Gus,Hay,gus@x.example,,many', // the server refuses the value (sent as written with --lenient)
      '1007,Ida,Ive,not-an-email,,', // a pre-check, for comparison
    ].join('\n') + '\n',
  );
  const errors = join(dir, 'errors.csv');
  const res = await runCli(['import', input, '--map', join(dir, 'hubspot-seats.json'), '--lenient', '--rate', FAST_RATE, '--errors', errors, '--journal', join(dir, 'j.jsonl')], { env: envFor(emulator), cwd: dir });
  t.is(res.code, 3, res.stderr);
  t.deepEqual(fieldsOf(errors), [
    ['3', 'ROW_DUPLICATE_IN_FILE', 'Email'],
    ['4', 'ROW_EXTERNAL_ID_MISSING', 'Record ID'],
    ['5', 'ROW_ACCOUNT_NOT_FOUND', 'Company ID'],
    ['6', 'ROW_EMAIL_TAKEN', 'Email'],
    ['7', 'ROW_API_REJECTED', 'Seats'],
    ['8', 'ROW_INVALID_EMAIL', 'Email'],
  ]);
  // The pre-check's message names the export's column too.
  t.regex(readCsv(errors).at(-1)!._error_message!, /in column Email$/);
  // Every field named is a column of the file.
  const header = readFileSync(input, 'utf8').split('\n')[0]!.split(',');
  for (const [, , field] of fieldsOf(errors)) t.true(header.includes(field!), field);
  // Only the good row was written.
  t.deepEqual([...emulator.store.all()].map((c) => c.email).sort(), ['ann@x.example', 'owner@x.example', 'taken@x.example']);
});

test('a plain file whose headers a --map renames: the later checks name "E-mail", "Company ID" and "Seats", as the pre-checks do', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'people.csv');
  writeFileSync(input, 'Name,E-mail,Company ID,Seats\nAnn,ann@x.example,acc-none,3\nBob,bad-email,,\nCat,ann@x.example,,\nDee,dee@x.example,,abc\n');
  writeFileSync(join(dir, 'map.json'), JSON.stringify({ Name: 'name', 'E-mail': 'email', 'Company ID': 'account_id', Seats: 'custom.seats' }));
  const errors = join(dir, 'errors.csv');
  const res = await runCli(['import', input, '--map', join(dir, 'map.json'), '--lenient', '--rate', FAST_RATE, '--errors', errors, '--journal', join(dir, 'j.jsonl')], { env: envFor(emulator), cwd: dir });
  t.is(res.code, 3, res.stderr);
  t.deepEqual(fieldsOf(errors), [
    ['2', 'ROW_ACCOUNT_NOT_FOUND', 'Company ID'],
    ['3', 'ROW_INVALID_EMAIL', 'E-mail'],
    ['4', 'ROW_DUPLICATE_IN_FILE', 'E-mail'],
    ['5', 'ROW_API_REJECTED', 'Seats'],
  ]);
  t.is([...emulator.store.all()].length, 0);
});
