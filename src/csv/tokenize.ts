/**
 * A pure, transport-free CSV tokenizer (RFC 4180 plus recovery): text chunks in,
 * records out, each with the physical line where it starts.
 *
 * Why not csv-parse: with csv-parse 7.0.3 a single bad closing quote under
 * `skip_records_with_error` leaves the parser in quoted mode, so every later row
 * of the file disappears into one error; and a CRLF inside a quoted field is
 * counted as two lines, shifting every later line number (see
 * test/csv/tokenize.test.ts). An import must never lose rows or misreport lines.
 *
 * Rules:
 * - CR, LF and CRLF each end a line, inside or outside quotes.
 * - A field starting with `"` is quoted: `""` is a literal quote; the closing quote
 *   must be followed by the delimiter, a line break or the end of input. A quote
 *   inside an unquoted field is a literal character (as Excel and Python read it).
 * - Empty lines are skipped (they still count for line numbers).
 * - A malformed record never swallows others. It is returned with an `error` and
 *   cells split naively from its raw text, and tokenizing resumes on the line after
 *   the line where the problem is: the bad closing quote, or, for a quote
 *   that never closes (or a record over `maxRecordSize` characters), the line where
 *   that quote opened. Error codes are csv-parse's, so they read the same.
 */

export interface RecordError {
  /** csv-parse error code: CSV_INVALID_CLOSING_QUOTE, CSV_QUOTE_NOT_CLOSED, CSV_MAX_RECORD_SIZE, CSV_RECORD_INCONSISTENT_COLUMNS. */
  code: string;
  message: string;
  /** The column (header as written) the error is about, when it is one cell's (an XLSX id that lost digits): the report's `_error_field`. */
  field?: string;
}

export interface RawRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  cells: string[];
  error?: RecordError;
}

export interface TokenizerOptions {
  delimiter: string;
  /** Line number of the first character pushed (2 when a `sep=` line was consumed). */
  firstLine?: number;
  /** Longest record, in characters, before an open quote is declared unclosed. Default 1 MiB. */
  maxRecordSize?: number;
}

export interface Tokenizer {
  /** Tokenizes what it can; an incomplete last record waits for the next chunk. */
  push(text: string): RawRecord[];
  /** Flushes the last record at end of input. */
  end(): RawRecord[];
  /** The line the next record would start on (for warnings). */
  readonly line: number;
}

export const DEFAULT_MAX_RECORD_SIZE = 1 << 20;

const QUOTE = 34;
const CR = 13;
const LF = 10;

/** Record parse outcome: the end offset and the line breaks it spans, or "need more input". */
interface Parsed {
  next: number;
  breaks: number;
  cells: string[];
  error?: RecordError;
}

export function createTokenizer(options: TokenizerOptions): Tokenizer {
  const { delimiter } = options;
  if (delimiter.length !== 1) throw new TypeError('delimiter must be one character');
  const delim = delimiter.charCodeAt(0);
  const maxRecordSize = options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
  let buf = '';
  let line = options.firstLine ?? 1;

  /** Length of the line break at `pos` (0 if none, 2 for CRLF). -1: a CR at the end of a chunk, undecided. */
  function breakAt(pos: number, eof: boolean): number {
    const c = buf.charCodeAt(pos);
    if (c === LF) return 1;
    if (c !== CR) return 0;
    if (pos + 1 >= buf.length) return eof ? 1 : -1;
    return buf.charCodeAt(pos + 1) === LF ? 2 : 1;
  }

  /**
   * The malformed record from `start`: its raw text runs to the end of the physical
   * line containing `at`; the next record starts on the line after it.
   */
  function recover(start: number, at: number, error: RecordError, eof: boolean): Parsed | undefined {
    let end = at;
    while (end < buf.length) {
      const c = buf.charCodeAt(end);
      if (c === LF || c === CR) break;
      end++;
    }
    let next = end;
    if (end < buf.length) {
      const size = breakAt(end, eof);
      if (size < 0) return undefined;
      next = end + size;
    } else if (!eof) {
      return undefined;
    }
    const raw = buf.slice(start, end);
    const breaks = countBreaks(raw, 0, raw.length) + (next > end ? 1 : 0);
    return { next, breaks, cells: raw.split(delimiter), error };
  }

  /** Parses one record starting at `start` (not on an empty line). undefined: needs more input. */
  function parseRecord(start: number, eof: boolean, startLine: number): Parsed | undefined {
    const cells: string[] = [];
    const len = buf.length;
    let pos = start;
    let breaks = 0;
    for (;;) {
      if (pos >= len) {
        if (!eof) return undefined;
        cells.push('');
        return { next: pos, breaks, cells };
      }
      if (buf.charCodeAt(pos) === QUOTE) {
        const open = pos;
        const openLine = startLine + breaks;
        let value = '';
        let from = pos + 1;
        for (;;) {
          const q = buf.indexOf('"', from);
          if (q < 0 || q - start > maxRecordSize) {
            if (q < 0 && !eof && len - start <= maxRecordSize) return undefined;
            const error = q < 0 && eof
              ? { code: 'CSV_QUOTE_NOT_CLOSED', message: `Quote opened on line ${openLine} is never closed; the record was cut at the end of that line and the lines after it were read as separate records` }
              : { code: 'CSV_MAX_RECORD_SIZE', message: `Record is longer than ${maxRecordSize} characters: probably a quote opened on line ${openLine} that is never closed; reading resumed on line ${openLine + 1}` };
            return recover(start, open, error, eof);
          }
          breaks += countBreaks(buf, from, q);
          value += buf.slice(from, q);
          if (q + 1 >= len) {
            if (!eof) return undefined;
            cells.push(value);
            return { next: q + 1, breaks, cells };
          }
          const after = buf.charCodeAt(q + 1);
          if (after === QUOTE) {
            value += '"';
            from = q + 2;
            continue;
          }
          if (after === delim) {
            cells.push(value);
            pos = q + 2;
            break;
          }
          const size = breakAt(q + 1, eof);
          if (size < 0) return undefined;
          if (size > 0) {
            cells.push(value);
            return { next: q + 1 + size, breaks: breaks + 1, cells };
          }
          const at = startLine + breaks;
          return recover(start, q + 1, {
            code: 'CSV_INVALID_CLOSING_QUOTE',
            message: `Invalid closing quote on line ${at}: got ${JSON.stringify(buf[q + 1])} after a closing quote instead of a delimiter or line break (a quote inside a quoted field must be doubled: "")`,
          }, eof);
        }
        continue;
      }
      let p = pos;
      while (p < len) {
        const c = buf.charCodeAt(p);
        if (c === delim || c === LF || c === CR) break;
        p++;
      }
      if (p >= len) {
        if (!eof) return undefined;
        cells.push(buf.slice(pos, p));
        return { next: p, breaks, cells };
      }
      cells.push(buf.slice(pos, p));
      if (buf.charCodeAt(p) === delim) {
        pos = p + 1;
        continue;
      }
      const size = breakAt(p, eof);
      if (size < 0) return undefined;
      return { next: p + size, breaks: breaks + 1, cells };
    }
  }

  function run(eof: boolean): RawRecord[] {
    const out: RawRecord[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const size = breakAt(pos, eof);
      if (size < 0) break;
      if (size > 0) {
        pos += size;
        line++;
        continue;
      }
      const parsed = parseRecord(pos, eof, line);
      if (parsed === undefined) break;
      const record: RawRecord = { line, cells: parsed.cells };
      if (parsed.error) record.error = parsed.error;
      out.push(record);
      line += parsed.breaks;
      pos = parsed.next;
    }
    buf = buf.slice(pos);
    return out;
  }

  return {
    push(text) {
      buf = buf.length === 0 ? text : buf + text;
      return run(false);
    },
    end() {
      return run(true);
    },
    get line() {
      return line;
    },
  };
}

/** Line breaks in text[from, to): CRLF counts once. */
export function countBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === LF) n++;
    else if (c === CR && (i + 1 >= to || text.charCodeAt(i + 1) !== LF)) n++;
  }
  return n;
}
