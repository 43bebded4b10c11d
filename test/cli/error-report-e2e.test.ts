/**
 * The error report imports again as it is (docs/import.md): what a failed row held comes back
 * without loss, and never turns into garbled text or a wrong id in Pylon on the second import.
 * The built CLI in a child process against the emulator on a real socket.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as XLSX from '@e965/xlsx';
import { parse } from 'csv-parse/sync';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const importArgs = (file: string, ...args: string[]) => ['import', file, '--json', '-q', '--rate', FAST_RATE, ...args];

test('a Latin-1 byte in a UTF-8 file: the report shows it read as windows-1252, and importing the report as it is stores the text, not U+FFFD or mojibake', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'mixedutf.csv');
  writeFileSync(file, Buffer.concat([Buffer.from('name,email\nRenée Utf,renee2@enc.com\nJos'), Buffer.from([0xe9]), Buffer.from(' Latin,jose2@enc.com\n')]));
  const first = await runCli(importArgs(file), { env: envFor(emulator) });
  t.is(first.code, 3, first.stderr);
  t.like(statsOf(first), { total: 2, created: 1, failed: 1 });
  const reportPath = join(dir, 'mixedutf.errors.csv');
  const report = readFileSync(reportPath);
  t.false(report.includes(Buffer.from('\uFFFD')), 'no byte is replaced by U+FFFD');
  t.regex(report.toString('utf8'), /^José Latin,jose2@enc\.com,3,ROW_ENCODING,,"Line 3 holds bytes that are not valid UTF-8 .*read as windows-1252 in the error report: name ""José Latin""; check that value/m);

  const again = await runCli(importArgs(reportPath), { env: envFor(emulator) });
  t.is(again.code, 0, again.stderr);
  t.like(statsOf(again), { total: 1, created: 1, failed: 0, warnings: [] });
  t.is(emulator.store.findByEmail('jose2@enc.com')?.name, 'José Latin');
  t.is(emulator.store.findByEmail('renee2@enc.com')?.name, 'Renée Utf');
});

test('--encoding windows-1252 on UTF-8 bytes: the row fails ROW_ENCODING with a warning instead of storing mojibake, and the report (with its UTF-8 BOM) imports again with the same flag', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'w1252.csv');
  writeFileSync(file, Buffer.concat([
    Buffer.from('name,email\nZo\xeb,zoe@w1252.test\n', 'latin1'),
    Buffer.from('Renée Utf8,renee@w1252.test\n', 'utf8'),
    Buffer.from('Caf\xe9 Bad,not-an-email\n', 'latin1'),
  ]));
  const results = join(dir, 'results.csv');
  const first = await runCli(importArgs(file, '--encoding', 'windows-1252', '--results', results), { env: envFor(emulator) });
  t.is(first.code, 3, first.stderr);
  t.like(statsOf(first), { total: 3, created: 1, failed: 2 });
  t.regex(String(statsOf<{ warnings: string[] }>(first).warnings), /was read as windows-1252 \(--encoding\), but line 3 holds UTF-8 text: the rows holding it fail with ROW_ENCODING/);
  t.is(emulator.store.findByEmail('zoe@w1252.test')?.name, 'Zoë');
  t.is(emulator.store.findByEmail('renee@w1252.test'), undefined, 'no mojibake stored');
  const reportPath = join(dir, 'w1252.errors.csv');
  const report = readFileSync(reportPath, 'utf8');
  t.true(report.startsWith('\ufeffname,email,_line,'), 'the report starts with a UTF-8 BOM');
  t.true(readFileSync(results, 'utf8').startsWith('_line,_action,'), 'the results, read by scripts and never imported, have none');
  t.regex(report, /^Renée Utf8,renee@w1252\.test,3,ROW_ENCODING,,"Line 3 looks like UTF-8 though --encoding windows-1252 was given .*name ""Renée Utf8""/m);
  t.regex(report, /^Café Bad,not-an-email,4,ROW_INVALID_EMAIL,/m);

  // The user fixes the email and imports the report with the flag the input needed: the BOM wins, nothing is garbled.
  writeFileSync(reportPath, report.replace('not-an-email', 'cafe@w1252.test'));
  const again = await runCli(importArgs(reportPath, '--encoding', 'windows-1252'), { env: envFor(emulator) });
  t.is(again.code, 0, again.stderr);
  t.like(statsOf(again), { total: 2, created: 2, failed: 0 });
  t.regex(String(statsOf<{ warnings: string[] }>(again).warnings), /starts with a utf8 byte-order mark: decoded as utf8, not windows-1252/);
  t.is(emulator.store.findByEmail('renee@w1252.test')?.name, 'Renée Utf8');
  t.is(emulator.store.findByEmail('cafe@w1252.test')?.name, 'Café Bad');
});

test('a UTF-8 file holding a literal U+FFFD is UTF-8: the row imports as written, with no encoding warning', async (t) => {
  const emulator = await startEmulator(t);
  const file = join(tempDir(t), 'fffd.csv');
  writeFileSync(file, 'name,email\nRenée \uFFFD Utf,fffd@enc.com\nJosé,jose@enc.com\n', 'utf8');
  const result = await runCli(importArgs(file), { env: envFor(emulator) });
  t.is(result.code, 0, result.stderr);
  t.like(statsOf(result), { total: 2, created: 2, failed: 0, warnings: [] });
  t.is(emulator.store.findByEmail('fffd@enc.com')?.name, 'Renée \uFFFD Utf');
  t.is(emulator.store.findByEmail('jose@enc.com')?.name, 'José');
});

test('a windows-1252 file holding a byte it leaves undefined: that row fails with ROW_ENCODING, its line and columns in the report, never U+FFFD; the others import', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'cp1252.csv');
  writeFileSync(file, Buffer.concat([
    Buffer.from('name,email\nZo\xeb,zoe@cp.com\nJos', 'latin1'),
    Buffer.from([0x8d]),
    Buffer.from(',jose@cp.com\nCaf\xe9,cafe@cp.com\n', 'latin1'),
  ]));
  for (const args of [[], ['--encoding', 'windows-1252']]) {
    const result = await runCli(importArgs(file, ...args), { env: envFor(emulator) });
    t.is(result.code, 3, result.stderr);
    t.like(statsOf(result), { total: 3, failed: 1 });
    const report = readFileSync(join(dir, 'cp1252.errors.csv'));
    t.false(report.includes(Buffer.from('\uFFFD')), 'no byte is replaced by U+FFFD');
    t.regex(report.toString('utf8'), /^Jos\u008d,jose@cp\.com,3,ROW_ENCODING,,"Line 3 holds the byte 0x8D, which windows-1252 does not define .*: name ""Jos\\u008d""; check that value/m);
    t.is(emulator.store.findByEmail('jose@cp.com'), undefined);
    t.is(emulator.store.findByEmail('zoe@cp.com')?.name, 'Zoë');
    t.is(emulator.store.findByEmail('cafe@cp.com')?.name, 'Café');
  }
});

test('an XLSX id that lost digits: the report keeps it in scientific notation, and importing the report as it is fails the row again instead of storing a wrong id', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'lost.xlsx');
  // HubSpot's record ids are numbers, which a workbook may hold as one (a Salesforce id has letters: the preset refuses a number).
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([
    ['Record ID', 'First Name', 'Last Name', 'Email'],
    [12345678901234567890, 'Noor', 'Haddad', 'noor@lost.example'],
    ['3152', 'Sofia', 'Lindqvist', 'sofia@lost.example'],
  ]), 'Export');
  writeFileSync(file, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  const first = await runCli(importArgs(file, '--from', 'hubspot', '--results', join(dir, 'results.csv')), { env: envFor(emulator) });
  t.is(first.code, 3, first.stderr);
  t.like(statsOf(first), { total: 2, created: 1, failed: 1 });
  const reportPath = join(dir, 'lost.errors.csv');
  const report = readFileSync(reportPath, 'utf8');
  t.regex(report, /^1\.2345678901234567E\+19,Noor,Haddad,noor@lost\.example,2,ROW_XLSX_LOST_DIGITS,Record ID,/m, '_error_field names the column');
  t.false(report.includes('12345678901234567168'), 'no whole number that reads as another id');
  // The code is named once: the results' message starts with it, and the message does not repeat it.
  const results = readFileSync(join(dir, 'results.csv'), 'utf8');
  t.is(results.split('ROW_XLSX_LOST_DIGITS').length - 1, 1, results);
  // The failed row names its email, as the preset reads it from the row.
  t.regex(results, /^2,failed,,noor@lost\.example,,"ROW_XLSX_LOST_DIGITS: /m);

  const again = await runCli(importArgs(reportPath, '--from', 'hubspot'), { env: envFor(emulator) });
  t.is(again.code, 3, again.stderr);
  t.like(statsOf(again), { total: 1, created: 0, failed: 1 });
  const second = readFileSync(join(dir, 'lost.errors.errors.csv'), 'utf8');
  t.regex(second, /^1\.2345678901234567E\+19,Noor,Haddad,noor@lost\.example,2,ROW_XLSX_LOST_DIGITS,Record ID,"Column Record ID holds 1\.2345678901234567E\+19, a number in scientific notation: .*type the real id in its place/m);
  t.is(emulator.store.findByEmail('noor@lost.example'), undefined);
  t.is(emulator.store.size, 1);

  // Once the real id is typed in, the report imports.
  writeFileSync(reportPath, report.replace('1.2345678901234567E+19', '12345678901234567890'));
  const fixed = await runCli(importArgs(reportPath, '--from', 'hubspot'), { env: envFor(emulator) });
  t.is(fixed.code, 0, fixed.stderr);
  t.deepEqual(emulator.store.findByEmail('noor@lost.example')?.external_ids, [{ external_id: '12345678901234567890', label: 'hubspot' }]);
});

test('a CSV saved by Excel with an id in scientific notation: the row fails (ROW_XLSX_LOST_DIGITS) rather than storing the rounded id', async (t) => {
  const emulator = await startEmulator(t);
  const file = join(tempDir(t), 'excel.csv');
  writeFileSync(file, 'name,email,external_id\nNoor,noor@x.example,1.23457E+19\nOmar,omar@x.example,1\nDe,de@x.example,"1,23457E+19"\n');
  const result = await runCli(importArgs(file), { env: envFor(emulator) });
  t.is(result.code, 3, result.stderr);
  t.like(statsOf(result), { total: 3, created: 1, failed: 2 });
  const report = readFileSync(join(file, '..', 'excel.errors.csv'), 'utf8');
  t.regex(report, /^Noor,noor@x\.example,1\.23457E\+19,2,ROW_XLSX_LOST_DIGITS,external_id,/m);
  t.regex(report, /^De,de@x\.example,"1,23457E\+19",4,ROW_XLSX_LOST_DIGITS,external_id,/m);
  t.deepEqual([...emulator.store.all()].map((c) => c.email), ['omar@x.example']);
});

test('a CSV saved by Excel with an id in scientific notation, in a migration: the message names the file\'s column (Record ID), the one the user fixes, not the mapped external_id', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'hubspot-excel.csv');
  writeFileSync(file, 'Record ID,First Name,Last Name,Email\n1.23457E+19,Noor,Haddad,noor@x.example\n2,Omar,Aziz,omar@x.example\n');
  const result = await runCli(importArgs(file, '--from', 'hubspot', '--results', join(dir, 'results.csv')), { env: envFor(emulator) });
  t.is(result.code, 3, result.stderr);
  t.like(statsOf(result), { total: 2, created: 1, failed: 1 });
  const report = readFileSync(join(dir, 'hubspot-excel.errors.csv'), 'utf8');
  t.regex(report, /^1\.23457E\+19,Noor,Haddad,noor@x\.example,2,ROW_XLSX_LOST_DIGITS,Record ID,"Column Record ID holds 1\.23457E\+19, a number in scientific notation: /m);
  t.false(report.includes('external_id'), report);
  t.regex(readFileSync(join(dir, 'results.csv'), 'utf8'), /^2,failed,,noor@x\.example,,"ROW_XLSX_LOST_DIGITS: Column Record ID holds /m);
  t.deepEqual([...emulator.store.all()].map((c) => c.email), ['omar@x.example']);
});

test('a row whose values are over the 1 MiB request body: the dry run and the real run both fail it ROW_TOO_LARGE naming its column, before any write', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'bigname.csv');
  writeFileSync(file, 'name,email\nSmall,small@big.test\n' + 'N'.repeat(1_100_000) + ',bigname@big.test\n');
  for (const args of [['--dry-run'], []]) {
    const result = await runCli(importArgs(file, ...args), { env: envFor(emulator) });
    t.is(result.code, 3, result.stderr);
    t.like(statsOf(result), { total: 2, created: 1, failed: 1 });
    const report = parse(readFileSync(join(dir, 'bigname.errors.csv')), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.like(report, [{ email: 'bigname@big.test', _line: '3', _error_code: 'ROW_TOO_LARGE', _error_field: 'name', _http_status: '' }]);
    t.regex(report[0]!._error_message!, /over the 1,048,576-byte \(1 MiB\) request body this tool sends .*column name alone takes 1,100,002 bytes; shorten it/);
  }
  t.is(emulator.store.findByEmail('bigname@big.test'), undefined);
  t.truthy(emulator.store.findByEmail('small@big.test'));
});

test('the original line survives every round of fix and re-import: a report of a report keeps the input\'s _line', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'l.csv'), 'name,email\nA One,a1@line.example\nB Two,b2@line.example\nC Bad,not-an-email\n');
  const lineOf = (path: string) => (parse(readFileSync(path), { columns: true }) as Array<Record<string, string>>).map((row) => row._line);
  const first = await runCli(importArgs('l.csv'), { env: envFor(emulator), cwd: dir });
  t.is(first.code, 3, first.stderr);
  t.deepEqual(lineOf(join(dir, 'l.errors.csv')), ['4']);
  // Not fixed: it fails again, twice, and each report still names line 4 of l.csv.
  const second = await runCli(importArgs('l.errors.csv'), { env: envFor(emulator), cwd: dir });
  t.is(second.code, 3, second.stderr);
  t.deepEqual(lineOf(join(dir, 'l.errors.errors.csv')), ['4']);
  const third = await runCli(importArgs('l.errors.errors.csv'), { env: envFor(emulator), cwd: dir });
  t.is(third.code, 3, third.stderr);
  t.deepEqual(lineOf(join(dir, 'l.errors.errors.errors.csv')), ['4']);
});
