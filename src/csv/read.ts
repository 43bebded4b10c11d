import { open as openFile } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ConfigError, InternalError, PylonCliError, invalidOption } from '../errors.js';
import { badBytesMessage, createDecoder, describeInvisible, describeValues, detectBom, hasBadBytes, hasUtf8Characters, isSingleByte, isValidUtf8, looksLikeUtf8, markedBytes, marksBadBytes, readAsUtf8, readBadBytes, resolveEncoding, utf8UnderEncodingMessage, utf8UnderEncodingWarning, type Decoder } from './decode.js';
import { hasEnoughToSniff, readSepLine, sniffDelimiter } from './sniff.js';
import { createTokenizer, type RawRecord, type RecordError, type Tokenizer } from './tokenize.js';
import { binaryInputMessage } from './binary.js';
import { inputNotFound } from '../input/not-found.js';

/**
 * The import's input: a CSV file (or stdin) read as a stream of records, pulled by
 * the consumer's `for await` so a slow consumer pauses the file. Handles BOMs,
 * `--encoding`, delimiter sniffing and Excel's `sep=` line, CR/LF/CRLF, quoted
 * newlines, and malformed records (returned with an `error`, never dropped).
 * A quote that is never closed would swallow the rest of the file: its record is
 * cut at the end of the line where it opened, returned with CSV_QUOTE_NOT_CLOSED
 * (or CSV_MAX_RECORD_SIZE past `maxRecordSize`), a warning is added, and the
 * following lines are read as records again — no row is lost.
 * Memory: the first 64 KiB, then one chunk plus the record in progress.
 */

export interface RecordItem {
  /** 1-based physical line where the record starts, counting the header and any `sep=` line. */
  line: number;
  /** Cells as written, in file order. For a malformed record, its raw text split on the delimiter. */
  cells: string[];
  /** Set when the record is malformed: csv-parse's code and a message with the line. */
  error?: RecordError;
}

export type { RecordError };

export interface RecordSourceOptions {
  /** A file path, `-` for stdin, or a readable byte stream. */
  input: string | Readable;
  /** What messages call the input (default: the path, \`stdin\` for \`-\`): \`stdin\` for a copy of standard input, never the copy's path. */
  name?: string;
  /** `utf8` (default), `utf16le`, `windows-1252`, `latin1`, … anything iconv-lite decodes. A BOM wins over it. */
  encoding?: string;
  /** One character; sniffed from the first records (or a `sep=` line) when omitted. */
  delimiter?: string;
  /** Longest record in characters before an open quote counts as unclosed (default 1 MiB). */
  maxRecordSize?: number;
  /** Bytes per read (default 64 KiB). */
  highWaterMark?: number;
}

/** What is known once the header has been read. */
export interface CsvLayout {
  header: string[];
  /** Line of the header: 1, or 2 after a `sep=` line. */
  headerLine: number;
  delimiter: string;
  /** The encoding used to decode the file (from its BOM, the option, or detection). */
  encoding: string;
}

export interface RecordSource extends AsyncIterable<RecordItem> {
  /** Opens the input and reads up to the header (idempotent). Throws ConfigError for a missing, empty or headerless file. */
  open(): Promise<CsvLayout>;
  /** Shorthand for `(await open()).header`. */
  header(): Promise<string[]>;
  /** Human-readable warnings (invisible characters in headers, encoding guesses). Grows while reading. */
  readonly warnings: string[];
  /** Bytes read from the input so far (for progress). */
  readonly bytesRead: number;
  /** Records skipped because every cell was blank (e.g. `,,,` rows Excel leaves at the end). */
  readonly blankRecords: number;
  /** Releases the file. Needed only when the records are not iterated to the end. */
  close(): void;
}

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** Bytes read before choosing the encoding and delimiter. */
const SNIFF_BYTES = 64 * 1024;

export function createRecordSource(options: RecordSourceOptions): RecordSource {
  const requestedEncoding = options.encoding === undefined ? undefined : resolveEncoding(options.encoding);
  const requestedDelimiter = options.delimiter === undefined ? undefined : checkDelimiter(options.delimiter);
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const name = options.name ?? (typeof options.input === 'string' ? (options.input === '-' ? 'stdin' : options.input) : 'input');
  const warnings: string[] = [];
  let stream: Readable | undefined;
  let chunks: AsyncIterator<Buffer | string> | undefined;
  let layout: CsvLayout | undefined;
  let decoder: Decoder | undefined;
  let tokenizer: Tokenizer | undefined;
  let pending: RawRecord[] = [];
  let bytesRead = 0;
  let blankRecords = 0;
  let iterated = false;
  let finished = false;
  let encoding = 'utf8';
  /** The decoder marks bad bytes (`marksBadBytes`): UTF-8's ill-formed ones, windows-1252's undefined ones. */
  let marking = true;
  /** Decoded text held bad bytes (see `marking`): until then no record can, and none is searched for them. */
  let sawBadBytes = false;
  let warnedBadUtf8 = false;
  /** windows-1252 was a guess (no --encoding): rows that are really UTF-8 are caught rather than garbled. */
  let guessedLegacy = false;
  /** A single-byte encoding was asked for (--encoding windows-1252, latin1…): rows that are really UTF-8 are caught too, and warned of once. */
  let askedSingleByte = false;
  let warnedUtf8 = false;

  async function nextChunk(): Promise<Buffer | undefined> {
    let result: IteratorResult<Buffer | string>;
    try {
      result = await chunks!.next();
    } catch (error) {
      throw new PylonCliError('INPUT_UNREADABLE', `Cannot read ${name}: ${(error as Error).message}`, { cause: error });
    }
    if (result.done) return undefined;
    const chunk = typeof result.value === 'string' ? Buffer.from(result.value) : result.value;
    bytesRead += chunk.length;
    return chunk;
  }

  /** The next decoded text; at the end of input the decoder's tail once, then undefined. */
  async function readText(): Promise<string | undefined> {
    if (finished) return undefined;
    const chunk = await nextChunk();
    if (chunk) return decode(chunk);
    finished = true;
    return noted(decoder!.end());
  }

  /** Decoded text that `decode()` does not see (the sniffed head, the decoder's tail): notes whether it held bad bytes. */
  function noted(text: string): string {
    if (marking && !sawBadBytes && hasBadBytes(text)) sawBadBytes = true;
    return text;
  }

  function decode(bytes: Uint8Array): string {
    const text = decoder!.write(bytes);
    if (encoding === 'utf8' && !warnedBadUtf8 && hasBadBytes(text)) {
      warnedBadUtf8 = true;
      sawBadBytes = true;
      warnings.push(`${name} is not valid UTF-8 near line ${tokenizer?.line ?? 1} (the rows holding bad bytes fail with ROW_ENCODING); pass --encoding windows-1252 (or the file's real encoding) if the whole file is in another encoding`);
    } else if (encoding !== 'utf8') {
      noted(text);
    }
    return text;
  }

  async function doOpen(): Promise<CsvLayout> {
    stream = await openInput(options.input, name, highWaterMark);
    chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;

    // Enough bytes to see a BOM and judge the encoding.
    const parts: Buffer[] = [];
    let size = 0;
    while (size < SNIFF_BYTES) {
      const chunk = await nextChunk();
      if (!chunk) {
        finished = true;
        break;
      }
      parts.push(chunk);
      size += chunk.length;
    }
    let bytes: Uint8Array = Buffer.concat(parts);
    if (bytes.length === 0) throw new ConfigError('CSV_MALFORMED', `${name} is empty: expected a header line`);
    // A binary file (the export's Parquet, an old .xls) would be read as a CSV holding NUL bytes: say what it is.
    const binary = binaryInputMessage(name, bytes);
    if (binary) throw new ConfigError('INPUT_FORMAT', binary, { option: '<file>' });

    const bom = detectBom(bytes);
    if (bom) {
      bytes = bytes.subarray(bom.length);
      encoding = bom.encoding;
      if (requestedEncoding !== undefined && requestedEncoding.replace(/-/g, '') !== encoding) {
        warnings.push(`${name} starts with a ${encoding} byte-order mark: decoded as ${encoding}, not ${options.encoding}`);
      }
    } else if (requestedEncoding !== undefined) {
      encoding = requestedEncoding;
      askedSingleByte = isSingleByte(encoding);
    } else if (isValidUtf8(bytes, finished)) {
      encoding = 'utf8';
    } else if (hasUtf8Characters(bytes)) {
      // Mostly UTF-8 with a few bad bytes: decoding it all as windows-1252 would garble every good
      // accent. It stays UTF-8; the rows holding bad bytes fail with ROW_ENCODING.
      encoding = 'utf8';
    } else {
      encoding = 'windows-1252';
      guessedLegacy = true;
      warnings.push(`${name} is not valid UTF-8: decoded as windows-1252; pass --encoding to choose another encoding`);
    }
    decoder = createDecoder(encoding);
    marking = marksBadBytes(encoding);
    let text = noted(decoder.write(bytes) + (finished ? decoder.end() : ''));
    if (text.slice(0, 4096).includes('\u0000')) {
      throw new ConfigError(
        'CSV_MALFORMED',
        `${name} holds NUL bytes: it is not a text CSV file` + (encoding === 'utf8' ? ' (a UTF-16 file without a byte-order mark? pass --encoding utf16le)' : ''),
        { option: '<file>' },
      );
    }

    let firstLine = 1;
    let delimiter = requestedDelimiter;
    const sep = readSepLine(text);
    if (sep) {
      text = text.slice(sep.length);
      firstLine = 2;
      delimiter ??= sep.delimiter;
    }
    while (delimiter === undefined && !finished && !hasEnoughToSniff(text)) text += (await readText()) ?? '';
    delimiter ??= sniffDelimiter(text, finished);

    tokenizer = createTokenizer({ delimiter, firstLine, maxRecordSize: options.maxRecordSize });
    const records = tokenizer.push(text);
    while (records.length === 0 && !finished) records.push(...tokenizer.push((await readText()) ?? ''));
    if (finished) records.push(...tokenizer.end());

    const headerRecord = records.shift();
    if (!headerRecord) throw new ConfigError('CSV_MALFORMED', `${name} has no header line${sep ? ' after its sep= line' : ''}`);
    if (headerRecord.error) {
      throw new ConfigError('CSV_MALFORMED', `The header of ${name} (line ${headerRecord.line}) is malformed: ${headerRecord.error.message}`);
    }
    pending = records;
    // A header with bytes that are not valid UTF-8 names its columns as windows-1252 reads them (nothing is lost).
    headerRecord.cells = headerRecord.cells.map(readBadBytes);
    for (const cell of headerRecord.cells) {
      const invisible = describeInvisible(cell);
      if (invisible.length > 0) {
        warnings.push(`Header ${JSON.stringify(cell)} contains invisible characters (${invisible.join(', ')}); they are ignored when matching columns`);
      }
    }
    layout = { header: headerRecord.cells, headerLine: headerRecord.line, delimiter, encoding };
    return layout;
  }

  /** Ragged check and blank skipping; undefined for a record to skip. */
  function toItem(record: RawRecord): RecordItem | undefined {
    const width = layout!.header.length;
    if (record.error) {
      if (record.error.code !== 'CSV_INVALID_CLOSING_QUOTE') warnings.push(`${name}, line ${record.line}: ${record.error.message}`);
      if (!record.cells.some(hasBadBytes)) return record;
      // The report shows the cells as written: bad bytes as windows-1252 characters, which the user is told to check.
      const also =
        encoding === 'utf8'
          ? 'bytes that are not valid UTF-8, shown as windows-1252 characters in the error report'
          : 'bytes that windows-1252 does not define, kept as the control characters of the same value in the error report';
      const message = `${record.error.message}; it also holds ${also}: check them when you fix the line`;
      return { ...record, cells: record.cells.map(readBadBytes), error: { ...record.error, message } };
    }
    if (record.cells.every((cell) => cell.trim() === '')) {
      blankRecords++;
      return undefined;
    }
    const encodingProblem = encodingProblemOf(record);
    if (encodingProblem) return { ...record, ...encodingProblem };
    if (record.cells.length !== width) {
      const more = record.cells.length > width;
      return {
        ...record,
        error: {
          code: 'CSV_RECORD_INCONSISTENT_COLUMNS',
          message: `Line ${record.line} has ${record.cells.length} cells but the header has ${width} (${more ? 'too many: an unquoted delimiter in a value?' : 'too few'})`,
        },
      };
    }
    return record;
  }

  /**
   * Why a record's text cannot be trusted (bytes that are not valid UTF-8 or that windows-1252 does not define, or UTF-8 in a file read as windows-1252),
   * with its cells as the error report shows them: the suspect cells read the other way, every byte kept and readable,
   * so the report imports as it is once the user has checked them (it is valid UTF-8, and never holds U+FFFD or mojibake).
   */
  function encodingProblemOf(record: RawRecord): Pick<RecordItem, 'cells' | 'error'> | undefined {
    if (sawBadBytes) {
      const bad = record.cells.flatMap((cell, i) => (hasBadBytes(cell) ? [i] : []));
      if (bad.length > 0) {
        const cells = record.cells.map(readBadBytes);
        const bytes = markedBytes(bad.map((i) => record.cells[i]!));
        return {
          cells,
          error: { code: 'ROW_ENCODING', message: badBytesMessage(`Line ${record.line}`, namedCells(bad, cells), encoding, bytes) },
        };
      }
    }
    if (encoding === 'utf8') return undefined;
    // Most records are ASCII: they are passed without an array made for each.
    if (!(guessedLegacy || askedSingleByte) || !record.cells.some((cell) => /[^\x00-\x7f]/.test(cell))) return undefined;
    const utf8 = record.cells.flatMap((cell, i) => (/[^\x00-\x7f]/.test(cell) && looksLikeUtf8(cell, encoding) ? [i] : []));
    if (utf8.length === 0) return undefined;
    const cells = record.cells.map((cell, i) => (utf8.includes(i) ? readAsUtf8(cell, encoding) : cell));
    const values = `${describeValues(namedCells(utf8, cells))}; check ${utf8.length === 1 ? 'that value' : 'those values'} and import the report again`;
    if (guessedLegacy) {
      return {
        cells,
        error: {
          code: 'ROW_ENCODING',
          message: `Line ${record.line} looks like UTF-8 in a file read as windows-1252 (its text would be garbled), read as UTF-8 in the error report: ${values}, or pass --encoding utf8 or windows-1252 to say which the file is`,
        },
      };
    }
    // --encoding was given, but these bytes are UTF-8 (a file saved as UTF-8, or an error report without its BOM):
    // read as asked, they would be stored as mojibake (`RenÃ©e`), silently.
    if (!warnedUtf8) {
      warnedUtf8 = true;
      warnings.push(utf8UnderEncodingWarning(name, options.encoding!, `line ${record.line}`));
    }
    return { cells, error: { code: 'ROW_ENCODING', message: utf8UnderEncodingMessage(`Line ${record.line}`, namedCells(utf8, cells), options.encoding!) } };
  }

  /** The cells at `indexes`, each with its column's name (for `describeValues`). */
  function namedCells(indexes: number[], cells: string[]): Array<readonly [string, string]> {
    const header = layout!.header;
    return indexes.map((i) => [header[i] ?? `column ${i + 1}`, cells[i]!] as const);
  }

  function close(): void {
    stream?.destroy();
  }

  async function* records(): AsyncGenerator<RecordItem> {
    if (iterated) throw new InternalError('A record source can be iterated only once; create another one');
    iterated = true;
    await source.open();
    try {
      let batch = pending;
      pending = [];
      for (;;) {
        for (const record of batch) {
          const item = toItem(record);
          if (item) yield item;
        }
        if (finished) break;
        const text = await readText();
        batch = text === undefined ? [] : tokenizer!.push(text);
        if (finished) batch.push(...tokenizer!.end());
      }
    } finally {
      close();
    }
  }

  const source = assembleRecordSource({ open: doOpen, close, iterate: records, warnings, bytesRead: () => bytesRead, blankRecords: () => blankRecords });
  return source;
}

/** The parts a record source is made of, whatever the format (CSV here; JSON and XLSX in src/input/). */
export interface RecordSourceParts {
  /** Reads up to the header; called once, on the first `open()`. */
  open(): Promise<CsvLayout>;
  close(): void;
  iterate(): AsyncGenerator<RecordItem>;
  warnings: string[];
  bytesRead(): number;
  blankRecords(): number;
}

/** A RecordSource from its parts: `open()` runs once (a failure closes the input), `header()` opens. */
export function assembleRecordSource<Item extends RecordItem = RecordItem>(parts: Omit<RecordSourceParts, 'iterate'> & { iterate(): AsyncGenerator<Item> }): RecordSource & AsyncIterable<Item> {
  let opening: Promise<CsvLayout> | undefined;
  const source = {
    open() {
      opening ??= parts.open().catch((error: unknown) => {
        parts.close();
        throw error;
      });
      return opening;
    },
    async header() {
      return (await source.open()).header;
    },
    warnings: parts.warnings,
    get bytesRead() {
      return parts.bytesRead();
    },
    get blankRecords() {
      return parts.blankRecords();
    },
    close: parts.close,
    [Symbol.asyncIterator]: parts.iterate,
  };
  return source;
}

function checkDelimiter(value: string): string {
  const delimiter = value === '\\t' || value.toLowerCase() === 'tab' ? '\t' : value;
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') {
    throw invalidOption('--delimiter', 'one character such as , ; | or tab (not a quote or line break)', value);
  }
  return delimiter;
}

/** Opens a file (or stdin for `-`) for reading as a stream; a missing file, a folder or an unreadable one is a ConfigError. */
export async function openInput(input: string | Readable, name: string, highWaterMark: number): Promise<Readable> {
  if (typeof input !== 'string') return input;
  if (input === '-') return process.stdin;
  let handle;
  try {
    handle = await openFile(input, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw inputNotFound(input);
    throw new ConfigError('INPUT_UNREADABLE', `Cannot open ${input}: ${(error as Error).message}`, { option: '<file>' });
  }
  if ((await handle.stat()).isDirectory()) {
    await handle.close();
    throw new ConfigError('INPUT_UNREADABLE', `${name} is a directory: name a CSV, XLSX, JSON or NDJSON file`, { option: '<file>' });
  }
  // A gzip file (an export written with --gzip, say) is read through gunzip.
  const magic = Buffer.alloc(2);
  const { bytesRead } = await handle.read(magic, 0, 2, 0);
  const raw = handle.createReadStream({ highWaterMark, start: 0 });
  if (bytesRead < 2 || !isGzip(magic)) return raw;
  const gunzip = createGunzip({ chunkSize: highWaterMark });
  // A read or inflate error surfaces on gunzip, the stream returned.
  pipeline(raw, gunzip, () => {});
  return gunzip;
}

/** Whether bytes start with gzip's magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}
