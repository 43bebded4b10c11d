import { MULTI_SEPARATOR, STANDARD_COLUMNS, customColumn, type StandardColumn } from '../columns.js';
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
}

const MULTI_STANDARD: ReadonlySet<StandardColumn> = new Set(['emails', 'phone_numbers']);

/**
 * Every column the export can write, in the documented default order: the
 * standard columns, then one `custom.<slug>` per custom field in the order
 * `GET /custom-fields` lists them.
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

/** Applies `--columns`: selects and orders. Unknown or repeated names are a usage error listing the valid ones. */
export function selectColumns(available: readonly ExportColumn[], requested: readonly string[] | undefined): ExportColumn[] {
  if (requested === undefined) return [...available];
  const byName = new Map(available.map((column) => [column.name, column]));
  const unknown = requested.filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      'CONFIG_UNKNOWN_COLUMNS',
      `Invalid option \`--columns\`: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}; valid columns are ${available.map((c) => c.name).join(', ')}`,
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

type Value = string | string[] | undefined;

function standardValue(contact: Contact, name: StandardColumn): Value {
  return name === 'account_id' ? contact.account?.id : contact[name];
}

function valueOf(contact: Contact, column: ExportColumn): Value {
  if (column.slug === undefined) return standardValue(contact, column.name as StandardColumn);
  const field = contact.custom_fields?.[column.slug];
  if (field === undefined || field === null) return undefined;
  return Array.isArray(field.values) ? field.values : field.value;
}

function asText(value: Value): string {
  if (value === undefined || value === null) return '';
  return Array.isArray(value) ? value.join(MULTI_SEPARATOR) : String(value);
}

/** The CSV cells of a contact: absent values are empty, lists are joined with `;`. */
export function toCells(contact: Contact, columns: readonly ExportColumn[]): string[] {
  return columns.map((column) => asText(valueOf(contact, column)));
}

/**
 * The NDJSON object of a contact: every selected key, always present.
 * Multi-valued columns are arrays (`[]` when empty); others are strings or null.
 */
export function toJsonRecord(contact: Contact, columns: readonly ExportColumn[]): Record<string, string | string[] | null> {
  const record: Record<string, string | string[] | null> = {};
  for (const column of columns) {
    const value = valueOf(contact, column);
    if (column.multi) record[column.name] = value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
    else record[column.name] = value === undefined || value === null ? null : asText(value);
  }
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
