import { readFile } from 'node:fs/promises';
import { ConfigError, InternalError, invalidOption } from '../errors.js';
import { assembleRecordSource, type CsvLayout, type RecordItem, type RecordSource } from '../csv/read.js';

/**
 * An XLSX workbook's sheet read as records (SheetJS, the `@e965/xlsx` build of
 * 0.20.3 with the CVE-2023-30533 and CVE-2024-22363 fixes). Cells are read as
 * the text Excel displays (`w`), so phone numbers keep their leading zeros and
 * ids their digits; a whole number Excel would show in scientific notation
 * (`3.10821E+09` for 3108207129, General format) is given with all its digits,
 * since the workbook still holds them. `line` is the spreadsheet's row number.
 *
 * Memory: the whole workbook is parsed at once (SheetJS has no row streaming).
 */

export interface XlsxSourceOptions {
  input: string;
  /** Sheet name or 1-based number; the first sheet when omitted. */
  sheet?: string;
}

interface Cell {
  t?: string;
  v?: unknown;
  w?: string;
}

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const CFB = [0xd0, 0xcf, 0x11, 0xe0];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

export function createXlsxSource(options: XlsxSourceOptions): RecordSource {
  const name = options.input;
  const warnings: string[] = [];
  let rows: Cell[][] = [];
  let header: string[] = [];
  let headerRow = 0;
  let bytesRead = 0;
  let blankRecords = 0;
  let iterated = false;

  async function doOpen(): Promise<CsvLayout> {
    if (name === '-') throw new ConfigError('CONFIG_INVALID_OPTION', 'An XLSX workbook cannot be read from stdin; save it to a file', { option: '<file>' });
    let bytes: Buffer;
    try {
      bytes = await readFile(name);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ConfigError('INPUT_NOT_FOUND', `Input file not found: ${name}`, { option: '<file>' });
      throw new ConfigError('INPUT_UNREADABLE', `Cannot open ${name}: ${(error as Error).message}`, { option: '<file>' });
    }
    bytesRead = bytes.length;
    if (bytes.length === 0) throw new ConfigError('INPUT_FORMAT', `${name} is empty: expected an XLSX workbook`, { option: '<file>' });
    const isZip = startsWith(bytes, ZIP);
    if (!isZip && !startsWith(bytes, CFB)) {
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
      workbook = XLSX.read(bytes, { type: 'buffer', dense: true, cellText: true, cellDates: false, cellHTML: false, cellFormula: false, sheetStubs: false });
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
    const names = workbook.SheetNames;
    let sheetName: string | undefined = names[0];
    if (options.sheet !== undefined) {
      const n = /^\d+$/.test(options.sheet) ? Number(options.sheet) : undefined;
      sheetName = n !== undefined && !names.includes(options.sheet) ? names[n - 1] : names.find((s) => s === options.sheet) ?? names.find((s) => s.toLowerCase() === options.sheet!.toLowerCase());
      if (sheetName === undefined) throw invalidOption('--sheet', `a sheet of ${name}: ${names.map((s, i) => `${i + 1} "${s}"`).join(', ')}`, options.sheet);
    }
    if (sheetName === undefined) throw new ConfigError('INPUT_FORMAT', `${name} has no sheets`, { option: '<file>' });
    const sheet = workbook.Sheets[sheetName] as unknown as { '!data'?: Cell[][]; '!ref'?: string };
    rows = sheet['!data'] ?? [];
    headerRow = rows.findIndex((row) => row?.some((cell) => text(cell) !== ''));
    if (headerRow === -1) throw new ConfigError('INPUT_FORMAT', `Sheet "${sheetName}" of ${name} is empty: expected a header row${names.length > 1 ? ` (other sheets: ${names.filter((s) => s !== sheetName).join(', ')}; choose one with --sheet)` : ''}`, { option: '--sheet' });
    header = (rows[headerRow] ?? []).map((cell) => text(cell).trim());
    while (header.length > 0 && header[header.length - 1] === '') header.pop();
    if (names.length > 1 && options.sheet === undefined) warnings.push(`${name} has ${names.length} sheets; read the first, "${sheetName}" (choose another with --sheet)`);
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
      const cells: string[] = new Array<string>(width);
      let blank = true;
      for (let c = 0; c < width; c++) {
        const t = text(row?.[c]);
        cells[c] = t;
        if (blank && t.trim() !== '') blank = false;
      }
      if (blank) {
        blankRecords++;
        continue;
      }
      const beyond = row ? row.slice(width).filter((cell) => text(cell).trim() !== '') : [];
      if (beyond.length > 0) {
        yield { line: r + 1, cells: [...cells, ...beyond.map(text)], error: { code: 'XLSX_CELLS_BEYOND_HEADER', message: `Row ${r + 1} has values in columns with no header` } };
        continue;
      }
      yield { line: r + 1, cells };
    }
    close();
  }

  const source = assembleRecordSource({ open: doOpen, close, iterate: iterate, warnings, bytesRead: () => bytesRead, blankRecords: () => blankRecords });
  return source;
}

/** The text a cell shows; whole numbers that Excel would abbreviate (`3.1E+09`) with all their digits. */
export function text(cell: Cell | undefined): string {
  if (!cell) return '';
  if (cell.t === 'n' && typeof cell.v === 'number' && Number.isInteger(cell.v) && Math.abs(cell.v) < 1e15 && /e[+-]?\d/i.test(cell.w ?? '')) return String(cell.v);
  if (cell.w !== undefined) return cell.w;
  if (cell.v === undefined || cell.v === null) return '';
  return String(cell.v);
}
