import { getEventListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import test from 'ava';
import { ENDPOINTS, type EndpointKey } from '../../src/config.js';
import { createPacer } from '../../src/pylon/rate-limit.js';
import { fail, ok } from '../helpers/scripted-server.js';
import { harness } from './setup.js';

/** Largest number of timestamps inside any window [t, t + windowMs). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

const rates = (overrides: Partial<Record<EndpointKey, number>>) =>
  ({ ...Object.fromEntries(ENDPOINTS.map((e) => [e, 0])), ...overrides }) as Record<EndpointKey, number>;

test('maxInWindow counts a sliding window', (t) => {
  t.is(maxInWindow([0, 10, 20, 1000, 1005], 1000), 4);
  t.is(maxInWindow([0, 999, 1000], 1000), 2);
});

test('pacer: concurrent callers are spaced so no window holds more than the rate', async (t) => {
  // A wide margin leaves ~175 ms for timer and scheduling jitter on a loaded machine.
  const pacer = createPacer({ rates: rates({ create: 10 }), windowMs: 500, margin: 0.5 });
  const started = performance.now();
  const times = await Promise.all(Array.from({ length: 25 }, () => pacer.acquire('create').then(() => performance.now())));
  const gap = 75;
  t.true(maxInWindow(times, 500) <= 10, `max ${maxInWindow(times, 500)} in a window`);
  t.true(Math.max(...times) - started >= 24 * gap - 75, 'spread over 24 gaps');
  // How many waited is left out: a process descheduled for more than 37.5 ms between two of the synchronous calls above
  // (seen at a load of 44: waited 23, maxQueued 23) lets the next find the bucket free.
  t.like(pacer.stats().create, { rate: 10, gapMs: gap, sent: 25, queued: 0 });
  t.like(pacer.stats().get, { sent: 0, gapMs: 0 });
});

test('pacer: buckets are independent', async (t) => {
  const pacer = createPacer({ rates: rates({ create: 1, search: 1 }), windowMs: 60_000 });
  await pacer.acquire('create');
  const before = performance.now();
  await pacer.acquire('search');
  // The bound is half the minute a shared bucket would wait: far from anything a busy machine adds.
  t.true(performance.now() - before < 30_000, 'search did not wait a minute for create');
  t.is(pacer.stats().search.waited, 0);
});

test('pacer: an unpaced bucket never waits', async (t) => {
  const pacer = createPacer({ rates: rates({ get: Infinity }), windowMs: 1000 });
  await Promise.all(Array.from({ length: 50 }, () => pacer.acquire('get')));
  await pacer.acquire('list');
  t.like(pacer.stats().get, { sent: 50, waited: 0, gapMs: 0 });
  t.like(pacer.stats().list, { sent: 1, waited: 0 });
});

test('pacer: abort removes the waiter and rejects with the reason', async (t) => {
  const pacer = createPacer({ rates: rates({ delete: 1 }), windowMs: 60_000 });
  await pacer.acquire('delete');
  const controller = new AbortController();
  const waiting = pacer.acquire('delete', controller.signal);
  t.is(pacer.stats().delete.queued, 1);
  controller.abort(new Error('user stop'));
  await t.throwsAsync(waiting, { message: 'user stop' });
  t.is(pacer.stats().delete.queued, 0);
});

test('pacer: waiters sharing one signal put one abort listener on it, not one each (no MaxListenersExceededWarning at --concurrency 16); abort rejects them all, and the last one served takes it off', async (t) => {
  const pacer = createPacer({ rates: rates({ delete: 1, patch: 1 }), windowMs: 60_000 });
  await pacer.acquire('delete');
  const controller = new AbortController();
  const waiting = Array.from({ length: 16 }, () => pacer.acquire('delete', controller.signal));
  t.is(pacer.stats().delete.queued, 16);
  t.is(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort(new Error('user stop'));
  for (const w of waiting) await t.throwsAsync(w, { message: 'user stop' });
  t.is(pacer.stats().delete.queued, 0);
  t.is(getEventListeners(controller.signal, 'abort').length, 0);

  // Served, not aborted: the listener goes with the last waiter.
  const fast = createPacer({ rates: rates({ get: 1000 }), windowMs: 1000 });
  const other = new AbortController();
  await Promise.all(Array.from({ length: 16 }, () => fast.acquire('get', other.signal)));
  t.is(getEventListeners(other.signal, 'abort').length, 0);
});

test('client over HTTP: 4 workers sharing a bucket stay within the rate as they send', async (t) => {
  // The pacer decides when a request leaves the client: beforeWrite runs then (for a write), so its times are the
  // sends. They are what is checked, not the arrivals the server records: server and client share this process, and
  // a stall of its event loop on a busy machine hands the server requests sent apart all at once. Nor is how many
  // sends waited: with answers slower than 4 gaps, each worker finds the bucket free. The answer's timeout is far past
  // any stall, so no slow answer is sent twice.
  const sent: number[] = [];
  const { server, client } = await harness(t, { rates: { patch: 10 }, windowMs: 1000, pacingMargin: 0.5, timeoutMs: 60_000, beforeWrite: () => sent.push(performance.now()) });
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < 20) {
      next += 1;
      await client.updateContact(`c_${next}`, { name: `Name ${next}` });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  t.is(server.requests.length, 20);
  t.is(sent.length, 20);
  t.true(maxInWindow(sent, 1000) <= 10, `max ${maxInWindow(sent, 1000)} sent in a window`);
  // Held back by the pacer, however fast the answers: 20 sends 150 ms apart (the gap with the margin) take at least
  // 19 gaps less the first one's idle credit (75 ms). A slower machine only lengthens this.
  t.true(performance.now() - started >= 19 * 150 - 75, `20 sends took ${Math.round(performance.now() - started)} ms`);
  t.is(client.stats.calls.patch, 20);
  t.like(client.pacing().patch, { sent: 20, gapMs: 150 });
});

test('a 429 with Retry-After pauses the whole bucket, for other callers too', async (t) => {
  let other: Promise<unknown> | undefined;
  const { server, client } = await harness(t, {
    onEvent: (e) => {
      if (e.type === 'rate-limited') other = client.getContact('other');
    },
  });
  server.enqueue(fail(429, 'slow down', { code: 'rate_limited' }, { 'retry-after': '1' }));
  await client.getContact('first');
  await other;
  t.is(server.requests.length, 3);
  const [limited, ...after] = server.requests;
  for (const r of after) t.true(r.arrivedAt - limited!.arrivedAt >= 950, `${r.url} came ${r.arrivedAt - limited!.arrivedAt} ms after the 429`);
  t.like(client.pacing().get, { pauses: 1 });
  t.is(client.stats.rateLimited, 1);
});

test('X-Rate-Limit-Remaining: 0 holds the bucket for the rest of the window estimate', async (t) => {
  const { server, client, events } = await harness(t, { windowMs: 600 });
  server.enqueue({ ...ok({ id: 'c_1' }), headers: { 'x-rate-limit-remaining': '0' } });
  await client.getContact('c_1');
  await client.getContact('c_2');
  const gap = server.requests[1]!.arrivedAt - server.requests[0]!.arrivedAt;
  t.true(gap >= 550, `second request came ${gap} ms later`);
  t.like(client.pacing().get, { holds: 1 });
  t.like(events.find((e) => e.type === 'hold'), { endpoint: 'get', reason: 'remaining-zero' });
  t.is(client.stats.rateLimited, 0);
});

test('a low X-Rate-Limit-Remaining spreads what is left over the window', async (t) => {
  const { server, client } = await harness(t, { rates: { list: 100 }, windowMs: 1000 }, () => ({
    ...ok([], { pagination: { cursor: '', has_next_page: false } }),
    headers: { 'x-rate-limit-remaining': '1' },
  }));
  await client.listContacts({});
  await client.listContacts({});
  const gap = server.requests[1]!.arrivedAt - server.requests[0]!.arrivedAt;
  // Unthrottled spacing would be ~10 ms; one request left in a 1 s window is spread to about half of it.
  t.true(gap >= 300, `second request came ${gap} ms later`);
  t.is(client.pacing().list.remaining, 1);
});
