import { editDistance } from '../edit-distance.js';
import { readMapFile } from '../input/map-file.js';
import { CUSTOM_PREFIX, EXPORT_ONLY_COLUMNS, IMPORT_COLUMNS, META_PREFIX, type ImportColumn } from '../columns.js';
import { ConfigError } from '../errors.js';
import type { CustomFieldDefinition } from '../pylon/types.js';

/**
 * Header → field resolution for the import: which column of the file feeds which
 * contact field. Decided once per file, before any row is read.
 */

export type ColumnTarget =
  | { kind: 'standard'; column: ImportColumn }
  | { kind: 'custom'; slug: string; definition: CustomFieldDefinition }
  /** meta: `_…` columns (report columns); empty: no header text; unknown: with --ignore-unknown-columns; mapped: mapped to ignore; export-only: an id list the export writes. */
  | { kind: 'ignored'; reason: 'meta' | 'empty' | 'unknown' | 'mapped' | 'export-only' };

export interface PlannedColumn {
  index: number;
  /** The header as written in the file. */
  header: string;
  target: ColumnTarget;
}

export interface ColumnPlan {
  /** One entry per header cell, in file order. */
  columns: PlannedColumn[];
  /** Canonical names of the fields the file sets (`email`, `custom.tier`, …), in file order. */
  fields: string[];
  hasEmail: boolean;
  hasId: boolean;
  /** Index of each standard column the file has. */
  indexOf: Partial<Record<ImportColumn, number>>;
  /** Headers ignored, as written. */
  ignored: string[];
  /** Things worth telling the user (e.g. a --map entry matching no column). */
  warnings: string[];
  /** The label of an `external_id` whose row names none (no external_id_label column, or an empty cell): --external-id-label's. */
  defaultExternalIdLabel?: string;
}

/** `--map` file contents: header → target (`email`, `custom.<slug>`); null or `_…` ignores the column. */
export type ColumnMapping = Record<string, string | null>;

export interface ResolveColumnsOptions {
  map?: ColumnMapping;
  /** The header's cells from this index on are `--set` fields (update), not the file's columns. */
  setFrom?: number;
  ignoreUnknown?: boolean;
  customFields: readonly CustomFieldDefinition[];
}

const STANDARD = new Set<string>(IMPORT_COLUMNS);
const EXPORT_ONLY = new Set<string>(EXPORT_ONLY_COLUMNS);
const SPACES = /[\u00a0\u2000-\u200a\u202f\u205f\u3000]/g;
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]/g;

/**
 * A header as compared: invisible characters removed, odd spaces made plain, trimmed, and in
 * Unicode's composed form (NFC), so a label with accents (`Prénom`, `Sähköposti`) written by a
 * tool that decomposes them still matches a preset's.
 */
export function normalizeHeader(header: string): string {
  return header.replace(INVISIBLE, '').replace(SPACES, ' ').trim().normalize('NFC');
}

export function resolveColumns(header: readonly string[], options: ResolveColumnsOptions): ColumnPlan {
  const customs = indexCustomFields(options.customFields);
  const mapping = options.map ? indexMapping(options.map) : undefined;
  const usedMapKeys = new Set<string>();
  const columns: PlannedColumn[] = [];
  const unknown: Array<{ header: string; shown: string; field?: string; key?: string }> = [];
  const warnings: string[] = [];

  header.forEach((text, index) => {
    const name = normalizeHeader(text);
    let target: ColumnTarget | undefined;
    const mapped = mapping?.get(name);
    if (mapped) {
      usedMapKeys.add(mapped.key);
      target = mapped.target === null ? { kind: 'ignored', reason: 'mapped' } : resolveTarget(mapped.target, customs, false);
      if (!target) unknown.push({ header: text, shown: `${JSON.stringify(text)} (mapped to ${JSON.stringify(mapped.target)})` });
    } else if (name === '') {
      target = { kind: 'ignored', reason: 'empty' };
      warnings.push(`Column ${index + 1} has no header; it is ignored`);
    } else if (name.startsWith(META_PREFIX)) {
      target = { kind: 'ignored', reason: 'meta' };
    } else if (EXPORT_ONLY.has(name.toLowerCase())) {
      target = { kind: 'ignored', reason: 'export-only' };
      warnings.push(`Column ${JSON.stringify(text)} is written by export and read-only here; it is ignored (set a contact's external id with external_id and external_id_label)`);
    } else {
      target = resolveTarget(name, customs, true);
      if (!target) {
        if (options.ignoreUnknown) target = { kind: 'ignored', reason: 'unknown' };
        else {
          const field = name.length <= MAX_SHOWN ? (nearestField(name, customs) ?? USUAL_HEADERS.get(squeezed(name))) : undefined;
          unknown.push({ header: text, shown: quoteCell(text), field, key: name });
        }
      }
    }
    if (target) columns.push({ index, header: text, target });
  });

  if (unknown.length > 0) {
    // A field is offered for one header only, and not when another column already reads it (`email2` beside `email`,
    // `Mobile Phone` after `Phone`): the map would give it two columns, which --map refuses.
    const read = new Set(columns.map((c) => (c.target.kind === 'standard' ? c.target.column : c.target.kind === 'custom' ? CUSTOM_PREFIX + c.target.slug : '')));
    for (const u of unknown) {
      if (u.field !== undefined && read.has(u.field)) u.field = undefined;
      if (u.field === undefined) continue;
      read.add(u.field);
      u.shown += ` (did you mean ${u.field}?)`;
    }
    const list = unknown.slice(0, 20).map((u) => u.shown).join(', ') + (unknown.length > 20 ? ` and ${unknown.length - 20} more` : '');
    // A first line of data read as the header: skipping its "columns" would lose the email column and that row.
    const hint = missingHeaderHint(unknown.map((u) => u.header)) || titleRowHint(header, unknown.length);
    // The map that would read the columns a field was guessed for, to copy into mapping.json.
    const guessed = unknown.filter((u) => u.field !== undefined);
    const example = guessed.length > 0 ? ` holding ${JSON.stringify(Object.fromEntries(guessed.map((u) => [u.key, u.field])))}` : '';
    throw new ConfigError(
      'CONFIG_UNKNOWN_COLUMNS',
      `Unknown column${unknown.length > 1 ? 's' : ''} in the header: ${list}.` +
        (hint
          ? ` ${hint}`
          : ` Known columns are ${IMPORT_COLUMNS.join(', ')} and custom.<slug> for each contact custom field; ` +
            `columns starting with _ are ignored. Rename them, map them with --map mapping.json${example}, or skip them with --ignore-unknown-columns.`),
      { option: '--map' },
    );
  }
  if (mapping) {
    for (const key of mapping.keys) if (!usedMapKeys.has(key)) warnings.push(`--map: no column ${JSON.stringify(key)} in the file`);
  }
  return buildPlan(columns, warnings, options.setFrom ?? header.length);
}

/**
 * Checks each `--set` field names a contact field: a flag is not a header, so a misspelt
 * one is a usage error naming it and the nearest field, whatever --ignore-unknown-columns
 * says (that flag skips the file's columns; skipping a --set would drop the change the run
 * was asked for, and report every contact "unchanged").
 */
export function checkSetFields(fields: readonly string[], customFields: readonly CustomFieldDefinition[], flag = '--set'): void {
  const customs = indexCustomFields(customFields);
  for (const field of fields) {
    const name = normalizeHeader(field);
    if (resolveTarget(name, customs, true) !== undefined) continue;
    const slugs = [...customs.bySlug.keys()];
    const known = `${IMPORT_COLUMNS.join(', ')}, or custom.<slug> for a custom field${slugs.length > 0 ? ` (${slugs.slice(0, 8).join(', ')}${slugs.length > 8 ? ', …' : ''})` : ''}`;
    throw new ConfigError(
      'CONFIG_INVALID_OPTION',
      `Invalid option \`${flag}\`: no contact field is named ${quoteCell(field)}${name.length <= MAX_SHOWN ? didYouMean(name, customs) || partOf(name, customs) : ''}. Fields it can set: ${known}.`,
      { option: flag },
    );
  }
}

function buildPlan(columns: PlannedColumn[], warnings: string[], setFrom: number): ColumnPlan {
  const owner = new Map<string, PlannedColumn>();
  const fields: string[] = [];
  const indexOf: Partial<Record<ImportColumn, number>> = {};
  const ignored: string[] = [];
  for (const column of columns) {
    const { target } = column;
    if (target.kind === 'ignored') {
      ignored.push(column.header);
      continue;
    }
    const field = target.kind === 'standard' ? target.column : CUSTOM_PREFIX + target.slug;
    const previous = owner.get(field);
    if (previous && column.index >= setFrom) {
      // A --set field the file has a column for: two values for one field, and no column 3 to speak of.
      const theirs = previous.index >= setFrom ? `--set ${previous.header}` : `the file's ${JSON.stringify(previous.header)} column (column ${previous.index + 1})`;
      throw new ConfigError('CONFIG_BAD_MAPPING', `--set ${column.header} conflicts with ${theirs}: both set ${field}; drop the column from the file or the --set.`, { option: '--set' });
    }
    if (previous) {
      throw new ConfigError(
        'CONFIG_BAD_MAPPING',
        `Columns ${JSON.stringify(previous.header)} (column ${previous.index + 1}) and ${JSON.stringify(column.header)} (column ${column.index + 1}) both map to ${field}; ` +
          howToKeepOne(previous.header, column.header, field),
        { option: '--map' },
      );
    }
    owner.set(field, column);
    fields.push(field);
    if (target.kind === 'standard') indexOf[target.column] = column.index;
  }
  return { columns, fields, hasEmail: indexOf.email !== undefined, hasId: indexOf.id !== undefined, indexOf, ignored, warnings };
}

/**
 * The advice for two columns that map to one field, true for these two headers: a --map key names a
 * header after normalizeHeader, exactly or else in any case (indexMapping), so a map cannot tell apart
 * two headers that normalise the same, and tells apart two that differ only in case by naming both.
 */
function howToKeepOne(first: string, second: string, field: string): string {
  const a = normalizeHeader(first);
  const b = normalizeHeader(second);
  if (a === b) {
    return `remove one, or rename one (a header starting with _ is ignored): --map cannot ignore just one of two columns with the same name.`;
  }
  if (a.toLowerCase() === b.toLowerCase()) {
    return `remove one, or ignore one with a --map naming both exactly (a key matches a header of any case when no key matches it exactly), e.g. ${JSON.stringify({ [b]: null, [a]: field })}.`;
  }
  return 'remove one, or ignore one with --map (map it to null).';
}

interface CustomIndex {
  bySlug: Map<string, CustomFieldDefinition>;
  /** Lower-cased slug → definitions (several when slugs differ only by case). */
  bySlugLower: Map<string, CustomFieldDefinition[]>;
  /** Lower-cased slug or label → definitions, for bare headers. */
  byName: Map<string, CustomFieldDefinition[]>;
}

function indexCustomFields(definitions: readonly CustomFieldDefinition[]): CustomIndex {
  const index: CustomIndex = { bySlug: new Map(), bySlugLower: new Map(), byName: new Map() };
  const add = (map: Map<string, CustomFieldDefinition[]>, key: string, definition: CustomFieldDefinition) => {
    const list = map.get(key) ?? [];
    if (!list.includes(definition)) list.push(definition);
    map.set(key, list);
  };
  for (const definition of definitions) {
    index.bySlug.set(definition.slug, definition);
    add(index.bySlugLower, definition.slug.toLowerCase(), definition);
    add(index.byName, definition.slug.toLowerCase(), definition);
    if (definition.label) add(index.byName, normalizeHeader(definition.label).toLowerCase(), definition);
  }
  return index;
}

/**
 * A target name → column target. Standard columns match case-insensitively;
 * `custom.<slug>` matches the slug exactly, else case-insensitively when only one
 * slug fits. With `bare`, a header that is neither may also name a custom field by
 * its slug or label (case-insensitive, when unambiguous).
 */
function resolveTarget(name: string, customs: CustomIndex, bare: boolean): ColumnTarget | undefined {
  const lower = name.toLowerCase();
  if (STANDARD.has(lower)) return { kind: 'standard', column: lower as ImportColumn };
  if (lower.startsWith(CUSTOM_PREFIX)) {
    const slug = name.slice(CUSTOM_PREFIX.length);
    const exact = customs.bySlug.get(slug);
    if (exact) return { kind: 'custom', slug: exact.slug, definition: exact };
    const loose = customs.bySlugLower.get(slug.toLowerCase());
    if (loose?.length === 1) return { kind: 'custom', slug: loose[0]!.slug, definition: loose[0]! };
    return undefined;
  }
  if (!bare) return undefined;
  const named = customs.byName.get(lower);
  if (named?.length === 1) return { kind: 'custom', slug: named[0]!.slug, definition: named[0]! };
  return undefined;
}

function didYouMean(name: string, customs: CustomIndex): string {
  const best = nearestField(name, customs);
  return best !== undefined ? ` (did you mean ${best}?)` : '';
}

/** The field whose name is a typo or two from `name` (`emial` → email), if one is. */
function nearestField(name: string, customs: CustomIndex): string | undefined {
  const lower = name.toLowerCase();
  const candidates = [...IMPORT_COLUMNS, ...[...customs.bySlug.keys()].map((slug) => CUSTOM_PREFIX + slug)];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerated = lower.length <= 4 ? 1 : lower.length <= 10 ? 2 : 3;
  return best !== undefined && bestDistance <= tolerated ? best : undefined;
}

/** A header without case, spaces, dashes, dots or underscores: `E-mail Address` → `emailaddress`. */
const squeezed = (name: string) => name.toLowerCase().replace(/[\s_.-]+/g, '');

/**
 * Headers other tools and spreadsheets write for a contact field (compared squeezed), offered as "did you mean"
 * and in the --map example: never read without a map, since a guess could put a value in the wrong field.
 */
const USUAL_HEADERS: ReadonlyMap<string, ImportColumn> = new Map<string, ImportColumn>([
  ...(['emailaddress', 'mail', 'mailaddress', 'primaryemail', 'workemail', 'contactemail', 'emailid'] as const).map((h) => [h, 'email'] as [string, ImportColumn]),
  ...(['fullname', 'contactname', 'displayname', 'contact'] as const).map((h) => [h, 'name'] as [string, ImportColumn]),
  ...(['phone', 'phonenumber', 'phones', 'mobile', 'mobilephone', 'mobilenumber', 'telephone', 'tel', 'cell'] as const).map((h) => [h, 'phone_numbers'] as [string, ImportColumn]),
  // Not `role`: Zendesk's (end-user, agent, admin) and Intercom's (user, lead) are no portal roles.
  ...(['portalaccess'] as const).map((h) => [h, 'portal_role'] as [string, ImportColumn]),
  ...(['avatar', 'photo', 'photourl', 'picture', 'pictureurl', 'imageurl'] as const).map((h) => [h, 'avatar_url'] as [string, ImportColumn]),
]);

/** A field named by one word of its name (`role` for portal_role, `notes` for custom.notes): the first field with that word. */
function partOf(name: string, customs: CustomIndex): string {
  const lower = name.toLowerCase();
  const candidates = [...IMPORT_COLUMNS, ...[...customs.bySlug.keys()].map((slug) => CUSTOM_PREFIX + slug)];
  const found = candidates.find((candidate) => candidate.toLowerCase().split(/[._-]/).includes(lower));
  return found === undefined ? '' : ` (did you mean ${found}?)`;
}

/** A header cell is quoted by its first characters only: a whole 10 MB line in an error helps nobody. */
const MAX_SHOWN = 60;
function quoteCell(text: string): string {
  return text.length <= MAX_SHOWN ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, MAX_SHOWN))}… (${text.length.toLocaleString('en-US')} characters)`;
}

/** When no cell of the first line is a column and some look like values (an email address), the file probably has no header line. */
/**
 * What to say when header cells that name no field hold an email address: no
 * header is ever an address, so the file's first line is data read as the header
 * (a plain list of emails, say). Empty when none does.
 */
export function missingHeaderHint(headers: readonly string[]): string {
  const email = headers.find((cell) => /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/.test(normalizeHeader(cell)));
  if (!email) return '';
  return `Missing header? The first line looks like data (${quoteCell(normalizeHeader(email))} is an email address), so the file seems to have no header line: add one naming the columns as its first line, e.g. email for a list of addresses, or name,email.`;
}

/**
 * A header of one cell that names no column (`Contacts export 2026`, a merged title above the column names): the
 * header is further down. Said with the usual advice, which still applies.
 */
function titleRowHint(header: readonly string[], unknown: number): string {
  const cells = header.filter((cell) => normalizeHeader(cell) !== '');
  if (cells.length !== 1 || unknown !== 1) return '';
  // `name;email` read with --delimiter , (or a comma file with --delimiter ';'): the delimiter is wrong, not the header.
  const cell = normalizeHeader(cells[0]!);
  // Names, not a title's words (`Contacts export | Q3`): a known column among them, or three or more.
  const names = (d: string) => cell.split(d).map((part) => part.trim().toLowerCase()).filter((part) => part !== '');
  const delimiter = [';', '\t', '|', ','].find((d) => names(d).length > 2 || (names(d).length === 2 && names(d).some((name) => (IMPORT_COLUMNS as readonly string[]).includes(name))));
  if (delimiter !== undefined) {
    const shown = delimiter === '\t' ? 'a tab' : delimiter;
    const flag = delimiter === '\t' ? "--delimiter tab" : `--delimiter '${delimiter}'`;
    return `The first line holds one cell only, with ${shown} between its names: the file is probably delimited by ${shown}, so pass ${flag}.`;
  }
  return `The first line holds one cell only: if it is a title above the column names, delete the lines above the header and import again. Known columns are ${IMPORT_COLUMNS.join(', ')} and custom.<slug> for each contact custom field; rename columns, map them with --map mapping.json, or skip them with --ignore-unknown-columns.`;
}

/** Levenshtein distance (one home, shared with the CLI's flag suggestions). */
export { editDistance };

interface MappingIndex {
  keys: string[];
  get(header: string): { key: string; target: string | null } | undefined;
}

/** Mapping keys match headers exactly (after normalising), then case-insensitively. */
function indexMapping(map: ColumnMapping): MappingIndex {
  const exact = new Map<string, { key: string; target: string | null }>();
  const loose = new Map<string, { key: string; target: string | null }>();
  for (const [key, target] of Object.entries(map)) {
    const entry = { key, target: isIgnoreTarget(target) ? null : target };
    exact.set(normalizeHeader(key), entry);
    loose.set(normalizeHeader(key).toLowerCase(), entry);
  }
  return { keys: Object.keys(map), get: (header) => exact.get(header) ?? loose.get(header.toLowerCase()) };
}

function isIgnoreTarget(target: string | null): target is null {
  return target === null || target.trim() === '' || target.trim().startsWith(META_PREFIX);
}

/**
 * Reads a `--map` file: a JSON object of header → target, where a target is a
 * standard column (`email`, `account_external_id`, …), `custom.<slug>`, or null /
 * "" / a `_…` name to ignore the column. Bad JSON or bad targets: CONFIG_BAD_MAPPING.
 */
export async function loadMapping(path: string): Promise<ColumnMapping> {
  return parseMapping(await readMapFile(path), path);
}

/** Validates mapping contents (see loadMapping); `source` names it in messages. */
export function parseMapping(value: unknown, source: string): ColumnMapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('CONFIG_BAD_MAPPING', `The mapping file ${source} must hold a JSON object of "CSV header": "target", e.g. {"E-mail": "email", "Tier": "custom.tier"}`, { option: '--map' });
  }
  const mapping: ColumnMapping = {};
  const bad: string[] = [];
  for (const [key, target] of Object.entries(value)) {
    if (target !== null && typeof target !== 'string') {
      bad.push(`${JSON.stringify(key)}: ${JSON.stringify(target)} (not a string)`);
    } else if (isIgnoreTarget(target)) {
      mapping[key] = null;
    } else {
      const trimmed = target.trim();
      const lower = trimmed.toLowerCase();
      if (STANDARD.has(lower)) mapping[key] = lower;
      else if (lower.startsWith(CUSTOM_PREFIX) && trimmed.length > CUSTOM_PREFIX.length) mapping[key] = CUSTOM_PREFIX + trimmed.slice(CUSTOM_PREFIX.length);
      else bad.push(`${JSON.stringify(key)}: ${JSON.stringify(target)}`);
    }
  }
  if (bad.length > 0) {
    throw new ConfigError(
      'CONFIG_BAD_MAPPING',
      `The mapping file ${source} has invalid targets: ${bad.join(', ')}. A target is one of ${IMPORT_COLUMNS.join(', ')}, custom.<slug>, or null to ignore the column.`,
      { option: '--map' },
    );
  }
  return mapping;
}

/**
 * The error report's `_error_field` for an issue: the file's column as written, since the user fixes the file. A
 * field already named by the file's header is kept; a canonical one (`email`, `account_id`, `custom.seats`) becomes
 * the header of the planned column it was read from (in a migration, run-import has set those headers to the source
 * columns the fields are copied from: `Email`, `Company ID`). A field whose value comes from no one column (a name
 * joined from two, an account found by --account-match) keeps its canonical name.
 */
export function fileColumnNamer(plan: ColumnPlan, fileHeader: readonly string[]): (field: string | undefined) => string | undefined {
  const headers = new Set(fileHeader);
  return (field) => {
    if (field === undefined || headers.has(field)) return field;
    const column = plan.columns.find(({ target }) =>
      target.kind === 'standard' ? target.column === field : target.kind === 'custom' && `${CUSTOM_PREFIX}${target.slug}` === field,
    );
    return column?.header ?? field;
  };
}
