import test from 'ava';
import { CODES, MSG, RATE_PRESETS } from '../../src/emulator/index.js';
import { call, client, withEmulator } from '../helpers/with-emulator.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

test('presets: spec is 60/min except search 20 and delete 10; tiered is 30/120/300', (t) => {
  t.deepEqual(RATE_PRESETS.spec, {
    list: 60, get: 60, create: 60, patch: 60, delete: 10, search: 20, customFields: 60, accounts: 60, me: 60, import: 20, accountsSearch: 20, accountsCreate: 60,
  });
  t.deepEqual(RATE_PRESETS.tiered, {
    list: 300, get: 300, create: 30, patch: 120, delete: 30, search: 120, customFields: 300, accounts: 300, me: 300, import: 30, accountsSearch: 120, accountsCreate: 30,
  });
  t.deepEqual(RATE_PRESETS.off, {});
});

test('spec preset: the 11th delete in a window → 429 rate_limited with Retry-After, X-Retry-After and X-Rate-Limit-Remaining', async (t) => {
  const clock = fakeClock(60_000 * 100 + 15_000);
  await withEmulator({ rateLimits: 'spec', now: clock.now }, async (em) => {
    const api = client(em);
    const remaining: Array<string | null> = [];
    for (let i = 0; i < 10; i++) {
      const res = await api.delete('/contacts/missing');
      t.is(res.status, 404, 'a refused delete still counts against the bucket');
      remaining.push(res.headers.get('x-rate-limit-remaining'));
    }
    t.deepEqual(remaining, ['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
    const limited = await api.delete('/contacts/missing');
    t.is(limited.status, 429);
    t.deepEqual(limited.body, { errors: [MSG.rateLimited('delete', 10)], request_id: limited.body.request_id, code: CODES.rateLimited });
    t.is(limited.headers.get('retry-after'), '45');
    t.is(limited.headers.get('x-retry-after'), '45');
    t.is(limited.headers.get('x-rate-limit-remaining'), '0');
    // other endpoints have their own buckets
    const get = await api.get('/contacts/missing');
    t.deepEqual([get.status, get.headers.get('x-rate-limit-remaining')], [404, '59']);
    t.is(em.stats().rateLimited, 1);
    t.is(em.stats().status['429'], 1);
    // next window
    clock.advance(45_000);
    const again = await api.delete('/contacts/missing');
    t.deepEqual([again.status, again.headers.get('x-rate-limit-remaining')], [404, '9']);
  });
});

test('spec preset: search allows 20 per window', async (t) => {
  const clock = fakeClock();
  await withEmulator({ rateLimits: 'spec', now: clock.now }, async (em) => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await client(em).post('/contacts/search', {})).status);
    t.deepEqual(statuses, [...Array(20).fill(200), 429]);
  });
});

test('tiered preset: create allows 30 per window', async (t) => {
  const clock = fakeClock();
  await withEmulator({ rateLimits: 'tiered', now: clock.now }, async (em) => {
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await client(em).post('/contacts', { name: `C${i}` })).status);
    t.deepEqual(statuses, [...Array(30).fill(200), 429]);
    t.is(em.store.size, 30, 'the refused create was not applied');
  });
});

test('the limit is per organisation: every token shares one bucket', async (t) => {
  const clock = fakeClock();
  await withEmulator({ tokens: ['a', 'b'], rateOverrides: { me: 2 }, now: clock.now }, async (em) => {
    t.is((await call(em, 'GET', '/me', { token: 'a' })).status, 200);
    t.is((await call(em, 'GET', '/me', { token: 'b' })).status, 200);
    t.is((await call(em, 'GET', '/me', { token: 'b' })).status, 429);
    t.is((await call(em, 'GET', '/me', { token: 'a' })).status, 429);
  });
});

test('overrides on top of off: only the named endpoint is limited; the others send no remaining header', async (t) => {
  const clock = fakeClock();
  await withEmulator({ rateLimits: 'off', rateOverrides: { get: 3 }, now: clock.now }, async (em) => {
    const api = client(em);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await api.get('/contacts/x')).status);
    t.deepEqual(statuses, [404, 404, 404, 429]);
    const list = await api.get('/contacts');
    t.is(list.headers.get('x-rate-limit-remaining'), null);
    for (let i = 0; i < 100; i++) await api.get('/me');
    t.is(em.stats().rateLimited, 1);
  });
});

test('overrides on top of a preset replace just that endpoint', async (t) => {
  const clock = fakeClock();
  await withEmulator({ rateLimits: 'spec', rateOverrides: { delete: 1 }, now: clock.now }, async (em) => {
    const api = client(em);
    t.deepEqual([(await api.delete('/contacts/x')).status, (await api.delete('/contacts/x')).status], [404, 429]);
    t.is((await api.get('/me')).headers.get('x-rate-limit-remaining'), '59');
  });
});

for (const [mode, retry, xRetry] of [
  ['retry-after', '1', null],
  ['x-retry-after', null, '1'],
  ['both', '1', '1'],
] as const) {
  test(`retryAfterHeader=${mode}`, async (t) => {
    const clock = fakeClock(10_000_500);
    await withEmulator({ rateOverrides: { me: 1 }, windowMs: 1000, retryAfterHeader: mode, now: clock.now }, async (em) => {
      await client(em).get('/me');
      const res = await client(em).get('/me');
      t.is(res.status, 429);
      t.is(res.headers.get('retry-after'), retry);
      t.is(res.headers.get('x-retry-after'), xRetry);
    });
  });
}

test('remainingHeader=false sends no X-Rate-Limit-Remaining', async (t) => {
  await withEmulator({ rateLimits: 'spec', remainingHeader: false }, async (em) => {
    const res = await client(em).get('/me');
    t.is(res.status, 200);
    t.is(res.headers.get('x-rate-limit-remaining'), null);
  });
});

test('Retry-After is never 0: the rest of the window rounded up, at least 1 s', async (t) => {
  const clock = fakeClock(5 * 60_000 + 59_999);
  await withEmulator({ rateOverrides: { me: 1 }, now: clock.now }, async (em) => {
    await client(em).get('/me');
    const res = await client(em).get('/me');
    t.is(res.headers.get('retry-after'), '1');
  });
});

test('a real 1-second window: refused, then allowed again after Retry-After', async (t) => {
  await withEmulator({ rateOverrides: { list: 2 }, windowMs: 1000 }, async (em) => {
    const api = client(em);
    let limited;
    for (let i = 0; i < 5 && !limited; i++) {
      const res = await api.get('/contacts');
      if (res.status === 429) limited = res;
    }
    t.truthy(limited, 'a 429 within five requests');
    t.is(limited!.headers.get('retry-after'), '1');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    t.is((await api.get('/contacts')).status, 200);
  });
});

test('resetStats() and POST /_emulator/reset also open the rate windows again', async (t) => {
  const clock = fakeClock();
  await withEmulator({ rateOverrides: { me: 1 }, now: clock.now }, async (em) => {
    await client(em).get('/me');
    t.is((await client(em).get('/me')).status, 429);
    em.resetStats();
    t.is((await client(em).get('/me')).status, 200);
    t.is((await client(em).get('/me')).status, 429);
    await call(em, 'POST', '/_emulator/reset', { token: null });
    t.is((await client(em).get('/me')).status, 200);
  });
});
