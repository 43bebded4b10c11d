import test from 'ava';
import { CODES, DEFAULT_ACCOUNTS, DEFAULT_CUSTOM_FIELDS, DEFAULT_ME, MSG } from '../../src/emulator/index.js';
import { call, client, withEmulator } from '../helpers/with-emulator.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const acme = DEFAULT_ACCOUNTS[0];

test('create, get, patch, delete a contact with Pylon envelopes and 200 on every success', async (t) => {
  await withEmulator({ seed: 1 }, async (em) => {
    const api = client(em);
    const created = await api.post('/contacts', {
      name: 'Ada Lovelace',
      email: 'ada@acme.example',
      account_external_id: 'acme',
      phone_numbers: ['15550001', '15550002'],
      custom_fields: [
        { slug: 'tier', value: 'gold' },
        { slug: 'interests', values: ['api', 'billing'] },
      ],
      unknown_field: 'ignored',
      avatar_url: null,
    });
    t.is(created.status, 200);
    t.deepEqual(Object.keys(created.body).sort(), ['data', 'request_id']);
    t.regex(created.body.request_id, UUID);
    t.is(created.headers.get('x-request-id'), created.body.request_id);
    t.regex(created.headers.get('content-type') ?? '', /^application\/json/);
    const contact = created.body.data;
    t.regex(contact.id, UUID);
    t.deepEqual(contact, {
      id: contact.id,
      name: 'Ada Lovelace',
      email: 'ada@acme.example',
      emails: ['ada@acme.example'],
      phone_numbers: ['15550001', '15550002'],
      primary_phone_number: '15550001',
      account: { id: acme.id, external_ids: acme.external_ids },
      custom_fields: {
        tier: { slug: 'tier', value: 'gold' },
        interests: { slug: 'interests', values: ['api', 'billing'] },
      },
      portal_role: 'member',
    });

    const got = await api.get(`/contacts/${contact.id}`);
    t.is(got.status, 200);
    t.deepEqual(got.body.data, contact);
    t.not(got.body.request_id, created.body.request_id);

    const patched = await api.patch(`/contacts/${contact.id}`, {
      name: 'Ada King',
      account_id: '',
      custom_fields: [{ slug: 'tier' }, { slug: 'seats', value: '12' }],
      portal_role: 'admin',
    });
    t.is(patched.status, 200);
    t.deepEqual(patched.body.data.custom_fields, {
      interests: { slug: 'interests', values: ['api', 'billing'] },
      seats: { slug: 'seats', value: '12' },
    });
    t.is(patched.body.data.name, 'Ada King');
    t.is(patched.body.data.account, undefined, 'account_id "" removes the account');
    t.is(patched.body.data.portal_role, 'admin');
    t.deepEqual(em.store.get(contact.id), patched.body.data);

    const deleted = await api.delete(`/contacts/${contact.id}`);
    t.is(deleted.status, 200);
    t.deepEqual(Object.keys(deleted.body), ['request_id']);
    t.is((await api.get(`/contacts/${contact.id}`)).status, 404);
    t.is(em.store.size, 0);
  });
});

test('PATCH email replaces the primary and keeps secondaries; emails replaces the list', async (t) => {
  await withEmulator({}, async (em) => {
    const api = client(em);
    const { id } = em.store.insert({ name: 'Grace', emails: ['grace@old.example', 'g2@old.example'] });
    const a = await api.patch(`/contacts/${id}`, { email: 'grace@new.example' });
    t.deepEqual([a.body.data.email, a.body.data.emails], ['grace@new.example', ['grace@new.example', 'g2@old.example']]);
    const b = await api.patch(`/contacts/${id}`, { emails: [{ email: 'x@new.example' }, { email: 'y@new.example', is_primary: true }] });
    t.deepEqual([b.body.data.email, b.body.data.emails], ['y@new.example', ['y@new.example', 'x@new.example']]);
    const c = await api.patch(`/contacts/${id}`, { emails: [{ email: 'z@new.example' }] });
    t.deepEqual([c.body.data.email, c.body.data.emails], ['z@new.example', ['z@new.example']]);
  });
});

test('a contact without email has no email key, an empty emails list and never null fields', async (t) => {
  await withEmulator({}, async (em) => {
    const res = await client(em).post('/contacts', { name: 'No Mail', email: null, account_id: null });
    t.is(res.status, 200);
    t.false('email' in res.body.data);
    t.deepEqual(res.body.data.emails, []);
    t.false(res.text.includes('null'));
  });
});

test('GET /contacts lists in creation order with pagination', async (t) => {
  await withEmulator({}, async (em) => {
    const a = em.store.insert({ name: 'A', email: 'a@x.example' });
    const b = em.store.insert({ name: 'B', email: 'b@x.example' });
    const res = await client(em).get('/contacts');
    t.is(res.status, 200);
    t.deepEqual(Object.keys(res.body).sort(), ['data', 'pagination', 'request_id']);
    t.deepEqual(res.body.data.map((c: any) => c.id), [a.id, b.id]);
    t.deepEqual(res.body.pagination, { cursor: '', has_next_page: false });
  });
});

test('GET /contacts/{id} ignores the cursor/limit the spec wrongly documents on it', async (t) => {
  await withEmulator({}, async (em) => {
    const { id } = em.store.insert({ name: 'A' });
    const res = await client(em).get(`/contacts/${id}?limit=5&cursor=abc`);
    t.is(res.status, 200);
    t.is(res.body.data.id, id);
  });
});

test('unknown contact → 404 "Contact not found!" on get, patch and delete', async (t) => {
  await withEmulator({}, async (em) => {
    const api = client(em);
    for (const res of [await api.get('/contacts/nope'), await api.patch('/contacts/nope', { name: 'x' }), await api.delete('/contacts/nope')]) {
      t.is(res.status, 404);
      t.deepEqual(res.body, { errors: [MSG.contactNotFound], request_id: res.body.request_id, code: CODES.notFound });
    }
  });
});

test('GET /custom-fields needs object_type and lists the contact fields', async (t) => {
  await withEmulator({}, async (em) => {
    const api = client(em);
    const res = await api.get('/custom-fields?object_type=contact');
    t.is(res.status, 200);
    t.deepEqual(res.body.data, DEFAULT_CUSTOM_FIELDS);
    t.deepEqual(res.body.pagination, { cursor: '', has_next_page: false });
    const types = new Set(res.body.data.map((f: any) => f.type));
    for (const type of ['text', 'number', 'decimal', 'boolean', 'date', 'datetime', 'user', 'url', 'select', 'multiselect']) t.true(types.has(type), type);
    const readOnly = res.body.data.find((f: any) => f.is_read_only);
    t.is(readOnly.slug, 'contact.salesforce.Contact_ID_for_Pylon__c');

    const account = await api.get('/custom-fields?object_type=account');
    t.deepEqual([account.status, account.body.data], [200, []]);
    const missing = await api.get('/custom-fields');
    t.deepEqual([missing.status, missing.body.errors, missing.body.code], [400, [MSG.objectTypeRequired], CODES.invalidRequest]);
    const bad = await api.get('/custom-fields?object_type=planet');
    t.deepEqual([bad.status, bad.body.errors], [400, [MSG.invalidObjectType('planet')]]);
  });
});

test('GET /accounts pages the accounts; GET /accounts/{id} takes an id or an external id', async (t) => {
  await withEmulator({}, async (em) => {
    const api = client(em);
    const all = await api.get('/accounts');
    t.deepEqual(all.body.data, DEFAULT_ACCOUNTS);
    const first = await api.get('/accounts?limit=3');
    t.is(first.body.data.length, 3);
    t.true(first.body.pagination.has_next_page);
    const second = await api.get(`/accounts?limit=3&cursor=${first.body.pagination.cursor}`);
    t.deepEqual(second.body.data, DEFAULT_ACCOUNTS.slice(3));
    t.false(second.body.pagination.has_next_page);

    t.deepEqual((await api.get(`/accounts/${acme.id}`)).body.data, acme);
    t.deepEqual((await api.get('/accounts/acme')).body.data, acme);
    const missing = await api.get('/accounts/nope');
    t.deepEqual([missing.status, missing.body.errors, missing.body.code], [404, [MSG.accountNotFound], CODES.notFound]);
    t.is((await api.get('/accounts?limit=0')).status, 400);
  });
});

test('DELETE /accounts/{id} (an id or an external id) removes the account: gone from get, list and writes; its contacts keep their account_id', async (t) => {
  await withEmulator({}, async (em) => {
    const api = client(em);
    const member = await api.post('/contacts', { name: 'In Acme', email: 'in@acme.example', account_id: acme.id });
    t.is(member.status, 200);
    t.is((await api.delete('/accounts/acme')).status, 200);
    t.deepEqual([(await api.get(`/accounts/${acme.id}`)).status, (await api.get('/accounts/acme')).status], [404, 404]);
    t.false((await api.get('/accounts')).body.data.some((a: { id: string }) => a.id === acme.id));
    const refused = await api.post('/contacts', { name: 'Late', email: 'late@acme.example', account_id: acme.id });
    t.deepEqual([refused.status, refused.body.errors], [400, [MSG.unknownAccountId(acme.id)]]);
    t.is(em.store.get(member.body.data.id)?.account?.id, acme.id);
    const again = await api.delete(`/accounts/${acme.id}`);
    t.deepEqual([again.status, again.body.errors], [404, [MSG.accountNotFound]]);
  });
});

test('GET /me returns the organisation and the API user', async (t) => {
  await withEmulator({}, async (em) => {
    const res = await client(em).get('/me');
    t.is(res.status, 200);
    t.deepEqual(res.body.data, DEFAULT_ME);
  });
});

test('auth: missing or malformed header → 401 invalid_authorization_header; unknown token → 401 invalid_api_token', async (t) => {
  await withEmulator({ tokens: ['tok-a', 'tok-b'] }, async (em) => {
    const none = await call(em, 'GET', '/me', { token: null });
    t.deepEqual([none.status, none.body.code, none.body.errors], [401, CODES.invalidAuthorizationHeader, [MSG.authHeader]]);
    t.true(none.body.errors[0].startsWith('Token must follow Bearer authorization scheme'));
    const basic = await call(em, 'GET', '/me', { token: null, headers: { authorization: 'Basic abc' } });
    t.is(basic.body.code, CODES.invalidAuthorizationHeader);
    const empty = await call(em, 'GET', '/me', { token: null, headers: { authorization: 'Bearer ' } });
    t.is(empty.body.code, CODES.invalidAuthorizationHeader);
    const wrong = await call(em, 'GET', '/me', { token: 'tok-c' });
    t.deepEqual([wrong.status, wrong.body.code, wrong.body.errors], [401, CODES.invalidApiToken, [MSG.invalidToken]]);
    t.is((await call(em, 'GET', '/me', { token: 'tok-b' })).status, 200, 'every configured token works');
    t.is(em.token, 'tok-a');
    const unauthRoute = await call(em, 'GET', '/nowhere', { token: null });
    t.is(unauthRoute.status, 401, 'auth comes before route lookup');
  });
});

test('unknown route or method → 404 not_found', async (t) => {
  await withEmulator({}, async (em) => {
    for (const [method, path] of [['GET', '/tickets'], ['PUT', '/contacts/abc'], ['GET', '/contacts/'], ['POST', '/me']]) {
      const res = await call(em, method, path, {});
      t.is(res.status, 404, `${method} ${path}`);
      t.deepEqual(res.body, { errors: [MSG.routeNotFound(method, path)], request_id: res.body.request_id, code: CODES.notFound });
    }
  });
});

test('bad JSON → 400 invalid_json; a non-object body → 400', async (t) => {
  await withEmulator({}, async (em) => {
    const bad = await call(em, 'POST', '/contacts', { rawBody: '{"name": "x",' });
    t.deepEqual([bad.status, bad.body.code, bad.body.errors], [400, CODES.invalidJson, [MSG.invalidJson]]);
    const arr = await call(em, 'POST', '/contacts', { rawBody: '[1,2]' });
    t.deepEqual([arr.status, arr.body.errors], [400, [MSG.bodyNotObject]]);
    const search = await call(em, 'POST', '/contacts/search', { rawBody: 'nope' });
    t.is(search.body.code, CODES.invalidJson);
    const patch = await call(em, 'PATCH', `/contacts/${em.store.insert({ name: 'x' }).id}`, { rawBody: '"str"' });
    t.deepEqual([patch.status, patch.body.errors], [400, [MSG.bodyNotObject]]);
  });
});

test('inspection routes: stats without auth, reset, NDJSON dump', async (t) => {
  await withEmulator({}, async (em) => {
    const api = client(em);
    await api.post('/contacts', { name: 'A', email: 'a@x.example' });
    await api.get('/contacts');
    await call(em, 'GET', '/me', { token: 'bad' });
    const stats = await call(em, 'GET', '/_emulator/stats', { token: null });
    t.is(stats.status, 200);
    t.deepEqual(stats.body, {
      requests: { list: 1, get: 0, create: 1, patch: 0, delete: 0, search: 0, customFields: 0, accounts: 0, me: 1, unknown: 0 },
      status: { 200: 2, 401: 1 },
      rateLimited: 0,
      maxInFlight: 1,
      inFlight: 0,
      faultsInjected: 0,
    });
    t.deepEqual(em.stats(), stats.body);

    const dump = await call(em, 'GET', '/_emulator/contacts', { token: null });
    t.is(dump.headers.get('content-type'), 'application/x-ndjson');
    t.deepEqual(dump.text.trim().split('\n').map((line) => JSON.parse(line).name), ['A']);

    const reset = await call(em, 'POST', '/_emulator/reset', { token: null });
    t.deepEqual(reset.body, { reset: true, data: false });
    t.is(em.stats().requests.create, 0);
    t.is(em.store.size, 1);
    await call(em, 'POST', '/_emulator/reset?data=1', { token: null });
    t.is(em.store.size, 0);
    t.is((await call(em, 'GET', '/_emulator/nothing', { token: null })).status, 404);
    t.is(em.stats().requests.unknown, 0, 'inspection requests are not counted');
  });
});

test('a body over 1 MiB → 413 with the envelope; nothing is created', async (t) => {
  await withEmulator({}, async (em) => {
    const res = await call(em, 'POST', '/contacts', { rawBody: JSON.stringify({ name: 'A', notes: 'x'.repeat(1024 * 1024) }) });
    t.deepEqual([res.status, res.body.code, res.body.errors], [413, CODES.invalidRequest, [MSG.bodyTooLarge(1024 * 1024)]]);
    t.is(em.store.size, 0);
  });
});
