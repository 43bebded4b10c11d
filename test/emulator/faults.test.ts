import test from 'ava';
import { request } from 'node:http';
import { CODES, FAULT_HEADER, MSG, type Emulator } from '../../src/emulator/index.js';
import { parseFaultHeader } from '../../src/emulator/faults.js';
import { client, withEmulator } from '../helpers/with-emulator.js';

const fault = (value: string) => ({ headers: { [FAULT_HEADER]: value } });

test('header grammar parses into a fault plan', (t) => {
  t.deepEqual(parseFaultHeader('status=503'), { status: 503 });
  t.deepEqual(parseFaultHeader(' status=429 ; retry-after=2 '), { status: 429, retryAfter: '2' });
  t.deepEqual(parseFaultHeader('retry-after=1.5'), { status: 429, retryAfter: '1.5' });
  t.deepEqual(parseFaultHeader('drop'), { drop: 'before' });
  t.deepEqual(parseFaultHeader('drop=after'), { drop: 'after' });
  t.deepEqual(parseFaultHeader('slow=3000;status=500'), { slowMs: 3000, status: 500 });
  t.deepEqual(parseFaultHeader('exists'), { exists: true });
  t.deepEqual(parseFaultHeader('exists=abc'), { exists: 'abc' });
});

test('a malformed fault header → 400 emulator_fault, and the request is not applied', async (t) => {
  await withEmulator({}, async (em) => {
    for (const value of ['status=200', 'status=abc', 'drop=sometimes', 'slow=-1', 'retry-after=soon', 'explode']) {
      const res = await client(em).post('/contacts', { name: 'A' }, fault(value));
      t.deepEqual([res.status, res.body.code], [400, CODES.emulatorFault], value);
      t.true(res.body.errors[0].startsWith(MSG.faultHeader('').slice(0, 30)));
    }
    t.is(em.store.size, 0);
  });
});

for (const [status, code] of [
  [500, CODES.internalError],
  [502, CODES.badGateway],
  [503, CODES.serviceUnavailable],
  [400, CODES.emulatorFault],
] as const) {
  test(`status=${status} is answered in Pylon's error envelope and nothing is applied`, async (t) => {
    await withEmulator({}, async (em) => {
      const res = await client(em).post('/contacts', { name: 'A' }, fault(`status=${status}`));
      t.is(res.status, status);
      t.deepEqual(res.body, { errors: [MSG.faultStatus(status)], request_id: res.body.request_id, code });
      t.is(em.store.size, 0);
      t.is(em.stats().faultsInjected, 1);
    });
  });
}

test('status=429;retry-after=2 looks like a rate limit and counts as one', async (t) => {
  await withEmulator({ retryAfterHeader: 'both' }, async (em) => {
    const res = await client(em).get('/contacts', fault('status=429;retry-after=2'));
    t.deepEqual([res.status, res.body.code, res.headers.get('retry-after'), res.headers.get('x-retry-after')], [429, CODES.rateLimited, '2', '2']);
    const bare = await client(em).get('/contacts', fault('status=429'));
    t.deepEqual([bare.status, bare.headers.get('retry-after'), bare.headers.get('x-retry-after')], [429, null, null]);
    t.is(em.stats().rateLimited, 2);
  });
});

test('drop closes the connection without an answer and applies nothing', async (t) => {
  await withEmulator({}, async (em) => {
    await t.throwsAsync(client(em).post('/contacts', { name: 'A', email: 'a@x.example' }, fault('drop')));
    t.is(em.store.size, 0);
    t.is((await client(em).get('/me')).status, 200, 'the server keeps serving');
  });
});

test('drop=after applies the request, then closes the connection (the answer is lost)', async (t) => {
  await withEmulator({}, async (em) => {
    await t.throwsAsync(client(em).post('/contacts', { name: 'A', email: 'a@x.example' }, fault('drop=after')));
    t.is(em.store.size, 1);
    t.truthy(em.store.findByEmail('a@x.example'));
    t.is(em.stats().faultsInjected, 1);
  });
});

test('slow=N delays the answer by at least N ms', async (t) => {
  await withEmulator({}, async (em) => {
    const started = Date.now();
    const res = await client(em).get('/me', fault('slow=300'));
    t.is(res.status, 200);
    t.true(Date.now() - started >= 290);
  });
});

test('exists forces the duplicate answer: the email holder, a given id, or a made-up id', async (t) => {
  await withEmulator({}, async (em) => {
    const holder = em.store.insert({ name: 'H', email: 'h@x.example' });
    const api = client(em);
    const a = await api.post('/contacts', { name: 'A', email: 'h@x.example' }, fault('exists'));
    t.deepEqual(a.body, { errors: [MSG.duplicateForced], request_id: a.body.request_id, code: CODES.alreadyExists, exists_id: holder.id });
    const b = await api.post('/contacts', { name: 'B', email: 'b@x.example' }, fault('exists=c-42'));
    t.is(b.body.exists_id, 'c-42');
    const c = await api.post('/contacts', { name: 'C', email: 'c@x.example' }, fault('exists'));
    t.is(c.status, 400);
    t.regex(c.body.exists_id, /^[0-9a-f-]{36}$/);
    t.is(em.store.size, 1);
  });
});

test('a header-forced fault bypasses the random faults', async (t) => {
  await withEmulator({ faults: { errorRate: 1 } }, async (em) => {
    t.is((await client(em).get('/me')).status >= 500, true);
    t.is((await client(em).get('/me', fault('slow=0'))).status, 200);
  });
});

async function outcomes(em: Emulator, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      out.push(String((await client(em).get('/me')).status));
    } catch {
      out.push('drop');
    }
  }
  return out;
}

test('random faults: the same seed repeats the same sequence; rates are roughly honoured', async (t) => {
  const options = { seed: 42, faults: { errorRate: 0.3, dropRate: 0.1 } };
  const first = await withEmulator(options, (em) => outcomes(em, 200));
  const second = await withEmulator(options, (em) => outcomes(em, 200));
  const other = await withEmulator({ ...options, seed: 43 }, (em) => outcomes(em, 200));
  t.deepEqual(first, second);
  t.notDeepEqual(first, other);
  const count = (s: string) => first.filter((x) => x === s).length;
  const errors = count('500') + count('502') + count('503');
  t.true(errors > 30 && errors < 95, `errors ${errors}`);
  t.true(count('drop') > 5 && count('drop') < 40, `drops ${count('drop')}`);
  t.true(count('500') > 0 && count('502') > 0 && count('503') > 0);
  t.is(count('200') + errors + count('drop'), 200);
});

test('random slow answers wait slowMs', async (t) => {
  await withEmulator({ faults: { slowRate: 1, slowMs: 200 } }, async (em) => {
    const started = Date.now();
    t.is((await client(em).get('/me')).status, 200);
    t.true(Date.now() - started >= 190);
    t.is(em.stats().faultsInjected, 1);
  });
});

test('latency: every answer takes at least latencyMs; jitter adds on top', async (t) => {
  await withEmulator({ latencyMs: 150, jitterMs: 50, seed: 1 }, async (em) => {
    for (const path of ['/me', '/contacts', '/nowhere']) {
      const started = Date.now();
      await client(em).get(path);
      t.true(Date.now() - started >= 145, path);
    }
  });
});

/** Resolves once `ready()` holds, checked after every turn of the event loop (bounded by the test's timeout). */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}

test('stats: maxInFlight records concurrent requests; inFlight returns to 0', async (t) => {
  await withEmulator({}, async (em) => {
    // Eight requests whose bodies are held back: all eight are in flight at once however busy the machine is.
    const { hostname, port } = new URL(em.url);
    const held = Array.from({ length: 8 }, () => {
      const req = request({ hostname, port, path: '/me', method: 'GET', headers: { authorization: `Bearer ${em.token}`, 'content-type': 'application/json', 'content-length': 2 } });
      const status = new Promise<number>((resolve, reject) => {
        req.once('response', (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        });
        req.once('error', reject);
      });
      req.flushHeaders();
      return { req, status };
    });
    await until(() => em.stats().inFlight === 8);
    for (const { req } of held) req.end('{}');
    const statuses = await Promise.all(held.map((h) => h.status));
    t.deepEqual(statuses, Array(8).fill(200));
    await until(() => em.stats().inFlight === 0);
    const stats = em.stats();
    t.is(stats.maxInFlight, 8);
    t.is(stats.inFlight, 0);
    t.is(stats.requests.me, 8);
    em.resetStats();
    t.is(em.stats().maxInFlight, 0);
  });
});
