/**
 * An error report imported again as it is (what the docs suggest after fixing
 * some rows) still holds the rows that failed ROW_DUPLICATE_IN_FILE. Alone in
 * the report, such a row found the kept row's contact by its email and was
 * written over it (black-box testing: a HubSpot record 106 took over record
 * 103's contact, replacing its name and its external id; the original file then
 * failed record 103 for ever). Now it fails again, naming the contact and how
 * to keep it on purpose; a row whose email the user changed is created; and a
 * row whose _error_code the user emptied is imported as any row is.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startEmulator, tempDir, writes } from '../helpers/cli.js';
import { counts, importFile, snapshot, storedFields } from '../helpers/corpus.js';

test('HubSpot: a duplicate row imported again from the error report is not written over the kept record\'s contact, in the dry run and the real run', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'hubspot.csv');
  writeFileSync(input, ['Record ID,First Name,Last Name,Email', '103,Renée,Dupont,RENEE@initech.example', '104,Omar,Haddad,omar@initech.example', '106,Dup,Case,renee@initech.example', ''].join('\r\n'));
  const first = await importFile(t, emulator, input, 'hubspot');
  t.like(first.stats, { created: 2, failed: 1 });
  t.is(first.errors[0]?._error_code, 'ROW_DUPLICATE_IN_FILE');
  const before = snapshot(emulator);
  const writesBefore = writes(emulator);

  const dry = await importFile(t, emulator, first.errorsPath, 'hubspot', ['--dry-run']);
  const again = await importFile(t, emulator, first.errorsPath, 'hubspot');
  t.deepEqual(counts(again.stats), counts(dry.stats), 'the dry run plans what the real run does');
  t.deepEqual(counts(again.stats), { total: 1, created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 1 });
  t.is(writes(emulator), writesBefore, 'nothing is written');
  const error = again.errors[0]!;
  t.is(error._error_code, 'ROW_DUPLICATE_IN_FILE');
  t.regex(error._error_message, /^This row \(line 4 of the file this error report came from\) was a duplicate of line 2 there \(same email\), and contact \S+ answers to its email renee@initech\.example: one email, one row, so it is not written over that contact\. If this row is the one to keep, empty its _error_code cell/i);
  t.is(error['Record ID'], '106', 'the report keeps the row as read');
  for (const [id, json] of before) t.is(JSON.stringify(emulator.store.get(id)), json, `contact ${id} unchanged, byte for byte`);

  // The original file still runs clean: record 103 is its contact's, and a second run writes nothing.
  const rerun = await importFile(t, emulator, input, 'hubspot');
  t.like(rerun.stats, { unchanged: 2, failed: 1 });
  t.is(writes(emulator), writesBefore);
});

test('a plain import: the report\'s duplicate row fails again while its email is the kept row\'s; with a new email it is created; with _error_code emptied it is imported as written', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'people.csv');
  writeFileSync(input, ['name,email', 'Fay First,fay@report.example', 'Sam Second,FAY@report.example', ''].join('\n'));
  const first = await importFile(t, emulator, input, []);
  t.like(first.stats, { created: 1, failed: 1 });
  const report = readFileSync(first.errorsPath, 'utf8');
  const fay = [...emulator.store.all()][0]!;
  const fayBefore = JSON.stringify(fay);

  const again = await importFile(t, emulator, first.errorsPath, []);
  t.like(again.stats, { total: 1, failed: 1, updated: 0 });
  t.regex(again.errors[0]!._error_message, /^This row \(line 3 of the file this error report came from\) was a duplicate of line 2 there \(same email\), and contact \S+ answers to its email FAY@report\.example:/);
  t.is(JSON.stringify(emulator.store.get(fay.id)), fayBefore, 'Fay is untouched');

  // The user gives the row its own email: it is a contact of its own.
  const renamed = join(dir, 'renamed.csv');
  writeFileSync(renamed, report.replace('FAY@report.example', 'sam@report.example'));
  const created = await importFile(t, emulator, renamed, []);
  t.like(created.stats, { total: 1, created: 1, failed: 0 });
  t.is(JSON.stringify(emulator.store.get(fay.id)), fayBefore, 'Fay is untouched');
  const sam = [...emulator.store.all()].find((c) => c.id !== fay.id)!;
  t.deepEqual([storedFields(emulator, sam).name, sam.email], ['Sam Second', 'sam@report.example']);

  // The user decides the duplicate is the row to keep: with its _error_code emptied it updates the contact, as any row would.
  const kept = join(dir, 'kept.csv');
  writeFileSync(kept, report.replace(',ROW_DUPLICATE_IN_FILE,', ',,'));
  const updated = await importFile(t, emulator, kept, []);
  t.like(updated.stats, { total: 1, updated: 1, failed: 0 });
  t.is(emulator.store.get(fay.id)?.name, 'Sam Second');
});

test('a row that duplicated an earlier one by a secondary email names that line and that reason, from the report and from a report of the report', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'hubspot.csv');
  const filler = Array.from({ length: 5 }, (_, i) => `80000${i},Fil,Ler${i},filler${i}@corp.example,`);
  writeFileSync(input, ['Record ID,First Name,Last Name,Email,Additional email addresses', '700001,Alice,A,alice@corp.example,', ...filler, '700002,Bob,B,bob@corp.example,alice@corp.example', ''].join('\n'));
  const first = await importFile(t, emulator, input, 'hubspot');
  t.like(first.stats, { created: 6, failed: 1 });
  t.deepEqual([first.errors[0]?._line, first.errors[0]?._error_code], ['8', 'ROW_DUPLICATE_IN_FILE']);
  const alice = [...emulator.store.all()].find((c) => c.email === 'alice@corp.example')!;
  const expected = `This row (line 8 of the file this error report came from) was a duplicate of line 2 there (same email: one of its secondary emails is an email of that row), and contact ${alice.id} answers to its secondary email alice@corp.example: one email, one row, so it is not written over that contact. If this row is the one to keep, empty its _error_code cell and import it again; otherwise delete it from the report`;

  const again = await importFile(t, emulator, first.errorsPath, 'hubspot');
  t.like(again.stats, { total: 1, failed: 1, updated: 0 });
  t.deepEqual([again.errors[0]?._error_field, again.errors[0]?._error_message], ['emails', expected]);
  // The report of the report: its _line is still the original file's (8), and so are the lines its message names.
  t.is(again.errors[0]?._line, '8');
  const third = await importFile(t, emulator, again.errorsPath, 'hubspot');
  t.is(third.errors[0]?._line, '8');
  t.is(third.errors[0]?._error_message, expected);
});

test('a ROW_MALFORMED row imported again from the error report as it is fails again (its extra cells were dropped), until its _error_code is emptied', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, ['name,email,portal_role', 'Ada,ada@example.com,member', 'Too Many,too.many@example.com,member,"an extra, unquoted",cell', ''].join('\n'));
  const first = await importFile(t, emulator, input, []);
  t.like(first.stats, { created: 1, failed: 1 });
  t.is(first.errors[0]?._error_code, 'ROW_MALFORMED');
  const writesBefore = writes(emulator);

  const dry = await importFile(t, emulator, first.errorsPath, [], ['--dry-run']);
  const again = await importFile(t, emulator, first.errorsPath, []);
  t.deepEqual(counts(again.stats), counts(dry.stats), 'the dry run plans what the real run does');
  t.deepEqual(counts(again.stats), { total: 1, created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 1 });
  t.is(writes(emulator), writesBefore, 'nothing is written');
  t.false([...emulator.store.all()].some((c) => c.email === 'too.many@example.com'), 'the row is not created');
  const error = again.errors[0]!;
  t.is(error._error_code, 'ROW_MALFORMED');
  t.is(error.email, 'too.many@example.com', 'the report keeps the row as read');
  // It names the original line and keeps the first report's message (the cells that were dropped).
  t.true(error._error_message.startsWith('This row was malformed in the file this error report came from (line 3: Line 3 has 5 cells but the header has 3'), error._error_message);
  t.regex(error._error_message, /cells beyond the header: \["an extra, unquoted","cell"\]\)\. The report kept only the cells under the header, so cells may be missing or under the wrong columns: check the row against that line, fix its cells, then empty its _error_code cell and import the report again$/);
  // The report of the report says the same (the first message is kept, not wrapped again).
  const third = await importFile(t, emulator, again.errorsPath, []);
  t.is(third.errors[0]?._error_message, error._error_message);

  // The user looked at the row and emptied its _error_code cell: it is imported.
  const text = readFileSync(again.errorsPath, 'utf8').replace(',ROW_MALFORMED,', ',,');
  const checked = join(dir, 'checked.csv');
  writeFileSync(checked, text);
  const kept = await importFile(t, emulator, checked, []);
  t.like(kept.stats, { created: 1, failed: 0 });
  t.true([...emulator.store.all()].some((c) => c.email === 'too.many@example.com' && c.name === 'Too Many'));
});
