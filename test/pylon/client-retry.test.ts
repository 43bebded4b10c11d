import test from 'ava';
import type { EndpointKey } from '../../src/config.js';
import type { PylonClient } from '../../src/pylon/api.js';
import { fail, ok, page, type ScriptedResponse } from '../helpers/scripted-server.js';
import { apiError, harness } from './setup.js';

interface Target {
  name: string;
  endpoint: EndpointKey;
  method: string;
  path: string;
  call: (client: PylonClient) => Promise<unknown>;
  success: () => ScriptedResponse;
}

const targets: Target[] = [
  { name: 'listContacts', endpoint: 'list', method: 'GET', path: '/contacts', call: (c) => c.listContacts({ limit: 5 }), success: () => page([], '', false) },
  { name: 'getContact', endpoint: 'get', method: 'GET', path: '/contacts/{id}', call: (c) => c.getContact('c_1'), success: () => ok({ id: 'c_1' }) },
  { name: 'createContact', endpoint: 'create', method: 'POST', path: '/contacts', call: (c) => c.createContact({ name: 'Ada', email: 'ada@x.com' }), success: () => ok({ id: 'c_1' }) },
  { name: 'updateContact', endpoint: 'patch', method: 'PATCH', path: '/contacts/{id}', call: (c) => c.updateContact('c_1', { name: 'Ada' }), success: () => ok({ id: 'c_1' }) },
  { name: 'deleteContact', endpoint: 'delete', method: 'DELETE', path: '/contacts/{id}', call: (c) => c.deleteContact('c_1'), success: () => ({ body: { request_id: 'r' } }) },
  { name: 'searchContacts', endpoint: 'search', method: 'POST', path: '/contacts/search', call: (c) => c.searchContacts({ filter: { field: 'email', operator: 'equals', value: 'a@x.com' } }), success: () => page([], null, false) },
  { name: 'listCustomFields', endpoint: 'customFields', method: 'GET', path: '/custom-fields', call: (c) => c.listCustomFields(), success: () => page([], '', false) },
  { name: 'listAccounts', endpoint: 'accounts', method: 'GET', path: '/accounts', call: (c) => c.listAccounts({}), success: () => page([], '', false) },
  { name: 'getAccount', endpoint: 'accounts', method: 'GET', path: '/accounts/{id}', call: (c) => c.getAccount('ext-1'), success: () => ok({ id: 'a_1', name: 'Acme' }) },
  { name: 'me', endpoint: 'me', method: 'GET', path: '/me', call: (c) => c.me(), success: () => ok({ id: 'o_1', name: 'Org' }) },
];

interface Failure {
  name: string;
  response: () => ScriptedResponse;
  transient: boolean;
  /** The server may have applied the request. */
  ambiguous: boolean;
  code: string;
  status?: number;
}

const failures: Failure[] = [
  { name: '429', response: () => fail(429, 'Too many requests', { code: 'rate_limited' }, { 'retry-after': '0' }), transient: true, ambiguous: false, code: 'PYLON_RATE_LIMITED', status: 429 },
  { name: '500', response: () => fail(500, 'Internal error'), transient: true, ambiguous: true, code: 'PYLON_HTTP', status: 500 },
  { name: '503', response: () => fail(503, 'Unavailable'), transient: true, ambiguous: true, code: 'PYLON_HTTP', status: 503 },
  { name: 'dropped connection', response: () => ({ destroy: true }), transient: true, ambiguous: true, code: 'PYLON_NETWORK' },
  { name: 'timeout', response: () => ({ delayMs: 4000, ...ok({ id: 'late' }) }), transient: true, ambiguous: true, code: 'PYLON_TIMEOUT' },
  { name: '400', response: () => fail(400, 'Bad field'), transient: false, ambiguous: false, code: 'PYLON_HTTP', status: 400 },
  { name: '404', response: () => fail(404, 'Contact not found!'), transient: false, ambiguous: false, code: 'PYLON_HTTP', status: 404 },
  { name: '401', response: () => fail(401, 'Invalid API token!', { code: 'invalid_api_token' }), transient: false, ambiguous: false, code: 'PYLON_AUTH', status: 401 },
];

const LIMIT = 2;
const WRITES = new Set(['create', 'patch', 'delete']);

for (const target of targets) {
  for (const failure of failures) {
    const retried = failure.transient && (target.endpoint !== 'create' || !failure.ambiguous);
    test(`${target.name} × ${failure.name}: ${retried ? `retried ${LIMIT} times` : 'sent once'}`, async (t) => {
      // Only the timeout case gets a short timeout: elsewhere a loaded machine must not turn an answer into a timeout.
      const { server, client } = await harness(t, { timeoutMs: failure.name === 'timeout' ? 1000 : 5000 }, () => failure.response());
      const error = await apiError(t, target.call(client));
      const sent = retried ? LIMIT + 1 : 1;
      t.is(server.requests.length, sent);
      t.true(server.requests.every((r) => r.method === target.method));
      t.is(client.stats.calls[target.endpoint], sent);
      t.is(client.stats.retries, sent - 1);
      t.is(client.stats.rateLimited, failure.name === '429' ? sent : 0);
      t.like(error, {
        code: failure.code,
        status: failure.status,
        method: target.method,
        endpoint: target.endpoint,
        path: target.path,
        retryable: failure.transient && (target.endpoint !== 'create' || !failure.ambiguous),
        maybeApplied: WRITES.has(target.endpoint) && failure.ambiguous,
      });
      t.true(error.message.startsWith(`${target.method} ${target.path} failed`), error.message);
    });
  }

  test(`${target.name}: one 503 then success resolves after one retry`, async (t) => {
    const { server, client, events } = await harness(t);
    server.enqueue(fail(503, 'Unavailable'), target.success());
    if (target.endpoint === 'create') {
      const error = await apiError(t, target.call(client));
      t.is(server.requests.length, 1, 'a create answered 503 is never sent again');
      t.true(error.maybeApplied);
      return;
    }
    await t.notThrowsAsync(target.call(client));
    t.is(server.requests.length, 2);
    t.like(events.find((e) => e.type === 'retry'), { type: 'retry', endpoint: target.endpoint, attempt: 1, reason: 'HTTP 503' });
  });
}

test('create: a 429 proves nothing was applied, so it is sent again and succeeds', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(fail(429, 'slow down', { code: 'rate_limited' }, { 'retry-after': '0' }), ok({ id: 'c_9', name: 'Ada' }));
  const result = await client.createContact({ name: 'Ada', email: 'ada@x.com' });
  t.is(result.data.id, 'c_9');
  t.is(server.requests.length, 2);
  t.deepEqual(server.requests[1]!.body, { name: 'Ada', email: 'ada@x.com' });
  t.like(client.stats, { retries: 1, rateLimited: 1 });
});

test('patch: an ambiguous failure followed by a 404 reports maybeApplied', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue({ destroy: true }, fail(404, 'Contact not found!'));
  const error = await apiError(t, client.deleteContact('c_1'));
  t.like(error, { status: 404, maybeApplied: true, retryable: false });
  t.is(server.requests.length, 2);
});

test('Retry-After (seconds) is honoured before the retry', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(fail(429, 'slow down', { code: 'rate_limited' }, { 'retry-after': '1' }), page([], '', false));
  await client.listContacts({});
  const gap = server.requests[1]!.arrivedAt - server.requests[0]!.arrivedAt;
  t.true(gap >= 950, `retry came ${gap} ms after the 429`);
});

test('X-Retry-After is honoured when Retry-After is absent', async (t) => {
  const { server, client, events } = await harness(t);
  server.enqueue(fail(429, 'slow down', { code: 'rate_limited' }, { 'x-retry-after': '1' }), ok({ id: 'c_1' }));
  await client.getContact('c_1');
  const gap = server.requests[1]!.arrivedAt - server.requests[0]!.arrivedAt;
  t.true(gap >= 950, `retry came ${gap} ms after the 429`);
  t.like(events.find((e) => e.type === 'rate-limited'), { endpoint: 'get', retryAfterMs: 1000 });
});

test('Retry-After as an HTTP-date is honoured', async (t) => {
  // The date is written when the request arrives; toUTCString drops the milliseconds, so the wait is 2–3 s.
  const { server, client } = await harness(t, {}, (_req, index) =>
    index === 0 ? fail(429, 'slow down', {}, { 'retry-after': new Date(Date.now() + 3000).toUTCString() }) : ok({ id: 'c_1' }),
  );
  await client.getContact('c_1');
  const gap = server.requests[1]!.arrivedAt - server.requests[0]!.arrivedAt;
  t.true(gap >= 1500, `retry came ${gap} ms after the 429`);
});

test('a Retry-After above maxRetryAfterMs gives up at once with PYLON_RATE_LIMITED', async (t) => {
  const { server, client } = await harness(t, { retry: { maxRetryAfterMs: 60_000 } });
  server.enqueue(fail(429, 'slow down', { code: 'rate_limited' }, { 'retry-after': '3600' }));
  const started = Date.now();
  const error = await apiError(t, client.listContacts({}));
  // The bound is a sixtieth of the hour asked: far from anything a busy machine adds.
  t.true(Date.now() - started < 60_000, 'did not wait for the hour asked');
  t.is(server.requests.length, 1);
  t.like(error, { code: 'PYLON_RATE_LIMITED', status: 429, pylonCode: 'rate_limited', retryable: true });
  t.regex(error.message, /asked to wait 3600 s/);
});

test('backoff with an injected random is deterministic and actually waited', async (t) => {
  const { server, client, events } = await harness(t, { random: () => 0.5, retry: { limit: 3, baseDelayMs: 80, maxDelayMs: 1000 } }, () => fail(500, 'boom'));
  await apiError(t, client.getContact('c_1'));
  const delays = events.filter((e) => e.type === 'retry').map((e) => (e as { delayMs: number }).delayMs);
  t.deepEqual(delays, [60, 120, 240]);
  const arrivals = server.requests.map((r) => r.arrivedAt);
  for (let i = 1; i < arrivals.length; i++) {
    t.true(arrivals[i]! - arrivals[i - 1]! >= delays[i - 1]! - 5, `gap ${i}`);
  }
});

test('a refused connection fails fast after two quick retries, for create too', async (t) => {
  const { server, client, events } = await harness(t, { retry: { limit: 8, baseDelayMs: 1, maxDelayMs: 2 } });
  await server.close();
  for (const call of [() => client.listContacts({}), () => client.createContact({ name: 'Ada' })]) {
    events.length = 0;
    const error = await apiError(t, call());
    t.is(error.code, 'PYLON_NETWORK');
    t.true(error.message.includes(`could not connect to ${server.url} (after 2 retries): the connection was refused (ECONNREFUSED)`), error.message);
    t.false(error.maybeApplied);
    t.is(events.filter((e) => e.type === 'retry').length, 2);
  }
});

test('abort while waiting for a retry delay rejects at once; nothing more is sent', async (t) => {
  // A 100 s retry delay: the abort ending the wait early is told apart from the delay by a wide margin on a busy machine.
  const { server, client } = await harness(t, { retry: { limit: 3, baseDelayMs: 100_000, maxDelayMs: 100_000 } }, () => fail(500, 'boom'));
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('stop')), 150);
  const started = Date.now();
  const error = await t.throwsAsync(client.getContact('c_1', { signal: controller.signal }));
  t.like(error, { name: 'AbortError', code: 'RUN_ABORTED' });
  t.true(Date.now() - started < 50_000);
  t.is(server.requests.length, 1);
});

test('abort while waiting for a pacing slot rejects; a request already sent finishes', async (t) => {
  const { server, client } = await harness(t, { rates: { get: 1 }, windowMs: 10_000 }, () => ({ delayMs: 300, ...ok({ id: 'c_1' }) }));
  const controller = new AbortController();
  const first = client.getContact('c_1', { signal: controller.signal });
  const second = client.getContact('c_2', { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('stop')), 100);
  const [a, b] = await Promise.allSettled([first, second]);
  t.is(a.status, 'fulfilled', 'the request in flight was let finish');
  t.is(b.status, 'rejected');
  t.like((b as PromiseRejectedResult).reason, { code: 'RUN_ABORTED', endpoint: 'get', path: '/contacts/{id}' });
  t.is(server.requests.length, 1);
  t.is(client.pacing().get.queued, 0);
});

test('an already aborted signal sends nothing', async (t) => {
  const { server, client } = await harness(t);
  const error = await t.throwsAsync(client.me({ signal: AbortSignal.abort() }));
  t.is((error as { code?: string }).code, 'RUN_ABORTED');
  t.is(server.requests.length, 0);
});
