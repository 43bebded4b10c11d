/**
 * Binary files a user may hand the import by mistake (the export's own Parquet, an
 * xz archive, a workbook under another name), told by their first bytes (gzip is
 * read through gunzip, so it is not one of them). A text
 * reader would call them a CSV with NUL bytes, or not JSON, and suggest an encoding:
 * the message names the format and what to do instead. Pure.
 */

interface Signature {
  magic: readonly number[];
  what: string;
  advice: string;
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

const CONVERT = 'import reads CSV, XLSX, JSON and NDJSON';

const SIGNATURES: readonly Signature[] = [
  {
    magic: ascii('PAR1'),
    what: 'a Parquet file',
    advice: `Parquet is not an import format (${CONVERT}): export as CSV or NDJSON instead (pylon-contacts export --format csv), or convert it, e.g. duckdb -c "COPY (SELECT * FROM 'in.parquet') TO 'in.csv'"`,
  },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: 'an xz archive', advice: `decompress it first (unxz), then import the file inside (${CONVERT})` },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], what: 'a zstd archive', advice: `decompress it first (unzstd), then import the file inside (${CONVERT})` },
  {
    magic: [0x50, 0x4b, 0x03, 0x04],
    what: 'a ZIP archive',
    advice: 'if it is an XLSX workbook, name it .xlsx or pass --format xlsx; otherwise unzip it and import the file inside',
  },
  {
    magic: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    what: 'an old Excel (.xls) workbook or another Office file',
    advice: 'open it in Excel or LibreOffice and save it as .xlsx or CSV',
  },
  { magic: ascii('%PDF'), what: 'a PDF document', advice: `export the contacts from their source as CSV (${CONVERT})` },
  { magic: ascii('ARROW1'), what: 'an Arrow file', advice: `convert it to CSV or NDJSON first (${CONVERT})` },
  { magic: ascii('SQLite format 3'), what: 'an SQLite database', advice: `export the table as CSV first, e.g. sqlite3 -csv -header db.sqlite 'SELECT * FROM contacts' > contacts.csv (${CONVERT})` },
];

/**
 * What binary format `bytes` (the start of a file) is, with what to do instead, or undefined. A signature
 * longer than the bytes at hand is compared on those bytes (a reader that has only a few yet).
 */
export function binaryFormatOf(bytes: Uint8Array): { what: string; advice: string } | undefined {
  for (const { magic, what, advice } of SIGNATURES) {
    // Four bytes at least: fewer could be the start of a text file.
    const n = Math.min(magic.length, bytes.length);
    if (n >= 4 && magic.slice(0, n).every((b, i) => bytes[i] === b)) return { what, advice };
  }
  return undefined;
}

/** The message for a binary input: `x.parquet is a Parquet file: Parquet is not an import format …`. */
export function binaryInputMessage(name: string, bytes: Uint8Array): string | undefined {
  const found = binaryFormatOf(bytes);
  return found && `${name} is ${found.what}: ${found.advice}`;
}
