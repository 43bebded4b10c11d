/**
 * XLSX cells that the reader cannot take as written: a date-time (a workbook stores no time zone), a formula the
 * writer never calculated; and what a user can do about each, through the built CLI against the emulator. A plain
 * XLSX or JSON file (no preset, no map) is checked as a CSV is: a title row, or no name column, is said the same way.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import * as XLSX from '@e965/xlsx';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';

function writeWorkbook(path: string, ws: XLSX.WorkSheet): string {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, ws, 'Contacts');
  writeFileSync(path, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  return path;
}

test('an Excel date-time cell goes into a datetime custom field, read as UTC and said once; a zone-less text date-time says how to fix it', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const ws = XLSX.utils.aoa_to_sheet([
    ['name', 'email', 'custom.last_seen_at'],
    // 45598 is 2 November 2024; .6041666… is 14:30.
    ['D1', 'd1@x6.example', 45598 + (14 * 60 + 30) / 1440],
    ['D3', 'd3@x6.example', '2024-11-02 14:30'],
  ]);
  ws.C2!.z = 'yyyy-mm-dd hh:mm';
  const input = writeWorkbook(join(dir, 'dates.xlsx'), ws);
  const errors = join(dir, 'errors.csv');
  const res = await runCli(['import', input, '--rate', FAST_RATE, '--errors', errors, '--json'], { env: envFor(emulator), cwd: dir });
  t.is(res.code, 3, res.stderr);
  t.like(statsOf(res), { created: 1, failed: 1 });
  t.true(statsOf(res).warnings.some((w) => /^1 date-time cell was read as UTC/.test(w)));
  const created = [...emulator.store.all()].find((c) => c.email === 'd1@x6.example');
  t.is(created?.custom_fields?.last_seen_at?.value, '2024-11-02T14:30:00.000Z');
  const [failed] = readCsv(errors);
  t.is(failed?._line, '3');
  t.regex(failed?._error_message ?? '', /"2024-11-02 14:30" has no time zone, so it names no instant: add Z if it is UTC \(2024-11-02T14:30:00Z\)/);
});

test('a row whose name is a formula without a calculated value fails ROW_XLSX_FORMULA_NO_VALUE naming the cell, not ROW_NAME_REQUIRED', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const ws = XLSX.utils.aoa_to_sheet([
    ['name', 'email'],
    ['F1', 'f1@x4.example'],
    ['F2', 'f2@x4.example'],
  ]);
  ws.A2 = { t: 's', f: 'CONCATENATE("F","1")' };
  const input = writeWorkbook(join(dir, 'formula.xlsx'), ws);
  const errors = join(dir, 'errors.csv');
  const results = join(dir, 'results.csv');
  const res = await runCli(['import', input, '--rate', FAST_RATE, '--errors', errors, '--results', results, '--json'], { env: envFor(emulator), cwd: dir });
  t.is(res.code, 3, res.stderr);
  t.like(statsOf(res), { created: 1, failed: 1 });
  const [failed] = readCsv(errors);
  t.is(failed?._line, '2');
  t.is(failed?._error_code, 'ROW_XLSX_FORMULA_NO_VALUE');
  t.is(failed?._error_field, 'name', '_error_field names the column');
  t.regex(failed?._error_message ?? '', /^Column name \(cell A2\) holds a formula without a calculated value \(=CONCATENATE\("F","1"\)\)/);
  t.is(readCsv(results).find((r) => r._line === '2')?.email, 'f1@x4.example');
});

test('a plain XLSX or JSON file is checked as a CSV is: a merged title row is an unknown column with the hint, no name column leaves the rows to fail alone, no email column says so', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const titled = XLSX.utils.aoa_to_sheet([['Contacts export 2026', null], ['name', 'email'], ['Z1', 'z1@s4i.example']]);
  titled['!merges'] = [{ s: { r: 0, c: 0 }, e: { r: 0, c: 1 } }];
  const inputs = {
    titleXlsx: writeWorkbook(join(dir, 'merged.xlsx'), titled),
    titleCsv: join(dir, 'merged.csv'),
    nameXlsx: writeWorkbook(join(dir, 'noname.xlsx'), XLSX.utils.aoa_to_sheet([['email'], ['q1@x.example']])),
    nameJson: join(dir, 'noname.json'),
    emailJson: join(dir, 'noemail.json'),
  };
  writeFileSync(inputs.titleCsv, 'Contacts export 2026,\nname,email\nZ1,z1@s4i.example\n');
  writeFileSync(inputs.nameJson, '[{"email": "q1@x.example"}]\n');
  writeFileSync(inputs.emailJson, '[{"name": "Q"}]\n');
  const run = (input: string) => runCli(['import', input, '--dry-run', '--rate', FAST_RATE, '--json'], { env, cwd: dir });

  for (const input of [inputs.titleXlsx, inputs.titleCsv]) {
    const res = await run(input);
    t.is(res.code, 2, res.stderr);
    t.regex(res.stderr, /Unknown column in the header: "Contacts export 2026"\. The first line holds one cell only: if it is a title above the column names, delete the lines above the header and import again\..*--ignore-unknown-columns/);
    t.notRegex(res.stderr, /The map/);
  }
  for (const input of [inputs.nameXlsx, inputs.nameJson]) {
    const res = await run(input);
    t.is(res.code, 3, res.stderr);
    t.like(statsOf(res), { failed: 1 });
    t.is(readCsv(input.replace(/\.(xlsx|json)$/, '.errors.csv'))[0]?._error_code, 'ROW_NAME_REQUIRED');
  }
  const noEmail = await run(inputs.emailJson);
  t.is(noEmail.code, 2, noEmail.stderr);
  t.regex(noEmail.stderr, /The file has no email or id column, so rows cannot be matched to contacts/);
  t.notRegex(noEmail.stderr, /The map/);
});

test('a date-only XLSX cell (yyyy-mm-dd, m/d/yy) goes into a datetime field as midnight UTC, said once, and into a date field as the date; a date-time cell into a text field is ISO; a CSV of the same values imports the same', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const ws = XLSX.utils.aoa_to_sheet([
    ['name', 'email', 'custom.last_seen_at', 'custom.renewal_date', 'custom.notes'],
    // 45598 is 2 November 2024; .6041666… is 14:30.
    ['X1', 'x1@d3.example', 45598, 45598, 45598 + (14 * 60 + 30) / 1440],
    ['X2', 'x2@d3.example', 45599, 45599, 'typed'],
  ]);
  // The formats Excel gives a typed date: its Short Date (number format 14, m/d/yy) and a custom ISO one.
  ws.C2!.z = 'yyyy-mm-dd';
  ws.D2!.z = 'm/d/yy';
  ws.E2!.z = 'yyyy-mm-dd hh:mm';
  ws.C3!.z = 'm/d/yy';
  ws.D3!.z = 'yyyy-mm-dd';
  const input = writeWorkbook(join(dir, 'dates.xlsx'), ws);
  const res = await runCli(['import', input, '--rate', FAST_RATE, '--json'], { env: envFor(emulator), cwd: dir });
  t.is(res.code, 0, res.stderr);
  t.like(statsOf(res), { created: 2, failed: 0 });
  const warnings = statsOf(res).warnings as string[];
  t.deepEqual(warnings.filter((w) => /midnight UTC/.test(w)), ['2 dates without a time were read as midnight UTC (…T00:00:00Z) for a datetime field. If another time or zone is meant, write it with its offset (2024-11-02T09:00:00+01:00)']);
  t.true(warnings.some((w) => /^1 date-time cell was read as UTC/.test(w)));
  const fields = (email: string) => emulator.store.findByEmail(email)?.custom_fields;
  t.like(fields('x1@d3.example'), { last_seen_at: { value: '2024-11-02T00:00:00.000Z' }, renewal_date: { value: '2024-11-02' }, notes: { value: '2024-11-02T14:30:00Z' } });
  t.like(fields('x2@d3.example'), { last_seen_at: { value: '2024-11-03T00:00:00.000Z' }, renewal_date: { value: '2024-11-03' } });

  // The same values in a CSV: the same contacts, so nothing to write.
  const csv = join(dir, 'dates.csv');
  writeFileSync(csv, 'name,email,custom.last_seen_at,custom.renewal_date,custom.notes\nX1,x1@d3.example,2024-11-02,2024-11-02,2024-11-02T14:30:00Z\nX2,x2@d3.example,2024-11-03,2024-11-03,typed\n');
  const again = await runCli(['import', csv, '--rate', FAST_RATE, '--json'], { env: envFor(emulator), cwd: dir });
  t.is(again.code, 0, again.stderr);
  t.like(statsOf(again), { created: 0, updated: 0, unchanged: 2 });
});

test('a workbook whose first sheet is a README: the header error names the other sheets and --sheet, and --sheet imports', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['This workbook holds contacts on sheet 2'], ['Exported 2026-12-01']]), 'Readme');
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['name', 'email'], ['Rea Sheet', 'rea@sheets.example']]), 'Contacts');
  const input = join(dir, 'twosheets.xlsx');
  writeFileSync(input, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  for (const args of [[], ['--ignore-unknown-columns']]) {
    const res = await runCli(['import', input, '--rate', FAST_RATE, '--dry-run', ...args], { env: envFor(emulator), cwd: dir });
    t.is(res.code, 2, res.stderr);
    t.regex(res.stderr, /has 2 sheets; read the first, "Readme" \(the others: "Contacts"\): if the contacts are on another sheet, pass --sheet with its name\./);
  }
  const res = await runCli(['import', input, '--rate', FAST_RATE, '--sheet', 'Contacts', '--json'], { env: envFor(emulator), cwd: dir });
  t.is(res.code, 0, res.stderr);
  t.like(statsOf(res), { created: 1, failed: 0 });
});
