/**
 * The documented lake layout read by a reader this project did not write: polars (Rust, through
 * nodejs-polars). Two nights of the built CLI export Parquet partitions under one dataset root
 * against the emulator, with changes in between; polars then scans the whole root with hive
 * partitioning (so `dt` is a column) and reads each data file on its own. Every contact of each
 * night must be there with its values and types, and nothing but data files may be picked up.
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { FAST_RATE, TOKEN, envFor, filesUnder, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { client } from '../helpers/with-emulator.js';
import { storeContacts } from './helpers.js';
import type { Emulator } from '../../src/emulator/index.js';
import type { Contact } from '../../src/pylon/types.js';

// nodejs-polars loads a native binary from a per-platform package; where npm found none for this
// platform (or Node), the test is reported as skipped with the reason, never as passed.
type Polars = typeof import('nodejs-polars').default;
let pl: Polars | undefined;
let unavailable = '';
try {
  pl = createRequire(import.meta.url)('nodejs-polars') as Polars;
} catch (error) {
  unavailable = (error as Error).message.split('\n')[0]!;
}
const polarsTest = pl ? test : test.skip;
const skipNote = pl ? '' : ` (skipped: nodejs-polars does not load here: ${unavailable})`;

/** Every column the lake gets: the default set and the id lists, which are written only when named. */
const COLUMNS = [
  'id', 'name', 'email', 'emails', 'account_id', 'avatar_url', 'portal_role', 'portal_role_id', 'phone_numbers', 'primary_phone_number',
  'custom.tier', 'custom.interests', 'custom.seats', 'custom.mrr', 'custom.vip', 'custom.renewal_date', 'custom.last_seen_at',
  'custom.linkedin', 'custom.owner', 'custom.notes', 'custom.contact.salesforce.Contact_ID_for_Pylon__c',
  'external_ids', 'account_external_ids', 'integration_user_ids',
];

/** A night of the nightly recipe (docs/warehouse.md), the partition named by the night's date through {run_id}. */
async function night(emulator: Emulator, dir: string, date: string) {
  const result = await runCli(
    ['export', 'lake/contacts/dt={run_id}/contacts.parquet', '--run-id', date, '--state', 'lake/contacts.state', '--columns', COLUMNS.join(','), '--rate', FAST_RATE, '--page-size', '50', '--quiet'],
    { cwd: dir, env: envFor(emulator) },
  );
  return result;
}

const text = (contact: Contact, slug: string) => contact.custom_fields?.[slug]?.value ?? null;

/** The row polars should give for a contact, written out field by field from the emulator's own record. */
function expectedRow(contact: Contact, dt: string) {
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
    // Decimal(38,9) has no JavaScript value in polars; the test reads it cast to text and compares the number.
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

/** A polars record made comparable: the types were checked on the schema; dates and times as ISO text. */
function comparable(record: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...record };
  const day = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : v);
  out.custom_renewal_date = day(record.custom_renewal_date);
  out.custom_last_seen_at = record.custom_last_seen_at instanceof Date ? record.custom_last_seen_at.toISOString() : record.custom_last_seen_at;
  out.custom_mrr = record.custom_mrr === null ? null : Number(record.custom_mrr);
  out.custom_seats = record.custom_seats === null ? null : Number(record.custom_seats);
  if ('dt' in record) out.dt = day(record.dt);
  return out;
}

polarsTest(`lake layout read by polars: two CLI nights under one root; scanParquet(root, hive partitioning) gives dt as a column and every contact of each night with its values and types; readParquet of each file agrees; no sidecar, state or manifest is picked up${skipNote}`, async (t) => {
  const polars = pl!;
  const emulator = await startEmulator(t, { tokens: [TOKEN], seed: 2020, seedRandom: 240 });
  // Contacts with every id list, so the list-of-struct columns hold entries and not only empty lists.
  emulator.store.insert({ name: 'Ada Ids', email: 'ada@ids.example', account_id: '6f1c2a8e-3b4d-4e5f-9a10-0000000000a1', external_ids: [{ external_id: 'sf-003A', label: 'salesforce' }, { external_id: 'no-label' }], integration_user_ids: [{ id: 'U1', source: 'slack' }] });
  const dir = tempDir(t, 'pylon-lake-polars-');
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

  // What a directory reader lists under the root: data files and _SUCCESS; state and sidecars live outside it.
  const files = filesUnder(root).map((f) => relative(root, f)).sort();
  t.deepEqual(files, ['dt=2026-12-01/_SUCCESS', 'dt=2026-12-01/contacts.parquet', 'dt=2026-12-02/_SUCCESS', 'dt=2026-12-02/contacts.parquet']);
  t.true(existsSync(join(dir, 'lake/contacts.state')));
  t.true(readdirSync(join(dir, 'lake/contacts._meta/dt=2026-12-02')).includes('contacts.parquet.manifest.json'));

  const expected = [
    ...nightOne.map((c) => expectedRow(c, '2026-12-01')),
    ...nightTwo.filter((c) => secondIds.has(c.id)).map((c) => expectedRow(c, '2026-12-02')),
  ].sort((a, b) => a.dt.localeCompare(b.dt) || a.id.localeCompare(b.id));
  t.is(expected.length, 241 + 2, 'night one: every contact; night two (a delta against the state): the changed and the new one');

  const checkTypes = (schema: Record<string, unknown>, label: string) => {
    // polars prints a type as DataType(…), nested types included.
    const type = (name: string) => String(schema[name]);
    const string = 'DataType(String)';
    const entries = (a: string, b: string) => `DataType(List(DataType(Struct(Field("${a}", ${string}),Field("${b}", ${string})))))`;
    t.is(type('id'), string, label);
    t.is(type('emails'), `DataType(List(${string}))`, label);
    t.is(type('custom_interests'), `DataType(List(${string}))`, label);
    t.is(type('custom_seats'), 'DataType(Int64)', label);
    t.is(type('custom_mrr'), 'DataType(Decimal(38,9))', label);
    t.is(type('custom_vip'), 'DataType(Bool)', label);
    t.is(type('custom_renewal_date'), 'DataType(Date)', label);
    t.is(type('custom_last_seen_at'), 'DataType(Datetime(us,UTC))', label);
    t.is(type('external_ids'), entries('external_id', 'label'), label);
    t.is(type('account_external_ids'), entries('external_id', 'label'), label);
    t.is(type('integration_user_ids'), entries('id', 'source'), label);
  };
  const records = (frame: ReturnType<Polars['readParquet']>) =>
    frame
      .withColumns(polars.col('custom_mrr').cast(polars.Utf8))
      .toRecords()
      .map(comparable);

  // The whole dataset: a glob under the root with hive partitioning, so dt (a date) comes from the folder names.
  const lake = polars.scanParquet(join(root, '**/*.parquet'), { hivePartitioning: true }).collectSync();
  checkTypes(lake.schema as unknown as Record<string, unknown>, 'scanParquet');
  t.is(String(lake.schema.dt), 'DataType(Date)', 'dt is a column, typed as a date from dt=YYYY-MM-DD');
  t.deepEqual(lake.columns, [...COLUMNS.map((c) => (c.startsWith('custom.') ? `custom_${c.slice(7).replace(/[^A-Za-z0-9_]/g, '_')}` : c)), 'dt']);
  const read = records(lake).sort((a, b) => String(a.dt).localeCompare(String(b.dt)) || String(a.id).localeCompare(String(b.id)));
  t.deepEqual(read, expected);

  // The root folder itself, as pyarrow.dataset(root) or Athena would take it: the same rows, nothing else read.
  const folder = polars.scanParquet(root, { hivePartitioning: true }).collectSync();
  t.is(folder.height, expected.length);
  t.deepEqual(folder.getColumn('id').toArray().sort(), expected.map((r) => r.id).sort());

  // Each data file on its own.
  for (const file of files.filter((f) => f.endsWith('.parquet'))) {
    const dt = file.slice(3, 13);
    const frame = polars.readParquet(join(root, file));
    checkTypes(frame.schema as unknown as Record<string, unknown>, file);
    const rows = records(frame).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    t.deepEqual(rows, expected.filter((r) => r.dt === dt).map(({ dt: _dt, ...row }) => row), file);
  }

  const changedRow = read.find((r) => r.id === changed.id && r.dt === '2026-12-02');
  t.like(changedRow, { name: 'Renamed Between Nights', custom_seats: 7, custom_vip: false, custom_last_seen_at: '2026-12-01T23:59:58.000Z' });
  t.false(read.some((r) => r.id === removed.id && r.dt === '2026-12-02'), 'a deleted contact is not a row of the delta (its id is in the _meta deleted list)');
});
