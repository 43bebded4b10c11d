import { editDistance } from '../edit-distance.js';
import { EXPORT_ONLY_COLUMNS, MULTI_SEPARATOR, STANDARD_COLUMNS, customColumn, type StandardColumn } from '../columns.js';
import { ConfigError } from '../errors.js';
import type { Contact, CustomFieldDefinition } from '../pylon/types.js';

/** One exported column: its header and how to read it from a contact. */
export interface ExportColumn {
  name: string;
  /** Set for `custom.<slug>` columns. */
  slug?: string;
  /** Multi-valued: joined with `;` in CSV, an array in NDJSON. */
  multi: boolean;
  /** The custom field's type (`number`, `date`, …), for typed output. */
  fieldType?: string;
  /** `number_metadata.decimal_places` of a number or decimal field. */
  decimalPlaces?: number;
  /** Set for the id-list columns (`external_ids`, …): the field names of each entry, in the OpenAPI's order. */
  entryFields?: readonly [string, string];
}

/** One entry of an id-list column: `{external_id, label}` or `{id, source}`; an absent field is null. */
export type IdEntry = Record<string, string | null>;

/**
 * The id lists a contact carries, exported as lists of objects: the contact's
 * `external_ids` (OpenAPI ExternalID), its account's (MiniAccount.external_ids)
 * and `integration_user_ids` (IntegrationUserID). Opt-in with `--columns`:
 * adding them to the default set would change every existing export's column
 * set (its state and CSV header).
 */
export const ID_LIST_COLUMNS: ReadonlyArray<{ name: (typeof EXPORT_ONLY_COLUMNS)[number]; fields: readonly [string, string]; read: (contact: Contact) => ReadonlyArray<object> | undefined }> = [
  { name: 'external_ids', fields: ['external_id', 'label'], read: (contact) => contact.external_ids },
  { name: 'account_external_ids', fields: ['external_id', 'label'], read: (contact) => contact.account?.external_ids },
  { name: 'integration_user_ids', fields: ['id', 'source'], read: (contact) => contact.integration_user_ids },
];

const ID_LIST_BY_NAME = new Map<string, (typeof ID_LIST_COLUMNS)[number]>(ID_LIST_COLUMNS.map((c) => [c.name, c]));

/** The entries of an id-list column as objects with exactly its fields (absent or non-string fields are null); [] when none. */
export function idEntries(contact: Contact, name: string): IdEntry[] {
  const column = ID_LIST_BY_NAME.get(name)!;
  const list = column.read(contact);
  if (!Array.isArray(list)) return [];
  return list.map((entry) => {
    const out: IdEntry = {};
    for (const field of column.fields) {
      const value = (entry as Record<string, unknown> | null)?.[field];
      out[field] = typeof value === 'string' ? value : null;
    }
    return out;
  });
}

/** The CSV text of an id list: JSON (an array of objects, keys in the documented order), empty when the list is. */
export function idEntriesText(entries: readonly IdEntry[]): string {
  return entries.length === 0 ? '' : JSON.stringify(entries);
}

const MULTI_STANDARD: ReadonlySet<StandardColumn> = new Set(['emails', 'phone_numbers']);

/**
 * Every column the export can write, in the documented default order: the
 * standard columns, then one `custom.<slug>` per custom field in the order
 * `GET /custom-fields` lists them. The id lists are not in this default set
 * (see ON_REQUEST_COLUMNS).
 */
export function availableColumns(customFields: readonly CustomFieldDefinition[]): ExportColumn[] {
  const columns: ExportColumn[] = STANDARD_COLUMNS.map((name) => ({ name, multi: MULTI_STANDARD.has(name) }));
  const seen = new Set<string>();
  for (const field of customFields) {
    if (seen.has(field.slug)) continue;
    seen.add(field.slug);
    const places = field.number_metadata?.decimal_places;
    columns.push({
      name: customColumn(field.slug),
      slug: field.slug,
      multi: field.type === 'multiselect',
      fieldType: field.type,
      ...(typeof places === 'number' ? { decimalPlaces: places } : {}),
    });
  }
  return columns;
}

/** Columns written only when `--columns` names them: the id lists. */
export const ON_REQUEST_COLUMNS: readonly ExportColumn[] = ID_LIST_COLUMNS.map((idList) => ({ name: idList.name, multi: true, entryFields: idList.fields }));

/** " (did you mean email?)" for a name one typo from a column, as --filter says it (filter-expr.ts); else nothing. */
function nearestColumn(name: string, available: readonly ExportColumn[]): string {
  const nearest = available.map((c) => ({ name: c.name, d: editDistance(name, c.name) })).sort((a, b) => a.d - b.d)[0];
  return nearest && nearest.d <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean ${nearest.name}?)` : '';
}

/** Applies `--columns` to the default set (and the columns written on request): selects and orders. Unknown or repeated names are a usage error listing the valid ones. */
export function selectColumns(defaults: readonly ExportColumn[], requested: readonly string[] | undefined): ExportColumn[] {
  if (requested === undefined) return [...defaults];
  const available = [...ON_REQUEST_COLUMNS, ...defaults];
  const byName = new Map(available.map((column) => [column.name, column]));
  const unknown = requested.filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      'CONFIG_UNKNOWN_COLUMNS',
      `Invalid option \`--columns\`: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `${JSON.stringify(n)}${nearestColumn(n, available)}`).join(', ')}; valid columns are ${defaults.map((c) => c.name).join(', ')} (the default set) and ${ON_REQUEST_COLUMNS.map((c) => c.name).join(', ')} (on request)`,
      { option: '--columns' },
    );
  }
  const repeated = requested.filter((name, i) => requested.indexOf(name) !== i);
  if (repeated.length > 0) {
    throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`--columns\`: expected each column once, got ${JSON.stringify(repeated[0])} twice`, {
      option: '--columns',
    });
  }
  return requested.map((name) => byName.get(name)!);
}

/** A value as read from a contact, before any conversion: text, a list, the entries of an id list, or nothing. */
export type RawValue = string | string[] | IdEntry[] | undefined | null;

type Accessor = (contact: Contact) => RawValue;

/** One monomorphic reader per column (a computed key on every contact made the hot loop megamorphic). */
function accessor(column: ExportColumn): Accessor {
  if (column.entryFields !== undefined) {
    const name = column.name;
    return (contact) => idEntries(contact, name);
  }
  if (column.slug !== undefined) {
    const slug = column.slug;
    return (contact) => customValue(contact.custom_fields?.[slug]);
  }
  switch (column.name) {
    case 'id':
      return (contact) => contact.id;
    case 'name':
      return (contact) => contact.name;
    case 'email':
      return (contact) => contact.email;
    case 'emails':
      return (contact) => contact.emails;
    case 'account_id':
      return (contact) => contact.account?.id;
    case 'avatar_url':
      return (contact) => contact.avatar_url;
    case 'portal_role':
      return (contact) => contact.portal_role;
    case 'portal_role_id':
      return (contact) => contact.portal_role_id;
    case 'phone_numbers':
      return (contact) => contact.phone_numbers;
    case 'primary_phone_number':
      return (contact) => contact.primary_phone_number;
    default: {
      const key = column.name as keyof Contact;
      return (contact) => contact[key] as RawValue;
    }
  }
}

/** How a column list is read: an accessor per standard column; custom fields by slug. */
interface Reader {
  /** Accessors of the columns read one by one (undefined where a column is read from the custom fields' loop). */
  read: Array<Accessor | undefined>;
  /** Slug → column index, when the custom fields are read in one loop over each contact's fields. */
  slugs: Map<string, number> | undefined;
}

/**
 * From this many custom-field columns on, a contact's custom fields are read
 * in one loop over its own keys instead of one lookup per column: contacts
 * from the API carry their fields in many key orders (a shape each), so a
 * lookup by a computed key is megamorphic and costs about three times a step
 * of the loop. Fewer columns than this are cheaper to look up.
 */
const SLUG_LOOP_COLUMNS = 4;

function readerOf(columns: readonly ExportColumn[]): Reader {
  const slugged = columns.filter((column) => column.entryFields === undefined && column.slug !== undefined).length;
  if (slugged < SLUG_LOOP_COLUMNS) return { read: columns.map(accessor), slugs: undefined };
  const slugs = new Map<string, number>();
  const read = columns.map((column, i) => {
    if (column.entryFields !== undefined || column.slug === undefined) return accessor(column);
    slugs.set(column.slug, i);
    return undefined;
  });
  return { read, slugs };
}

/** A custom field's value as a column holds it: its list of values, else its one value; undefined when the contact lacks the field. */
function customValue(field: NonNullable<Contact['custom_fields']>[string] | null | undefined): RawValue {
  if (field === undefined || field === null) return undefined;
  return Array.isArray(field.values) ? field.values : field.value;
}

const readerCache = new WeakMap<readonly ExportColumn[], Reader>();

/** A contact's values in column order, read once: the CSV cells, the NDJSON record and the typed row are all made from them. */
export function readValues(contact: Contact, columns: readonly ExportColumn[]): RawValue[] {
  let reader = readerCache.get(columns);
  if (!reader) {
    reader = readerOf(columns);
    readerCache.set(columns, reader);
  }
  const { read, slugs } = reader;
  const values: RawValue[] = new Array(read.length);
  for (let i = 0; i < read.length; i += 1) {
    const get = read[i];
    values[i] = get === undefined ? undefined : get(contact);
  }
  const fields = slugs ? contact.custom_fields : undefined;
  if (fields) {
    for (const slug in fields) {
      const i = slugs!.get(slug);
      if (i === undefined) continue;
      values[i] = customValue(fields[slug]);
    }
  }
  return values;
}

function asText(value: RawValue): string {
  if (value === undefined || value === null) return '';
  return Array.isArray(value) ? value.join(MULTI_SEPARATOR) : String(value);
}

/** The CSV cells of a contact: absent values are empty, lists are joined with `;`, id lists are JSON. */
export function toCells(contact: Contact, columns: readonly ExportColumn[]): string[] {
  return cellsOf(readValues(contact, columns), columns);
}

/** The CSV cells of values read with readValues. */
export function cellsOf(values: readonly RawValue[], columns: readonly ExportColumn[]): string[] {
  const cells: string[] = new Array(columns.length);
  for (let i = 0; i < columns.length; i += 1) cells[i] = columns[i]!.entryFields !== undefined ? idEntriesText(values[i] as IdEntry[]) : asText(values[i]);
  return cells;
}

/** cellsOf, written over the values themselves (one array less per contact): for a run that needs nothing else from them. */
export function cellsInPlace(values: RawValue[], columns: readonly ExportColumn[]): string[] {
  for (let i = 0; i < columns.length; i += 1) values[i] = columns[i]!.entryFields !== undefined ? idEntriesText(values[i] as IdEntry[]) : asText(values[i]);
  return values as string[];
}

/**
 * The NDJSON object of a contact: every selected key, always present.
 * Multi-valued columns are arrays (`[]` when empty); others are strings or null.
 */
export function toJsonRecord(contact: Contact, columns: readonly ExportColumn[]): JsonRecord {
  return jsonRecordOf(readValues(contact, columns), columns);
}

export type JsonRecord = Record<string, string | string[] | IdEntry[] | null>;

/** The NDJSON object of values read with readValues. */
export function jsonRecordOf(values: readonly RawValue[], columns: readonly ExportColumn[]): JsonRecord {
  const record: JsonRecord = {};
  columns.forEach((column, i) => {
    const value = values[i];
    if (column.entryFields !== undefined) record[column.name] = value as IdEntry[];
    else if (column.multi) record[column.name] = value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
    else record[column.name] = value === undefined || value === null ? null : asText(value);
  });
  return record;
}

/** Why a record from the API cannot be exported, or undefined when it can. */
export function recordProblem(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'the record is not an object';
  const id = (record as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '') return 'the record has no id';
  if (/[\r\n]/.test(id)) return 'the id contains a line break';
  return undefined;
}
