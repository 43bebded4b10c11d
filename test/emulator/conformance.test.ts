/**
 * Every kind of emulator response, validated against Pylon's official OpenAPI
 * schemas (a copy of Pylon's pylon-openapi.json kept in test/fixtures/).
 * Statuses the spec does not list for an operation (401, 429, 502, 503, and
 * errors of delete/search) are checked against its ErrorApiResponseBody.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { DEFAULT_CUSTOM_FIELDS, FAULT_HEADER, type Emulator } from '../../src/emulator/index.js';
import { call, client, withEmulator, type JsonResponse } from '../helpers/with-emulator.js';

const SPEC_PATH = fileURLToPath(new URL('../fixtures/pylon-openapi.json', import.meta.url));
const ERROR_SCHEMA = '#/components/schemas/ErrorApiResponseBody';

interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string }> }>>;
  components: { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> };
}

function loadValidator() {
  const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { int64: true, 'date-time': true, binary: true } });
  ajv.addSchema(spec as object, 'pylon');
  const bySchema = (ref: string): ValidateFunction => {
    const fn = ajv.getSchema(`pylon${ref}`);
    if (!fn) throw new Error(`no schema ${ref}`);
    return fn;
  };
  /** The documented body schema of one operation and status, or undefined when the spec lists none. */
  const documented = (path: string, method: string, status: number): string | undefined => {
    const response = spec.paths[path]?.[method]?.responses[String(status)];
    if (!response?.$ref) return undefined;
    const name = response.$ref.split('/').pop()!;
    return spec.components.responses[name]?.content?.['application/json']?.schema.$ref;
  };
  return { bySchema, documented };
}

/** [label, spec path, method, request]. */
type Case = [string, string, string, (em: Emulator, id: string) => Promise<JsonResponse>];

const fault = (value: string) => ({ headers: { [FAULT_HEADER]: value } });

const CASES: Case[] = [
  ['list', '/contacts', 'get', (em) => client(em).get('/contacts?limit=2')],
  ['list, last page', '/contacts', 'get', (em) => client(em).get('/contacts?limit=999')],
  ['get', '/contacts/{id}', 'get', (em, id) => client(em).get(`/contacts/${id}`)],
  [
    'create',
    '/contacts',
    'post',
    (em) =>
      client(em).post('/contacts', {
        name: 'New',
        email: 'new@x.example',
        account_external_id: 'globex',
        phone_numbers: ['123'],
        external_ids: [{ external_id: 'e1', label: 'crm' }],
        custom_fields: [{ slug: 'interests', values: ['api'] }],
      }),
  ],
  ['patch', '/contacts/{id}', 'patch', (em, id) => client(em).patch(`/contacts/${id}`, { name: 'Renamed', emails: [{ email: 'z@x.example' }] })],
  ['search', '/contacts/search', 'post', (em) => client(em).post('/contacts/search', { filter: { field: 'tier', operator: 'is_set' }, limit: 3 })],
  ['custom fields', '/custom-fields', 'get', (em) => client(em).get('/custom-fields?object_type=contact')],
  ['accounts list', '/accounts', 'get', (em) => client(em).get('/accounts?limit=2')],
  ['account get', '/accounts/{id}', 'get', (em) => client(em).get('/accounts/acme')],
  ['me', '/me', 'get', (em) => client(em).get('/me')],
  ['import contact', '/import/contacts', 'post', (em) => client(em).post('/import/contacts', { name: 'Imported', email: 'imported@x.example', portal_role: 'admin' })],
  ['import contact, 400 no email', '/import/contacts', 'post', (em) => client(em).post('/import/contacts', { name: 'Imported' })],
  ['custom field get', '/custom-fields/{id}', 'get', (em) => client(em).get(`/custom-fields/${DEFAULT_CUSTOM_FIELDS[0].id}`)],
  ['custom field 404', '/custom-fields/{id}', 'get', (em) => client(em).get('/custom-fields/missing')],
  [
    'account create',
    '/accounts',
    'post',
    (em) => client(em).post('/accounts', { name: 'Hooli', domains: ['hooli.example'], primary_domain: 'hooli.example', external_ids: [{ external_id: 'hooli', label: 'crm' }], tags: ['new'] }),
  ],
  ['account create, 400', '/accounts', 'post', (em) => client(em).post('/accounts', { domains: ['x.example'] })],
  ['account search', '/accounts/search', 'post', (em) => client(em).post('/accounts/search', { filter: { field: 'external_ids', operator: 'is_set' }, limit: 2 })],
  ['account search, 400', '/accounts/search', 'post', (em) => client(em).post('/accounts/search', { filter: { field: 'nope', operator: 'equals', value: 'x' } })],
  ['delete', '/contacts/{id}', 'delete', (em, id) => client(em).delete(`/contacts/${id}`)],
  ['400 validation', '/contacts', 'post', (em) => client(em).post('/contacts', { email: 'bad' })],
  ['400 bad JSON', '/contacts/{id}', 'patch', (em, id) => call(em, 'PATCH', `/contacts/${id}`, { rawBody: '{' })],
  ['400 duplicate with exists_id', '/contacts', 'post', (em) => client(em).post('/contacts', { name: 'Dup', email: 'seeded@x.example' })],
  ['400 limit', '/contacts', 'get', (em) => client(em).get('/contacts?limit=1000')],
  ['400 filter', '/contacts/search', 'post', (em) => client(em).post('/contacts/search', { filter: { field: 'nope', operator: 'equals', value: 'x' } })],
  ['404 contact', '/contacts/{id}', 'get', (em) => client(em).get('/contacts/missing')],
  ['404 delete', '/contacts/{id}', 'delete', (em) => client(em).delete('/contacts/missing')],
  ['404 account', '/accounts/{id}', 'get', (em) => client(em).get('/accounts/missing')],
  ['account delete', '/accounts/{id}', 'delete', (em) => client(em).delete('/accounts/acme')],
  ['404 account delete', '/accounts/{id}', 'delete', (em) => client(em).delete('/accounts/missing')],
  ['404 route', '/contacts', 'get', (em) => call(em, 'GET', '/tickets')],
  ['401 header', '/me', 'get', (em) => call(em, 'GET', '/me', { token: null })],
  ['401 token', '/me', 'get', (em) => call(em, 'GET', '/me', { token: 'wrong' })],
  ['429', '/contacts', 'get', (em) => client(em).get('/contacts', fault('status=429;retry-after=1'))],
  ['500', '/contacts', 'post', (em) => client(em).post('/contacts', { name: 'X' }, fault('status=500'))],
  ['502', '/contacts/{id}', 'get', (em, id) => client(em).get(`/contacts/${id}`, fault('status=502'))],
  ['503', '/contacts/search', 'post', (em) => client(em).post('/contacts/search', {}, fault('status=503'))],
];

test('every kind of emulator response conforms to Pylon\'s OpenAPI schemas', async (t) => {
  const { bySchema, documented } = loadValidator();
  await withEmulator({ seed: 2, seedRandom: 5 }, async (em) => {
    const seeded = em.store.insert({
      name: 'Seeded',
      email: 'seeded@x.example',
      account_external_id: 'acme',
      phone_numbers: ['15550100'],
      avatar_url: 'https://cdn.example/s.png',
      portal_role_id: 'role-1',
      integration_user_ids: [{ id: 'U1', source: 'slack' }],
      custom_fields: { tier: 'gold', 'contact.salesforce.Contact_ID_for_Pylon__c': 'SF' },
    });
    for (const [label, path, method, run] of CASES) {
      const res = await run(em, seeded.id);
      const ref = documented(path, method, res.status) ?? (res.status >= 400 ? ERROR_SCHEMA : undefined);
      if (!ref) {
        t.fail(`${label}: status ${res.status} has no schema`);
        continue;
      }
      const validate = bySchema(ref);
      t.true(validate(res.body), `${label} (${res.status}) vs ${ref}: ${JSON.stringify(validate.errors)}`);
      if (res.status >= 400) t.true(Array.isArray(res.body.errors) && typeof res.body.request_id === 'string', label);
    }
  });
});

test('the schemas really validate: wrong bodies fail, and a null last-page cursor is outside the spec', async (t) => {
  const { bySchema, documented } = loadValidator();
  const list = bySchema(documented('/contacts', 'get', 200)!);
  t.true(list({ data: [{ id: 'a', emails: ['a@x.example'] }], pagination: { cursor: '', has_next_page: false }, request_id: 'r' }));
  t.false(list({ data: [{ id: 5 }], pagination: { cursor: '', has_next_page: false }, request_id: 'r' }), 'id must be a string');
  t.false(list({ data: [], pagination: { has_next_page: false }, request_id: 'r' }), 'cursor is required');
  t.false(list({ data: [{ id: 'a', portal_role: 'owner' }], pagination: { cursor: '', has_next_page: false }, request_id: 'r' }), 'portal_role enum');
  t.false(bySchema(ERROR_SCHEMA)({ errors: 'one', request_id: 'r' }), 'errors must be an array');

  for (const variant of ['null', 'absent'] as const) {
    await withEmulator({ lastPageCursor: variant }, async (em) => {
      const res = await client(em).get('/contacts');
      t.false(list(res.body), `lastPageCursor=${variant} is a switch for client robustness, not spec behaviour`);
    });
  }
});
