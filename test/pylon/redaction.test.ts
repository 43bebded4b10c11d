import { inspect } from 'node:util';
import test from 'ava';
import { redact } from '../../src/config.js';
import { buildApiError } from '../../src/pylon/errors.js';
import { fail, ok, page } from '../helpers/scripted-server.js';
import { TOKEN, harness } from './setup.js';

function assertNoToken(t: import('ava').ExecutionContext, error: unknown, label: string): void {
  t.truthy(error, label);
  const e = error as Error;
  for (const [where, text] of [
    ['message', e.message],
    ['stack', e.stack ?? ''],
    ['JSON', JSON.stringify(e)],
    ['inspect', inspect(e, { depth: 5 })],
    ['String', String(e)],
  ] as const) {
    t.false(text.includes(TOKEN), `${label}: token found in ${where}`);
  }
}

const ECHO = `Invalid API token ${TOKEN}`;

test('no kind of client error ever shows the token', async (t) => {
  const { server, client } = await harness(t, { retry: { limit: 1, baseDelayMs: 1, maxDelayMs: 2 } });
  // Only the timeout case has a short timeout: with 200 ms for all, an answer a busy machine delayed timed the case out,
  // and its retry took the next case's scripted answer.
  const slow = await harness(t, { timeoutMs: 200, retry: { limit: 1, baseDelayMs: 1, maxDelayMs: 2 } });
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['401 echoing the token', async () => {
      server.enqueue(fail(401, ECHO, { code: 'invalid_api_token' }));
      return client.me();
    }],
    ['400 with the token in errors[]', async () => {
      server.enqueue(fail(400, `name ${TOKEN} is invalid`));
      return client.createContact({ name: TOKEN });
    }],
    ['HTML 500 page with the token', async () => {
      server.enqueue({ status: 500, body: `<html>${TOKEN}</html>` }, { status: 500, body: `<html>${TOKEN}</html>` });
      return client.listContacts({});
    }],
    ['429 exhausted', async () => {
      server.enqueue(fail(429, ECHO, {}, { 'retry-after': '0' }), fail(429, ECHO, {}, { 'retry-after': '0' }));
      return client.getContact('c_1');
    }],
    ['dropped connection', async () => {
      server.enqueue({ destroy: true }, { destroy: true });
      return client.getContact('c_1');
    }],
    ['timeout', async () => {
      slow.server.enqueue({ delayMs: 1000, ...ok({}) });
      return slow.client.createContact({ name: 'slow' });
    }],
    ['bad 200 body', async () => {
      server.enqueue({ status: 200, body: `not json ${TOKEN}` });
      return client.me();
    }],
    ['pagination loop', async () => {
      server.enqueue(page([], 'same', true), page([], 'same', true));
      return client.listCustomFields();
    }],
    ['abort', async () => client.me({ signal: AbortSignal.abort(new Error(`stop ${TOKEN}`)) })],
  ];
  for (const [label, run] of cases) {
    const error = await t.throwsAsync(run(), undefined, label);
    assertNoToken(t, error, label);
  }
});

test('the token in a server message is replaced, the rest of the message kept', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(fail(401, ECHO, { code: 'invalid_api_token' }));
  const error = await t.throwsAsync(client.me());
  t.true(error!.message.includes('Invalid API token [REDACTED]'), error!.message);
  t.deepEqual((error as unknown as { errors: string[] }).errors, ['Invalid API token [REDACTED]']);
});

test('JSON.stringify gives the structured fields and no got internals', async (t) => {
  const { server, client } = await harness(t);
  server.enqueue(fail(409, 'conflict', { code: 'duplicate', exists_id: 'c_1' }));
  const error = await t.throwsAsync(client.createContact({ name: 'Ada' }));
  const json = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
  t.deepEqual(Object.keys(json).sort(), ['code', 'endpoint', 'errors', 'existsId', 'maybeApplied', 'message', 'method', 'name', 'path', 'pylonCode', 'requestId', 'retryable', 'status'].sort());
  t.false(inspect(error, { depth: 8 }).includes('authorization'));
});

test('wrong_region_token on the real hosts suggests the other region', (t) => {
  const base = {
    site: { method: 'GET' as const, endpoint: 'me' as const, path: '/me' },
    retries: 0,
    maybeApplied: false,
    retryable: false,
    stop: 'not-retryable' as const,
    redact: (s: string) => redact(s, TOKEN),
    http: { status: 401, envelope: true, errors: ['Wrong region'], pylonCode: 'wrong_region_token', requestId: 'r1' },
  };
  t.regex(buildApiError({ ...base, origin: 'https://api.usepylon.com' }).message, /try --region eu \(or --base-url https:\/\/api\.eu\.usepylon\.com\)$/);
  t.regex(buildApiError({ ...base, origin: 'https://api.eu.usepylon.com' }).message, /try --region us/);
});

test('a host name that does not resolve is said in words, with what to check (ENOTFOUND)', (t) => {
  const report = {
    site: { method: 'GET' as const, endpoint: 'me' as const, path: '/me' },
    origin: 'https://api.usepylon.con',
    retries: 2,
    maybeApplied: false,
    retryable: true,
    stop: 'exhausted' as const,
    redact: (s: string) => redact(s, TOKEN),
  };
  const notFound = buildApiError({ ...report, transport: { kind: 'connect', code: 'ENOTFOUND', timeoutMs: 30_000, cause: new Error('getaddrinfo ENOTFOUND api.usepylon.con') } });
  t.is(notFound.code, 'PYLON_NETWORK');
  t.is(notFound.message, 'GET /me failed: could not connect to https://api.usepylon.con: host name not found (ENOTFOUND): check the network or --base-url (after 2 retries)');
  // Other codes are given as they are.
  const unreachable = buildApiError({ ...report, transport: { kind: 'connect', code: 'EHOSTUNREACH', timeoutMs: 30_000, cause: new Error('connect EHOSTUNREACH') } });
  t.is(unreachable.message, 'GET /me failed: could not connect to https://api.usepylon.con: EHOSTUNREACH (after 2 retries)');
});

test('a refused connection is said in words: the host and port nobody listens on, and what to check (ECONNREFUSED)', (t) => {
  const report = {
    site: { method: 'GET' as const, endpoint: 'me' as const, path: '/me' },
    retries: 2,
    maybeApplied: false,
    retryable: true,
    stop: 'exhausted' as const,
    redact: (s: string) => redact(s, TOKEN),
    transport: { kind: 'connect' as const, code: 'ECONNREFUSED', timeoutMs: 30_000, cause: new Error('connect ECONNREFUSED 127.0.0.1:4010') },
  };
  const refused = buildApiError({ ...report, origin: 'http://127.0.0.1:4010' });
  t.is(refused.code, 'PYLON_NETWORK');
  t.is(refused.message, 'GET /me failed: could not connect to http://127.0.0.1:4010 (after 2 retries): the connection was refused (ECONNREFUSED), so nothing accepts connections on 127.0.0.1 port 4010. Is the server running, and is the URL right (--base-url or PYLON_BASE_URL)?');
  // A URL without a port names the scheme's.
  t.regex(buildApiError({ ...report, origin: 'https://pylon-proxy.internal' }).message, /nothing accepts connections on pylon-proxy\.internal port 443\./);
  t.regex(buildApiError({ ...report, origin: 'http://localhost', retries: 0 }).message, /^GET \/me failed: could not connect to http:\/\/localhost: the connection was refused \(ECONNREFUSED\), so nothing accepts connections on localhost port 80\./);
});
