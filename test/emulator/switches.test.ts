import test from 'ava';
import { CODES, MSG } from '../../src/emulator/index.js';
import { client, withEmulator } from '../helpers/with-emulator.js';

test('duplicateEmail=reject (default): create with a taken email → 400 already_exists with exists_id', async (t) => {
  await withEmulator({}, async (em) => {
    const owner = em.store.insert({ name: 'Owner', email: 'taken@x.example' });
    const res = await client(em).post('/contacts', { name: 'Second', email: 'Taken@X.example' });
    t.deepEqual(res.body, { errors: [MSG.emailTaken('Taken@X.example')], request_id: res.body.request_id, code: CODES.alreadyExists, exists_id: owner.id });
    t.is(res.status, 400);
    t.is(em.store.size, 1);
  });
});

test('duplicateEmail=reject also guards PATCH email/emails against other contacts', async (t) => {
  await withEmulator({}, async (em) => {
    const owner = em.store.insert({ name: 'Owner', email: 'taken@x.example' });
    const other = em.store.insert({ name: 'Other', email: 'other@x.example' });
    const a = await client(em).patch(`/contacts/${other.id}`, { email: 'taken@x.example' });
    t.deepEqual([a.status, a.body.exists_id], [400, owner.id]);
    const b = await client(em).patch(`/contacts/${other.id}`, { emails: [{ email: 'new@x.example' }, { email: 'TAKEN@x.example' }] });
    t.deepEqual([b.status, b.body.exists_id, b.body.errors], [400, owner.id, [MSG.emailTaken('TAKEN@x.example')]]);
    const own = await client(em).patch(`/contacts/${other.id}`, { email: 'OTHER@x.example' });
    t.is(own.status, 200, 'its own address is not a duplicate');
  });
});

test('duplicateEmail=allow: both contacts exist and search finds both', async (t) => {
  await withEmulator({ duplicateEmail: 'allow' }, async (em) => {
    const api = client(em);
    const a = await api.post('/contacts', { name: 'A', email: 'same@x.example' });
    const b = await api.post('/contacts', { name: 'B', email: 'same@x.example' });
    t.is(b.status, 200);
    t.not(a.body.data.id, b.body.data.id);
    const found = await api.post('/contacts/search', { filter: { field: 'email', operator: 'equals', value: 'same@x.example' } });
    t.deepEqual(found.body.data.map((c: any) => c.name), ['A', 'B']);
    t.deepEqual(em.store.findAllByEmail('same@x.example').map((c) => c.name), ['A', 'B']);
  });
});

test('emailMatch=sensitive: search and duplicate checks compare exactly', async (t) => {
  await withEmulator({ emailMatch: 'sensitive' }, async (em) => {
    em.store.insert({ name: 'Mixed', email: 'Mixed.Case@x.example' });
    const api = client(em);
    const miss = await api.post('/contacts/search', { filter: { field: 'email', operator: 'in', values: ['mixed.case@x.example'] } });
    t.deepEqual(miss.body.data, []);
    const hit = await api.post('/contacts/search', { filter: { field: 'email', operator: 'equals', value: 'Mixed.Case@x.example' } });
    t.is(hit.body.data.length, 1);
    const contains = await api.post('/contacts/search', { filter: { field: 'email', operator: 'string_contains', value: 'mixed' } });
    t.deepEqual(contains.body.data, []);
    const created = await api.post('/contacts', { name: 'Lower', email: 'mixed.case@x.example' });
    t.is(created.status, 200, 'a different case is a different address');
    t.is(em.store.findByEmail('MIXED.CASE@x.example'), undefined);
  });
});

test('emailMatch=insensitive (default): any case matches', async (t) => {
  await withEmulator({}, async (em) => {
    const c = em.store.insert({ name: 'Mixed', email: 'Mixed.Case@x.example' });
    const res = await client(em).post('/contacts/search', { filter: { field: 'email', operator: 'equals', value: 'MIXED.case@X.EXAMPLE' } });
    t.deepEqual(res.body.data.map((x: any) => x.id), [c.id]);
    t.is(em.store.findByEmail('mixed.case@x.example')?.id, c.id);
  });
});

for (const secondary of [true, false]) {
  test(`matchSecondaryEmails=${secondary}: email filters and duplicate checks ${secondary ? 'see' : 'ignore'} secondary emails`, async (t) => {
    await withEmulator({ matchSecondaryEmails: secondary }, async (em) => {
      const c = em.store.insert({ name: 'Two', emails: ['primary@x.example', 'second@x.example'] });
      const api = client(em);
      const res = await api.post('/contacts/search', { filter: { field: 'email', operator: 'in', values: ['second@x.example'] } });
      t.deepEqual(res.body.data.map((x: any) => x.id), secondary ? [c.id] : []);
      const notIn = await api.post('/contacts/search', { filter: { field: 'email', operator: 'not_in', values: ['second@x.example'] } });
      t.deepEqual(notIn.body.data.map((x: any) => x.id), secondary ? [] : [c.id]);
      const dup = await api.post('/contacts', { name: 'New', email: 'second@x.example' });
      t.is(dup.status, secondary ? 400 : 200);
      if (secondary) t.is(dup.body.exists_id, c.id);
      const primary = await api.post('/contacts/search', { filter: { field: 'email', operator: 'equals', value: 'primary@x.example' } });
      t.deepEqual(primary.body.data.map((x: any) => x.id), [c.id], 'the primary always matches');
    });
  });
}

test('externalIdTaken: reject → 400 with exists_id, reject-plain → 400 without, per-label → another label may hold the id; a label twice on one contact → 400', async (t) => {
  for (const policy of ['reject', 'reject-plain', 'per-label'] as const) {
    await withEmulator({ externalIdTaken: policy }, async (em) => {
      const owner = em.store.insert({ name: 'Owner', email: 'owner@x.example', external_ids: [{ external_id: '361001', label: 'zendesk' }] });
      const api = client(em);
      const other = await api.post('/contacts', { name: 'Other', email: 'other@x.example', external_ids: [{ external_id: '361001', label: 'intercom' }] });
      const same = await api.post('/contacts', { name: 'Same', email: 'same@x.example', external_ids: [{ external_id: '361001', label: 'zendesk' }] });
      t.deepEqual([same.status, same.body.code, same.body.exists_id], [400, CODES.alreadyExists, policy === 'reject-plain' ? undefined : owner.id], `${policy}: same label and id`);
      if (policy === 'per-label') {
        t.is(other.status, 200, 'per-label: another label takes the id');
        t.deepEqual(other.body.data.external_ids, [{ external_id: '361001', label: 'intercom' }]);
      } else {
        t.deepEqual([other.status, other.body.exists_id, other.body.errors], [400, policy === 'reject' ? owner.id : undefined, [MSG.externalIdTaken('361001')]], policy);
      }
      const twice = await api.patch(`/contacts/${owner.id}`, { external_ids: [{ external_id: 'a', label: 'crm' }, { external_id: 'b', label: 'crm' }] });
      t.deepEqual([twice.status, twice.body.errors], [400, [MSG.duplicateExternalIdLabel('crm')]]);
      t.deepEqual(em.store.get(owner.id)?.external_ids, [{ external_id: '361001', label: 'zendesk' }], 'the owner is unchanged');
    });
  }
});

test('validationStatus / duplicateStatus: refusals answered 422 or 409 in the same envelope; other statuses and forced faults unchanged', async (t) => {
  await withEmulator({ validationStatus: 422, duplicateStatus: 409 }, async (em) => {
    const owner = em.store.insert({ name: 'Owner', email: 'taken@x.example' });
    const api = client(em);
    const invalid = await api.post('/contacts', { name: '', email: 'not-an-email' });
    t.is(invalid.status, 422);
    t.is(invalid.body.code, CODES.invalidRequest);
    t.true(invalid.body.errors.length >= 1);
    const duplicate = await api.post('/contacts', { name: 'Second', email: 'taken@x.example' });
    t.deepEqual([duplicate.status, duplicate.body.code, duplicate.body.exists_id], [409, CODES.alreadyExists, owner.id]);
    const page = await api.get('/contacts?limit=1000');
    t.is(page.status, 422, 'a refused limit is a validation refusal too');
    t.is((await api.get('/contacts/no-such-id')).status, 404);
    t.is(em.store.size, 1, 'nothing refused was stored');
  });
  await withEmulator({ duplicateStatus: 422 }, async (em) => {
    em.store.insert({ name: 'Owner', email: 'taken@x.example' });
    t.is((await client(em).post('/contacts', { name: 'Second', email: 'taken@x.example' })).status, 422);
    t.is((await client(em).post('/contacts', { email: 'x@x.example' })).status, 400, 'validationStatus stays 400');
  });
});

test('patchEmail: PATCH email replaces the primary (default), demotes it to a secondary, or adds the address as a secondary', async (t) => {
  const expected = { replace: ['new@x.example', 'alt@x.example'], demote: ['new@x.example', 'old@x.example', 'alt@x.example'], add: ['old@x.example', 'alt@x.example', 'new@x.example'] } as const;
  for (const mode of ['replace', 'demote', 'add'] as const) {
    await withEmulator({ patchEmail: mode }, async (em) => {
      const c = em.store.insert({ name: 'C', emails: ['old@x.example', 'alt@x.example'] });
      const res = await client(em).patch(`/contacts/${c.id}`, { email: 'new@x.example' });
      t.is(res.status, 200);
      t.deepEqual(res.body.data.emails, expected[mode], mode);
      t.is(res.body.data.email, expected[mode][0]);
      const held = await client(em).patch(`/contacts/${c.id}`, { email: 'ALT@x.example' });
      t.is(held.status, 200, `${mode}: its own address is no duplicate`);
      if (mode === 'add') t.deepEqual(held.body.data.emails, expected.add, 'add: an address it holds changes nothing');
      const list = await client(em).patch(`/contacts/${c.id}`, { emails: [{ email: 'z@x.example' }] });
      t.deepEqual(list.body.data.emails, ['z@x.example'], `${mode}: emails still replaces the list`);
      const bare = em.store.insert({ name: 'Bare' });
      t.deepEqual((await client(em).patch(`/contacts/${bare.id}`, { email: 'b@x.example' })).body.data.emails, ['b@x.example'], `${mode}: a contact without an email gets it as its primary`);
    });
  }
});

test('contactExternalIds: GET, PATCH and DELETE /contacts/{id} also take an external id (off: 404); an id wins over an external id', async (t) => {
  for (const on of [false, true]) {
    await withEmulator({ contactExternalIds: on }, async (em) => {
      const c = em.store.insert({ name: 'C', email: 'c@x.example', external_ids: [{ external_id: 'crm-1', label: 'crm' }] });
      const other = em.store.insert({ name: 'O', email: 'o@x.example', external_ids: [{ external_id: c.id, label: 'old' }] });
      const api = client(em);
      const got = await api.get('/contacts/crm-1');
      t.is(got.status, on ? 200 : 404);
      if (on) t.is(got.body.data.id, c.id, 'the answer carries the contact\'s own id');
      t.is((await api.patch('/contacts/crm-1', { name: 'Renamed' })).status, on ? 200 : 404);
      t.is(em.store.get(c.id)?.name, on ? 'Renamed' : 'C');
      t.is((await api.get(`/contacts/${c.id}`)).body.data.id, c.id, 'an id names its own contact, not one holding it as an external id');
      t.is((await api.delete('/contacts/crm-1')).status, on ? 200 : 404);
      t.is(em.store.size, on ? 1 : 2);
      t.truthy(em.store.get(other.id));
    });
  }
});

test('errorBody: the same error as Pylon\'s envelope, {message, code}, or {error: {message, code, exists_id}}', async (t) => {
  const bodies = {
    pylon: (id: string, rid: string) => ({ errors: [MSG.emailTaken('taken@x.example')], request_id: rid, code: CODES.alreadyExists, exists_id: id }),
    message: (id: string, rid: string) => ({ message: MSG.emailTaken('taken@x.example'), code: CODES.alreadyExists, request_id: rid, exists_id: id }),
    nested: (id: string, rid: string) => ({ error: { message: MSG.emailTaken('taken@x.example'), code: CODES.alreadyExists, exists_id: id }, request_id: rid }),
  };
  for (const shape of ['pylon', 'message', 'nested'] as const) {
    await withEmulator({ errorBody: shape }, async (em) => {
      const owner = em.store.insert({ name: 'Owner', email: 'taken@x.example' });
      const res = await client(em).post('/contacts', { name: 'Second', email: 'taken@x.example' });
      t.is(res.status, 400);
      t.deepEqual(res.body, bodies[shape](owner.id, res.headers.get('x-request-id')!), shape);
    });
  }
});

test('duplicateEmail=merge: a create with a taken email answers 200 with the holder, the body applied to it; no second contact', async (t) => {
  await withEmulator({ duplicateEmail: 'merge' }, async (em) => {
    const owner = em.store.insert({ name: 'Owner', email: 'taken@x.example' });
    const res = await client(em).post('/contacts', { name: 'Second', email: 'Taken@X.example', portal_role: 'admin' });
    t.is(res.status, 200);
    t.is(res.body.data.id, owner.id);
    t.like(em.store.get(owner.id), { name: 'Second', email: 'taken@x.example', portal_role: 'admin' });
    t.is(em.store.size, 1);
  });
});
