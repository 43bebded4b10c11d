import test from 'ava';
import {
  CONNECT_RETRY_LIMIT,
  DEFAULT_RETRY,
  backoffDelay,
  classifyTransportError,
  decideRetry,
  parseRateLimitRemaining,
  parseRetryAfter,
  type Failure,
} from '../../src/pylon/retry.js';
import { ENDPOINTS } from '../../src/config.js';

const options = { limit: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };
const half = () => 0.5;

test('backoff doubles from the base, is capped, and is deterministic for a given random', (t) => {
  const delays = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options, half));
  t.deepEqual(delays, [75, 150, 300, 600, 750, 750]);
  t.is(backoffDelay(1, options, () => 0), 50);
  t.is(backoffDelay(1, options, () => 1), 100);
  t.is(backoffDelay(20, DEFAULT_RETRY, () => 1), DEFAULT_RETRY.maxDelayMs);
});

test('Retry-After: delta seconds, HTTP-date, then X-Retry-After; junk ignored', (t) => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  t.is(parseRetryAfter({ 'retry-after': '3' }, now), 3000);
  t.is(parseRetryAfter({ 'retry-after': '0' }, now), 0);
  t.is(parseRetryAfter({ 'retry-after': 'Sun, 01 Mar 2026 12:00:07 GMT' }, now), 7000);
  t.is(parseRetryAfter({ 'retry-after': 'Sun, 01 Mar 2026 11:00:00 GMT' }, now), undefined, 'a date in the past (a slow server clock) is read as no header: the usual backoff');
  t.is(parseRetryAfter({ 'retry-after': 'Sun, 01 Mar 2026 12:00:00 GMT' }, now), undefined, 'a date of now too');
  t.is(parseRetryAfter({ 'retry-after': 'Sun, 01 Mar 2026 11:00:00 GMT', 'x-retry-after': '2' }, now), 2000, 'a past date falls back to X-Retry-After');
  t.is(parseRetryAfter({ 'x-retry-after': '2' }, now), 2000);
  t.is(parseRetryAfter({ 'retry-after': '4', 'x-retry-after': '9' }, now), 4000, 'Retry-After wins');
  t.is(parseRetryAfter({ 'retry-after': 'soon', 'x-retry-after': '9' }, now), 9000, 'an unreadable Retry-After falls back');
  t.is(parseRetryAfter({ 'retry-after': '-1' }, now), undefined);
  t.is(parseRetryAfter({}, now), undefined);
});

test('X-Rate-Limit-Remaining is read as a non-negative integer', (t) => {
  t.is(parseRateLimitRemaining({ 'x-rate-limit-remaining': '0' }), 0);
  t.is(parseRateLimitRemaining({ 'x-rate-limit-remaining': ' 17 ' }), 17);
  t.is(parseRateLimitRemaining({ 'x-rate-limit-remaining': 'many' }), undefined);
  t.is(parseRateLimitRemaining({}), undefined);
});

test('transport errors: refused/DNS/connect-timeout never reached the server, the rest may have', (t) => {
  t.deepEqual(classifyTransportError('ECONNREFUSED'), { kind: 'connect', code: 'ECONNREFUSED' });
  t.deepEqual(classifyTransportError('ENOTFOUND'), { kind: 'connect', code: 'ENOTFOUND' });
  t.deepEqual(classifyTransportError('ECONNRESET'), { kind: 'network', code: 'ECONNRESET' });
  t.deepEqual(classifyTransportError('ETIMEDOUT', 'connect'), { kind: 'connect', code: 'ETIMEDOUT' });
  t.deepEqual(classifyTransportError('ETIMEDOUT', 'request'), { kind: 'timeout', event: 'request' });
});

const cases: Array<[string, Failure]> = [
  ['429', { kind: 'status', status: 429 }],
  ['500', { kind: 'status', status: 500 }],
  ['502', { kind: 'status', status: 502 }],
  ['503', { kind: 'status', status: 503 }],
  ['504', { kind: 'status', status: 504 }],
  ['reset', { kind: 'network', code: 'ECONNRESET' }],
  ['timeout', { kind: 'timeout', event: 'request' }],
  ['refused', { kind: 'connect', code: 'ECONNREFUSED' }],
  ['400', { kind: 'status', status: 400 }],
  ['401', { kind: 'status', status: 401 }],
  ['404', { kind: 'status', status: 404 }],
  ['501', { kind: 'status', status: 501 }],
];

test('decision table: which endpoint retries which failure', (t) => {
  const table: Record<string, string> = {};
  for (const endpoint of ENDPOINTS) {
    for (const [name, failure] of cases) {
      const d = decideRetry({ endpoint, failure, retriesDone: 0, options, random: half });
      table[`${endpoint} ${name}`] = d.retry ? 'retry' : d.reason;
    }
  }
  for (const endpoint of ENDPOINTS.filter((e) => e !== 'create')) {
    for (const name of ['429', '500', '502', '503', '504', 'reset', 'timeout', 'refused']) t.is(table[`${endpoint} ${name}`], 'retry', `${endpoint} ${name}`);
    for (const name of ['400', '401', '404', '501']) t.is(table[`${endpoint} ${name}`], 'not-retryable', `${endpoint} ${name}`);
  }
  t.is(table['create 429'], 'retry');
  t.is(table['create refused'], 'retry', 'a refused connection sent nothing');
  for (const name of ['500', '502', '503', '504', 'reset', 'timeout']) t.is(table[`create ${name}`], 'unsafe-write', `create ${name}`);
  for (const name of ['400', '401', '404']) t.is(table[`create ${name}`], 'not-retryable');
});

test('retries stop at the limit; connection failures stop after CONNECT_RETRY_LIMIT', (t) => {
  const status500: Failure = { kind: 'status', status: 500 };
  t.true(decideRetry({ endpoint: 'get', failure: status500, retriesDone: 2, options, random: half }).retry);
  t.deepEqual(decideRetry({ endpoint: 'get', failure: status500, retriesDone: 3, options, random: half }), { retry: false, reason: 'exhausted' });
  const refused: Failure = { kind: 'connect', code: 'ECONNREFUSED' };
  const big = { ...options, limit: 10 };
  t.true(decideRetry({ endpoint: 'get', failure: refused, retriesDone: CONNECT_RETRY_LIMIT - 1, options: big, random: half }).retry);
  t.false(decideRetry({ endpoint: 'get', failure: refused, retriesDone: CONNECT_RETRY_LIMIT, options: big, random: half }).retry);
});

test('a requested wait is used as the delay; beyond maxRetryAfterMs the call gives up at once', (t) => {
  t.deepEqual(decideRetry({ endpoint: 'create', failure: { kind: 'status', status: 429, retryAfterMs: 1200 }, retriesDone: 0, options, random: half }), {
    retry: true,
    delayMs: 1200,
    reason: 'HTTP 429',
  });
  t.deepEqual(decideRetry({ endpoint: 'list', failure: { kind: 'status', status: 429, retryAfterMs: 5001 }, retriesDone: 0, options, random: half }), {
    retry: false,
    reason: 'retry-after-too-long',
  });
  const noHeader = decideRetry({ endpoint: 'list', failure: { kind: 'status', status: 429 }, retriesDone: 1, options, random: half });
  t.deepEqual(noHeader, { retry: true, delayMs: 150, reason: 'HTTP 429' });
});
