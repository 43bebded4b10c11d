/**
 * The two lake nights the directory-reader tests share (lake-polars, lake-arrow): the built CLI
 * exports Parquet partitions under one dataset root against the emulator, following the nightly
 * recipe of docs/warehouse.md, with a rename, a delete and a create in between. Each reader test
 * then reads the root its own way and compares with the rows written out here field by field from
 * the emulator's own records (independent of src/export/columns.ts).
 */
import type { ExecutionContext } from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FAST_RATE, TOKEN, envFor, filesUnder, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { client } from '../helpers/with-emulator.js';
import { storeContacts } from './helpers.js';
import type { Emulator } from '../../src/emulator/index.js';
import type { Contact } from '../../src/pylon/types.js';

/** Every column the lake gets: the default set and the id lists, which are written only when named. */
export const COLUMNS = [
  'id', 'name', 'email', 'emails', 'account_id', 'avatar_url', 'portal_role', 'portal_role_id', 'phone_numbers', 'primary_phone_number',
  'custom.tier', 'custom.interests', 'custom.seats', 'custom.mrr', 'custom.vip', 'custom.renewal_date', 'custom.last_seen_at',
  'custom.linkedin', 'custom.owner', 'custom.notes', 'custom.contact.salesforce.Contact_ID_for_Pylon__c',
  'external_ids', 'account_external_ids', 'integration_user_ids',
];

/** The warehouse column names of COLUMNS, in order (custom.<slug> → custom_<slug>, other characters → _). */
export const COLUMN_NAMES = COLUMNS.map((c) => (c.startsWith('custom.') ? `custom_${c.slice(7).replace(/[^A-Za-z0-9_]/g, '_')}` : c));

/** A night of the nightly recipe (docs/warehouse.md), the partition named by the night's date through {run_id}. */
async function night(emulator: Emulator, dir: string, date: string) {
  return runCli(
    ['export', 'lake/contacts/dt={run_id}/contacts.parquet', '--run-id', date, '--state', 'lake/contacts.state', '--columns', COLUMNS.join(','), '--rate', FAST_RATE, '--page-size', '50', '--quiet'],
    { cwd: dir, env: envFor(emulator) },
  );
}

const text = (contact: Contact, slug: string) => contact.custom_fields?.[slug]?.value ?? null;

/**
 * The row a reader should give for a contact, written out field by field from the emulator's own
 * record: numbers as numbers (the decimal too), the date as YYYY-MM-DD, the time as ISO text.
 */
export function expectedRow(contact: Contact, dt: string) {
  const seats = text(contact, 'seats');
  const mrr = text(contact, 'mrr');
  const vip = text(contact, 'vip');
  const renewal = text(contact, 'renewal_date');
  const lastSeen = text(contact, 'last_seen_at');
  return {
    id: contact.id,
    name: contact.name ?? null,
    email: contact.email ?? null,
    emails: contact.emails ?? [],
    account_id: contact.account?.id ?? null,
    avatar_url: contact.avatar_url ?? null,
    portal_role: contact.portal_role ?? null,
    portal_role_id: contact.portal_role_id ?? null,
    phone_numbers: contact.phone_numbers ?? [],
    primary_phone_number: contact.primary_phone_number ?? null,
    custom_tier: text(contact, 'tier'),
    custom_interests: contact.custom_fields?.interests?.values ?? [],
    custom_seats: seats === null ? null : Number(seats),
    custom_mrr: mrr === null ? null : Number(mrr),
    custom_vip: vip === null ? null : vip === 'true',
    custom_renewal_date: renewal,
    custom_last_seen_at: lastSeen === null ? null : new Date(lastSeen).toISOString(),
    custom_linkedin: text(contact, 'linkedin'),
    custom_owner: text(contact, 'owner'),
    custom_notes: text(contact, 'notes'),
    custom_contact_salesforce_Contact_ID_for_Pylon__c: text(contact, 'contact.salesforce.Contact_ID_for_Pylon__c'),
    external_ids: (contact.external_ids ?? []).map((e) => ({ external_id: e.external_id, label: e.label ?? null })),
    account_external_ids: (contact.account?.external_ids ?? []).map((e) => ({ external_id: e.external_id, label: e.label ?? null })),
    integration_user_ids: (contact.integration_user_ids ?? []).map((e) => ({ id: e.id, source: e.source })),
    dt,
  };
}
export type LakeRow = ReturnType<typeof expectedRow>;

/**
 * Runs the two nights and checks what a directory reader lists under the root: data files and
 * _SUCCESS only (state and sidecars live outside it). Gives the root, the files under it (relative)
 * and every row expected across both partitions, sorted by dt then id.
 */
export async function twoLakeNights(t: ExecutionContext, prefix: string) {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seed: 2020, seedRandom: 240 });
  // Contacts with every id list, so the list-of-struct columns hold entries and not only empty lists.
  emulator.store.insert({ name: 'Ada Ids', email: 'ada@ids.example', account_id: '6f1c2a8e-3b4d-4e5f-9a10-0000000000a1', external_ids: [{ external_id: 'sf-003A', label: 'salesforce' }, { external_id: 'no-label' }], integration_user_ids: [{ id: 'U1', source: 'slack' }] });
  const dir = tempDir(t, prefix);
  const root = join(dir, 'lake/contacts');

  const first = await night(emulator, dir, '2026-12-01');
  t.is(first.code, 0, first.stderr);
  const nightOne = storeContacts(emulator);

  // Between the nights: one contact renamed with new custom values, one deleted, one created with id lists.
  const api = client({ url: emulator.url, token: TOKEN });
  const [changed, removed] = [nightOne[3]!, nightOne[7]!];
  const patch = await api.patch(`/contacts/${changed.id}`, { name: 'Renamed Between Nights', custom_fields: [{ slug: 'seats', value: '7' }, { slug: 'last_seen_at', value: '2026-12-01T23:59:58Z' }, { slug: 'vip', value: 'false' }] });
  t.is(patch.status, 200, patch.text);
  t.is((await api.delete(`/contacts/${removed.id}`)).status, 200);
  const created = await api.post('/contacts', { name: 'Night Two', email: 'night2@lake.example', external_ids: [{ external_id: 'hs-42', label: 'hubspot' }] });
  t.is(created.status, 200, created.text);

  const second = await night(emulator, dir, '2026-12-02');
  t.is(second.code, 0, second.stderr);
  const nightTwo = storeContacts(emulator);
  const secondIds = new Set([changed.id, created.body.data.id]);

  const files = filesUnder(root).map((f) => relative(root, f)).sort();
  t.deepEqual(files, ['dt=2026-12-01/_SUCCESS', 'dt=2026-12-01/contacts.parquet', 'dt=2026-12-02/_SUCCESS', 'dt=2026-12-02/contacts.parquet']);
  t.true(existsSync(join(dir, 'lake/contacts.state')));
  t.true(readdirSync(join(dir, 'lake/contacts._meta/dt=2026-12-02')).includes('contacts.parquet.manifest.json'));

  const expected: LakeRow[] = [
    ...nightOne.map((c) => expectedRow(c, '2026-12-01')),
    ...nightTwo.filter((c) => secondIds.has(c.id)).map((c) => expectedRow(c, '2026-12-02')),
  ].sort((a, b) => a.dt.localeCompare(b.dt) || a.id.localeCompare(b.id));
  t.is(expected.length, 241 + 2, 'night one: every contact; night two (a delta against the state): the changed and the new one');
  return { root, files, expected, changed, removed };
}
