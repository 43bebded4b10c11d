/**
 * A migration drops a number it cannot store (letters, no valid number for the country, a spreadsheet's
 * 2.02555E+10), with a note. The row's other numbers used to replace the contact's list, so an existing
 * contact lost a valid number it held, often the very one the export had mangled. The list read is
 * not the source's whole list: the contact's numbers are now kept beside the ones read (a number is
 * stored valid, or dropped with a note, and a stored one is never removed for a number not read).
 * A row whose numbers were all read still replaces the list, as before. Against a lenient server
 * answering custom fields as an array (non-default switches).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startEmulator, tempDir } from '../helpers/cli.js';
import { importFile } from '../helpers/corpus.js';

test('a row with a dropped number keeps the numbers its contact holds; the dry run counts as the run does; a second run writes nothing', async (t) => {
  const emulator = await startEmulator(t, { validation: 'lenient', customFieldsShape: 'array' });
  const hs = (id: string) => [{ external_id: id, label: 'hubspot' }];
  const mangled = emulator.store.create({ name: 'Ann Mangled', email: 'ann@nowhere.example', phone_numbers: ['14155550101', '12025550123'], external_ids: hs('501') }).id;
  const letters = emulator.store.create({ name: 'Bo Letters', email: 'bo@nowhere.example', phone_numbers: ['12025550177'], external_ids: hs('502') }).id;
  const allRead = emulator.store.create({ name: 'Cy Read', email: 'cy@nowhere.example', phone_numbers: ['14155550111', '12025550112'], external_ids: hs('503') }).id;
  const dir = tempDir(t);
  const input = join(dir, 'hubspot.csv');
  writeFileSync(
    input,
    'Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Country/Region\n' +
      '501,Ann,Mangled,ann@nowhere.example,+1 415 555 0101,2.02555E+10,United States\n' +
      '502,Bo,Letters,bo@nowhere.example,+1 415 555 0199,CALL ME,United States\n' +
      '503,Cy,Read,cy@nowhere.example,+1 415 555 0111,(202) 555-0188,United States\n',
  );
  const phones = (id: string) => [...(emulator.store.get(id)?.phone_numbers ?? [])].sort();

  const dry = await importFile(t, emulator, input, 'hubspot', ['--dry-run']);
  const run = await importFile(t, emulator, input, 'hubspot');
  t.like(run.stats, { created: 0, updated: 2, unchanged: 1, failed: 0, phonesDropped: 2 });
  t.like(dry.stats, { created: 0, updated: 2, unchanged: 1, failed: 0 });
  t.deepEqual(phones(mangled), ['12025550123', '14155550101'], 'the number the spreadsheet mangled stays');
  t.deepEqual(phones(letters), ['12025550177', '14155550199'], 'a new number read joins the one held');
  t.deepEqual(phones(allRead), ['12025550188', '14155550111'], 'every number read: the list is the row\'s');
  t.deepEqual(run.results.map((r) => r._action), ['unchanged', 'updated', 'updated']);
  t.regex(run.results[0]._message, /phone number dropped: Phone number "2\.02555E\+10" is in scientific notation/);
  t.regex(run.results[1]._message, /phone number dropped: Phone number "CALL ME" holds letters/);

  const again = await importFile(t, emulator, input, 'hubspot');
  t.like(again.stats, { created: 0, updated: 0, unchanged: 3, failed: 0 });
});
