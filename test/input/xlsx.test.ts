import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as XLSX from '@e965/xlsx';
import { createWorkbookMemo, createXlsxSource } from '../../src/input/xlsx.js';
import type { RecordItem } from '../../src/csv/read.js';

const dir = mkdtempSync(join(tmpdir(), 'xlsx-source-'));

function workbook(name: string, sheets: Record<string, unknown[][]>): string {
  const wb = XLSX.utils.book_new();
  for (const [sheet, rows] of Object.entries(sheets)) XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), sheet);
  const path = join(dir, name);
  writeFileSync(path, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  return path;
}

async function readAll(input: string, sheet?: string) {
  const source = createXlsxSource({ input, sheet });
  const header = await source.header();
  const items: RecordItem[] = [];
  for await (const item of source) items.push(item);
  return { header, items, warnings: source.warnings, blank: source.blankRecords };
}

test('cells are read as displayed text; long whole numbers keep every digit; row numbers are the sheet rows', async (t) => {
  const path = workbook('contacts.xlsx', {
    Contacts: [
      ['Record ID', 'First Name', 'Phone Number', 'Score'],
      [51234567890123, 'Ada', '020 7946 0958', 0.5],
      [],
      [51234567801, 'Grace', '+44 20 7946 0958', 12],
      [3108207129, 'Tomás', 4155550142, true],
    ],
    Other: [['x'], [1]],
  });
  const { header, items, warnings, blank } = await readAll(path);
  t.deepEqual(header, ['Record ID', 'First Name', 'Phone Number', 'Score']);
  t.deepEqual(items, [
    { line: 2, cells: ['51234567890123', 'Ada', '020 7946 0958', '0.5'] },
    { line: 4, cells: ['51234567801', 'Grace', '+44 20 7946 0958', '12'] },
    { line: 5, cells: ['3108207129', 'Tomás', '4155550142', 'TRUE'] },
  ]);
  t.is(blank, 1);
  t.deepEqual(warnings, [`${path} has 2 sheets; read the first, "Contacts" (the others: "Other"; choose another with --sheet)`]);
});

test('--sheet by name (any case) or number; an unknown sheet lists the sheets', async (t) => {
  const path = workbook('two.xlsx', { First: [['a'], ['1']], Second: [['b'], ['2']] });
  t.deepEqual((await readAll(path, 'second')).items, [{ line: 2, cells: ['2'] }]);
  t.deepEqual((await readAll(path, '2')).header, ['b']);
  await t.throwsAsync(readAll(path, 'Third'), { message: /Invalid option `--sheet`: expected a sheet of .*1 "First", 2 "Second", got "Third"/ });
});

test('an empty sheet, a CSV named .xlsx, an encrypted workbook, an empty file: clear errors', async (t) => {
  const empty = workbook('empty.xlsx', { Sheet1: [] , Data: [['a'], ['1']] });
  await t.throwsAsync(readAll(empty), { message: /Sheet "Sheet1" of .* is empty: expected a header row \(other sheets: Data; choose one with --sheet\)/ });
  const csv = join(dir, 'really.xlsx');
  writeFileSync(csv, 'name,email\nAda,ada@x.example\n');
  const e1 = await t.throwsAsync(readAll(csv), { message: /is not an XLSX workbook: it is a text file \(a CSV saved with an \.xlsx name\?\); rename it to \.csv or pass --format csv/ });
  t.is((e1 as { code?: string }).code, 'INPUT_FORMAT');
  // What Excel writes for a password-protected workbook: a CFB container with EncryptionInfo and EncryptedPackage.
  const cfb = XLSX.CFB.utils.cfb_new();
  XLSX.CFB.utils.cfb_add(cfb, '/EncryptionInfo', Buffer.from([4, 0, 4, 0, 0x40, 0, 0, 0]));
  XLSX.CFB.utils.cfb_add(cfb, '/EncryptedPackage', Buffer.alloc(64, 7));
  const encrypted = join(dir, 'locked.xlsx');
  writeFileSync(encrypted, XLSX.CFB.write(cfb, { type: 'buffer' }) as Buffer);
  await t.throwsAsync(readAll(encrypted), { message: /is encrypted \(password-protected\)/ });
  const zero = join(dir, 'zero.xlsx');
  writeFileSync(zero, '');
  await t.throwsAsync(readAll(zero), { message: /is empty: expected an XLSX workbook/ });
});

test('values in columns without a header make a malformed record', async (t) => {
  const path = workbook('ragged.xlsx', { S: [['a', 'b'], ['1', '2', 'extra']] });
  const { items } = await readAll(path);
  t.is(items[0]!.error?.code, 'XLSX_CELLS_BEYOND_HEADER');
  t.deepEqual(items[0]!.cells, ['1', '2', 'extra']);
});

test('numbers are read from the stored value: 16-digit ids with every digit, formatted numbers without their display, dates as ISO dates', async (t) => {
  const ws = XLSX.utils.aoa_to_sheet([
    ['Record ID', 'Score', 'Signed up', 'Last seen', 'Ratio'],
    // Dates as Excel stores them: serial day numbers (45598 is 2 November 2024) with a date format.
    [3600123456789012, 1250, 45598, 45598 + (14 * 3600 + 30 * 60 + 5) / 86400, 0.25],
  ]);
  // Formats as a user would set them: a thousands separator, a date, a date and time; the id in General (shown 3.60012E+15 by Excel).
  ws.B2!.z = '#,##0';
  ws.C2!.z = 'm/d/yyyy';
  ws.D2!.z = 'yyyy-mm-dd hh:mm:ss';
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, ws, 'Contacts');
  const path = join(dir, 'exact.xlsx');
  writeFileSync(path, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  // The cells as SheetJS displays them: what the reader used to return.
  const shown = XLSX.read(XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer, { type: 'buffer', cellNF: true }).Sheets.Contacts!;
  t.is(shown.A2!.w, '3.60012E+15');
  t.is(shown.B2!.w, '1,250');
  const { items, warnings } = await readAll(path);
  // A workbook stores no time zone: a date-time is read as UTC, as a datetime custom field needs one (said once).
  t.deepEqual(items, [{ line: 2, cells: ['3600123456789012', '1250', '2024-11-02', '2024-11-02T14:30:05Z', '0.25'] }]);
  t.deepEqual(warnings, [
    '1 date-time cell was read as UTC (…Z): a workbook stores no time zone. If the times are local, write them as text with their offset (2024-11-02T14:30:00+01:00)',
  ]);
});

test('a number beyond 2^53 already lost digits in the workbook: the row fails with ROW_XLSX_LOST_DIGITS instead of reading another id', async (t) => {
  const path = workbook('lost.xlsx', {
    Contacts: [
      ['User ID', 'Email'],
      [12345678901234567890, 'a@x.example'],
      [12345678901234567891, 'b@x.example'],
      ['12345678901234567891', 'c@x.example'],
      [9007199254740991, 'd@x.example'],
    ],
  });
  const { items } = await readAll(path);
  t.deepEqual(items.map((i) => [i.line, i.error?.code, i.cells[0]]), [
    // Scientific notation: every digit the workbook has, and not a whole number that reads as another id.
    [2, 'ROW_XLSX_LOST_DIGITS', '1.2345678901234567E+19'],
    [3, 'ROW_XLSX_LOST_DIGITS', '1.2345678901234567E+19'],
    [4, undefined, '12345678901234567891'],
    [5, undefined, '9007199254740991'],
  ]);
  t.regex(items[0]!.error!.message, /^Column User ID holds the number 1\.2345678901234567E\+19: .*last digits are already lost.*the error report keeps it in this form, which fails again: type the real id in its place, or format the column as text/);
});

test('one parse per run: sources sharing a WorkbookMemo read the workbook once (the file can even be gone for the later passes); a failed parse is not kept', async (t) => {
  const path = workbook('once.xlsx', { Contacts: [['Email'], ['a@x.example'], ['b@x.example']] });
  const memo = createWorkbookMemo();
  const first = createXlsxSource({ input: path, memo });
  t.deepEqual(await first.header(), ['Email']);
  first.close();
  rmSync(path);
  const second = createXlsxSource({ input: path, memo });
  const items: RecordItem[] = [];
  for await (const item of second) items.push(item);
  t.deepEqual(items.map((i) => i.cells), [['a@x.example'], ['b@x.example']]);
  // Another sheet is another parse: the file is gone, so it fails, and the failure is not remembered.
  await t.throwsAsync(createXlsxSource({ input: path, sheet: '1', memo }).header(), { message: /Input file not found/ });
  memo.clear();
  await t.throwsAsync(createXlsxSource({ input: path, memo }).header(), { message: /Input file not found/ });
});

test('a formula the writer never calculated (no cached value) fails its row naming the column, the cell and the formula, never reads as empty', async (t) => {
  const ws = XLSX.utils.aoa_to_sheet([
    ['name', 'email', 'seats'],
    ['F1', 'f1@x.example', 1],
    ['F2', 'f2@x.example', 2],
    ['F3', 'f3@x.example', 3],
    [null, null, null],
  ]);
  // As openpyxl and SheetJS write them: the formula, no value. A cached value (C4) and a stored error are read as ever.
  ws.A2 = { t: 's', f: 'CONCATENATE("F","1")' };
  ws.C3 = { t: 'n', f: 'SUM(1,2)' };
  ws.C4 = { t: 'n', v: 3, f: 'SUM(1,2)' };
  ws.A5 = { t: 's', f: 'B4' };
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, ws, 'S');
  const path = join(dir, 'formulas.xlsx');
  writeFileSync(path, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  const { items } = await readAll(path);
  t.deepEqual(
    items.map((i) => [i.line, i.error?.code, i.cells]),
    [
      [2, 'ROW_XLSX_FORMULA_NO_VALUE', ['', 'f1@x.example', '1']],
      [3, 'ROW_XLSX_FORMULA_NO_VALUE', ['F2', 'f2@x.example', '']],
      [4, undefined, ['F3', 'f3@x.example', '3']],
      // A row of such formulas only is not blank: its values are missing.
      [5, 'ROW_XLSX_FORMULA_NO_VALUE', ['', '', '']],
    ],
  );
  t.regex(items[0]!.error!.message, /^Column name \(cell A2\) holds a formula without a calculated value \(=CONCATENATE\("F","1"\)\): .*Open the file in Excel or LibreOffice and save it/);
  t.regex(items[1]!.error!.message, /^Column seats \(cell C3\) holds a formula without a calculated value \(=SUM\(1,2\)\)/);
});

test('formatted numbers are read from their stored value, not their display: currency, percent, scientific, thousands; zero-padded ids keep their zeros', async (t) => {
  const ws = XLSX.utils.aoa_to_sheet([
    ['MRR', 'Discount', 'Revenue', 'Seats', 'Ratio', 'Zip', 'Tiny', 'Phone'],
    [1200.5, 0.15, 1234.5, 1200, 0.1 + 0.2, 2134, 0.0000001, 4155550142],
  ]);
  // The formats as Excel writes them for its Currency, Percentage, Scientific and Number (separator) buttons, a
  // General cell holding a sum, Special → Zip Code, and a phone number typed as a number with Special → Phone Number.
  ws.A2!.z = '"$"#,##0.00';
  ws.B2!.z = '0%';
  ws.C2!.z = '0.00E+00';
  ws.D2!.z = '#,##0';
  ws.F2!.z = '00000';
  ws.H2!.z = '[<=9999999]###-####;\\(###\\)\\ ###\\-####';
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, ws, 'Contacts');
  const path = join(dir, 'formatted.xlsx');
  writeFileSync(path, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  // What Excel shows (and the reader used to return).
  const shown = XLSX.read(XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer, { type: 'buffer', cellNF: true }).Sheets.Contacts!;
  t.deepEqual(['A2', 'B2', 'C2'].map((a) => shown[a]!.w), ['$1,200.50', '15%', '1.23E+03']);
  const { items } = await readAll(path);
  t.deepEqual(items, [{ line: 2, cells: ['1200.5', '0.15', '1234.5', '1200', '0.3', '02134', '0.0000001', '4155550142'] }]);
});

test('a header cell that is a formula: its calculated value is the column name; without one, an INPUT_FORMAT error naming the cell, even when every header cell is one', async (t) => {
  const formulaHeader = (name: string, cells: Record<string, XLSX.CellObject>) => {
    const ws = XLSX.utils.aoa_to_sheet([['name', 'email', 'x'], ['Ada', 'ada@x.example', 'n']]);
    Object.assign(ws, cells);
    const wb = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(wb, ws, 'S');
    const path = join(dir, name);
    writeFileSync(path, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
    return path;
  };
  // As Excel saves it: the formula with its calculated value.
  const cached = await readAll(formulaHeader('cached-header.xlsx', { C1: { t: 's', v: 'custom.notes', f: 'LOWER("CUSTOM.NOTES")' } }));
  t.deepEqual(cached.header, ['name', 'email', 'custom.notes']);
  t.deepEqual(cached.items, [{ line: 2, cells: ['Ada', 'ada@x.example', 'n'] }]);
  // As openpyxl writes it: the formula alone.
  await t.throwsAsync(readAll(formulaHeader('uncalculated-header.xlsx', { C1: { t: 's', f: 'LOWER("CUSTOM.NOTES")' } as XLSX.CellObject })), {
    code: 'INPUT_FORMAT',
    message: /^Header cell C1 of sheet "S" in .*uncalculated-header\.xlsx holds a formula without a calculated value \(=LOWER\("CUSTOM\.NOTES"\)\): .*Open the file in Excel or LibreOffice and save it/,
  });
  const all = { t: 's', f: 'A2' } as XLSX.CellObject;
  await t.throwsAsync(readAll(formulaHeader('all-formulas.xlsx', { A1: all, B1: all, C1: all })), { code: 'INPUT_FORMAT', message: /^Header cell A1 of sheet "S"/ });
});
