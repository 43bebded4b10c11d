import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createPylonClient } from '../../src/pylon/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import type { ContactSeed } from '../../src/emulator/index.js';
import { resolveExportOptions, type ExportOptionsInput } from '../../src/export/options.js';
import { runExport, type RunExportHooks } from '../../src/export/run-export.js';
import type { ExportManifest } from '../../src/export/manifest.js';
import type { Contact } from '../../src/pylon/types.js';
import type { ExecutionContext } from 'ava';
import { FAST_RATE, envFor, runCli, type CliResult } from '../helpers/cli.js';
import { duckRows } from './warehouse/table-check.js';

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'pylon-export-'));
}

/** A client with no pacing and fast retries, so tests take milliseconds. */
export function fastClient(baseUrl: string, token: string) {
  return createPylonClient({
    baseUrl,
    token,
    rates: { list: 0, search: 0, customFields: 0 },
    retry: { limit: 3, baseDelayMs: 5, maxDelayMs: 50 },
  });
}

/** Runs an export against `baseUrl` (the emulator, or a proxy in front of it). */
export async function exportFrom(emulator: Pick<Emulator, 'url' | 'token'>, input: ExportOptionsInput, hooks: RunExportHooks = {}) {
  const baseUrl = input.baseUrl ?? emulator.url;
  const options = resolveExportOptions({ token: emulator.token, env: {}, ...input, baseUrl });
  const client = fastClient(baseUrl, emulator.token);
  try {
    return await runExport(options, { client, ...hooks });
  } finally {
    client.close();
  }
}

export async function readCsv(path: string, bom = false): Promise<Array<Record<string, string>>> {
  return parse(await readFile(path, 'utf8'), { columns: true, bom }) as Array<Record<string, string>>;
}

export async function readManifest(path: string): Promise<ExportManifest> {
  return JSON.parse(await readFile(path, 'utf8')) as ExportManifest;
}

export async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Every contact the emulator holds, in list order, as the API returns it. */
export function storeContacts(emulator: Emulator): Contact[] {
  const { positions } = emulator.store.page(0, emulator.store.end + 1);
  return positions.map((pos) => emulator.store.at(pos)!);
}

/** The CSV row a contact should become, written out field by field (independent of src/export/columns.ts). */
export function expectedRow(contact: Contact, slugs: string[]): Record<string, string> {
  const row: Record<string, string> = {
    id: contact.id,
    name: contact.name ?? '',
    email: contact.email ?? '',
    emails: (contact.emails ?? []).join(';'),
    account_id: contact.account?.id ?? '',
    avatar_url: contact.avatar_url ?? '',
    portal_role: contact.portal_role ?? '',
    portal_role_id: contact.portal_role_id ?? '',
    phone_numbers: (contact.phone_numbers ?? []).join(';'),
    primary_phone_number: contact.primary_phone_number ?? '',
  };
  for (const slug of slugs) {
    const field = contact.custom_fields?.[slug];
    row[`custom.${slug}`] = field?.values ? field.values.join(';') : (field?.value ?? '');
  }
  return row;
}

/** A contact with a value in every custom field of the default emulator org, every standard field set. */
export const FULL_CONTACT: ContactSeed = {
  name: 'Grace "Amazing" Hopper, PhD',
  email: 'grace@acme.example',
  emails: ['grace@acme.example', 'g.hopper@navy.example'],
  account_id: '6f1c2a8e-3b4d-4e5f-9a10-0000000000a1',
  avatar_url: 'https://cdn.example/grace.png',
  portal_role: 'admin',
  phone_numbers: ['15551230001', '15551230002'],
  primary_phone_number: '15551230002',
  custom_fields: {
    tier: 'gold',
    interests: ['api', 'security'],
    seats: '42',
    mrr: '1234.50',
    vip: 'true',
    renewal_date: '2027-01-31',
    last_seen_at: '2026-11-02T08:30:00Z',
    linkedin: 'https://www.linkedin.com/in/grace',
    owner: 'user-1',
    notes: 'Line one\nline two, with "quotes"; and a semicolon',
    'contact.salesforce.Contact_ID_for_Pylon__c': '003ABCDEF',
  },
};

/**
 * An export into `out` with a DuckDB load whose merge fails once every page
 * was read: a first night loads the table, then a unique index made by hand
 * on its emails and two contacts given one email in the emulator's store
 * (past its API's duplicate check) make the next merge fail. Returns the
 * second run's result (exit 1, LOAD_FAILED).
 */
export async function failingMergeRun(t: ExecutionContext, emulator: Emulator, out: string, db: string): Promise<CliResult> {
  const args = ['export', out, '--to', `duckdb:${db}`, '--page-size', '10', '--rate', FAST_RATE, '--json'];
  const first = await runCli(args, { env: envFor(emulator) });
  t.is(first.code, 0, first.stderr);
  await duckRows(db, 'CREATE UNIQUE INDEX one_email ON contacts (email)');
  const [a, b] = [emulator.store.at(0)!, emulator.store.at(1)!];
  emulator.store.update(b.id, { email: a.email });
  return runCli(args, { env: envFor(emulator) });
}
