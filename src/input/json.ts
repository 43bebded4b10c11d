import type { Readable } from 'node:stream';
import { basename } from 'node:path';
import { ConfigError, InternalError, PylonCliError } from '../errors.js';
import { assembleRecordSource, openInput, type CsvLayout, type RecordItem, type RecordSource } from '../csv/read.js';
import { badBytesMessage, createDecoder, detectBom, hasBadBytes, isSingleByte, looksLikeUtf8, markedBytes, marksBadBytes, readAsUtf8, readBadBytes, resolveEncoding, utf8UnderEncodingMessage, utf8UnderEncodingWarning, type Decoder } from '../csv/decode.js';
import { MULTI_SEPARATOR } from '../columns.js';
import { canonicalDecimal } from '../decimal.js';
import { binaryInputMessage } from '../csv/binary.js';
import { counted } from '../plural.js';

/**
 * A JSON array (`[{…}, {…}]`) or NDJSON (one object per line) read as records,
 * streamed: the array is cut into its elements by a small scanner that tracks
 * strings and nesting, so only one element is parsed at a time.
 *
 * Records are flattened to cells by dotted paths (`user_fields.tier`); arrays of
 * scalars become `;`-separated cells, other arrays their JSON. The header is
 * the paths seen in the first `sampleRecords` records (a path first seen later
 * is ignored, with a warning). `line` is the record's number for an array and
 * its physical line for NDJSON, so reports point at it like CSV line numbers.
 * Text is UTF-8 (JSON's own rule, RFC 8259 §8.1) unless a BOM or `--encoding`
 * says otherwise; nothing is guessed. Bytes that are not valid UTF-8 (or, read
 * as windows-1252, the five bytes it leaves undefined) are marked by the decoder
 * (src/csv/decode.ts) and never reach a cell: the record holding them fails with
 * ROW_ENCODING, its values shown with those bytes read back, as the CSV reader does. The scanner only looks at ASCII, which
 * no bad byte is, so the other records are cut and read as usual.
 * A number a double cannot hold exactly (an id beyond 2^53, 20 digits, 1e400)
 * is read as its source text (`exactNumbers`), never rounded.
 * Memory: the sample, then one chunk and one record.
 */

/** The most text read whole to see whether a file that is not NDJSON is one pretty-printed object wrapping records. */
const WRAPPER_MAX_CHARS = 64 * 1024 * 1024;

export interface JsonSourceOptions {
  input: string | Readable;
  /** What messages call the input (default: the path, \`stdin\` for \`-\`): \`stdin\` for a copy of standard input, never the copy's path. */
  name?: string;
  /** `utf8` (default), or any encoding iconv-lite decodes (`windows-1252`, `latin1`, …). A BOM wins over it. */
  encoding?: string;
  /** Records read before the header is fixed (default 1000). */
  sampleRecords?: number;
  highWaterMark?: number;
}

/**
 * `badBytes`: the paths whose key or value held bad bytes (`value` then has them read back, `readBadBytes`);
 * `byteValues`: those bytes' values, for the message.
 */
type Raw = { line: number; text?: string; value?: unknown; error?: string; /** A record in error: its text as read. */ written?: string; badBytes?: string[]; byteValues?: number[]; keyTwice?: string };

export function createJsonSource(options: JsonSourceOptions): RecordSource {
  const name = options.name ?? (typeof options.input === 'string' ? (options.input === '-' ? 'stdin' : options.input) : 'input');
  const sampleSize = options.sampleRecords ?? 1000;
  const warnings: string[] = [];
  let stream: Readable | undefined;
  let chunks: AsyncIterator<Buffer | string> | undefined;
  const requestedEncoding = options.encoding === undefined ? undefined : resolveEncoding(options.encoding);
  let encoding = 'utf8';
  let decoder: Decoder | undefined;
  let warnedBadUtf8 = false;
  /** A single-byte --encoding was asked for (windows-1252, latin1…), no BOM overriding it: records that are really UTF-8 are caught, as the CSV reader does. */
  let askedSingleByte = false;
  let warnedUtf8 = false;
  let bytesRead = 0;
  let finished = false;
  let mode: 'array' | 'ndjson' | undefined;
  let buffer = '';
  let header: string[] = [];
  let sample: Raw[] = [];
  let iterated = false;
  let blankRecords = 0;
  const unseen = new Set<string>();

  // array scanner state
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let records = 0;
  let ended = false;
  let pos = 0;
  // ndjson state
  let lineNo = 0;

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

  async function more(): Promise<boolean> {
    if (finished) return false;
    const chunk = await nextChunk();
    if (!chunk) {
      finished = true;
      buffer += decoder!.end();
      return false;
    }
    buffer += decoder!.write(chunk);
    return true;
  }

  /** The next raw record, or undefined at the end. */
  async function next(): Promise<Raw | undefined> {
    for (;;) {
      const raw = mode === 'array' ? scanArray() : scanLine();
      if (raw) return raw;
      if (!(await more())) {
        const last = mode === 'array' ? scanArray() : scanLine();
        if (last) return last;
        if (mode === 'array' && !ended) {
          throw new ConfigError('INPUT_FORMAT', `${name}: the JSON array is not closed (the file ends after record ${records}); the file is cut short`, { option: '<file>' });
        }
        return undefined;
      }
    }
  }

  function scanArray(): Raw | undefined {
    for (; pos < buffer.length; pos++) {
      const c = buffer.charCodeAt(pos);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true;
        else if (c === 34) inString = false;
        continue;
      }
      if (c === 34) {
        inString = true;
        if (depth === 1 && start === -1) start = pos;
      } else if (c === 123 || c === 91) {
        if (depth === 1 && start === -1) start = pos;
        depth++;
      } else if (c === 125 || c === 93) {
        depth--;
        if (depth === 0) {
          ended = true;
          const raw = start === -1 ? undefined : cut(pos);
          pos++;
          buffer = buffer.slice(pos);
          pos = 0;
          return raw;
        }
        if (depth === 1) {
          // the element ends here; the comma follows
        }
      } else if (c === 44 && depth === 1) {
        const raw = cut(pos);
        pos++;
        buffer = buffer.slice(pos);
        pos = 0;
        if (raw) return raw;
      } else if (depth === 0 && ended && c > 32) {
        throw new ConfigError('INPUT_FORMAT', `${name}: text after the end of the JSON array`, { option: '<file>' });
      } else if (depth === 1 && start === -1 && c > 32) {
        start = pos; // a scalar element
      }
    }
    // keep the element in progress only
    if (start > 0) {
      buffer = buffer.slice(start);
      pos -= start;
      start = 0;
    } else if (start === -1) {
      buffer = '';
      pos = 0;
    }
    return undefined;
  }

  function cut(end: number): Raw | undefined {
    if (start === -1) return undefined;
    const text = buffer.slice(start, end).trim();
    start = -1;
    if (text === '') return undefined;
    records++;
    return { line: records, text };
  }

  function scanLine(): Raw | undefined {
    for (;;) {
      let nl = buffer.indexOf('\n');
      if (nl === -1) {
        if (!finished || buffer === '') return undefined;
        nl = buffer.length;
      }
      const text = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      lineNo++;
      if (text === '') {
        blankRecords++;
        continue;
      }
      return { line: lineNo, text };
    }
  }

  /**
   * The record's text for its message: a record that is not a JSON object has no cells, so the error report
   * shows what it held here, for the user to copy into its columns (cut at 500 characters, the length said).
   */
  const asWritten = (text: string) => {
    const shown = text.length > 500 ? `${text.slice(0, 499)}… (${text.length} characters)` : text;
    return `; as written: ${shown}; fill its columns from it and empty its _error_code cell`;
  };

  /** `Record 3` (array) or `Line 3` (NDJSON). */
  const where = (line: number) => `${mode === 'array' ? 'Record' : 'Line'} ${line}`;

  function parse(raw: Raw): Raw {
    if (raw.text === undefined) return raw;
    const bad = marksBadBytes(encoding) && hasBadBytes(raw.text);
    if (bad && encoding === 'utf8' && !warnedBadUtf8) {
      warnedBadUtf8 = true;
      warnings.push(`${name} is not valid UTF-8 at ${where(raw.line).toLowerCase()} (the records holding bad bytes fail with ROW_ENCODING); pass --encoding windows-1252 (or the file's real encoding) if the whole file is in another encoding`);
    }
    try {
      const value = parseExact(raw.text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return { line: raw.line, error: readBadBytes(`${where(raw.line)} is ${Array.isArray(value) ? 'an array' : typeof value === 'number' ? raw.text : JSON.stringify(value)}, not a JSON object`), written: raw.text };
      }
      // JSON.parse keeps the last of a key written twice in one object, without a word.
      const keyTwice = repeatedKey(raw.text);
      if (!bad) return { line: raw.line, value, ...(keyTwice ? { keyTwice } : {}) };
      // Bad bytes are only ever inside strings here (elsewhere the text is not JSON), so the text with them read as
      // windows-1252 parses to the same record, every byte kept and readable: what the error report shows.
      const badBytes = [...flatten(value)].filter(([path, cell]) => hasBadBytes(path) || hasBadBytes(cell)).map(([path]) => readBadBytes(path));
      return { line: raw.line, value: parseExact(readBadBytes(raw.text)), badBytes, byteValues: markedBytes([raw.text]) };
    } catch (error) {
      // The parser's message quotes the text: its bad bytes are shown read as windows-1252 too.
      const bytes = encoding === 'utf8' ? 'bytes that are not valid UTF-8, shown read as windows-1252' : 'bytes that windows-1252 does not define, shown as the control characters of the same value';
      const also = bad ? `; it also holds ${bytes}: check them when you fix the record` : '';
      return { line: raw.line, error: readBadBytes(`${where(raw.line)} is not valid JSON: ${(error as Error).message}`) + also, written: raw.text };
    }
  }

  async function doOpen(): Promise<CsvLayout> {
    stream = await openInput(options.input, name, options.highWaterMark ?? 64 * 1024);
    chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
    // Enough bytes to see a byte-order mark, which says the encoding.
    const head: Buffer[] = [];
    let size = 0;
    while (size < 4) {
      const chunk = await nextChunk();
      if (!chunk) {
        finished = true;
        break;
      }
      head.push(chunk);
      size += chunk.length;
    }
    const bytes = Buffer.concat(head);
    const binary = binaryInputMessage(name, bytes);
    if (binary) throw new ConfigError('INPUT_FORMAT', binary, { option: '<file>' });
    const bom = detectBom(bytes);
    encoding = bom?.encoding ?? requestedEncoding ?? 'utf8';
    if (bom && requestedEncoding !== undefined && requestedEncoding.replace(/-/g, '') !== bom.encoding) {
      warnings.push(`${name} starts with a ${bom.encoding} byte-order mark: decoded as ${bom.encoding}, not ${options.encoding}`);
    }
    askedSingleByte = bom === undefined && requestedEncoding !== undefined && isSingleByte(encoding);
    decoder = createDecoder(encoding);
    buffer = decoder.write(bytes.subarray(bom?.length ?? 0)) + (finished ? decoder.end() : '');
    while (buffer.trim() === '' && (await more()));
    buffer = buffer.replace(/^\ufeff/, '');
    const first = buffer.trimStart()[0];
    if (first === '[') {
      mode = 'array';
      pos = buffer.indexOf('[') + 1;
      depth = 1;
    } else if (first === '{') {
      mode = 'ndjson';
    } else {
      throw new ConfigError('INPUT_FORMAT', `${name} is ${first === undefined ? 'empty' : 'not JSON'}: expected a JSON array of objects ([{…}, …]) or NDJSON (one object per line)`, { option: '<file>' });
    }
    const paths = new Map<string, true>();
    while (sample.length < sampleSize) {
      const raw = await next();
      if (!raw) break;
      const parsed = parse(raw);
      if (mode === 'ndjson' && sample.length === 0 && parsed.error) {
        // A pretty-printed API page ({\n  "users": [\n …) fails on its first line: read whole, it is the wrapper a
        // one-line page is found to be below, and gets the same message naming the key (it got only the general one).
        const wrapped = await wholeDocumentWrapper(raw.text ?? '');
        if (wrapped) throw wrapperError(wrapped);
        throw new ConfigError(
          'INPUT_FORMAT',
          `${name} is neither a JSON array nor NDJSON: line ${raw.line} is not a complete JSON object (${parsed.error.replace(/^Line \d+ /, '')}). A single object such as {"users": [...]} must be unwrapped first, e.g. jq '.users' in.json > users.json`,
          { option: '<file>' },
        );
      }
      if (parsed.value) for (const path of flatten(parsed.value).keys()) paths.set(path, true);
      sample.push(parsed);
    }
    const wrapped = mode === 'ndjson' && sample.length === 1 ? wrappedRecords(sample[0]!.value) : undefined;
    // An API page ({"users": [...], "next_page": null, "count": 7}) read as one NDJSON record would be one row whose
    // columns are the page's keys: "unknown columns: users, next_page", then "no email column". Say where the records are.
    if (wrapped) throw wrapperError(wrapped);
    header = [...paths.keys()];
    if (header.length === 0) throw new ConfigError('INPUT_FORMAT', `${name} holds no JSON objects`, { option: '<file>' });
    return { header, headerLine: 0, delimiter: '', encoding };
  }

  /** The records are inside `wrapped.key` of the file's one object: the jq command that takes them out. */
  function wrapperError(wrapped: { key: string; count: number; plan?: true }): ConfigError {
    const path = /^[A-Za-z_][A-Za-z0-9_]*$/.test(wrapped.key) ? `.${wrapped.key}` : `.[${JSON.stringify(wrapped.key)}]`;
    const file = typeof options.input === 'string' && options.input !== '-' ? basename(options.input) : 'in.json';
    if (wrapped.plan) {
      const plan = typeof options.input === 'string' && options.input !== '-' ? options.input : 'plan.json';
      return new ConfigError(
        'INPUT_FORMAT',
        `${name} is a pylon-contacts plan (made with --plan-out), not a file of contacts: review it with \`pylon-contacts show ${plan}\` and apply it with \`pylon-contacts apply ${plan}\`. Nothing was sent to Pylon.`,
        { option: '<file>' },
      );
    }
    const out = /^[A-Za-z0-9_-]+$/.test(wrapped.key) ? `${wrapped.key}.json` : 'records.json';
    return new ConfigError(
      'INPUT_FORMAT',
      `${name} is one JSON object, not a list of records: its records are inside "${wrapped.key}" (${counted(wrapped.count, 'object')}). Unwrap them first, e.g. jq '${path}' ${file} > ${out}, and import ${out}`,
      { option: '<file>' },
    );
  }

  /**
   * Whether the file, whose first line (`firstLine`, already taken from the buffer) is no JSON object, is one JSON
   * object written over several lines that wraps the records. It is read whole for that, up to WRAPPER_MAX_CHARS
   * (an API page is far smaller); a larger file is not looked at, and gets the general message.
   */
  async function wholeDocumentWrapper(firstLine: string): Promise<{ key: string; count: number } | undefined> {
    while (buffer.length < WRAPPER_MAX_CHARS && (await more()));
    if (!finished || buffer.length >= WRAPPER_MAX_CHARS) return undefined;
    try {
      return wrappedRecords(JSON.parse(`${firstLine}\n${buffer}`));
    } catch {
      return undefined;
    }
  }

  /**
   * The key under which a file's only object holds its records (the longest array of objects), when that object is
   * a wrapper rather than a contact: it has no top-level email, emails or id (a contact may hold an array of
   * objects too, such as its external_ids).
   */
  function wrappedRecords(value: unknown): { key: string; count: number; plan?: true } | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    // A saved plan (`--plan-out`; PLAN_FORMAT of src/update/plan-file.ts) is applied, not imported: its "changes" are no contacts.
    if ((value as { format?: unknown }).format === 'pylon-contacts-plan') return { key: 'changes', count: 0, plan: true };
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.some(([key]) => /^(e-?mail|emails|id)$/i.test(key.trim()))) return undefined;
    let best: { key: string; count: number } | undefined;
    for (const [key, inner] of entries) {
      const records = Array.isArray(inner) && inner.length > 0 && inner.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item));
      if (records && (best === undefined || (inner as unknown[]).length > best.count)) best = { key, count: (inner as unknown[]).length };
    }
    return best;
  }

  function toItem(raw: Raw): RecordItem {
    if (raw.error) return { line: raw.line, cells: [], error: { code: 'JSON_INVALID_RECORD', message: raw.error + asWritten(readBadBytes(raw.written ?? '')) } };
    const flat = flatten(raw.value);
    if (flat.size > header.length || [...flat.keys()].some((k) => !header.includes(k))) {
      for (const k of flat.keys()) {
        if (!unseen.has(k) && !header.includes(k)) {
          unseen.add(k);
          warnings.push(`${name}: field ${k} first appears in record ${raw.line}, after the ${sampleSize} records that fixed the columns; it is ignored`);
        }
      }
    }
    const cells = header.map((h) => flat.get(h) ?? '');
    if (raw.badBytes) {
      const message = badBytesMessage(where(raw.line), raw.badBytes.map((path) => [path, flat.get(path) ?? ''] as const), encoding, raw.byteValues);
      return { line: raw.line, cells, error: { code: 'ROW_ENCODING', message } };
    }
    // --encoding windows-1252 (or another single-byte encoding) on UTF-8 bytes: read as asked, they would be stored
    // as mojibake (`RenÃ©e`), silently. The record fails, its cells read as the UTF-8 they are in the error report.
    const utf8 = askedSingleByte ? cells.flatMap((cell, i) => (/[^\x00-\x7f]/.test(cell) && looksLikeUtf8(cell, encoding) ? [i] : [])) : [];
    if (utf8.length > 0) {
      if (!warnedUtf8) {
        warnedUtf8 = true;
        warnings.push(utf8UnderEncodingWarning(name, options.encoding!, where(raw.line).toLowerCase()));
      }
      const read = cells.map((cell, i) => (utf8.includes(i) ? readAsUtf8(cell, encoding) : cell));
      const message = utf8UnderEncodingMessage(where(raw.line), utf8.map((i) => [header[i]!, read[i]!] as const), options.encoding!);
      return { line: raw.line, cells: read, error: { code: 'ROW_ENCODING', message } };
    }
    const twice = raw.keyTwice ?? fieldTwice(raw.value);
    if (twice) return { line: raw.line, cells, error: { code: 'ROW_FIELD_TWICE', message: `${where(raw.line)} ${twice}` } };
    return { line: raw.line, cells };
  }

  function close(): void {
    stream?.destroy();
  }

  async function* iterate(): AsyncGenerator<RecordItem> {
    if (iterated) throw new InternalError('A record source can be iterated only once; create another one');
    iterated = true;
    await source.open();
    try {
      const held = sample;
      sample = [];
      for (const raw of held) yield toItem(raw);
      for (let raw = await next(); raw; raw = await next()) yield toItem(parse(raw));
    } finally {
      close();
    }
  }

  const source = assembleRecordSource({ open: doOpen, close, iterate: iterate, warnings, bytesRead: () => bytesRead, blankRecords: () => blankRecords });
  return source;
}

/**
 * A record's text with each number a double cannot hold exactly turned into a string of its source text, so
 * JSON.parse keeps every digit: 9007199254740993 would read as …992 (another id), 99999999999999999999 as 1e20,
 * 1e400 as Infinity. Numbers a double holds (12, 0.1, 1.50, 1e3) stay numbers. Node 20's JSON.parse gives no
 * source text, hence this scan; it runs only on records holding a long run of digits or an exponent, since a
 * number of at most 15 significant digits and no exponent always reads back as written.
 */
export function exactNumbers(text: string): string {
  if (!MAYBE_INEXACT.test(text)) return text;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // A string (a key or a value) is skipped whole: to the next quote that no odd run of backslashes escapes.
      for (;;) {
        const quote = text.indexOf('"', i + 1);
        if (quote === -1) return from === 0 ? text : out + text.slice(from); // not JSON: the parser says so
        i = quote;
        let b = quote - 1;
        while (text.charCodeAt(b) === 92) b--;
        if ((quote - 1 - b) % 2 === 0) break;
      }
      continue;
    }
    if (c !== 45 && (c < 48 || c > 57)) continue;
    NUMBER_TOKEN.lastIndex = i;
    const token = NUMBER_TOKEN.exec(text)?.[0];
    if (!token) continue;
    // At most 15 characters and no exponent: at most 15 significant digits, which a double always holds.
    if ((token.length > 15 || token.includes('e') || token.includes('E')) && !holdsExactly(token)) {
      out += `${text.slice(from, i)}"${token}"`;
      from = i + token.length;
    }
    i += token.length - 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** JSON.parse keeping every digit of an object's numbers (`exactNumbers`); a parse error quotes the text as written. */
function parseExact(text: string): unknown {
  // Only an object's numbers: a record that is a number is shown as written in its "not a JSON object" message.
  const exact = text.startsWith('{') ? exactNumbers(text) : text;
  if (exact === text) return JSON.parse(text);
  try {
    return JSON.parse(exact);
  } catch {
    return JSON.parse(text);
  }
}

/** A digit followed by 15 more digits or points (16 significant digits or more), or a digit with an exponent. */
const MAYBE_INEXACT = /\d[\d.]{15}|\d[eE]/;
const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

/** Whether a JSON number reads back as the same decimal number (a double rounds 9007199254740993 and overflows 1e400). */
function holdsExactly(token: string): boolean {
  const n = Number(token);
  if (!Number.isFinite(n)) return false;
  const exact = canonicalDecimal(token);
  return exact !== undefined && exact === canonicalDecimal(String(n));
}

/** An object's leaves by dotted path: scalars as text, arrays of scalars joined with `;`, other arrays as JSON, null as empty. */
export function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value === null || value === undefined) {
    if (prefix) out.set(prefix, '');
    return out;
  }
  if (Array.isArray(value)) {
    out.set(prefix, value.every((v) => v === null || typeof v !== 'object') ? value.filter((v) => v !== null && v !== '').map(String).join(MULTI_SEPARATOR) : JSON.stringify(value));
    return out;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, '');
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return out;
  }
  out.set(prefix, String(value));
  return out;
}


/**
 * What a record says twice, as the rest of a message (`carries custom.seats twice: …`), or undefined. A dotted key and
 * a nested object flatten to one path (`{"custom.seats": 3, "custom": {"seats": 4}}`), and `email` beside an `emails`
 * list that does not hold it names two primary addresses: the flattened record would keep one value without a word.
 */
export function fieldTwice(value: unknown): string | undefined {
  const seen = new Map<string, { key: string; cell: string }>();
  let found: string | undefined;
  const walk = (node: unknown, path: string, key: string): void => {
    if (found) return;
    if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0) {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) walk(v, path ? `${path}.${k}` : k, key ? `${key} → ${JSON.stringify(k)}` : JSON.stringify(k));
      return;
    }
    const cell = flatten(node, path).get(path) ?? '';
    const first = seen.get(path);
    // The same value twice loses nothing.
    if (first && first.cell !== cell) found = `carries ${path} twice: as ${first.key} (${JSON.stringify(first.cell)}) and as ${key} (${JSON.stringify(cell)}); keep one of them`;
    else if (!first) seen.set(path, { key, cell });
  };
  walk(value, '', '');
  if (found) return found;
  const email = seen.get('email')?.cell.trim() ?? '';
  const emails = seen.get('emails')?.cell ?? '';
  if (email !== '' && emails.trim() !== '') {
    const list = emails.split(MULTI_SEPARATOR).map((e) => e.trim().normalize('NFC').toLowerCase());
    if (!list.includes(email.normalize('NFC').toLowerCase())) {
      return `carries two primary emails: "email" (${JSON.stringify(email)}) is not in "emails" (${JSON.stringify(emails)}), the list of all the contact's addresses; add it to the list or remove one of the keys`;
    }
  }
  return undefined;
}

const KEY = /"((?:[^"\\]|\\.)*)"\s*:/g;

/**
 * What a record's text says twice, as the rest of a message, when one object holds a key twice (`{"email": "a@x",
 * "email": "b@x"}`), which JSON.parse reads as the last. The quick pass finds no key written twice anywhere in most
 * records; only then is the text walked object by object (a key may repeat in different objects, `id` in a nested one).
 */
export function repeatedKey(text: string): string | undefined {
  const keys = new Set<string>();
  let again = false;
  for (const [, key] of text.matchAll(KEY)) {
    if (keys.has(key!)) {
      again = true;
      break;
    }
    keys.add(key!);
  }
  if (!again) return undefined;
  const objects: Array<Map<string, string>> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') objects.push(new Map());
    else if (c === '}') objects.pop();
    else if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const token = text.slice(i, end + 1);
      i = end;
      let next = end + 1;
      while (/\s/.test(text[next] ?? '')) next++;
      if (text[next] !== ':') continue;
      const key = JSON.parse(token) as string;
      const object = objects[objects.length - 1];
      if (object?.has(key)) return `carries the key ${token} twice in one object; keep one of them`;
      object?.set(key, token);
    }
  }
  return undefined;
}
