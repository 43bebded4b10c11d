import { readFile } from 'node:fs/promises';
import { ConfigError, InternalError, invalidOption } from '../errors.js';
import { assembleRecordSource, type CsvLayout, type RecordItem, type RecordSource } from '../csv/read.js';
import { binaryInputMessage } from '../csv/binary.js';

/**
 * An XLSX workbook's sheet read as records (SheetJS, the `@e965/xlsx` build of
 * 0.20.3 with the CVE-2023-30533 and CVE-2024-22363 fixes). Text cells are
 * read as written, so phone numbers typed as text keep their leading zeros.
 * Number cells are read from the value the workbook stores, not the text Excel
 * displays: a whole number is given with every digit (`3600123456789012`, not
 * `3.60012E+15`), unless it is beyond 2^53, where a stored number cannot hold
 * every digit of an id: that row fails (`ROW_XLSX_LOST_DIGITS`) rather than
 * being read as another id, and the cell reads in scientific notation
 * (`1.2345678901234567E+19`, every digit the workbook has): so written in the
 * error report, it fails again as an id (`lostDigitsId` in
 * import/spreadsheet-values.ts) rather than importing as the whole number
 * `12345678901234567168`. Date cells (a date number format) are ISO dates; a
 * date-time, which a workbook stores without a zone, is read as UTC (`…Z`).
 * `line` is the spreadsheet's row number.
 *
 * Memory: the whole workbook is parsed at once (SheetJS has no row streaming),
 * once per run: the passes over the file share the parse through a WorkbookMemo.
 * What the passes share is not SheetJS's sheet but each row's cells as text
 * (read once, with the column whose number lost digits): the cell objects, the
 * rest of the workbook and the XML the strings were cut from are let go as soon
 * as the sheet is read.
 */

interface Cell {
  t?: string;
  v?: unknown;
  w?: string;
  /** The formula (read with cellFormula), kept only to tell a formula the writer never calculated from an empty cell. */
  f?: string;
  /** The number format (read with cellNF). */
  z?: string | number;
}

type Ssf = typeof import('@e965/xlsx').SSF;

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const CFB = [0xd0, 0xcf, 0x11, 0xe0];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

export interface XlsxSourceOptions {
  input: string;
  /** What messages call the input (default: the path): `stdin` for a copy of standard input, never the copy's path. */
  name?: string;
  /** Sheet name or 1-based number; the first sheet when omitted. */
  sheet?: string;
  /** The run's parsed workbooks: every pass over the file (header, duplicate scan, rows) shares one parse. */
  memo?: WorkbookMemo;
}

/**
 * One row below the header as text: its cells (every cell of the row, the header's width at least), the first column,
 * within the header, whose number lost digits, and the first whose formula has no calculated value (with the formula).
 */
export interface SheetRow {
  cells: string[];
  lost?: number;
  formula?: { column: number; text: string };
}

/** A sheet as read: its rows as text (undefined where the sheet has no row), where its header is, and what the reader has to say about it. */
export interface LoadedSheet {
  rows: Array<SheetRow | undefined>;
  header: string[];
  headerRow: number;
  warnings: string[];
  bytesRead: number;
}

/**
 * A copy of a string that does not point into another one. SheetJS cuts cell
 * strings out of the sheet's XML, and such a slice keeps the whole XML alive;
 * the copy (a new flat string) lets it go. V8 copies strings under 13
 * characters rather than slicing them, so those are kept as they are.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** Each row below the header as text, read once (every pass over the file reads these); empties `rows` as it goes. */
function sheetRows(rows: Cell[][], headerRow: number, width: number, ssf: Ssf, date1904: boolean, seen: { dateTimes: number }): Array<SheetRow | undefined> {
  const out = new Array<SheetRow | undefined>(rows.length);
  for (let r = headerRow + 1; r < rows.length; r++) {
    const row = rows[r];
    if (!row) continue;
    const cells = new Array<string>(Math.max(width, row.length));
    let lost: number | undefined;
    let formula: SheetRow['formula'];
    for (let c = 0; c < cells.length; c++) {
      const cell = row[c];
      cells[c] = detach(text(cell, ssf, date1904));
      if (cell?.t === 'n' && cells[c]!.endsWith('Z')) seen.dateTimes++;
      if (lost === undefined && c < width && lostDigits(cell)) lost = c;
      if (formula === undefined && c < width && formulaWithoutValue(cell)) formula = { column: c, text: detach(cell!.f!) };
    }
    out[r] = { cells, ...(lost === undefined ? {} : { lost }), ...(formula ? { formula } : {}) };
    // Let the row's cell objects go now rather than with the whole sheet, so the text and the cells are not all held at once.
    (rows as Array<Cell[] | undefined>)[r] = undefined;
  }
  return out;
}

/**
 * The parsed workbook of one run, so an XLSX input is parsed once however many
 * passes read it. `clear()` lets it go (the input's close).
 */
export interface WorkbookMemo {
  load(input: string, sheet: string | undefined, name?: string): Promise<LoadedSheet>;
  /** The rows below the header of a sheet already loaded (the progress total), or undefined before its first load. */
  rowCount(input: string, sheet: string | undefined): number | undefined;
  clear(): void;
}

export function createWorkbookMemo(): WorkbookMemo {
  const loaded = new Map<string, Promise<LoadedSheet>>();
  const counts = new Map<string, number>();
  const keyOf = (input: string, sheet: string | undefined) => JSON.stringify([input, sheet ?? null]);
  return {
    load(input, sheet, name) {
      const key = keyOf(input, sheet);
      let entry = loaded.get(key);
      if (!entry) {
        entry = loadSheet(input, sheet, name ?? input);
        loaded.set(key, entry);
        // A failed parse is not kept: the error is thrown to this caller, and a later pass tries again.
        entry.then((s) => counts.set(key, s.rows.reduce((n, row) => (row ? n + 1 : n), 0)), () => loaded.delete(key));
      }
      return entry;
    },
    rowCount: (input, sheet) => counts.get(keyOf(input, sheet)),
    clear: () => {
      loaded.clear();
      counts.clear();
    },
  };
}

async function loadSheet(path: string, sheetOption: string | undefined, name: string): Promise<LoadedSheet> {
  const warnings: string[] = [];
  if (path === '-') throw new ConfigError('CONFIG_INVALID_OPTION', 'An XLSX workbook cannot be read from stdin; save it to a file', { option: '<file>' });
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError('INPUT_NOT_FOUND', `Input file not found: ${name}`, { option: '<file>' });
    throw new ConfigError('INPUT_UNREADABLE', `Cannot open ${name}: ${(error as Error).message}`, { option: '<file>' });
  }
  if (bytes.length === 0) throw new ConfigError('INPUT_FORMAT', `${name} is empty: expected an XLSX workbook`, { option: '<file>' });
  const isZip = startsWith(bytes, ZIP);
  if (!isZip && !startsWith(bytes, CFB)) {
    const binary = binaryInputMessage(name, bytes);
    if (binary) throw new ConfigError('INPUT_FORMAT', `${binary.replace(/^(.*?) is (.*?):/, '$1 is not an XLSX workbook but $2:')}`, { option: '<file>' });
    const text = bytes.subarray(0, 512).toString('utf8');
    const looksText = !text.includes('\u0000') && /[,;\t]/.test(text);
    throw new ConfigError(
      'INPUT_FORMAT',
      `${name} is not an XLSX workbook${looksText ? ': it is a text file (a CSV saved with an .xlsx name?); rename it to .csv or pass --format csv' : ''}`,
      { option: '<file>' },
    );
  }
  const XLSX = await import('@e965/xlsx');
  let workbook;
  try {
    // Formulas and stubs are read to see a formula cell the writer never calculated (openpyxl, SheetJS write none): without
    // them such a cell is left out of the sheet, and would read as empty without a word.
    workbook = XLSX.read(bytes, { type: 'buffer', dense: true, cellText: true, cellNF: true, cellDates: false, cellHTML: false, cellFormula: true, sheetStubs: true });
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (/password|encrypt/i.test(message) || (!isZip && /EncryptionInfo|EncryptedPackage/.test(bytes.toString('latin1')))) {
      throw new ConfigError('INPUT_FORMAT', `${name} is encrypted (password-protected): open it in Excel, remove the password (File → Info → Protect Workbook), save, and import again`, { option: '<file>' });
    }
    throw new ConfigError('INPUT_FORMAT', `${name} cannot be read as a workbook: ${message}`, { option: '<file>' });
  }
  if (!isZip && bytes.toString('latin1').includes('E\u0000n\u0000c\u0000r\u0000y\u0000p\u0000t\u0000e\u0000d\u0000P\u0000a\u0000c\u0000k\u0000a\u0000g\u0000e')) {
    throw new ConfigError('INPUT_FORMAT', `${name} is encrypted (password-protected): open it in Excel, remove the password, save, and import again`, { option: '<file>' });
  }
  const ssf = XLSX.SSF;
  const date1904 = Boolean(workbook.Workbook?.WBProps?.date1904);
  const names = workbook.SheetNames;
  let sheetName: string | undefined = names[0];
  if (sheetOption !== undefined) {
    const n = /^\d+$/.test(sheetOption) ? Number(sheetOption) : undefined;
    sheetName = n !== undefined && !names.includes(sheetOption) ? names[n - 1] : names.find((s) => s === sheetOption) ?? names.find((s) => s.toLowerCase() === sheetOption.toLowerCase());
    if (sheetName === undefined) throw invalidOption('--sheet', `a sheet of ${name}: ${names.map((s, i) => `${i + 1} "${s}"`).join(', ')}`, sheetOption);
  }
  if (sheetName === undefined) throw new ConfigError('INPUT_FORMAT', `${name} has no sheets`, { option: '<file>' });
  const sheet = workbook.Sheets[sheetName] as unknown as { '!data'?: Cell[][]; '!ref'?: string };
  const rows = sheet['!data'] ?? [];
  // A formula never calculated is not blank: a header of such cells is the header, said below, not skipped as empty.
  const headerRow = rows.findIndex((row) => row?.some((cell) => text(cell) !== '' || formulaWithoutValue(cell)));
  if (headerRow === -1) throw new ConfigError('INPUT_FORMAT', `Sheet "${sheetName}" of ${name} is empty: expected a header row${names.length > 1 ? ` (other sheets: ${names.filter((s) => s !== sheetName).join(', ')}; choose one with --sheet)` : ''}`, { option: '--sheet' });
  // A formula's calculated value is its header; without one (a workbook written by openpyxl or SheetJS), the column would
  // have no name, and its cells would read as values beyond the header in every row.
  const uncalculated = (rows[headerRow] ?? []).findIndex((cell) => formulaWithoutValue(cell));
  if (uncalculated !== -1) {
    throw new ConfigError(
      'INPUT_FORMAT',
      `Header cell ${columnLetters(uncalculated)}${headerRow + 1} of sheet "${sheetName}" in ${name} holds a formula without a calculated value (=${rows[headerRow]![uncalculated]!.f}): the program that wrote the workbook did not calculate it, so the column has no name. Open the file in Excel or LibreOffice and save it (which calculates every formula), or type the column name in its place, then import it again`,
      { option: '<file>' },
    );
  }
  const header = (rows[headerRow] ?? []).map((cell) => text(cell, ssf, date1904).trim());
  while (header.length > 0 && header[header.length - 1] === '') header.pop();
  if (names.length > 1 && sheetOption === undefined) warnings.push(`${name} has ${names.length} sheets; read the first, "${sheetName}" (the others: ${names.slice(1).map((s) => JSON.stringify(s)).join(', ')}; choose another with --sheet)`);
  const seen = { dateTimes: 0 };
  const sheetRowsRead = sheetRows(rows, headerRow, header.length, ssf, date1904, seen);
  if (seen.dateTimes > 0) {
    warnings.push(`${seen.dateTimes} date-time cell${seen.dateTimes === 1 ? ' was' : 's were'} read as UTC (…Z): a workbook stores no time zone. If the times are local, write them as text with their offset (2024-11-02T14:30:00+01:00)`);
  }
  return { rows: sheetRowsRead, header, headerRow, warnings, bytesRead: bytes.length };
}

export function createXlsxSource(options: XlsxSourceOptions): RecordSource {
  const name = options.name ?? options.input;
  const warnings: string[] = [];
  let rows: Array<SheetRow | undefined> = [];
  let header: string[] = [];
  let headerRow = 0;
  let bytesRead = 0;
  let blankRecords = 0;
  let iterated = false;

  async function doOpen(): Promise<CsvLayout> {
    const sheet = await (options.memo ?? createWorkbookMemo()).load(options.input, options.sheet, name);
    ({ rows, header, headerRow, bytesRead } = sheet);
    warnings.push(...sheet.warnings);
    return { header, headerLine: headerRow + 1, delimiter: '', encoding: 'xlsx' };
  }

  function close(): void {
    rows = [];
  }

  async function* iterate(): AsyncGenerator<RecordItem> {
    if (iterated) throw new InternalError('A record source can be iterated only once; create another one');
    iterated = true;
    await source.open();
    const width = header.length;
    for (let r = headerRow + 1; r < rows.length; r++) {
      const row = rows[r];
      const cells = row ? row.cells.slice(0, width) : new Array<string>(width).fill('');
      // Before the blank check: a row of such formulas is not blank, its values are missing.
      if (row?.formula !== undefined) {
        const { column, text: formula } = row.formula;
        yield {
          line: r + 1,
          cells,
          error: {
            code: 'ROW_XLSX_FORMULA_NO_VALUE',
            field: header[column] || `column ${column + 1}`,
            message: `Column ${header[column] || `column ${column + 1}`} (cell ${columnLetters(column)}${r + 1}) holds a formula without a calculated value (=${formula}): the program that wrote the workbook did not calculate it, so there is nothing to import. Open the file in Excel or LibreOffice and save it (which calculates every formula), then import it again; or type the value in its place`,
          },
        };
        continue;
      }
      if (cells.every((t) => t.trim() === '')) {
        blankRecords++;
        continue;
      }
      if (row?.lost !== undefined) {
        const column = header[row.lost] || `column ${row.lost + 1}`;
        yield {
          line: r + 1,
          cells,
          error: {
            code: 'ROW_XLSX_LOST_DIGITS',
            field: column,
            message: `Column ${column} holds the number ${cells[row.lost]}: the workbook stores numbers with about 15 significant digits, so this id's last digits are already lost (another id could read the same); the error report keeps it in this form, which fails again: type the real id in its place, or format the column as text in the source and export it again`,
          },
        };
        continue;
      }
      const beyond = row ? row.cells.slice(width).filter((t) => t.trim() !== '') : [];
      if (beyond.length > 0) {
        yield { line: r + 1, cells: [...cells, ...beyond], error: { code: 'XLSX_CELLS_BEYOND_HEADER', message: `Row ${r + 1} has values in columns with no header` } };
        continue;
      }
      yield { line: r + 1, cells };
    }
    close();
  }

  const source = assembleRecordSource({ open: doOpen, close, iterate: iterate, warnings, bytesRead: () => bytesRead, blankRecords: () => blankRecords });
  return source;
}

/** A formula cell with no calculated value: a stub (`t: 'z'`), or a typed cell without a value. */
export function formulaWithoutValue(cell: Cell | undefined): boolean {
  return cell?.f !== undefined && (cell.t === 'z' || cell.v === undefined);
}

/** A 0-based column number as the sheet names it (0 → A, 26 → AA). */
function columnLetters(column: number): string {
  let name = '';
  for (let n = column + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

/** A number cell too large for its stored value to hold every digit (beyond 2^53): an id read from it would be another id. */
export function lostDigits(cell: Cell | undefined): boolean {
  return cell?.t === 'n' && typeof cell.v === 'number' && Number.isInteger(cell.v) && !Number.isSafeInteger(cell.v);
}

/**
 * A number that is not whole, in plain decimal notation, to the 15 significant digits Excel keeps (so a sum stored
 * as 0.30000000000000004 reads 0.3, as Excel shows it), never in scientific notation (`1e-7` → `0.0000001`).
 */
export function plainNumber(v: number): string {
  const rounded = Number(v.toPrecision(15));
  const s = String(rounded);
  if (!/e/i.test(s)) return s;
  // Only tiny numbers reach here (a number past 1e21 is whole): as many places as its 15 digits need.
  const places = Math.min(100, 15 - Math.floor(Math.log10(Math.abs(rounded))));
  return rounded.toFixed(places).replace(/\.?0+$/, '');
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * A cell as text: text cells as written; whole numbers from the stored value
 * with every digit (beyond 2^53, in scientific notation); dates (a date number
 * format) as ISO `YYYY-MM-DD`, with `THH:MM:SSZ` when the cell has a time (read as UTC); other
 * numbers from their stored value in plain notation (`plainNumber`: `0.15` for a cell shown `15%`, `1200.5` for
 * `$1,200.50`), whatever field they go to; a whole number formatted with zeros alone (`00000`) as shown, leading
 * zeros kept; booleans as TRUE/FALSE.
 */
export function text(cell: Cell | undefined, ssf?: Ssf, date1904 = false): string {
  // A stub: a cell the sheet lists without a value (formatted but empty, or a formula never calculated).
  if (!cell || cell.t === 'z') return '';
  if (cell.t === 'n' && typeof cell.v === 'number') {
    const v = cell.v;
    if (ssf && cell.z !== undefined && ssf.is_date(cell.z)) {
      const d = ssf.parse_date_code(v, { date1904 });
      if (d) {
        const day = `${pad(d.y, 4)}-${pad(d.m)}-${pad(d.d)}`;
        // A workbook stores no time zone: a date-time is read as UTC (`Z`), so a datetime custom field takes it as RFC 3339 requires.
        return Number.isInteger(v) ? day : `${day}T${pad(d.H)}:${pad(d.M)}:${pad(d.S)}Z`;
      }
    }
    // A format of zeros alone (`00000`, Excel's zip code, an id padded to its width) shows the digits the value means:
    // its leading zeros are part of the id, not of the number.
    if (Number.isInteger(v) && v >= 0 && typeof cell.z === 'string' && /^0{2,}$/.test(cell.z) && cell.w !== undefined && /^\d+$/.test(cell.w)) return cell.w;
    // Beyond 2^53 the whole number (12345678901234567168) would claim digits the workbook never had.
    if (Number.isInteger(v)) return Number.isSafeInteger(v) ? String(v) : v.toExponential().toUpperCase();
    // The stored value, not the display: `$1,200.50`, `15%`, `1.23E+03` and a General cell's 10 digits are what Excel
    // shows, not the number (as pandas, Power Query and a database import read it).
    return plainNumber(v);
  }
  if (cell.w !== undefined) return cell.w;
  if (cell.v === undefined || cell.v === null) return '';
  return String(cell.v);
}
