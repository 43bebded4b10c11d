import { createHash } from 'node:crypto';
import { CUSTOM_PREFIX } from '../columns.js';
import { PylonCliError } from '../errors.js';
import type { Contact } from '../pylon/types.js';
import { readValues, type ExportColumn, type IdEntry, type RawValue } from './columns.js';

/**
 * The typed shape of an export: one column type per exported column, from the
 * standard columns and the `/custom-fields` definitions. Parquet, typed NDJSON,
 * the schema sidecars and the database loads all derive from this one list.
 *
 * Decimals are DECIMAL(38,9), never a double: the values are money and counts
 * typed by people, a double would turn "0.10" into 0.1000000000000000055…, and
 * (38,9) is exactly BigQuery's NUMERIC and fits PostgreSQL's numeric and
 * DuckDB's DECIMAL, whatever a field's `decimal_places` says today (so editing
 * that setting in Pylon does not change the column's type).
 */
export type ColumnKind = 'string' | 'string_list' | 'integer' | 'decimal' | 'boolean' | 'date' | 'timestamp' | 'id_list';
// id_list: a list of two-field objects (`external_ids`, `account_external_ids`, `integration_user_ids`), the
// fields named by TypedColumn.fields; the first field is the id (never null), the second (label, source) may be.

export const DECIMAL_PRECISION = 38;
export const DECIMAL_SCALE = 9;

export interface TypedColumn {
  /** The warehouse name: `custom.<slug>` becomes `custom_<slug>` with every character outside [A-Za-z0-9_] as `_`. */
  name: string;
  /** The export column it comes from (`custom.seats`). */
  source: string;
  kind: ColumnKind;
  nullable: boolean;
  /** For an id_list: the field names of each entry (`external_id`, `label`). */
  fields?: readonly [string, string];
}

/** The portable type label recorded in manifests and compared between runs. */
export function typeLabel(kind: ColumnKind, fields?: readonly string[]): string {
  switch (kind) {
    case 'id_list':
      return `list<struct<${(fields ?? []).map((f) => f + ':string').join(',')}>>`;
    case 'string_list':
      return 'list<string>';
    case 'integer':
      return 'int64';
    case 'decimal':
      return `decimal(${DECIMAL_PRECISION},${DECIMAL_SCALE})`;
    default:
      return kind;
  }
}

const LIST_STANDARD = new Set(['emails', 'phone_numbers']);

function kindOf(column: ExportColumn): ColumnKind {
  if (column.entryFields !== undefined) return 'id_list';
  if (column.slug === undefined) return LIST_STANDARD.has(column.name) ? 'string_list' : 'string';
  switch (column.fieldType) {
    case 'multiselect':
      return 'string_list';
    case 'number':
      return (column.decimalPlaces ?? 0) > 0 ? 'decimal' : 'integer';
    case 'decimal':
      return 'decimal';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'timestamp';
    default:
      return 'string';
  }
}

/**
 * The longest column name every target accepts: PostgreSQL keeps 63 bytes of
 * an identifier (and silently cuts the rest), BigQuery allows 300 characters,
 * DuckDB more. Names are ASCII (see warehouseName), so bytes = characters.
 */
export const MAX_NAME_BYTES = 63;
const NAME_HASH_CHARS = 8;

function warehouseName(column: ExportColumn): string {
  if (column.slug === undefined) return column.name;
  return 'custom_' + column.name.slice(CUSTOM_PREFIX.length).replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * `name` cut to fit MAX_NAME_BYTES with `suffix` kept whole; when it does not
 * fit, the cut name ends in `_` + 8 hex characters of sha256(source), so two
 * fields sharing their first 63 bytes get different, stable names.
 */
export function fitName(name: string, source: string, suffix = ''): string {
  if (name.length + suffix.length <= MAX_NAME_BYTES) return name + suffix;
  const tag = '_' + createHash('sha256').update(source).digest('hex').slice(0, NAME_HASH_CHARS);
  return name.slice(0, MAX_NAME_BYTES - tag.length - suffix.length) + tag + suffix;
}

/** `_` + 8 hex characters of sha256(source): the suffix of a custom field whose name another field's shares. */
function sourceTag(source: string): string {
  return '_' + createHash('sha256').update(source).digest('hex').slice(0, NAME_HASH_CHARS);
}

/**
 * The typed columns of an export, in its column order. Each name fits every
 * target (fitName). A custom field's name never passes to another field:
 *
 * - a field `previous` names (source → name: the table's `_pylon_columns`, the
 *   baseline's or the last manifest's schema) keeps that name;
 * - any other field gets `custom_<slug>` cleaned, unless another field of this
 *   export cleans to the same name (equal but for case too: `cost-center` and
 *   `cost_center`, `Region` and `region`), or `previous` gives that name to
 *   another field: then it gets the name plus `_` and 8 hex characters of the
 *   sha256 of its own source, which depends on nothing else (not the order
 *   `GET /custom-fields` lists the fields in, nor which other fields exist).
 *
 * Two fields that would still get one name (a hash collision, or a name given
 * by `previous` that a new field's own name equals) are refused: guessing
 * would put one field's values in the other's column.
 */
export function typedColumns(columns: readonly ExportColumn[], previous?: ReadonlyMap<string, string>): TypedColumn[] {
  const plain = columns.map((column) => fitName(warehouseName(column), column.name));
  const clash = new Map<string, number>();
  for (const [i, column] of columns.entries()) if (column.slug !== undefined && previous?.get(column.name) === undefined) clash.set(plain[i]!.toLowerCase(), (clash.get(plain[i]!.toLowerCase()) ?? 0) + 1);
  /** Names `previous` gives (lower case) → their source. */
  const owned = new Map<string, string>();
  for (const [source, name] of previous ?? []) owned.set(name.toLowerCase(), source);
  const used = new Map<string, string>();
  return columns.map((column, i) => {
    let name = plain[i]!;
    if (column.slug !== undefined) {
      const kept = previous?.get(column.name);
      if (kept !== undefined) name = kept;
      else {
        const owner = owned.get(name.toLowerCase());
        if (clash.get(name.toLowerCase())! > 1 || (owner !== undefined && owner !== column.name)) name = fitName(warehouseName(column), column.name, sourceTag(column.name));
      }
    }
    const other = used.get(name.toLowerCase()) ?? (column.slug !== undefined && previous?.get(column.name) === undefined ? owned.get(name.toLowerCase()) : undefined);
    if (other !== undefined && other !== column.name) {
      throw new PylonCliError(
        'SCHEMA_CHANGED',
        `Cannot name the column of ${column.name}: ${name} is the column of ${other}, and giving it to another field would mix their values. Rename one of the two fields in Pylon, or leave one out with --columns`,
      );
    }
    used.set(name.toLowerCase(), column.name);
    const kind = kindOf(column);
    const fields = column.entryFields ? { fields: column.entryFields } : {};
    return { name, source: column.name, kind, nullable: column.name !== 'id' && kind !== 'string_list' && kind !== 'id_list', ...fields };
  });
}

/** The source → name map of a recorded schema's custom columns (a manifest's, a state's), for typedColumns. */
export function recordedNames(schema: Pick<SchemaRecord, 'columns'> | null | undefined): Map<string, string> {
  const names = new Map<string, string>();
  if (!schema || !Array.isArray(schema.columns)) return names;
  for (const column of schema.columns) {
    if (typeof column?.source === 'string' && typeof column.name === 'string' && column.source.startsWith(CUSTOM_PREFIX)) names.set(column.source, column.name);
  }
  return names;
}

/** A typed value: string, string[], bigint (integer; decimal unscaled at scale 9; timestamp in µs since the epoch, UTC), boolean, number (date: days since the epoch), IdEntry[] (id_list) or null. */
export type TypedValue = string | string[] | bigint | boolean | number | IdEntry[] | null;
export type TypedRow = TypedValue[];

/** A value that does not fit its column's type: the record goes to the error report. */
export class TypeMismatch extends Error {}

const INT_RE = /^[+-]?\d+$/;
const DEC_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const INT64_MAX = 2n ** 63n - 1n;
const DEC_LIMIT = 10n ** BigInt(DECIMAL_PRECISION);
const DAY_MS = 86_400_000;

/**
 * The value of `count` ASCII digits of `text` from `at`, or -1 when one of
 * them is not a digit: the fast paths below read numbers with it instead of a
 * regular expression's groups (a string each) and Number().
 */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i += 1) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether `day` is a day of `month` (1–12) of `year` in the proleptic Gregorian calendar, as Date.UTC counts it. */
function isCalendarDay(year: number, month: number, day: number): boolean {
  if (day < 1) return false;
  if (month !== 2) return day <= MONTH_DAYS[month - 1]!;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (leap ? 29 : 28);
}

/** Up to 15 digits (after an optional sign) are exact as a number, so the bigint is made from one; longer text goes through BigInt(text) and the range check. */
function parseInteger(text: string): bigint {
  const signed = text.charCodeAt(0) === 43 || text.charCodeAt(0) === 45; // + -
  const count = text.length - (signed ? 1 : 0);
  if (count > 0 && count <= 15) {
    const magnitude = digitsAt(text, signed ? 1 : 0, count);
    if (magnitude >= 0) return BigInt(text.charCodeAt(0) === 45 ? -magnitude : magnitude);
  }
  if (!INT_RE.test(text)) throw new TypeMismatch('not an integer');
  const value = BigInt(text);
  if (value > INT64_MAX || value < -INT64_MAX - 1n) throw new TypeMismatch('outside the 64-bit integer range');
  return value;
}

const POWERS_OF_TEN = Array.from({ length: DECIMAL_SCALE + 1 }, (_, i) => 10 ** i);

/**
 * "1234.50" → 1234500000000n (scale 9), exactly. Up to 6 integer digits and 9
 * decimal places (the usual amount) are summed as a number, exact below
 * 2^53; anything else goes through the text.
 */
export function parseDecimal(text: string): bigint {
  const negative = text.charCodeAt(0) === 45;
  const start = negative || text.charCodeAt(0) === 43 ? 1 : 0;
  const dot = text.indexOf('.', start);
  const intDigits = (dot < 0 ? text.length : dot) - start;
  const fracDigits = dot < 0 ? 0 : text.length - dot - 1;
  if (intDigits <= 6 && fracDigits <= DECIMAL_SCALE && intDigits + fracDigits > 0) {
    const int = digitsAt(text, start, intDigits);
    const frac = digitsAt(text, dot + 1, fracDigits);
    if (int >= 0 && frac >= 0) {
      const unscaled = int * POWERS_OF_TEN[DECIMAL_SCALE]! + frac * POWERS_OF_TEN[DECIMAL_SCALE - fracDigits]!;
      return BigInt(negative ? -unscaled : unscaled);
    }
  }
  const match = DEC_RE.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new TypeMismatch('not a decimal number');
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  if (fraction.length > DECIMAL_SCALE) throw new TypeMismatch(`more than ${DECIMAL_SCALE} decimal places`);
  const unscaled = BigInt((match[2] || '0') + fraction.padEnd(DECIMAL_SCALE, '0'));
  if (unscaled >= DEC_LIMIT) throw new TypeMismatch(`more than ${DECIMAL_PRECISION - DECIMAL_SCALE} integer digits`);
  return match[1] === '-' ? -unscaled : unscaled;
}

/**
 * `YYYY-MM-DD` with a year from 0100 and a month from 01 to 12 read digit by
 * digit and its day checked against the month; other text (and every
 * mismatch) through the regular expression and Date, which give the error.
 */
function parseDate(text: string): number {
  if (text.length === 10 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45) {
    const y = digitsAt(text, 0, 4);
    const m = digitsAt(text, 5, 2);
    const d = digitsAt(text, 8, 2);
    if (y >= 100 && m >= 1 && m <= 12 && d >= 0 && isCalendarDay(y, m, d)) return Date.UTC(y, m - 1, d) / DAY_MS;
  }
  const match = DATE_RE.exec(text);
  if (!match) throw new TypeMismatch('not a date (YYYY-MM-DD)');
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(y, m - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) throw new TypeMismatch('not a calendar date');
  return ms / DAY_MS;
}

/** One BigInt per value where the sum is exact as a number (until about the year 2255), two otherwise. */
function toMicros(ms: number, micros: number): bigint {
  const exact = ms * 1000 + micros;
  return Number.isSafeInteger(exact) ? BigInt(exact) : BigInt(ms) * 1000n + BigInt(micros);
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.f…]Z` (what Pylon sends) read digit by digit: a year
 * from 0100, a month from 01 to 12 and a valid day, hour, minute and second;
 * anything else, offsets included, through timestampFromText.
 */
function parseTimestamp(text: string): bigint {
  const length = text.length;
  const t = text.charCodeAt(10);
  const z = text.charCodeAt(length - 1);
  if (length >= 20 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && (t === 84 || t === 116 || t === 32) && text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58 && (z === 90 || z === 122)) {
    const y = digitsAt(text, 0, 4);
    const m = digitsAt(text, 5, 2);
    const d = digitsAt(text, 8, 2);
    const h = digitsAt(text, 11, 2);
    const mi = digitsAt(text, 14, 2);
    const s = digitsAt(text, 17, 2);
    // The fraction: nothing, or a dot and at least one digit; its first six digits count.
    const fraction = length - 21;
    const micros = length === 20 ? 0 : text.charCodeAt(19) === 46 && fraction > 0 ? digitsAt(text, 20, Math.min(fraction, 6)) : -1;
    const valid = y >= 100 && m >= 1 && m <= 12 && d >= 0 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 59 && micros >= 0 && isCalendarDay(y, m, d);
    if (valid && (fraction <= 6 || digitsAt(text, 26, fraction - 6) >= 0)) return toMicros(Date.UTC(y, m - 1, d, h, mi, s), micros * POWERS_OF_TEN[6 - Math.min(Math.max(fraction, 0), 6)]!);
  }
  return timestampFromText(text);
}

/** RFC 3339 → µs since the epoch, UTC (sub-µs digits are dropped). */
function timestampFromText(text: string): bigint {
  const m = TS_RE.exec(text);
  if (!m) throw new TypeMismatch('not an RFC 3339 date-time');
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6]);
  let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw new TypeMismatch('not a valid date-time');
  if (m[9] !== undefined) ms -= (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) * 60_000;
  const micros = m[7] === undefined ? 0 : Number(m[7].slice(0, 6).padEnd(6, '0'));
  return toMicros(ms, micros);
}

function parseBoolean(text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const lower = text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new TypeMismatch('not true or false');
}

type Converter = (raw: RawValue) => TypedValue;

/** A scalar's text: a list's values joined with `;` (as in the CSV cell). */
const textOf = (raw: string | string[] | IdEntry[]): string => (typeof raw === 'string' ? raw : Array.isArray(raw) ? (raw as string[]).join(';') : String(raw));

/** A scalar kind: null when absent or blank, else `parse` of the trimmed text. */
function scalar(parse: (text: string) => TypedValue): Converter {
  return (raw) => {
    if (raw === undefined || raw === null) return null;
    const value = textOf(raw).trim();
    return value === '' ? null : parse(value);
  };
}

/** A list of strings; a list whose values are all strings already is taken as it is (nothing changes it). */
function stringList(raw: RawValue): TypedValue {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return [String(raw)];
  for (let i = 0; i < raw.length; i += 1) if (typeof raw[i] !== 'string') return raw.map(String);
  return raw as string[];
}

/** One converter per column (a switch on the kind per value was most of the cost). */
function converterOf(column: TypedColumn): Converter {
  switch (column.kind) {
    case 'id_list': {
      const id = column.fields![0]!;
      return (raw) => {
        const entries = (raw ?? []) as IdEntry[];
        if (entries.some((entry) => entry[id] === null)) throw new TypeMismatch(`an entry without ${id}`);
        return entries;
      };
    }
    case 'string_list':
      return stringList;
    case 'string':
      return (raw) => (raw === undefined || raw === null ? null : textOf(raw));
    case 'integer':
      return scalar(parseInteger);
    case 'decimal':
      return scalar(parseDecimal);
    case 'boolean':
      return scalar(parseBoolean);
    case 'date':
      return scalar(parseDate);
    case 'timestamp':
      return scalar(parseTimestamp);
  }
}

const converterCache = new WeakMap<readonly TypedColumn[], Converter[]>();

/** A contact as typed values, in column order; a string naming the column when a value does not fit. */
export function toTypedRow(contact: Contact, columns: readonly TypedColumn[], exportColumns: readonly ExportColumn[]): TypedRow | string {
  return typedRowOf(readValues(contact, exportColumns), columns);
}

/** The values read from a contact (readValues) as typed values; a string naming the column when a value does not fit. */
export function typedRowOf(values: readonly RawValue[], columns: readonly TypedColumn[]): TypedRow | string {
  let converters = converterCache.get(columns);
  if (!converters) {
    converters = columns.map(converterOf);
    converterCache.set(columns, converters);
  }
  const row: TypedRow = new Array(columns.length);
  for (let i = 0; i < columns.length; i += 1) {
    const raw = values[i];
    try {
      row[i] = converters[i]!(raw);
    } catch (error) {
      const column = columns[i]!;
      if (!(error instanceof TypeMismatch)) throw error;
      const shown = column.kind === 'id_list' ? raw : Array.isArray(raw) ? (raw as string[]).join(';') : raw;
      return `${column.source} = ${JSON.stringify(shown)} is ${error.message} (column type ${typeLabel(column.kind, column.fields)})`;
    }
  }
  return row;
}

/** An unscaled scale-9 decimal as its shortest exact text: 1234500000000n → "1234.5". */
export function formatDecimal(unscaled: bigint): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(DECIMAL_SCALE + 1, '0');
  const int = digits.slice(0, -DECIMAL_SCALE);
  const frac = digits.slice(-DECIMAL_SCALE).replace(/0+$/, '');
  return (negative ? '-' : '') + int + (frac ? '.' + frac : '');
}

/** Day numbers of 0000-01-01 and 9999-12-31: between them a date is `YYYY-MM-DD` (outside, toISOString writes a signed six-digit year). */
const FIRST_DAY = -719_528;
const LAST_DAY = 2_932_896;
const DAY_US = 86_400_000_000;
/** Date texts by day number: a million contacts' dates and timestamps fall on a few thousand days. Bounded, so odd data cannot grow it without end. */
const dayTexts = new Map<number, string>();
const DAY_TEXTS_KEPT = 50_000;

function dayText(day: number): string {
  let text = dayTexts.get(day);
  if (text === undefined) {
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (dayTexts.size < DAY_TEXTS_KEPT) dayTexts.set(day, text);
  }
  return text;
}

export function formatDate(days: number): string {
  return Number.isInteger(days) && days >= FIRST_DAY && days <= LAST_DAY ? dayText(days) : new Date(days * DAY_MS).toISOString().slice(0, 10);
}

const two = (n: number) => (n < 10 ? '0' + n : String(n));

/**
 * µs since the epoch → `2026-11-02T08:30:00.000000Z` (always six fraction
 * digits, always UTC). In Number arithmetic, the day's text from a cache,
 * when the µs are a safe integer within years 0–9999 (every value a load
 * meets); else through BigInt and a Date.
 */
export function formatTimestamp(micros: bigint): string {
  const n = Number(micros);
  if (Number.isSafeInteger(n)) {
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
    if (day >= FIRST_DAY && day <= LAST_DAY) {
      const seconds = Math.floor(rest / 1_000_000);
      const fraction = rest - seconds * 1_000_000;
      const h = Math.floor(seconds / 3600);
      const m = Math.floor((seconds - h * 3600) / 60);
      return `${dayText(day)}T${two(h)}:${two(m)}:${two(seconds - h * 3600 - m * 60)}.${String(fraction).padStart(6, '0')}Z`;
    }
  }
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const rest = micros - ms * 1000n;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 23)}${rest.toString().padStart(3, '0')}Z`;
}

/** Printable ASCII without `"` or `\\`: JSON-quoted as it is (most ids, emails, names, slugs). */
const PLAIN_JSON = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const jsonString = (text: string) => (PLAIN_JSON.test(text) ? `"${text}"` : JSON.stringify(text));

/** One typed value as JSON text: numbers and booleans as JSON literals (decimals exact), dates and timestamps as strings. */
export function jsonValue(kind: ColumnKind, value: TypedValue): string {
  if (value === null) return 'null';
  switch (kind) {
    case 'string':
      return jsonString(value as string);
    case 'string_list': {
      const list = value as string[];
      return list.length === 0 ? '[]' : `[${list.map(jsonString).join(',')}]`;
    }
    case 'integer':
      return String(value);
    case 'decimal':
      return formatDecimal(value as bigint);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'date':
      return JSON.stringify(formatDate(value as number));
    case 'timestamp':
      return JSON.stringify(formatTimestamp(value as bigint));
    case 'id_list':
      return JSON.stringify(value);
    default:
      return JSON.stringify(value);
  }
}

/** A typed row as one JSON object (no newline), keys in column order. Also the canonical text the values hash is over. */
export function typedJsonLine(columns: readonly TypedColumn[], row: TypedRow): string {
  let keys = keyCache.get(columns);
  if (!keys) {
    const plain = jsonLineKeys(columns);
    keys = { plain, nulls: plain.map((key) => key + 'null'), quoted: plain.map((key) => key + '"'), strings: columns.map((c) => c.kind === 'string') };
    keyCache.set(columns, keys);
  }
  // A null, and a string JSON quotes as it is, join their key in one piece: each `+` is one more node of the text V8 flattens before the sha256.
  let text = '';
  for (let i = 0; i < columns.length; i += 1) {
    const value = row[i]!;
    if (value === null) text += keys.nulls[i]!;
    else if (keys.strings[i] && PLAIN_JSON.test(value as string)) text += keys.quoted[i]! + (value as string) + '"';
    else text += keys.plain[i]! + jsonValue(columns[i]!.kind, value);
  }
  return text + '}';
}

/** Per column list: each key as it opens a value, with `null` after it, and with the opening quote of a string. */
interface LineKeys {
  plain: string[];
  nulls: string[];
  quoted: string[];
  strings: boolean[];
}

const keyCache = new WeakMap<readonly TypedColumn[], LineKeys>();

/** The keys of a typed JSON line, each with what comes before it (`{` or `,`) and its colon. */
export function jsonLineKeys(columns: readonly TypedColumn[]): string[] {
  return columns.map((c, i) => (i === 0 ? '{' : ',') + JSON.stringify(c.name) + ':');
}

/** The schema as the manifest records it. */
export interface SchemaRecord {
  /** sha256 of the columns' names, types and nullability. */
  hash: string;
  columns: Array<{ name: string; source: string; type: string; nullable: boolean }>;
}

export function schemaRecord(columns: readonly TypedColumn[]): SchemaRecord {
  const list = columns.map((c) => ({ name: c.name, source: c.source, type: typeLabel(c.kind, c.fields), nullable: c.nullable }));
  const hash = createHash('sha256')
    .update(JSON.stringify(list.map((c) => [c.name, c.type, c.nullable])))
    .digest('hex');
  return { hash, columns: list };
}

export interface SchemaChange {
  dropped: string[];
  changed: Array<{ name: string; from: string; to: string }>;
  added: string[];
}

/** What changed between the previous run's schema and this one. Added columns are never a problem. */
export function compareSchemas(previous: SchemaRecord, next: SchemaRecord): SchemaChange {
  const now = new Map(next.columns.map((c) => [c.name, c]));
  const before = new Set(previous.columns.map((c) => c.name));
  const dropped: string[] = [];
  const changed: SchemaChange['changed'] = [];
  for (const column of previous.columns) {
    const current = now.get(column.name);
    if (!current) dropped.push(column.name);
    else if (current.type !== column.type) changed.push({ name: column.name, from: column.type, to: current.type });
  }
  return { dropped, changed, added: next.columns.filter((c) => !before.has(c.name)).map((c) => c.name) };
}

export function describeSchemaChange(change: SchemaChange): string {
  const parts: string[] = [];
  if (change.dropped.length) parts.push(`dropped ${change.dropped.join(', ')}`);
  if (change.changed.length) parts.push(`changed ${change.changed.map((c) => `${c.name} (${c.from} → ${c.to})`).join(', ')}`);
  return parts.join('; ');
}

// ---- sidecars -------------------------------------------------------------

function jsonSchemaType(column: TypedColumn): Record<string, unknown> {
  const nullable = (type: Record<string, unknown>) => (column.nullable ? { anyOf: [type, { type: 'null' }] } : type);
  switch (column.kind) {
    case 'string':
      return nullable({ type: 'string' });
    case 'string_list':
      return { type: 'array', items: { type: 'string' } };
    case 'integer':
      return nullable({ type: 'integer' });
    case 'decimal':
      return nullable({ type: 'number' });
    case 'boolean':
      return nullable({ type: 'boolean' });
    case 'date':
      return nullable({ type: 'string', format: 'date' });
    case 'timestamp':
      return nullable({ type: 'string', format: 'date-time' });
    case 'id_list': {
      const [id, label] = column.fields!;
      return {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: [id, label],
          properties: { [id]: { type: 'string' }, [label]: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
        },
      };
    }
  }
}

/** JSON Schema (2020-12) of one row of the typed NDJSON (and of a Parquet row read as JSON). */
export function toJsonSchema(columns: readonly TypedColumn[], title: string): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title,
    type: 'object',
    additionalProperties: false,
    required: columns.map((c) => c.name),
    properties: Object.fromEntries(
      columns.map((c) => [c.name, { ...jsonSchemaType(c), description: `${c.source} (${typeLabel(c.kind, c.fields)})` }]),
    ),
  };
}

const BIGQUERY: Record<ColumnKind, string> = {
  string: 'STRING',
  string_list: 'STRING',
  integer: 'INT64',
  decimal: 'NUMERIC',
  boolean: 'BOOL',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  id_list: 'RECORD',
};

/** A BigQuery table schema (`bq load --schema=<file>`); an id list is a REPEATED RECORD of two STRING fields. */
export function toBigQuerySchema(columns: readonly TypedColumn[]): Array<Record<string, unknown>> {
  return columns.map((c) => ({
    name: c.name,
    type: BIGQUERY[c.kind],
    mode: c.kind === 'string_list' || c.kind === 'id_list' ? 'REPEATED' : c.nullable ? 'NULLABLE' : 'REQUIRED',
    description: c.source,
    ...(c.kind === 'id_list'
      ? { fields: [{ name: c.fields![0], type: 'STRING', mode: 'REQUIRED' }, { name: c.fields![1], type: 'STRING', mode: 'NULLABLE' }] }
      : {}),
  }));
}

const POSTGRES: Record<ColumnKind, string> = {
  string: 'text',
  string_list: 'text[]',
  integer: 'bigint',
  decimal: `numeric(${DECIMAL_PRECISION},${DECIMAL_SCALE})`,
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamptz',
  id_list: 'jsonb',
};

const DUCKDB: Record<ColumnKind, string> = {
  string: 'VARCHAR',
  string_list: 'VARCHAR[]',
  integer: 'BIGINT',
  decimal: `DECIMAL(${DECIMAL_PRECISION},${DECIMAL_SCALE})`,
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP WITH TIME ZONE',
  id_list: 'STRUCT',
};

export function postgresType(kind: ColumnKind): string {
  return POSTGRES[kind];
}

/** The DuckDB type; an id list is a list of structs and needs its column for the field names. */
export function duckdbType(kind: ColumnKind, column?: Pick<TypedColumn, 'fields'>): string {
  if (kind === 'id_list') return `STRUCT(${column!.fields!.map((f) => `${quoteIdent(f)} VARCHAR`).join(', ')})[]`;
  return DUCKDB[kind];
}

/** A double-quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

/**
 * Column definitions for a CREATE TABLE, one per line. `keyCollation`: the
 * collation of the key column `id` (PostgreSQL's "C", see ID_COLLATION).
 */
export function columnDefinitions(columns: readonly TypedColumn[], typeOf: (kind: ColumnKind, column: TypedColumn) => string, options: { primaryKey?: boolean; keyCollation?: string } = {}): string[] {
  const key = options.primaryKey ?? true;
  const collate = options.keyCollation === undefined ? '' : ` COLLATE ${quoteIdent(options.keyCollation)}`;
  return columns.map((c) => `${quoteIdent(c.name)} ${typeOf(c.kind, c)}${c.name === 'id' ? collate : ''}${c.nullable ? '' : ' NOT NULL'}${key && c.name === 'id' ? ' PRIMARY KEY' : ''}`);
}

/**
 * The collation of a PostgreSQL table's `id` column: bytewise. Its primary key
 * is built about three times faster than under a language collation (1M
 * contacts' ids: 433 ms against 1,305 ms under C.UTF-8, PostgreSQL 17), and
 * ids are compared for equality, never shown in a language's order. It
 * decides over a column of the database's default collation in a join or a
 * comparison, so the ids of other tables join as before.
 */
export const ID_COLLATION = 'C';

/** `CREATE TABLE` for PostgreSQL, matching the data file's columns. */
export function toPostgresDdl(columns: readonly TypedColumn[], table = 'contacts'): string {
  const definitions = columnDefinitions(columns, postgresType, { keyCollation: ID_COLLATION });
  // Each column says which export column it holds (the name may be shortened to fit 63 bytes).
  const lines = definitions.map((d, i) => `${d}${i < definitions.length - 1 ? ',' : ''} -- ${columns[i]!.source.replace(/[\x00-\x1f\x7f]/g, '?')}`);
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(table)} (\n  ${lines.join('\n  ')}\n);\n`;
}
