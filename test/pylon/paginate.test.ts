import test from 'ava';
import type { ApiPage } from '../../src/pylon/api.js';
import { paginate, PaginationError, type PaginationState } from '../../src/pylon/paginate.js';

type Step = { data: number[]; cursor?: string | null; hasNextPage: boolean; omitCursor?: boolean };

/** Serves scripted pages and records the cursor of every request. */
function script(steps: Step[]) {
  const requested: Array<string | undefined> = [];
  const fetchPage = async (cursor: string | undefined): Promise<ApiPage<number>> => {
    requested.push(cursor);
    const step = steps[requested.length - 1];
    if (!step) throw new Error(`unexpected request ${requested.length}`);
    return { data: step.data, cursor: step.omitCursor ? undefined : step.cursor, hasNextPage: step.hasNextPage, requestId: `req_${requested.length}` };
  };
  return { fetchPage, requested };
}

async function drain(fetchPage: (c: string | undefined) => Promise<ApiPage<number>>, maxPages = 100, state?: PaginationState) {
  const rows: number[] = [];
  for await (const page of paginate(fetchPage, { maxPages }, state)) rows.push(...page.data);
  return rows;
}

for (const [label, last] of [
  ['""', { cursor: '' }],
  ['null', { cursor: null }],
  ['absent', { omitCursor: true }],
] as const) {
  test(`last page with cursor ${label} ends the loop cleanly`, async (t) => {
    const { fetchPage, requested } = script([
      { data: [1, 2], cursor: 'c1', hasNextPage: true },
      { data: [3, 4], cursor: 'c2', hasNextPage: true },
      { data: [5], hasNextPage: false, ...last },
    ]);
    t.deepEqual(await drain(fetchPage), [1, 2, 3, 4, 5]);
    t.deepEqual(requested, [undefined, 'c1', 'c2']);
  });
}

test('a single empty page is a complete, empty export', async (t) => {
  const { fetchPage, requested } = script([{ data: [], cursor: '', hasNextPage: false }]);
  t.deepEqual(await drain(fetchPage), []);
  t.is(requested.length, 1);
});

for (const [label, next] of [
  ['""', { cursor: '' }],
  ['null', { cursor: null }],
  ['absent', { omitCursor: true }],
] as const) {
  test(`has_next_page: true with cursor ${label} stops with PYLON_PAGINATION`, async (t) => {
    const { fetchPage } = script([
      { data: [1], cursor: 'c1', hasNextPage: true },
      { data: [2], hasNextPage: true, ...next },
    ]);
    const state: PaginationState = { pages: 0, cursor: undefined };
    const error = await t.throwsAsync(drain(fetchPage, 100, state), { instanceOf: PaginationError });
    t.is(error.code, 'PYLON_PAGINATION');
    t.regex(error.message, /next page but gives no cursor/);
    t.regex(error.message, /req_2/);
    t.is(error.cursor, 'c1');
    t.is(state.pages, 2);
  });
}

test('a cursor that comes back (a cycle, not only the previous one) stops the loop', async (t) => {
  const { fetchPage, requested } = script([
    { data: [1], cursor: 'a', hasNextPage: true },
    { data: [2], cursor: 'b', hasNextPage: true },
    { data: [3], cursor: 'a', hasNextPage: true },
  ]);
  const error = await t.throwsAsync(drain(fetchPage), { instanceOf: PaginationError });
  t.regex(error.message, /cursor already followed/);
  t.deepEqual(requested, [undefined, 'a', 'b']);
});

test('the page cap stops a server that never ends', async (t) => {
  let n = 0;
  const fetchPage = async (): Promise<ApiPage<number>> => ({ data: [n], cursor: `c${++n}`, hasNextPage: true, requestId: 'r' });
  const error = await t.throwsAsync(drain(fetchPage, 5), { instanceOf: PaginationError });
  t.is(n, 5);
  t.regex(error.message, /Stopped after 5 pages .*limit is 5/);
  n = 0;
  const one = await t.throwsAsync(drain(fetchPage, 1), { instanceOf: PaginationError });
  t.regex(one.message, /^Stopped after 1 page without reaching the last one \(the limit is 1;/, 'one page, in the singular');
});

test('pages are pulled on demand: nothing is requested ahead of the consumer', async (t) => {
  const { fetchPage, requested } = script([
    { data: [1], cursor: 'c1', hasNextPage: true },
    { data: [2], cursor: 'c2', hasNextPage: true },
    { data: [3], cursor: '', hasNextPage: false },
  ]);
  const pages = paginate(fetchPage, { maxPages: 10 });
  await pages.next();
  t.is(requested.length, 1);
  await pages.next();
  t.is(requested.length, 2);
  await pages.return(undefined);
  t.is(requested.length, 2);
});

test('an aborted signal stops before the next request', async (t) => {
  const { fetchPage, requested } = script([
    { data: [1], cursor: 'c1', hasNextPage: true },
    { data: [2], cursor: '', hasNextPage: false },
  ]);
  const controller = new AbortController();
  const seen: number[] = [];
  await t.throwsAsync(async () => {
    for await (const page of paginate(fetchPage, { maxPages: 10, signal: controller.signal })) {
      seen.push(...page.data);
      controller.abort(new Error('stop'));
    }
  }, { message: 'stop' });
  t.deepEqual(seen, [1]);
  t.is(requested.length, 1);
});

test('a failing request propagates and the state says which cursor failed', async (t) => {
  const fetchPage = async (cursor: string | undefined): Promise<ApiPage<number>> => {
    if (cursor === 'c1') throw new Error('boom');
    return { data: [1], cursor: 'c1', hasNextPage: true, requestId: 'r' };
  };
  const state: PaginationState = { pages: 0, cursor: undefined };
  await t.throwsAsync(drain(fetchPage, 10, state), { message: 'boom' });
  t.deepEqual(state, { pages: 1, cursor: 'c1' });
});

test('prefetch: the next page is requested while the consumer holds this one; same pages, same guards', async (t) => {
  const { fetchPage, requested } = script([
    { data: [1], cursor: 'c1', hasNextPage: true },
    { data: [2], cursor: 'c2', hasNextPage: true },
    { data: [3], cursor: null, hasNextPage: false },
  ]);
  const seenWhileHolding: number[] = [];
  const rows: number[] = [];
  for await (const page of paginate(fetchPage, { prefetch: true })) {
    seenWhileHolding.push(requested.length);
    rows.push(...page.data);
  }
  t.deepEqual(rows, [1, 2, 3]);
  t.deepEqual(requested, [undefined, 'c1', 'c2']);
  // Holding page 1, page 2 was already asked for; holding the last page, nothing more.
  t.deepEqual(seenWhileHolding, [2, 3, 3]);

  const looping = script([
    { data: [1], cursor: 'c1', hasNextPage: true },
    { data: [2], cursor: 'c1', hasNextPage: true },
  ]);
  const error = await t.throwsAsync(async () => {
    for await (const _ of paginate(looping.fetchPage, { prefetch: true })) void _;
  }, { instanceOf: PaginationError });
  t.regex(error!.message, /already followed/);
  t.deepEqual(looping.requested, [undefined, 'c1'], 'a looping cursor is not fetched ahead');
});
