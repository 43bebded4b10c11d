/**
 * Typed rows as PostgreSQL COPY text (`COPY … FROM STDIN`, text format): one
 * encoder per column kind, chosen once per load, with the hot cases (plain
 * text, dates, timestamps) written without a regex replace, a Date object or
 * BigInt arithmetic per value. Output is the same text as schema.ts's
 * formatDate/formatTimestamp/formatDecimal give (checked in
 * test/export/warehouse/copy-text.test.ts).
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

const DAY_MS = 86_400_000;
const DAY_US = 86_400_000_000;
/** Day numbers of 0000-01-01 and 9999-12-31: inside them a date is `YYYY-MM-DD` (outside, toISOString writes a signed six-digit year). */
const FIRST_DAY = -719_528;
const LAST_DAY = 2_932_896;

/** Date texts by day number: a million contacts' dates fall on a few thousand days. Bounded, so odd data cannot grow it without end. */
const days = new Map<number, string>();
const DAYS_KEPT = 50_000;

function dayText(day: number): string {
  let text = days.get(day);
  if (text === undefined) {
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (days.size < DAYS_KEPT) days.set(day, text);
  }
  return text;
}

/** Same text as formatDate (days since the epoch → `YYYY-MM-DD`). */
export function copyDate(day: number): string {
  return Number.isInteger(day) && day >= FIRST_DAY && day <= LAST_DAY ? dayText(day) : formatDate(day);
}

const two = (n: number) => (n < 10 ? '0' + n : String(n));

/** Same text as formatTimestamp (µs since the epoch → `YYYY-MM-DDTHH:MM:SS.ffffffZ`), in Number arithmetic when the µs are a safe integer. */
export function copyTimestamp(micros: bigint): string {
  const n = Number(micros);
  if (!Number.isSafeInteger(n)) return formatTimestamp(micros);
  let day = Math.floor(n / DAY_US);
  let rest = n - day * DAY_US;
  // The division is rounded: one day either way at most.
  if (rest < 0) {
    day -= 1;
    rest += DAY_US;
  } else if (rest >= DAY_US) {
    day += 1;
    rest -= DAY_US;
  }
  if (day < FIRST_DAY || day > LAST_DAY) return formatTimestamp(micros);
  const seconds = Math.floor(rest / 1_000_000);
  const fraction = rest - seconds * 1_000_000;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds - h * 3600) / 60);
  const s = seconds - h * 3600 - m * 60;
  return `${dayText(day)}T${two(h)}:${two(m)}:${two(s)}.${String(fraction).padStart(6, '0')}Z`;
}

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
  date: (value) => copyDate(value as number),
  timestamp: (value) => copyTimestamp(value as bigint),
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
