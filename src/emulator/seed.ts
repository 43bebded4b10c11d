/**
 * Initial data: a JSON or CSV seed file (validated like creates, read-only
 * custom fields allowed) or N random contacts drawn from the seeded PRNG.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CUSTOM_PREFIX, IMPORT_COLUMNS, META_PREFIX, splitMulti } from '../columns.js';
import { ConfigError } from '../errors.js';
import type { CustomFieldDefinition, CustomFieldWrite } from '../pylon/types.js';
import { ApiError } from './api-error.js';
import { MULTI_VALUED_TYPES } from './org.js';
import type { Prng } from './prng.js';
import type { ContactSeed, ContactStore } from './store.js';

const MULTI_COLUMNS = new Set(['emails', 'phone_numbers']);

function unusable(file: string, detail: string): ConfigError {
  return new ConfigError('INPUT_UNREADABLE', `Seed file ${file}: ${detail}`, { option: '--seed' });
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
    throw new ConfigError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `Seed file ${file}: ${code === 'ENOENT' ? 'not found' : (error as Error).message}`, {
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
      throw unusable(file, (error as Error).message);
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

function randomValue(def: CustomFieldDefinition, prng: Prng): CustomFieldWrite | undefined {
  const options = (def.select_metadata?.options ?? []).map((o) => o.slug);
  switch (def.type) {
    case 'select':
      return options.length ? { slug: def.slug, value: prng.pick(options) } : undefined;
    case 'multiselect':
      return options.length ? { slug: def.slug, values: [...new Set([prng.pick(options), prng.pick(options)])] } : undefined;
    case 'number':
      return { slug: def.slug, value: String(1 + prng.int(500)) };
    case 'decimal':
      return { slug: def.slug, value: (prng.int(1_000_000) / 100).toFixed(2) };
    case 'boolean':
      return { slug: def.slug, value: prng.next() < 0.5 ? 'true' : 'false' };
    case 'date':
      return { slug: def.slug, value: new Date(Date.UTC(2026, 0, 1) + prng.int(730) * 86_400_000).toISOString().slice(0, 10) };
    case 'datetime':
      return { slug: def.slug, value: new Date(Date.UTC(2025, 0, 1) + prng.int(730 * 86_400) * 1000).toISOString().replace('.000Z', 'Z') };
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

/** Adds `count` random, valid contacts with unique emails (`first.last.N@domain`). */
export function seedRandom(store: ContactStore, count: number, prng: Prng): void {
  const accounts = store.org.accounts;
  const fields = store.org.customFields.filter((f) => f.object_type === 'contact' && !f.is_read_only);
  const start = store.end;
  for (let i = 0; i < count; i++) {
    const first = prng.pick(FIRST);
    const last = prng.pick(LAST);
    const account = accounts.length > 0 && prng.next() < 0.8 ? prng.pick(accounts) : undefined;
    const domain = account?.primary_domain ?? account?.domain ?? 'example.com';
    const local = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '');
    const customFields: CustomFieldWrite[] = [];
    for (const def of fields) {
      if (prng.next() < 0.3) {
        const value = randomValue(def, prng);
        if (value) customFields.push(value);
      }
    }
    store.create({
      name: `${first} ${last}`,
      email: `${local}.${start + i}@${domain}`,
      accountId: account?.id,
      phone_numbers: prng.next() < 0.2 ? [`1555${String(prng.int(10_000_000)).padStart(7, '0')}`] : undefined,
      customFields,
    });
  }
}
