import { readMapFile } from '../input/map-file.js';
import type { CountryCode } from 'libphonenumber-js/max';
import { CUSTOM_PREFIX, IMPORT_COLUMNS, MULTI_SEPARATOR, splitMulti } from '../columns.js';
import { ConfigError } from '../errors.js';
import { editDistance, normalizeHeader } from './columns.js';
import type { RowIssue, RowIssueCode } from './desired.js';
import { countryFromCell, normalizePhoneNumber, splitPhoneCell, splitPhoneList, type BadPhonePolicy } from './phone.js';
import { DATE_FORMAT, NUMBER_FORMATS, lostDigitsId, lostDigitsMessage, parseSpreadsheetDate, parseSpreadsheetNumber, type NumberFormat } from './spreadsheet-values.js';
import { unvalidatedEmail } from './validate.js';

/**
 * A map that transforms: source columns (or JSON paths) → Pylon fields, with
 * joins, constants, value maps, lists, splits, row filters, the source's id as
 * an external id, and the phone numbers in E.164. Declarative JSON, validated
 * with errors that name the key. Pure: `compileTransform` turns a map and a
 * header into a function from source cells to Pylon cells.
 *
 * ```json
 * {
 *   "fields": {
 *     "name": { "join": ["First Name", "Last Name"] },
 *     "email": "Email",
 *     "phone_numbers": { "list": ["Phone Number", "Mobile Phone Number"] },
 *     "portal_role": { "from": "role", "values": { "end-user": "member" }, "default": "member" },
 *     "custom.tier": "user_fields.tier",
 *     "custom.source": { "const": "hubspot" }
 *   },
 *   "filters": [{ "column": "role", "in": ["end-user"] }],
 *   "requireEmail": true,
 *   "externalId": { "column": "Record ID", "label": "hubspot" },
 *   "account": { "match": "name", "column": "Company Name" },
 *   "country": { "column": "Country/Region", "optional": true }
 * }
 * ```
 */

export type AccountMatch = 'domain' | 'name' | 'external-id' | 'off';
export const ACCOUNT_MATCHES: readonly AccountMatch[] = ['domain', 'name', 'external-id', 'off'];

/**
 * `optional`: columns of the rule missing from the file are left out instead of stopping the run (exports whose columns vary).
 * `date` / `number`: the source's format of the values (`"MM/DD/YYYY"`, `"1.234,5"`), read into `YYYY-MM-DD` / `1234.5`.
 */
export type FieldSpec = (
  | { kind: 'copy'; from: string; split?: string; values?: Record<string, string>; fallback?: string }
  | { kind: 'const'; value: string }
  | { kind: 'join'; from: string[]; separator: string; values?: Record<string, string>; fallback?: string }
  | { kind: 'list'; from: string[]; split?: string; values?: Record<string, string>; fallback?: string }
) & { optional?: boolean; date?: string; number?: NumberFormat };

export interface FilterRule {
  column: string;
  in?: string[];
  notIn?: string[];
  present?: boolean;
  /** Shown in the results for the rows it skips. */
  reason?: string;
  /** A file without the column passes every row (exports whose columns vary). */
  optional?: boolean;
}

export interface TransformMap {
  /** The source system (presets), used as the default external-id label. */
  source?: string;
  description?: string;
  /** Columns whose presence identifies this source's export (presets). */
  fingerprint?: string[];
  /**
   * `exact`: the fingerprint's labels must be in the file in this case (HubSpot writes `Record ID`;
   * Zoho CRM's `Record Id` is another system's id). Default `any`: case is ignored (Salesforce's
   * Data Loader writes API names in capitals).
   */
  fingerprintCase?: 'exact' | 'any';
  /** Pylon field (`name`, `email`, `custom.<slug>`, …) → how to build it; null ignores. */
  fields: Record<string, FieldSpec | null>;
  filters: FilterRule[];
  /** A row with no email is a failed row (it is reported), not a contact created without one. */
  requireEmail: boolean;
  /**
   * `normalize: "salesforce18"`: 15-character Salesforce ids (report exports) are turned into the 18-character form Data Loader
   * writes, and 18-character ones get the case their suffix encodes, so both exports (and a lower-cased copy) give one id; any
   * other value fails its row (ROW_INVALID_EXTERNAL_ID).
   */
  externalId?: {
    column: string;
    label: string;
    normalize?: 'salesforce18';
    /** The map names no label (nor a source): `label` is `import`, which every unlabelled import shares (the run warns). */
    unlabelled?: boolean;
  };
  /**
   * `column` may be a list: the first one the file has is used (exports whose
   * association columns vary). `split`: the cell may list several companies;
   * one is used, several fail the row (never a guess). `splitColumns`: only
   * these columns are lists (HubSpot's `Associated Company`), so a company
   * name with the separator in it (`Company Name` "Acme; Inc") is one name.
   */
  account?: { match: AccountMatch; column?: string; columns?: string[]; split?: string; splitColumns?: string[] };
  /** Patterns of lines a report export adds after its rows (totals, copyright): a record whose only value matches one is not a row. */
  footer?: string[];
  /** The row's own country (a name or an ISO code), which reads its national phone numbers before `--default-country` does. */
  country?: { column: string; optional?: boolean };
  /**
   * Other labels a column may carry (`{"E-mail": ["Adresse e-mail"]}`): wherever
   * the map names the column (fingerprint, fields, external id, country,
   * account), a file without that label is read from the first alias it has.
   */
  aliases?: Record<string, string[]>;
}

/** Distinct country cells remembered per run (see rowCountry in compileTransform). */
const COUNTRY_CACHE_LIMIT = 10_000;

/** Pylon fields a map may set, besides `custom.<slug>`. */
const TARGETS = new Set<string>([...IMPORT_COLUMNS, 'external_id', 'account_id_if_unset']);
const SPEC_KEYS = new Set(['from', 'join', 'separator', 'list', 'split', 'values', 'default', 'const', 'optional', 'date', 'number']);
const MAP_KEYS = new Set(['$schema', '$comment', 'source', 'description', 'fingerprint', 'fingerprintCase', 'fields', 'filters', 'requireEmail', 'externalId', 'account', 'country', 'footer', 'aliases']);

function bad(source: string, key: string, message: string): ConfigError {
  return new ConfigError('CONFIG_BAD_MAPPING', `The map ${source}, key ${key}: ${message}`, { option: '--map' });
}

/** Whether a parsed `--map` file is a transforming map (it has a `fields` object) rather than a plain rename map. */
export function isTransformMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Record<string, unknown>).fields === 'object' && (value as Record<string, unknown>).fields !== null;
}

function stringList(value: unknown, source: string, key: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw bad(source, key, `expected a column name or a non-empty array of column names, got ${JSON.stringify(value)}`);
  list.forEach((item, i) => {
    if (typeof item !== 'string' || item.trim() === '') throw bad(source, `${key}[${i}]`, `expected a column name (a non-empty string), got ${JSON.stringify(item)}`);
  });
  return list as string[];
}

function valueMap(value: unknown, source: string, key: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(source, key, `expected an object of source value → Pylon value, got ${JSON.stringify(value)}`);
  const out: Record<string, string> = {};
  for (const [from, to] of Object.entries(value)) {
    if (typeof to !== 'string') throw bad(source, `${key}.${from}`, `expected a string, got ${JSON.stringify(to)}`);
    out[from.trim().toLowerCase()] = to;
  }
  return out;
}

function parseSpec(value: unknown, source: string, key: string): FieldSpec | null {
  if (value === null) return null;
  if (typeof value === 'string') {
    if (value.trim() === '') throw bad(source, key, 'expected a column name, got ""');
    return { kind: 'copy', from: value };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw bad(source, key, `expected a column name, null, or an object with from/join/list/const, got ${JSON.stringify(value)}`);
  }
  const spec = value as Record<string, unknown>;
  for (const k of Object.keys(spec)) if (!SPEC_KEYS.has(k)) throw bad(source, `${key}.${k}`, `unknown key; expected one of ${[...SPEC_KEYS].join(', ')}`);
  const values = valueMap(spec.values, source, `${key}.values`);
  if (spec.default !== undefined && typeof spec.default !== 'string') throw bad(source, `${key}.default`, `expected a string, got ${JSON.stringify(spec.default)}`);
  if (spec.split !== undefined && (typeof spec.split !== 'string' || spec.split === '')) throw bad(source, `${key}.split`, `expected a separator such as ";" or ",", got ${JSON.stringify(spec.split)}`);
  if (spec.optional !== undefined && typeof spec.optional !== 'boolean') throw bad(source, `${key}.optional`, `expected true or false, got ${JSON.stringify(spec.optional)}`);
  if (spec.date !== undefined && (typeof spec.date !== 'string' || !DATE_FORMAT.test(spec.date))) throw bad(source, `${key}.date`, `expected a date format such as "MM/DD/YYYY", "DD/MM/YYYY", "DD.MM.YYYY" or "YYYY-MM-DD", got ${JSON.stringify(spec.date)}`);
  if (spec.number !== undefined && !(NUMBER_FORMATS as readonly unknown[]).includes(spec.number)) throw bad(source, `${key}.number`, `expected one of ${NUMBER_FORMATS.map((f) => JSON.stringify(f)).join(', ')} (how the source writes one thousand two hundred and thirty-four and a half), got ${JSON.stringify(spec.number)}`);
  if (spec.date !== undefined && spec.number !== undefined) throw bad(source, key, 'date and number cannot be combined');
  const optional = {
    ...(spec.optional === true ? { optional: true } : {}),
    ...(spec.date !== undefined ? { date: spec.date as string } : {}),
    ...(spec.number !== undefined ? { number: spec.number as NumberFormat } : {}),
  };
  const fallback = spec.default as string | undefined;
  const ways = ['const', 'join', 'list', 'from'].filter((k) => spec[k] !== undefined);
  if (spec.const !== undefined) {
    if (typeof spec.const !== 'string') throw bad(source, `${key}.const`, `expected a string, got ${JSON.stringify(spec.const)}`);
    if (ways.length > 1) throw bad(source, key, `const cannot be combined with ${ways.filter((w) => w !== 'const').join(', ')}`);
    return { kind: 'const', value: spec.const };
  }
  if (spec.join !== undefined) {
    if (spec.list !== undefined) throw bad(source, key, 'join and list cannot be combined');
    const from = stringList(spec.join === true ? spec.from : spec.join, source, `${key}.join`);
    const separator = spec.separator === undefined ? ' ' : spec.separator;
    if (typeof separator !== 'string') throw bad(source, `${key}.separator`, `expected a string, got ${JSON.stringify(separator)}`);
    return { kind: 'join', from, separator, values, fallback, ...optional };
  }
  if (spec.list !== undefined) {
    const from = stringList(spec.list === true ? spec.from : spec.list, source, `${key}.list`);
    return { kind: 'list', from, split: spec.split as string | undefined, values, fallback, ...optional };
  }
  if (spec.from !== undefined) {
    if (Array.isArray(spec.from)) {
      if (spec.from.length === 1) return { kind: 'copy', from: stringList(spec.from, source, `${key}.from`)[0]!, split: spec.split as string | undefined, values, fallback, ...optional };
      throw bad(source, `${key}.from`, 'several columns: say how to combine them with "join" (one text) or "list" (several values)');
    }
    const [from] = stringList(spec.from, source, `${key}.from`);
    return { kind: 'copy', from: from!, split: spec.split as string | undefined, values, fallback, ...optional };
  }
  if (fallback !== undefined) return { kind: 'const', value: fallback };
  throw bad(source, key, 'expected one of from, join, list or const');
}

function parseFilter(value: unknown, source: string, key: string): FilterRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(source, key, `expected an object such as {"column": "role", "in": ["end-user"]}, got ${JSON.stringify(value)}`);
  const f = value as Record<string, unknown>;
  for (const k of Object.keys(f)) if (!['column', 'in', 'notIn', 'equals', 'notEquals', 'present', 'reason', 'optional'].includes(k)) throw bad(source, `${key}.${k}`, 'unknown key; expected column, in, notIn, equals, notEquals, present, reason, optional');
  if (typeof f.column !== 'string' || f.column.trim() === '') throw bad(source, `${key}.column`, `expected a column name, got ${JSON.stringify(f.column)}`);
  const rule: FilterRule = { column: f.column };
  const list = (k: string, v: unknown) => {
    const l = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(l) || l.some((x) => typeof x !== 'string')) throw bad(source, `${key}.${k}`, `expected a string or an array of strings, got ${JSON.stringify(v)}`);
    return (l as string[]).map((x) => x.trim().toLowerCase());
  };
  if (f.in !== undefined || f.equals !== undefined) rule.in = [...(f.in === undefined ? [] : list('in', f.in)), ...(f.equals === undefined ? [] : list('equals', f.equals))];
  if (f.notIn !== undefined || f.notEquals !== undefined) rule.notIn = [...(f.notIn === undefined ? [] : list('notIn', f.notIn)), ...(f.notEquals === undefined ? [] : list('notEquals', f.notEquals))];
  if (f.present !== undefined) {
    if (typeof f.present !== 'boolean') throw bad(source, `${key}.present`, `expected true or false, got ${JSON.stringify(f.present)}`);
    rule.present = f.present;
  }
  if (f.optional !== undefined) {
    if (typeof f.optional !== 'boolean') throw bad(source, `${key}.optional`, `expected true or false, got ${JSON.stringify(f.optional)}`);
    rule.optional = f.optional;
  }
  if (f.reason !== undefined) {
    if (typeof f.reason !== 'string') throw bad(source, `${key}.reason`, `expected a string, got ${JSON.stringify(f.reason)}`);
    rule.reason = f.reason;
  }
  if (rule.in === undefined && rule.notIn === undefined && rule.present === undefined) throw bad(source, key, 'a filter needs in, notIn, equals, notEquals or present');
  return rule;
}

/** Validates a transforming map (see the module comment). `source` names it in messages. */
export function parseTransformMap(value: unknown, source: string): TransformMap {
  if (!isTransformMap(value)) throw bad(source, 'fields', 'expected an object of Pylon field → column or rule');
  const raw = value as Record<string, unknown>;
  for (const k of Object.keys(raw)) if (!MAP_KEYS.has(k)) throw bad(source, k, `unknown key; expected one of ${[...MAP_KEYS].filter((m) => !m.startsWith('$')).join(', ')}`);
  const fields: Record<string, FieldSpec | null> = {};
  for (const [target, spec] of Object.entries(raw.fields as Record<string, unknown>)) {
    const key = `fields.${target}`;
    const lower = target.trim().toLowerCase();
    let name: string;
    if (TARGETS.has(lower)) name = lower;
    else if (lower.startsWith(CUSTOM_PREFIX) && target.trim().length > CUSTOM_PREFIX.length) name = CUSTOM_PREFIX + target.trim().slice(CUSTOM_PREFIX.length);
    else {
      const near = [...TARGETS].find((t) => editDistance(lower, t) <= 2);
      throw bad(source, key, `${JSON.stringify(target)} is not a Pylon field; expected one of ${[...TARGETS].join(', ')} or custom.<slug>${near ? ` (did you mean ${near}?)` : ''}`);
    }
    if (name in fields) throw bad(source, key, `${name} is set twice`);
    fields[name] = parseSpec(spec, source, key);
  }
  const filters = raw.filters === undefined ? [] : raw.filters;
  if (!Array.isArray(filters)) throw bad(source, 'filters', `expected an array of filters, got ${JSON.stringify(raw.filters)}`);
  const map: TransformMap = {
    fields,
    filters: filters.map((f, i) => parseFilter(f, source, `filters[${i}]`)),
    requireEmail: false,
  };
  if (raw.requireEmail !== undefined) {
    if (typeof raw.requireEmail !== 'boolean') throw bad(source, 'requireEmail', `expected true or false, got ${JSON.stringify(raw.requireEmail)}`);
    map.requireEmail = raw.requireEmail;
  }
  for (const k of ['source', 'description'] as const) {
    if (raw[k] !== undefined) {
      if (typeof raw[k] !== 'string') throw bad(source, k, `expected a string, got ${JSON.stringify(raw[k])}`);
      map[k] = raw[k] as string;
    }
  }
  if (raw.fingerprint !== undefined) map.fingerprint = stringList(raw.fingerprint, source, 'fingerprint');
  if (raw.fingerprintCase !== undefined) {
    if (raw.fingerprintCase !== 'exact' && raw.fingerprintCase !== 'any') throw bad(source, 'fingerprintCase', `expected "exact" or "any", got ${JSON.stringify(raw.fingerprintCase)}`);
    map.fingerprintCase = raw.fingerprintCase;
  }
  if (raw.externalId !== undefined) {
    const e = raw.externalId as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || typeof e.column !== 'string' || e.column.trim() === '') throw bad(source, 'externalId.column', `expected {"column": "<source id column>", "label": "<source>"}, got ${JSON.stringify(raw.externalId)}`);
    const label = e.label ?? map.source ?? 'import';
    if (typeof label !== 'string' || label.trim() === '') throw bad(source, 'externalId.label', `expected a non-empty string, got ${JSON.stringify(e.label)}`);
    map.externalId = { column: e.column, label, ...(e.label === undefined && map.source === undefined ? { unlabelled: true } : {}) };
    if (e.normalize !== undefined) {
      if (e.normalize !== 'salesforce18') throw bad(source, 'externalId.normalize', `expected "salesforce18", got ${JSON.stringify(e.normalize)}`);
      map.externalId.normalize = 'salesforce18';
    }
  }
  if (raw.account !== undefined) {
    const a = raw.account as Record<string, unknown>;
    if (typeof a !== 'object' || a === null || !ACCOUNT_MATCHES.includes(a.match as AccountMatch)) throw bad(source, 'account.match', `expected one of ${ACCOUNT_MATCHES.join(', ')}, got ${JSON.stringify(a?.match)}`);
    const columns = a.column === undefined ? undefined : stringList(a.column, source, 'account.column');
    if ((a.match === 'name' || a.match === 'external-id') && columns === undefined) throw bad(source, 'account.column', `account.match ${a.match} needs the column that holds the company ${a.match === 'name' ? 'name' : 'id'}`);
    if (a.split !== undefined && (typeof a.split !== 'string' || a.split === '')) throw bad(source, 'account.split', `expected a separator such as ";", got ${JSON.stringify(a.split)}`);
    map.account = { match: a.match as AccountMatch, column: columns?.[0] };
    if (columns && columns.length > 1) map.account.columns = columns;
    if (a.split !== undefined) map.account.split = a.split as string;
    if (a.splitColumns !== undefined) {
      if (a.split === undefined) throw bad(source, 'account.splitColumns', 'needs account.split, the separator of those columns');
      map.account.splitColumns = stringList(a.splitColumns, source, 'account.splitColumns');
    }
  }
  if (raw.footer !== undefined) {
    map.footer = stringList(raw.footer, source, 'footer');
    map.footer.forEach((pattern, i) => {
      try {
        new RegExp(pattern, 'i');
      } catch (error) {
        throw bad(source, `footer[${i}]`, `not a regular expression: ${(error as Error).message}`);
      }
    });
  }
  if (raw.country !== undefined) {
    const c = typeof raw.country === 'string' ? { column: raw.country } : (raw.country as Record<string, unknown>);
    if (typeof c !== 'object' || c === null || typeof c.column !== 'string' || c.column.trim() === '') throw bad(source, 'country', `expected the column holding each row's country, e.g. "Country" or {"column": "Country", "optional": true}, got ${JSON.stringify(raw.country)}`);
    if (c.optional !== undefined && typeof c.optional !== 'boolean') throw bad(source, 'country.optional', `expected true or false, got ${JSON.stringify(c.optional)}`);
    map.country = c.optional === true ? { column: c.column, optional: true } : { column: c.column };
  }
  if (raw.aliases !== undefined) {
    if (typeof raw.aliases !== 'object' || raw.aliases === null || Array.isArray(raw.aliases)) throw bad(source, 'aliases', `expected an object of column → other labels it may carry, got ${JSON.stringify(raw.aliases)}`);
    map.aliases = {};
    for (const [column, labels] of Object.entries(raw.aliases as Record<string, unknown>)) map.aliases[column] = stringList(labels, source, `aliases.${column}`);
  }
  return map;
}

/** Reads and validates a transforming map file. */
export async function loadTransformMap(path: string): Promise<TransformMap> {
  return parseTransformMap(await readMapFile(path), path);
}


/** A plain rename map (header → field) seen as a transforming one: every column kept, renamed where the map says. */
export function renameMapToTransform(header: readonly string[], rename: Record<string, string | null> | undefined): TransformMap {
  const lookup = new Map<string, string | null>();
  for (const [k, v] of Object.entries(rename ?? {})) lookup.set(normalizeHeader(k).toLowerCase(), v);
  const fields: Record<string, FieldSpec | null> = {};
  for (const h of header) {
    const name = normalizeHeader(h);
    if (name === '' || name.startsWith('_')) continue;
    const target = lookup.has(name.toLowerCase()) ? lookup.get(name.toLowerCase())! : name;
    if (target === null) continue;
    fields[TARGETS.has(target.toLowerCase()) ? target.toLowerCase() : target] = { kind: 'copy', from: h };
  }
  return { fields, filters: [], requireEmail: false };
}

/** What one source row becomes. */
export type TransformedRow =
  /** `notes`: what the row lost on the way (dropped phone numbers, extensions), for its line in the results. */
  | { kind: 'row'; cells: string[]; notes: string[]; phonesDropped: number }
  | { kind: 'skip'; reason: string }
  /** `cells`: what the row's columns came to all the same (a failed step's column empty), so the row still claims its email and id among the file's duplicates. */
  | { kind: 'fail'; issue: RowIssue; cells: string[] };

/**
 * Resolves a row's account (see accounts.ts): the account id, nothing, or a failed row. `several`: the row's cell
 * lists several companies, so it fails with this issue, counted among the ambiguous rows of the summary.
 */
export type AccountResolver = (key: { email?: string; value?: string; several?: RowIssue }) => { accountId: string } | { issue: RowIssue } | undefined;

export interface CompiledTransform {
  /** The Pylon columns the rows are turned into (what resolveColumns reads). */
  header: string[];
  /** Indices of the source header's columns the map reads (fields, external id, country, account, filters). */
  columnsRead: ReadonlySet<number>;
  /** Columns the map names as optional that the file does not have (left out of every row). */
  columnsAbsent: readonly string[];
  /** The source column each field copied from one column is read from (`email` → `Email`): what the checks name, as the file spells it. */
  sourceColumns: Readonly<Record<string, string>>;
  apply(cells: readonly string[]): TransformedRow;
  /** Whether a record is a report's footer line (the map's `footer`), not a row. */
  isFooter(cells: readonly string[]): boolean;
  /** The email the map reads from a row it does not build (its filter skips it, or the reader failed it), for the reports. */
  emailOf(cells: readonly string[]): string | undefined;
}

export interface CompileOptions {
  /** Names the map in messages. */
  source: string;
  /** The map must produce a name (default true; false for --mode update). */
  requireName?: boolean;
  /**
   * The map is a plain file's own columns (no preset or transforming map): neither a name nor a key is required here,
   * as for a CSV; the run's column check names an unknown column or a missing email, and a row created without a name fails alone.
   */
  plainFile?: boolean;
  defaultCountry?: CountryCode;
  /** A phone number that cannot be stored: dropped from the contact with a note (default), or the row fails (`--on-bad-phone`). */
  onBadPhone?: BadPhonePolicy;
  /** Overrides the map's external id (`--external-id-column`). */
  externalIdColumn?: string;
  externalIdLabel?: string;
  /** Set by `--account-match` (and the presets); needs `accounts`. `split`: the cell may list several companies. */
  account?: { match: AccountMatch; column?: string; overwrite?: boolean; split?: string };
  accounts?: AccountResolver;
}

const PHONE_TARGETS = new Set(['phone_numbers', 'primary_phone_number']);
/** A phone number in the form Pylon stores and the export writes it: 1 to 15 digits, nothing else. */
const STORED_PHONE = /^\d{1,15}$/;
/** The ids a spreadsheet can round (see lostDigitsId): the validation checks the same columns. */
const ID_TARGETS = new Set(['external_id', 'account_external_id']);


/** Finds a column of the header by name: exactly (normalised), else case-insensitively; errors name the map key and suggest the nearest column. */
export function columnFinder(header: readonly string[], source: string, lenient = false, aliases?: Record<string, string[]>): (name: string, key: string) => number {
  const exact = new Map<string, number>();
  const loose = new Map<string, number>();
  header.forEach((h, i) => {
    const n = normalizeHeader(h);
    if (!exact.has(n)) exact.set(n, i);
    if (!loose.has(n.toLowerCase())) loose.set(n.toLowerCase(), i);
  });
  const others = new Map<string, string[]>();
  for (const [column, labels] of Object.entries(aliases ?? {})) others.set(normalizeHeader(column).toLowerCase(), labels);
  const lookup = (name: string) => {
    const n = normalizeHeader(name);
    return exact.get(n) ?? loose.get(n.toLowerCase());
  };
  return (name, key) => {
    const n = normalizeHeader(name);
    let i = lookup(name);
    for (const alias of others.get(n.toLowerCase()) ?? []) i ??= lookup(alias);
    if (i !== undefined) return i;
    if (lenient) return -1;
    let best: string | undefined;
    let distance = Infinity;
    for (const h of header) {
      const d = editDistance(n.toLowerCase(), normalizeHeader(h).toLowerCase());
      if (d < distance) [best, distance] = [h, d];
    }
    const hint = best !== undefined && distance <= Math.max(2, Math.floor(n.length / 4)) ? ` (did you mean ${JSON.stringify(best)}?)` : '';
    const also = others.has(n.toLowerCase()) ? ` (nor ${others.get(n.toLowerCase())!.map((a) => JSON.stringify(a)).join(' or ')})` : '';
    throw bad(source, key, `no column ${JSON.stringify(name)}${also} in the file${hint}; the file's columns are ${header.slice(0, 30).map((h) => JSON.stringify(h)).join(', ')}${header.length > 30 ? ', …' : ''}`);
  };
}

/**
 * A column the map reads must be the only one of its name (any case) in the
 * file: the finder would read the first and silently leave the other's values
 * out (two exports pasted side by side, a second Email column). Refused as the
 * plain import refuses two columns mapping to one field (columns.ts), before
 * any call, naming both columns.
 */
function twinRefused(header: readonly string[], find: (name: string, key: string) => number): (name: string, key: string) => number {
  return (name, key) => {
    const i = find(name, key);
    if (i === -1) return i;
    const own = normalizeHeader(header[i]!).toLowerCase();
    const twin = header.findIndex((h, j) => j !== i && normalizeHeader(h).toLowerCase() === own);
    if (twin !== -1) {
      const [a, b] = twin < i ? [twin, i] : [i, twin];
      const field = key.startsWith('fields.') ? key.slice('fields.'.length).replace(/\.(join|list|from)(\[\d+\])?$/, '') : key.replace(/\.column$/, '');
      throw new ConfigError(
        'CONFIG_BAD_MAPPING',
        `Columns ${JSON.stringify(header[a])} (column ${a + 1}) and ${JSON.stringify(header[b])} (column ${b + 1}) both map to ${field}; ` +
          `remove one, or rename one (a column the map does not name is not read): only one of them would be read.`,
        { option: '--map' },
      );
    }
    return i;
  };
}

/**
 * Compiles a map against the file's header: every column the map names must
 * exist (a ConfigError naming the key, before any write), and the map must
 * produce a `name` or an email/id to match on.
 */
export function compileTransform(map: TransformMap, sourceHeader: readonly string[], options: CompileOptions): CompiledTransform {
  const findColumn = twinRefused(sourceHeader, columnFinder(sourceHeader, options.source, false, map.aliases));
  /** The file's columns the map reads, and the ones it names that the file lacks and may (optional): what a run notes. */
  const columnsRead = new Set<number>();
  const columnsAbsent: string[] = [];
  const find = (name: string, key: string) => {
    const i = findColumn(name, key);
    columnsRead.add(i);
    return i;
  };
  type Step = (cells: readonly string[], out: string[], notes: string[], dropped: { n: number }) => RowIssue | undefined;
  const steps: Step[] = [];
  const header: string[] = [];
  const sourceColumns: Record<string, string> = {};
  const fields = { ...map.fields };
  const externalColumn = options.externalIdColumn ?? map.externalId?.column;
  const externalLabel = options.externalIdLabel ?? map.externalId?.label ?? map.source ?? 'import';
  if (externalColumn !== undefined) fields.external_id = { kind: 'copy', from: externalColumn };
  const normalizeId = options.externalIdColumn === undefined && map.externalId?.normalize === 'salesforce18' ? salesforceId18 : undefined;
  if (options.requireName !== false && !options.plainFile && !fields.name) {
    throw bad(options.source, 'fields.name', 'the map produces no name, and Pylon needs one to create a contact; map the name, e.g. "name": {"join": ["First Name", "Last Name"]} (or import with --mode update)');
  }
  if (!options.plainFile && !fields.email && !fields.id && !fields.external_id) {
    throw bad(options.source, 'fields.email', 'the map produces neither an email nor an id, so rows could not be matched to contacts; map a column to email');
  }

  const has = columnFinder(sourceHeader, options.source, true, map.aliases);
  const onBadPhone = options.onBadPhone ?? 'drop';
  const countryAt = map.country && !(map.country.optional && has(map.country.column, '') === -1) ? find(map.country.column, 'country.column') : -1;
  if (map.country && countryAt === -1) columnsAbsent.push(map.country.column);
  const countryHeader = countryAt === -1 ? '' : sourceHeader[countryAt]!;
  /** The country that reads this row's national numbers: its own column's, else --default-country; `unknown` when the column holds no country we know. */
  type RowCountry = { country?: CountryCode; from: string; unknown?: string };
  const noCountryCell: RowCountry = { country: options.defaultCountry, from: options.defaultCountry ? ' (--default-country)' : '' };
  // A country column holds few distinct values (names, codes) over many rows, and reading one
  // costs about as much as parsing the phone number: each distinct cell is read once. The cache stops growing at COUNTRY_CACHE_LIMIT cells (a column of garbage).
  const countries = new Map<string, RowCountry>();
  /** How the email field is read from a source row. */
  let readEmail: ((cells: readonly string[]) => string[] | RowIssue) | undefined;
  const rowCountry = (cells: readonly string[]): RowCountry => {
    const cell = countryAt === -1 ? '' : (cells[countryAt] ?? '').trim();
    if (cell === '') return noCountryCell;
    let where = countries.get(cell);
    if (where === undefined) {
      const country = countryFromCell(cell);
      where = country ? { country, from: ` (column ${countryHeader} ${JSON.stringify(cell)})` } : { from: '', unknown: cell };
      if (countries.size < COUNTRY_CACHE_LIMIT) countries.set(cell, where);
    }
    return where;
  };
  for (const [target, rule] of Object.entries(fields)) {
    if (rule === null) continue;
    let spec: FieldSpec = rule;
    if (spec.optional && (spec.kind === 'join' || spec.kind === 'list')) {
      const present = spec.from.filter((c) => has(c, '') !== -1);
      columnsAbsent.push(...spec.from.filter((c) => !present.includes(c)));
      if (present.length === 0) continue;
      spec = { ...spec, from: present };
    } else if (spec.optional && spec.kind === 'copy' && has(spec.from, '') === -1) {
      columnsAbsent.push(spec.from);
      continue;
    }
    const at = header.push(target) - 1;
    const key = `fields.${target}`;
    const phone = PHONE_TARGETS.has(target);
    const multi = phone || target === 'emails' || target === 'phone_numbers';
    const mapValue = (raw: string, column: string): string | RowIssue => {
      if (!('values' in spec) || !spec.values) return raw;
      const mapped = spec.values[raw.toLowerCase()];
      if (mapped !== undefined) return mapped;
      if (spec.fallback !== undefined) return spec.fallback;
      return { code: 'ROW_MAP_NO_VALUE', field: column, message: `Column ${column}: value ${JSON.stringify(raw)} has no entry in ${key}.values (${Object.keys(spec.values).map((v) => JSON.stringify(v)).join(', ')}); add it, or a "default"` };
    };
    let read: (cells: readonly string[]) => string[] | RowIssue;
    /** The file's column(s) the field is read from, for messages: the user fixes the file, not the map's output. */
    let sourceColumn = key;
    switch (spec.kind) {
      case 'const':
        read = () => [spec.value];
        break;
      case 'copy': {
        const i = find(spec.from, key);
        const column = sourceHeader[i]!;
        sourceColumn = column;
        sourceColumns[target] = column;
        read = (cells) => {
          const v = (cells[i] ?? '').trim();
          if (v === '') return spec.fallback !== undefined ? [spec.fallback] : [];
          const parts = spec.split ? v.split(spec.split).map((p) => p.trim()).filter((p) => p !== '') : [v];
          const out: string[] = [];
          for (const p of parts) {
            const m = mapValue(p, column);
            if (typeof m !== 'string') return m;
            if (m !== '') out.push(m);
          }
          return out;
        };
        break;
      }
      case 'join': {
        const idx = spec.from.map((c, j) => find(c, `${key}.join[${j}]`));
        sourceColumn = idx.map((i) => sourceHeader[i]!).join('+');
        read = (cells) => {
          const parts = idx.map((i) => (cells[i] ?? '').trim()).filter((p) => p !== '');
          if (parts.length === 0) return spec.fallback !== undefined ? [spec.fallback] : [];
          const joined = parts.join(spec.separator);
          const m = mapValue(joined, spec.from.join('+'));
          return typeof m === 'string' ? [m] : m;
        };
        break;
      }
      case 'list': {
        const idx = spec.from.map((c, j) => find(c, `${key}.list[${j}]`));
        sourceColumn = idx.map((i) => sourceHeader[i]!).join(', ');
        read = (cells) => {
          const out: string[] = [];
          for (const i of idx) {
            const v = (cells[i] ?? '').trim();
            if (v === '') continue;
            const parts = spec.split ? v.split(spec.split) : phone ? splitPhoneList(v) : multi ? splitMulti(v) : [v];
            for (const p of parts.map((x) => x.trim()).filter((x) => x !== '')) {
              const m = mapValue(p, sourceHeader[i]!);
              if (typeof m !== 'string') return m;
              if (m !== '' && !out.includes(m)) out.push(m);
            }
          }
          if (out.length === 0 && spec.fallback !== undefined) out.push(spec.fallback);
          return out;
        };
        break;
      }
    }
    if (target === 'email') readEmail = read;
    steps.push((cells, out, notes, dropped) => {
      const values = read(cells);
      if (!Array.isArray(values)) return values;
      if (!phone) {
        let read = values;
        if (spec.date !== undefined || spec.number !== undefined) {
          read = [];
          for (const v of values) {
            const parsed = spec.date !== undefined ? parseSpreadsheetDate(v, spec.date) : parseSpreadsheetNumber(v, false, spec.number);
            if (!parsed.ok) return { code: 'ROW_CUSTOM_FIELD_INVALID', field: target, message: `${target}: ${parsed.reason}` };
            read.push(parsed.value);
          }
        }
        out[at] = read.join(MULTI_SEPARATOR);
        // The validation refuses such an id too, but names the map's column (external_id); the user fixes the file's.
        const lost = ID_TARGETS.has(target) ? read.find(lostDigitsId) : undefined;
        if (lost !== undefined) return { code: 'ROW_XLSX_LOST_DIGITS', field: sourceColumn, message: lostDigitsMessage(lost, sourceColumn) };
        if (target === 'external_id' && normalizeId) {
          const ids: string[] = [];
          for (const v of read) {
            const id = normalizeId(v);
            // The row keeps the cell as written (it still claims it among the file's duplicates) and is not stored.
            if ('reason' in id) return { code: 'ROW_INVALID_EXTERNAL_ID', field: sourceColumn, message: `Column ${sourceColumn}: ${id.reason}` };
            ids.push(id.id);
          }
          out[at] = ids.join(MULTI_SEPARATOR);
        }
        return undefined;
      }
      const digits: string[] = [];
      const numbers = values.flatMap((v) => splitPhoneList(v).flatMap(splitPhoneCell));
      const where = numbers.length > 0 ? rowCountry(cells) : { from: '' };
      for (const value of numbers) {
        let result = normalizePhoneNumber(value, where.country, where.from);
        if (where.unknown !== undefined && !result.ok && result.code === 'ROW_PHONE_NO_COUNTRY') {
          result = {
            ok: false,
            code: 'ROW_UNKNOWN_COUNTRY',
            message: `Phone number ${JSON.stringify(value.trim())} has no country code and column ${countryHeader} holds ${JSON.stringify(where.unknown)}, which is not a country this import knows (expected an ISO code such as GB or DEU, or a country's name in English or another common language, such as United Kingdom or Deutschland); fix the country in the source or write the number as +<country code> <number>`,
          };
        }
        // A plain file (XLSX, JSON, NDJSON: no preset, no transforming map) may hold the digits exactly as Pylon stores
        // them and the export writes them (4155550142): kept as they are, as from a CSV, so an export imported again
        // round-trips and an edited number is an update, rather than dropped for lacking a country it never had.
        if (!result.ok && options.plainFile && STORED_PHONE.test(value.trim())) result = { ok: true, digits: value.trim() };
        if (!result.ok) {
          if (onBadPhone === 'fail') return { code: result.code as RowIssueCode, field: target, message: result.message };
          // The same number in phone_numbers and primary_phone_number is one value: one note, counted once.
          const note = `phone number dropped: ${result.message}`;
          if (notes.includes(note)) continue;
          dropped.n++;
          notes.push(note);
          continue;
        }
        if (result.extension) notes.push(`extension ${result.extension} of ${JSON.stringify(value)} dropped (Pylon stores digits only)`);
        if (!digits.includes(result.digits)) digits.push(result.digits);
      }
      out[at] = digits.join(MULTI_SEPARATOR);
      return undefined;
    });
  }

  const emailAt = header.indexOf('email');
  if (externalColumn !== undefined) header.push('external_id_label');
  const labelAt = externalColumn !== undefined ? header.length - 1 : -1;

  // Account association: by the email's domain, or a column's company name / id.
  const account = options.account?.match && options.account.match !== 'off' ? options.account : undefined;
  let accountAt = -1;
  let accountColumn = -1;
  if (account) {
    if (!options.accounts) throw new ConfigError('CONFIG_INVALID_OPTION', 'Account matching needs the account list (internal)', { option: '--account-match' });
    if (account.match !== 'domain') {
      if (!account.column) throw new ConfigError('CONFIG_INVALID_OPTION', `--account-match ${account.match} needs --account-column (the column holding the company ${account.match === 'name' ? 'name' : 'id'})`, { option: '--account-column' });
      accountColumn = find(account.column, 'account.column');
    } else if (emailAt === -1) {
      throw new ConfigError('CONFIG_INVALID_OPTION', '--account-match domain needs an email column', { option: '--account-match' });
    }
    if (!('account_id' in fields) && !('account_external_id' in fields)) {
      header.push(account.overwrite ? 'account_id' : 'account_id_if_unset');
      accountAt = header.length - 1;
    }
  }

  columnsAbsent.push(...map.filters.filter((rule) => rule.optional && has(rule.column, '') === -1).map((rule) => rule.column));
  const filters = map.filters
    .filter((rule) => !rule.optional || has(rule.column, '') !== -1)
    .map((rule) => ({ rule, i: find(rule.column, `filters[${map.filters.indexOf(rule)}].column`) }));
  const width = header.length;
  const footer = (map.footer ?? []).map((p) => new RegExp(p, 'i'));
  return {
    header,
    columnsRead,
    columnsAbsent: [...new Set(columnsAbsent)],
    sourceColumns,
    isFooter(cells) {
      if (footer.length === 0) return false;
      const values = cells.map((c) => c.trim()).filter((c) => c !== '');
      return values.length === 1 && footer.some((re) => re.test(values[0]!));
    },
    emailOf(cells) {
      const values = readEmail?.(cells);
      return Array.isArray(values) ? unvalidatedEmail(values.join(MULTI_SEPARATOR), cells.length === sourceHeader.length) : undefined;
    },
    apply(cells) {
      for (const { rule, i } of filters) {
        const v = (cells[i] ?? '').trim();
        const lower = v.toLowerCase();
        const column = sourceHeader[i]!;
        let why: string | undefined;
        if (rule.present === true && v === '') why = `${column} is empty`;
        else if (rule.present === false && v !== '') why = `${column} is ${JSON.stringify(v)}`;
        else if (rule.in && !rule.in.includes(lower)) why = `${column} is ${JSON.stringify(v)}, not ${rule.in.map((x) => JSON.stringify(x)).join(' or ')}`;
        else if (rule.notIn?.includes(lower)) why = `${column} is ${JSON.stringify(v)}`;
        if (why) return { kind: 'skip', reason: rule.reason ? `${rule.reason} (${why})` : `filtered out: ${why}` };
      }
      const out = new Array<string>(width).fill('');
      const notes: string[] = [];
      const dropped = { n: 0 };
      // Every step runs even after one failed (they are pure): a failed row keeps its email and id, which later rows must not take.
      let failed: RowIssue | undefined;
      for (const step of steps) {
        const issue = step(cells, out, notes, dropped);
        failed ??= issue;
      }
      if (labelAt !== -1) out[labelAt] = externalLabel;
      if (failed) return { kind: 'fail', issue: failed, cells: out };
      if (map.requireEmail && (emailAt === -1 || out[emailAt] === '')) {
        return { kind: 'fail', issue: { code: 'ROW_EMAIL_REQUIRED', field: 'email', message: `No email: ${map.source ?? 'this source'}'s rows without an email are not imported (Pylon contacts are matched by email); add one in the source` }, cells: out };
      }
      if (accountAt !== -1) {
        let value = accountColumn === -1 ? undefined : (cells[accountColumn] ?? '').trim();
        if (value !== undefined && account!.split) {
          const parts = [...new Set(value.split(account!.split).map((p) => p.trim()).filter((p) => p !== ''))];
          if (parts.length > 1) {
            const column = sourceHeader[accountColumn]!;
            const several: RowIssue = { code: 'ROW_ACCOUNT_AMBIGUOUS', field: column, message: `Column ${column} lists ${parts.length} companies (${parts.map((p) => JSON.stringify(p)).join(', ')}) and the file says none is the primary one; keep one in the source, or export the "(Primary)" association column` };
            const found = options.accounts!({ several });
            return { kind: 'fail', issue: found && 'issue' in found ? found.issue : several, cells: out };
          }
          value = parts[0] ?? '';
        }
        const found = options.accounts!({ email: emailAt === -1 ? undefined : out[emailAt], value });
        if (found && 'issue' in found) return { kind: 'fail', issue: found.issue, cells: out };
        if (found) out[accountAt] = found.accountId;
      }
      return { kind: 'row', cells: out, notes, phonesDropped: dropped.n };
    },
  };
}

const SALESFORCE_SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * A Salesforce id in the one form that names its record: a 15-character id
 * (case-sensitive, as reports show it) gets the three suffix characters of the
 * 18-character form (the API's, Data Loader's), which encode which of the 15
 * are upper-case letters, five at a time. An 18-character id is
 * case-insensitive (a spreadsheet or a tool may have lower-cased it): the case
 * of its first 15 is restored from the suffix, and the suffix is upper-cased,
 * so `0035g00000qxa3caav` and `0035g00000QxA3CAAV` are one id. Anything else
 * (another length, other characters, a suffix no id has) gives the reason it
 * is not a Salesforce id.
 */
export function salesforceId18(id: string): { id: string } | { reason: string } {
  if (/^[a-zA-Z0-9]{15}$/.test(id)) {
    let suffix = '';
    for (let chunk = 0; chunk < 3; chunk++) {
      let bits = 0;
      for (let i = 0; i < 5; i++) {
        const c = id.charCodeAt(chunk * 5 + i);
        if (c >= 65 && c <= 90) bits |= 1 << i;
      }
      suffix += SALESFORCE_SUFFIX[bits];
    }
    return { id: id + suffix };
  }
  if (!/^[a-zA-Z0-9]{18}$/.test(id)) return { reason: `${JSON.stringify(id)} is not a Salesforce id (15 or 18 letters and digits, such as 0035g00000QxA3C or 0035g00000QxA3CAAV)` };
  const suffix = id.slice(15).toUpperCase();
  let canonical = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const bits = SALESFORCE_SUFFIX.indexOf(suffix[chunk]!);
    for (let i = 0; i < 5; i++) {
      const c = id[chunk * 5 + i]!;
      const upper = bits !== -1 && (bits & (1 << i)) !== 0;
      // A suffix bit marks an upper-case letter: one on a digit (or a suffix character outside the alphabet) is no id Salesforce gave.
      if (bits === -1 || (upper && !/[a-zA-Z]/.test(c))) return { reason: `${JSON.stringify(id)} is not a Salesforce id: its last 3 characters (${id.slice(15)}) do not match its first 15; copy the id again from Salesforce` };
      canonical += upper ? c.toUpperCase() : c.toLowerCase();
    }
  }
  return { id: canonical + suffix };
}
