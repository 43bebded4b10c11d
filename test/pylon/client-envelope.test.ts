import test from 'ava';
import { fail, ok, page } from '../helpers/scripted-server.js';
import { TOKEN, apiError, harness } from './setup.js';

test('requests carry the bearer token, JSON accept and a pylon-contacts user agent', async (t) => {
  const { server, client } = await harness(t);
  await client.me();
  const { headers } = server.requests[0]!;
  t.is(headers.authorization, `Bearer ${TOKEN}`);
  t.is(headers.accept, 'application/json');
  t.regex(headers['user-agent'] ?? '', /^pylon-contacts\/\d+\.\d+\.\d+/);
});

test('each method maps to its route, query and body; path params are URL-encoded', async (t) => {
  const { server, client } = await harness(t, {}, (req) =>
    req.pathname === '/contacts' && req.method === 'GET' ? page([], '', false) : req.method === 'DELETE' ? { body: { request_id: 'r_del' } } : ok({ id: 'x' }),
  );
  await client.listContacts({ limit: 5, cursor: 'abc=' });
  await client.listContacts({});
  await client.getContact('a/b c?d');
  await client.createContact({ name: 'Ada', email: 'ada@x.com' });
  await client.updateContact('c#1', { name: 'Ada L' });
  const deleted = await client.deleteContact('c_1');
  await client.getAccount('ext/42');
  await client.me();
  t.deepEqual(
    server.requests.map((r) => `${r.method} ${r.url}`),
    [
      'GET /contacts?limit=5&cursor=abc%3D',
      'GET /contacts',
      'GET /contacts/a%2Fb%20c%3Fd',
      'POST /contacts',
      'PATCH /contacts/c%231',
      'DELETE /contacts/c_1',
      'GET /accounts/ext%2F42',
      'GET /me',
    ],
  );
  t.deepEqual(server.requests[3]!.body, { name: 'Ada', email: 'ada@x.com' });
  t.is(server.requests[3]!.headers['content-type'], 'application/json');
  t.deepEqual(server.requests[4]!.body, { name: 'Ada L' });
  t.deepEqual(deleted, { requestId: 'r_del' });
});

test('search sends filter, cursor and limit in the body and maps the page', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(page([{ id: 'c_1', email: 'a@x.com' }], 'next-1', true), page([], null, false));
  const filter = { field: 'email', operator: 'in' as const, values: ['a@x.com', 'b@x.com'] };
  const first = await client.searchContacts({ filter, limit: 50 });
  const second = await client.searchContacts({ filter, cursor: first.cursor ?? undefined });
  t.deepEqual(server.requests[0]!.body, { filter, limit: 50 });
  t.deepEqual(server.requests[1]!.body, { filter, cursor: 'next-1' });
  t.like(first, { cursor: 'next-1', hasNextPage: true, data: [{ id: 'c_1', email: 'a@x.com' }] });
  t.regex(first.requestId, /^req_/);
  t.like(second, { cursor: null, hasNextPage: false, data: [] });
});

test('listCustomFields asks for contact fields and follows every page', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(page([{ slug: 'a' }], 'p2', true), page([{ slug: 'b' }, { slug: 'c' }], 'p3', true), page([{ slug: 'd' }], '', false));
  const fields = await client.listCustomFields();
  t.deepEqual(fields.map((f) => f.slug), ['a', 'b', 'c', 'd']);
  t.deepEqual(server.requests.map((r) => r.url), ['/custom-fields?object_type=contact', '/custom-fields?object_type=contact&cursor=p2', '/custom-fields?object_type=contact&cursor=p3']);
});

test('listCustomFields stops with PYLON_PAGINATION on a repeated or missing cursor', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(page([{ slug: 'a' }], 'p2', true), page([{ slug: 'b' }], 'p2', true));
  const repeated = await apiError(t, client.listCustomFields());
  t.like(repeated, { code: 'PYLON_PAGINATION', endpoint: 'customFields', path: '/custom-fields' });
  t.regex(repeated.message, /cursor it had sent before/);
  server.enqueue(page([{ slug: 'a' }], '', true));
  const missing = await apiError(t, client.listCustomFields());
  t.regex(missing.message, /has_next_page is true but no cursor/);
  t.is(server.requests.length, 3);
});

test('an error envelope surfaces status, errors, code, request_id and exists_id in the fields and the message', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue({ status: 400, body: { errors: ['Contact with this email already exists', 'second'], request_id: 'req_abc', code: 'duplicate', exists_id: 'c_old' } });
  const error = await apiError(t, client.createContact({ name: 'Ada', email: 'ada@x.com' }));
  t.like(error, {
    code: 'PYLON_HTTP',
    status: 400,
    method: 'POST',
    endpoint: 'create',
    path: '/contacts',
    pylonCode: 'duplicate',
    errors: ['Contact with this email already exists', 'second'],
    requestId: 'req_abc',
    existsId: 'c_old',
    maybeApplied: false,
    retryable: false,
  });
  t.is(error.message, 'POST /contacts failed with 400: Contact with this email already exists (request_id req_abc)');
});

test('PATCH message grammar, and x-request-id when the body has none', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue({ status: 404, headers: { 'x-request-id': 'hdr_1' }, body: { errors: ['Contact not found!'] } });
  const error = await apiError(t, client.updateContact('c_404', { name: 'x' }));
  t.is(error.message, 'PATCH /contacts/{id} failed with 404: Contact not found! (request_id hdr_1)');
  t.is(error.requestId, 'hdr_1');
});

test('401 explains the token; wrong_region_token points at the other region', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(fail(401, 'Invalid API token!', { code: 'invalid_api_token' }), fail(401, 'Wrong region', { code: 'wrong_region_token' }));
  const invalid = await apiError(t, client.me());
  t.like(invalid, { code: 'PYLON_AUTH', status: 401, pylonCode: 'invalid_api_token' });
  t.regex(invalid.message, /^GET \/me failed with 401: Invalid API token! \(request_id req_\d+\)\. Check the API token \(PYLON_API_TOKEN or --token\)/);
  const region = await apiError(t, client.me());
  t.like(region, { code: 'PYLON_AUTH', pylonCode: 'wrong_region_token' });
  t.regex(region.message, /another Pylon region: try --region or --base-url/);
});

test('403 is PYLON_FORBIDDEN', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(fail(403, 'Permission denied', { code: 'permission_denied' }));
  const error = await apiError(t, client.deleteContact('c_1'));
  t.like(error, { code: 'PYLON_FORBIDDEN', status: 403, pylonCode: 'permission_denied', retryable: false });
});

test('a 200 that is not JSON is PYLON_BAD_RESPONSE and is not sent again', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue({ status: 200, body: '<html>maintenance</html>' });
  const error = await apiError(t, client.getContact('c_1'));
  t.like(error, { code: 'PYLON_BAD_RESPONSE', status: 200, retryable: false, maybeApplied: false });
  t.is(server.requests.length, 1);
});

test('a 200 create without `data` may have been applied', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue({ status: 200, body: { request_id: 'r_1' } });
  const error = await apiError(t, client.createContact({ name: 'Ada' }));
  t.like(error, { code: 'PYLON_BAD_RESPONSE', requestId: 'r_1', maybeApplied: true });
  t.regex(error.message, /no `data` object/);
});

test('a page without pagination, or with data not an array, is PYLON_BAD_RESPONSE', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(ok([]), ok({ not: 'a list' }, { pagination: { cursor: '', has_next_page: false } }));
  t.regex((await apiError(t, client.listContacts({}))).message, /pagination\.has_next_page/);
  t.regex((await apiError(t, client.listContacts({}))).message, /no `data` array/);
});

test('an HTML 502 from a proxy is retried for reads, then PYLON_BAD_RESPONSE', async (t) => {
  const { server, client } = await harness(t, {}, () => ({ status: 502, body: '<html><body>Bad gateway</body></html>' }));
  const error = await apiError(t, client.listContacts({}));
  t.is(server.requests.length, 3);
  t.like(error, { code: 'PYLON_BAD_RESPONSE', status: 502, retryable: true, errors: [] });
  t.regex(error.message, /^GET \/contacts failed with 502: unexpected text\/html response/);
});

test('an HTML 404 (wrong base URL) is PYLON_BAD_RESPONSE, not retried', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue({ status: 404, body: '<html>Not Found</html>' });
  const error = await apiError(t, client.me());
  t.like(error, { code: 'PYLON_BAD_RESPONSE', status: 404, retryable: false });
  t.is(server.requests.length, 1);
});

test('stats count calls per endpoint, retries included', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(fail(429, 'slow', {}, { 'retry-after': '0' }), ok({ id: 'c_1' }), ok({ id: 'c_2' }), fail(500, 'x'), ok({ id: 'c_3' }));
  await client.getContact('c_1');
  await client.createContact({ name: 'A' });
  await client.updateContact('c_3', { name: 'B' });
  t.like(client.stats, { retries: 2, rateLimited: 1, calls: { get: 2, create: 1, patch: 2, list: 0 } });
});
