/**
 * Initial data: a JSON or CSV seed file (validated like creates, read-only
 * custom fields allowed) or N random contacts drawn from the seeded PRNG.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CUSTOM_PREFIX, IMPORT_COLUMNS, META_PREFIX, splitMulti } from '../columns.js';
import { ConfigError } from '../errors.js';
import type { Contact, CustomFieldDefinition, CustomFieldValue, CustomFieldWrite } from '../pylon/types.js';
import { DEFAULT_PORTAL_ROLE } from './contact-model.js';
import { ApiError } from './api-error.js';
import { MULTI_VALUED_TYPES } from './org.js';
import type { Prng } from './prng.js';
import type { ContactSeed, ContactStore } from './store.js';

const MULTI_COLUMNS = new Set(['emails', 'phone_numbers']);

function unusable(file: string, detail: string): ConfigError {
  return new ConfigError('INPUT_UNREADABLE', `Seed file ${file}: ${detail}`, { option: '--seed' });
}

/**
 * A malformed seed CSV in one sentence naming its line, instead of csv-parse's own wording ("Invalid Record
 * Length: columns length is 2, got 3 on line 2"), which names the parser's options rather than the file's mistake.
 */
export function describeCsvError(error: unknown): string {
  const { code, lines, record, columns } = error as { code?: string; lines?: number; record?: unknown[]; columns?: unknown[] };
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `a quoted cell is still open at the end of the file (line ${lines}): close the quote where the cell ends, and write a quote inside a quoted cell as ""`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `line ${lines} has text after the quote that closes a cell: quote the whole cell, and write a quote inside it as ""`;
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
    case 'CSV_RECORD_DONT_MATCH_COLUMNS_LENGTH':
      return `line ${lines} has ${record?.length ?? 'a different number of'} cells where the header has ${columns?.length ?? 'another number'}: quote a cell that holds a comma`;
    default:
      return lines === undefined ? `not a readable CSV file (${(error as Error).message})` : `line ${lines} is not valid CSV (${(error as Error).message})`;
  }
}

/** Turns CSV records (the import/export columns, `custom.<slug>`) into seeds. */
export function csvRecordsToSeeds(records: Array<Record<string, string>>, store: ContactStore, file: string): ContactSeed[] {
  const known = new Set<string>(IMPORT_COLUMNS);
  const header = Object.keys(records[0] ?? {});
  for (const column of header) {
    if (known.has(column) || column.startsWith(META_PREFIX)) continue;
    if (column.startsWith(CUSTOM_PREFIX) && store.org.field(column.slice(CUSTOM_PREFIX.length))) continue;
    throw unusable(file, `unknown column "${column}" (expected ${IMPORT_COLUMNS.join(', ')} or custom.<slug> of a contact custom field)`);
  }
  return records.map((record) => {
    const seed: Record<string, unknown> = {};
    const customFields: CustomFieldWrite[] = [];
    for (const [column, cell] of Object.entries(record)) {
      if (cell === '' || column.startsWith(META_PREFIX)) continue;
      if (column.startsWith(CUSTOM_PREFIX)) {
        const slug = column.slice(CUSTOM_PREFIX.length);
        const multi = MULTI_VALUED_TYPES.has(store.org.field(slug)?.type ?? '');
        customFields.push(multi ? { slug, values: splitMulti(cell) } : { slug, value: cell });
      } else seed[column] = MULTI_COLUMNS.has(column) ? splitMulti(cell) : cell;
    }
    if (customFields.length > 0) seed.custom_fields = customFields;
    return seed as unknown as ContactSeed;
  });
}

/** Loads a .json (array of contacts, or {contacts: [...]}) or .csv seed file into the store. */
export async function seedFromFile(store: ContactStore, file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? ': not found' : code === 'EISDIR' ? ' is a directory: name a .json or .csv seed file' : `: ${(error as Error).message}`;
    throw new ConfigError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `Seed file ${file}${problem}`, {
      option: '--seed',
    });
  }
  let seeds: ContactSeed[];
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw unusable(file, `not valid JSON (${(error as Error).message})`);
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { contacts?: unknown })?.contacts;
    if (!Array.isArray(list)) throw unusable(file, 'expected an array of contacts or {"contacts": [...]}');
    seeds = list as ContactSeed[];
  } else if (ext === '.csv') {
    let records: Array<Record<string, string>>;
    try {
      records = parse(text, { columns: true, bom: true, skip_empty_lines: true, trim: true });
    } catch (error) {
      throw unusable(file, describeCsvError(error));
    }
    seeds = csvRecordsToSeeds(records, store, file);
  } else {
    throw unusable(file, 'expected a .json or .csv file');
  }
  seeds.forEach((seed, i) => {
    try {
      store.insert(seed);
    } catch (error) {
      if (error instanceof ApiError) throw unusable(file, `contact #${i + 1}${ext === '.csv' ? ` (line ${i + 2})` : ''}: ${error.errors.join('; ')}`);
      throw error;
    }
  });
  return seeds.length;
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'John', 'Radia', 'Tim', 'Hedy', 'Edsger', 'Katherine', 'Donald', 'Sophie', 'Guido', 'Anita', 'Bjarne'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Backus', 'Perlman', 'Berners-Lee', 'Lamarr', 'Dijkstra', 'Johnson', 'Knuth', 'Wilson', 'van Rossum', 'Borg', 'Stroustrup'];

const DAY_MS = 86_400_000;
/** 730 consecutive dates from 2026-01-01, made once. */
const DATES = Array.from({ length: 730 }, (_, i) => new Date(Date.UTC(2026, 0, 1) + i * DAY_MS).toISOString().slice(0, 10));
const two = (n: number) => (n < 10 ? `0${n}` : String(n));

function randomValue(def: CustomFieldDefinition, prng: Prng): CustomFieldValue | undefined {
  const options = def.select_metadata?.options ?? [];
  switch (def.type) {
    case 'select':
      return options.length ? { slug: def.slug, value: prng.pick(options).slug } : undefined;
    case 'multiselect': {
      if (!options.length) return undefined;
      const a = prng.pick(options).slug;
      const b = prng.pick(options).slug;
      return { slug: def.slug, values: a === b ? [a] : [a, b] };
    }
    case 'number':
      return { slug: def.slug, value: String(1 + prng.int(500)) };
    case 'decimal':
      return { slug: def.slug, value: (prng.int(1_000_000) / 100).toFixed(2) };
    case 'boolean':
      return { slug: def.slug, value: prng.next() < 0.5 ? 'true' : 'false' };
    case 'date':
      return { slug: def.slug, value: prng.pick(DATES) };
    case 'datetime':
      return { slug: def.slug, value: `${prng.pick(DATES)}T${two(prng.int(24))}:${two(prng.int(60))}:${two(prng.int(60))}Z` };
    case 'url':
      return { slug: def.slug, value: `https://www.linkedin.com/in/user-${prng.int(1_000_000)}` };
    case 'user':
      return { slug: def.slug, value: `user-${1 + prng.int(20)}` };
    case 'text':
      return { slug: def.slug, value: `Note ${prng.int(100_000)}` };
    default:
      return undefined;
  }
}

/**
 * Adds `count` random, valid contacts with unique emails (`first.last.N@domain`).
 * Built directly in the read shape (values are valid by construction), so a
 * million take seconds.
 */
export function seedRandom(store: ContactStore, count: number, prng: Prng): void {
  const accounts = store.org.accounts;
  const minis = accounts.map((a) => store.org.miniAccount(a.id));
  const fields = store.org.customFields.filter((f) => f.object_type === 'contact' && !f.is_read_only);
  const locals = FIRST.map((first) => LAST.map((last) => `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '')));
  const start = store.end;
  for (let i = 0; i < count; i++) {
    const f = prng.int(FIRST.length);
    const l = prng.int(LAST.length);
    const a = accounts.length > 0 && prng.next() < 0.8 ? prng.int(accounts.length) : -1;
    const domain = a === -1 ? 'example.com' : accounts[a].primary_domain ?? accounts[a].domain ?? 'example.com';
    const email = `${locals[f][l]}.${start + i}@${domain}`;
    const custom: Record<string, CustomFieldValue> = {};
    for (const def of fields) {
      if (prng.next() < 0.3) {
        const value = randomValue(def, prng);
        if (value) custom[def.slug] = value;
      }
    }
    const contact: Contact = { id: store.nextId(), name: `${FIRST[f]} ${LAST[l]}`, email, emails: [email] };
    if (prng.next() < 0.2) {
      const phone = `1555${String(prng.int(10_000_000)).padStart(7, '0')}`;
      contact.phone_numbers = [phone];
      contact.primary_phone_number = phone;
    }
    if (a !== -1) contact.account = minis[a];
    contact.custom_fields = custom;
    contact.portal_role = DEFAULT_PORTAL_ROLE;
    store.append(contact);
  }
}
