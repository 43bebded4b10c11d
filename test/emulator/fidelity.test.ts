/**
 * The switches for behaviour Pylon's docs leave open (issue 15): validation
 * strict|lenient, what `""` does, the docs revision for create, custom role
 * slugs, duplicate-create answers, the search cap and lag, list churn, and
 * the routes added for fidelity (import, accounts search/create, one custom field).
 */
import test from 'ava';
import { CODES, DEFAULT_ACCOUNTS, DEFAULT_CUSTOM_FIELDS, MSG } from '../../src/emulator/index.js';
import { client, collectPages, withEmulator } from '../helpers/with-emulator.js';

const LENIENT_ONLY: Array<[string, Record<string, unknown>]> = [
  ['empty name', { name: '' }],
  ['email without a dot in the domain', { name: 'A', email: 'user@localhost' }],
  ['number with decimals', { name: 'A', custom_fields: [{ slug: 'seats', value: '12.5' }] }],
  ['boolean "True"', { name: 'A', custom_fields: [{ slug: 'vip', value: 'True' }] }],
  ['date as a date-time', { name: 'A', custom_fields: [{ slug: 'renewal_date', value: '2026-01-31T00:00:00Z' }] }],
  ['date-time without a zone', { name: 'A', custom_fields: [{ slug: 'last_seen_at', value: '2026-01-31T09:30:00' }] }],
];

for (const [label, body] of LENIENT_ONLY) {
  test(`validation: ${label} is refused when strict and accepted when lenient`, async (t) => {
    for (const validation of ['strict', 'lenient'] as const) {
      await withEmulator({ validation }, async (em) => {
        const res = await client(em).post('/contacts', body);
        t.is(res.status, validation === 'strict' ? 400 : 200, `${validation}: ${res.text}`);
        t.is(em.store.size, validation === 'strict' ? 0 : 1);
      });
    }
  });
}

test('validation lenient still refuses what the spec states: a non-digit phone, an unknown option, a name-less create', async (t) => {
  await withEmulator({ validation: 'lenient' }, async (em) => {
    const api = client(em);
    t.deepEqual((await api.post('/contacts', { name: 'A', phone_numbers: ['+1 555'] })).body.errors, [MSG.invalidPhone('+1 555')]);
    t.deepEqual((await api.post('/contacts', { name: 'A', custom_fields: [{ slug: 'tier', value: 'platinum' }] })).body.errors, [MSG.unknownSelectOption('tier', 'platinum')]);
    t.deepEqual((await api.post('/contacts', { email: 'a@b.example' })).body.errors, [MSG.nameRequired]);
    t.deepEqual((await api.post('/contacts', { name: 'A', email: 'no-at-sign' })).body.errors, [MSG.invalidEmail('email', 'no-at-sign')]);
  });
});

test('validation lenient: filter {} is no filter; is_set/is_unset on account_id are accepted (strict refuses both)', async (t) => {
  for (const validation of ['strict', 'lenient'] as const) {
    await withEmulator({ validation }, async (em) => {
      const a = em.store.insert({ name: 'In', email: 'in@x.example', account_id: DEFAULT_ACCOUNTS[0].id });
      const b = em.store.insert({ name: 'Out', email: 'out@x.example' });
      const api = client(em);
      const empty = await api.post('/contacts/search', { filter: {} });
      const set = await api.post('/contacts/search', { filter: { field: 'account_id', operator: 'is_set' } });
      const unset = await api.post('/contacts/search', { filter: { field: 'account_id', operator: 'is_unset' } });
      if (validation === 'strict') {
        t.deepEqual([empty.status, set.status, unset.status], [400, 400, 400]);
      } else {
        t.deepEqual(empty.body.data.map((c: any) => c.id), [a.id, b.id]);
        t.deepEqual(set.body.data.map((c: any) => c.id), [a.id]);
        t.deepEqual(unset.body.data.map((c: any) => c.id), [b.id]);
      }
    });
  }
});

const CLEARABLE = { avatar_url: 'https://cdn.example/a.png', portal_role_id: 'role-1', primary_phone_number: '15550100' } as const;

for (const mode of ['clears', 'rejected', 'ignored'] as const) {
  test(`emptyString=${mode}: PATCH "" on avatar_url, portal_role_id, primary_phone_number`, async (t) => {
    await withEmulator({ emptyString: mode }, async (em) => {
      const c = em.store.insert({ name: 'A', email: 'a@x.example', phone_numbers: ['15550100'], ...CLEARABLE });
      for (const field of Object.keys(CLEARABLE) as Array<keyof typeof CLEARABLE>) {
        const res = await client(em).patch(`/contacts/${c.id}`, { [field]: '' });
        if (mode === 'rejected') {
          t.deepEqual([res.status, res.body.errors], [400, [MSG.emptyString(field)]], 'the error names the field sent');
          t.is(em.store.get(c.id)?.[field], CLEARABLE[field]);
        } else {
          t.is(res.status, 200);
          t.is(res.body.data[field], mode === 'clears' ? undefined : CLEARABLE[field], field);
        }
      }
      if (mode === 'clears') t.deepEqual(em.store.get(c.id)?.phone_numbers, ['15550100'], 'clearing the primary keeps the numbers');
    });
  });
}

test('emptyString=clears on create: "" is no value', async (t) => {
  await withEmulator({}, async (em) => {
    const res = await client(em).post('/contacts', { name: 'A', avatar_url: '', portal_role_id: '' });
    t.is(res.status, 200);
    t.false('avatar_url' in res.body.data || 'portal_role_id' in res.body.data);
  });
});

test('createEmail=required (older docs revision) refuses a create without email; optional (default) allows it', async (t) => {
  await withEmulator({ createEmail: 'required' }, async (em) => {
    const res = await client(em).post('/contacts', { name: 'No email' });
    t.deepEqual([res.status, res.body.errors], [400, [MSG.emailRequired]]);
  });
  await withEmulator({}, async (em) => {
    t.is((await client(em).post('/contacts', { name: 'No email' })).status, 200);
  });
});

test('portalRoleSlugs: a custom role slug in portal_role is kept as portal_role_id; refused without the switch', async (t) => {
  await withEmulator({ portalRoleSlugs: true }, async (em) => {
    const c = em.store.insert({ name: 'A', email: 'a@x.example' });
    const res = await client(em).patch(`/contacts/${c.id}`, { portal_role: 'billing-viewer' });
    t.deepEqual([res.status, res.body.data.portal_role_id, res.body.data.portal_role], [200, 'billing-viewer', 'member']);
  });
  await withEmulator({}, async (em) => {
    const c = em.store.insert({ name: 'A', email: 'a@x.example' });
    const res = await client(em).patch(`/contacts/${c.id}`, { portal_role: 'billing-viewer' });
    t.deepEqual([res.status, res.body.errors], [400, [MSG.invalidPortalRole('billing-viewer')]]);
  });
});

test('duplicateEmail=reject-plain: 400 already_exists without exists_id, on create and PATCH', async (t) => {
  await withEmulator({ duplicateEmail: 'reject-plain' }, async (em) => {
    em.store.insert({ name: 'Owner', email: 'taken@x.example' });
    const other = em.store.insert({ name: 'Other', email: 'other@x.example' });
    const res = await client(em).post('/contacts', { name: 'Second', email: 'taken@x.example' });
    t.deepEqual(res.body, { errors: [MSG.emailTaken('taken@x.example')], request_id: res.body.request_id, code: CODES.alreadyExists });
    t.is(res.status, 400);
    const patch = await client(em).patch(`/contacts/${other.id}`, { email: 'TAKEN@x.example' });
    t.deepEqual([patch.status, 'exists_id' in patch.body], [400, false]);
    t.is(em.store.size, 2);
  });
});

test('searchMaxValues: an in with more values gets a 400; at the cap it is answered', async (t) => {
  await withEmulator({ searchMaxValues: 3 }, async (em) => {
    em.store.insert({ name: 'A', email: 'a@x.example' });
    const api = client(em);
    const ok = await api.post('/contacts/search', { filter: { field: 'email', operator: 'in', values: ['a@x.example', 'b@x.example', 'c@x.example'] } });
    t.deepEqual([ok.status, ok.body.data.length], [200, 1]);
    const values = ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example'];
    const over = await api.post('/contacts/search', { filter: { operator: 'or', subfilters: [{ field: 'email', operator: 'in', values }] } });
    t.deepEqual([over.status, over.body.errors, over.body.code], [400, [MSG.tooManyFilterValues(4, 3)], CODES.invalidRequest]);
  });
});

test('searchLagMs: a new or changed contact is invisible to search until the lag has passed; GET and list see it at once', async (t) => {
  let now = 1_000_000;
  await withEmulator({ searchLagMs: 500, now: () => now }, async (em) => {
    const api = client(em);
    const seeded = em.store.insert({ name: 'Seeded', email: 'seeded@x.example' });
    const created = await api.post('/contacts', { name: 'New', email: 'new@x.example' });
    const search = (email: string) => api.post('/contacts/search', { filter: { field: 'email', operator: 'equals', value: email } });
    t.deepEqual((await search('seeded@x.example')).body.data.map((c: any) => c.id), [seeded.id], 'seeded contacts are indexed');
    t.deepEqual((await search('new@x.example')).body.data, []);
    t.is((await api.get(`/contacts/${created.body.data.id}`)).status, 200);
    t.is((await api.get('/contacts')).body.data.length, 2);
    now += 500;
    t.deepEqual((await search('new@x.example')).body.data.map((c: any) => c.id), [created.body.data.id]);
    await api.patch(`/contacts/${seeded.id}`, { name: 'Renamed' });
    t.deepEqual((await search('seeded@x.example')).body.data, [], 'a changed contact is re-indexed');
    now += 499;
    t.deepEqual((await search('seeded@x.example')).body.data, []);
    now += 1;
    t.is((await search('seeded@x.example')).body.data.length, 1);
  });
});

test('listChurn: while the list is walked contacts are inserted and deleted, so a naive walk repeats and skips rows', async (t) => {
  await withEmulator({ listChurn: 2, seed: 3 }, async (em) => {
    for (let i = 0; i < 12; i++) em.store.insert({ name: `P${i}`, email: `p${i}@x.example` });
    const before = new Set([...em.store.all()].map((c) => c.id));
    const { rows, pages } = await collectPages(em, { limit: 3 });
    const ids = rows.map((r) => r.id);
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    const after = new Set([...em.store.all()].map((c) => c.id));
    const missing = [...after].filter((id) => before.has(id) && !ids.includes(id));
    t.is(em.store.size, 12, '2 inserted, 2 deleted');
    t.true(repeated.length > 0, `a row was repeated (${pages.length} pages)`);
    t.true(missing.length > 0, 'a contact present throughout was skipped');
    t.true(rows[0].name === 'P11', 'newest first');
    // Once the budget is spent the list is stable: a second walk is exact.
    const again = await collectPages(em, { limit: 3 });
    t.deepEqual(again.rows.map((r) => r.id).sort(), [...after].sort());
    t.is(again.rows.length, after.size);
  });
});

test('POST /import/contacts: name and email required, creates like POST /contacts, ignores fields it does not take', async (t) => {
  await withEmulator({}, async (em) => {
    const api = client(em);
    const noEmail = await api.post('/import/contacts', { name: 'A' });
    t.deepEqual([noEmail.status, noEmail.body.errors], [400, [MSG.emailRequired]]);
    const res = await api.post('/import/contacts', { name: 'A', email: 'a@x.example', account_id: DEFAULT_ACCOUNTS[0].id, external_ids: [{ external_id: 'x' }] });
    t.is(res.status, 200);
    t.is(res.body.data.account.id, DEFAULT_ACCOUNTS[0].id);
    t.false('external_ids' in res.body.data, 'external_ids is not an import field');
    const dup = await api.post('/import/contacts', { name: 'B', email: 'A@x.example' });
    t.deepEqual([dup.status, dup.body.exists_id], [400, res.body.data.id]);
  });
});

test('POST /import/contacts has its own 20/min bucket under the spec preset', async (t) => {
  await withEmulator({ rateLimits: 'spec', now: () => 30_000 }, async (em) => {
    const api = client(em);
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await api.post('/import/contacts', { name: `P${i}`, email: `p${i}@x.example` })).status);
    t.deepEqual(statuses.filter((s) => s === 200).length, 20);
    t.is(statuses[20], 429);
    t.is((await api.post('/contacts', { name: 'Other', email: 'other@x.example' })).status, 200, 'create has its own bucket');
  });
});

test('accounts: create with domains, primary_domain and external_ids; list and search find it; a taken external id is refused', async (t) => {
  await withEmulator({}, async (em) => {
    const api = client(em);
    const res = await api.post('/accounts', { name: 'Hooli', domains: ['hooli.example', 'hooli.test'], primary_domain: 'hooli.test', external_ids: [{ external_id: 'hooli', label: 'crm' }] });
    t.is(res.status, 200);
    t.like(res.body.data, { name: 'Hooli', domain: 'hooli.test', domains: ['hooli.example', 'hooli.test'], primary_domain: 'hooli.test', external_ids: [{ external_id: 'hooli', label: 'crm' }] });
    const list = await api.get('/accounts?limit=999');
    t.true(list.body.data.some((a: any) => a.id === res.body.data.id));
    const byExt = await api.post('/accounts/search', { filter: { field: 'external_ids', operator: 'equals', value: 'hooli' } });
    t.deepEqual(byExt.body.data.map((a: any) => a.id), [res.body.data.id]);
    const byDomain = await api.post('/accounts/search', { filter: { field: 'domains', operator: 'contains', value: 'acme.example' } });
    t.deepEqual(byDomain.body.data.map((a: any) => a.id), [DEFAULT_ACCOUNTS[0].id]);
    const unset = await api.post('/accounts/search', { filter: { field: 'external_ids', operator: 'is_unset' } });
    t.true(unset.body.data.every((a: any) => !a.external_ids?.length));
    const taken = await api.post('/accounts', { name: 'Again', external_ids: [{ external_id: 'hooli' }] });
    t.deepEqual([taken.status, taken.body.errors], [400, [MSG.accountExternalIdTaken('hooli')]]);
    const contact = await api.post('/contacts', { name: 'C', account_external_id: 'hooli' });
    t.is(contact.body.data.account.id, res.body.data.id, 'a new account links contacts by its external id');
  });
});

test('GET /custom-fields/{id}: by id; 404 otherwise', async (t) => {
  await withEmulator({}, async (em) => {
    const field = DEFAULT_CUSTOM_FIELDS[2];
    const res = await client(em).get(`/custom-fields/${field.id}`);
    t.deepEqual([res.status, res.body.data], [200, field]);
    const missing = await client(em).get('/custom-fields/nope');
    t.deepEqual([missing.status, missing.body.errors], [404, [MSG.customFieldNotFound]]);
  });
});
