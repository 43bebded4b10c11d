/**
 * Typed rows as PostgreSQL COPY text (`COPY … FROM STDIN`, text format): one
 * encoder per column kind, chosen once per load; plain text (most values)
 * goes through a regex test, not a replace. Dates, timestamps and decimals
 * are schema.ts's canonical texts, as in the JSON lines.
 */
import { formatDate, formatDecimal, formatTimestamp, type ColumnKind, type TypedColumn, type TypedRow, type TypedValue } from '../schema.js';

/** What COPY's text format escapes: the backslash, and the tab, newline and carriage return that separate fields and rows. */
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function escapeCopy(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!) : text;
}

const ARRAY_SPECIAL = /["\\]/;
const ARRAY_SPECIALS = /["\\]/g;
/** One element of an array literal, always double-quoted (so commas, braces, spaces and the word NULL stay text). */
const arrayElement = (text: string) => `"${ARRAY_SPECIAL.test(text) ? text.replace(ARRAY_SPECIALS, (c) => '\\' + c) : text}"`;

type Encode = (value: NonNullable<TypedValue>) => string;

const ENCODERS: Record<ColumnKind, Encode> = {
  string: (value) => escapeCopy(value as string),
  string_list: (value) => {
    const list = value as string[];
    return list.length === 0 ? '{}' : escapeCopy(`{${list.map(arrayElement).join(',')}}`);
  },
  integer: (value) => String(value),
  decimal: (value) => formatDecimal(value as bigint),
  boolean: (value) => (value ? 't' : 'f'),
  date: (value) => formatDate(value as number),
  timestamp: (value) => formatTimestamp(value as bigint),
  id_list: (value) => escapeCopy(JSON.stringify(value)),
};

/** Rows → COPY text for these columns: the columns' values tab-separated, then the row's `_row_hash` (hex, nothing to escape), one line per row. */
export function copyRows(columns: readonly TypedColumn[]): (rows: readonly TypedRow[], hashes: readonly string[]) => string {
  const encoders = columns.map((c) => ENCODERS[c.kind]);
  const count = encoders.length;
  return (rows, hashes) => {
    let text = '';
    for (let r = 0; r < rows.length; r += 1) {
      const row = rows[r]!;
      for (let i = 0; i < count; i += 1) {
        const value = row[i];
        text += (value === null || value === undefined ? '\\N' : encoders[i]!(value)) + '\t';
      }
      text += hashes[r] + '\n';
    }
    return text;
  };
}
