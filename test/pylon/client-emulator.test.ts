/**
 * The client against the real emulator (src/emulator): envelopes, errors and
 * rate limits as the emulator models Pylon's, over real sockets.
 */
import test, { type ExecutionContext } from 'ava';
import { createEmulator, DEFAULT_CUSTOM_FIELDS, DEFAULT_TOKEN, type Emulator, type EmulatorOptionsInput } from '../../src/emulator/index.js';
import { createPylonClient, type PylonClientHandle, type PylonClientOptions } from '../../src/pylon/client.js';
import { apiError, UNPACED } from './setup.js';

async function boot(t: ExecutionContext, emulatorOptions: EmulatorOptionsInput, clientOptions: Partial<PylonClientOptions> = {}): Promise<{ emulator: Emulator; client: PylonClientHandle }> {
  const emulator = await createEmulator({ windowMs: 1000, ...emulatorOptions });
  /** The response timeout is long: the emulator runs in this test process, so on a machine with both cores busy a 5 s timeout expired on answers that were only slow (seen at a load average of 50). No test here waits on the timeout. */
  const client = createPylonClient({ baseUrl: emulator.url, token: emulator.token, windowMs: 1000, timeoutMs: 30_000, ...clientOptions });
  t.teardown(async () => {
    client.close();
    await emulator.close();
  });
  return { emulator, client };
}

/** Runs `count` tasks with `concurrency` workers. */
async function runAll(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

test('every client method reads the emulator envelopes', async (t) => {
  const { client } = await boot(t, { rateLimits: 'off' }, { rates: UNPACED });
  const me = await client.me();
  t.truthy(me.data.id);
  const created = await client.createContact({ name: 'Ada Lovelace', email: 'ada@acme.example', account_external_id: 'acme' });
  t.is(created.data.email, 'ada@acme.example');
  t.truthy(created.requestId);
  const id = created.data.id;
  t.is((await client.getContact(id)).data.name, 'Ada Lovelace');
  t.is((await client.updateContact(id, { name: 'Ada King' })).data.name, 'Ada King');
  const found = await client.searchContacts({ filter: { field: 'email', operator: 'in', values: ['ada@acme.example'] } });
  t.deepEqual(found.data.map((c) => c.id), [id]);
  t.false(found.hasNextPage);
  for (let i = 0; i < 5; i++) await client.createContact({ name: `P${i}`, email: `p${i}@x.example` });
  const seen: string[] = [];
  let page = await client.listContacts({ limit: 2 });
  seen.push(...page.data.map((c) => c.id));
  while (page.hasNextPage) {
    page = await client.listContacts({ limit: 2, cursor: page.cursor ?? undefined });
    seen.push(...page.data.map((c) => c.id));
  }
  t.is(seen.length, 6);
  t.is(new Set(seen).size, 6);
  const fields = await client.listCustomFields();
  t.deepEqual(fields.map((f) => f.slug).sort(), DEFAULT_CUSTOM_FIELDS.filter((f) => f.object_type === 'contact').map((f) => f.slug).sort());
  const accounts = await client.listAccounts({ limit: 999 });
  t.true(accounts.data.length >= 3);
  t.is((await client.getAccount('acme')).data.name, 'Acme Inc');
  t.truthy((await client.deleteContact(id)).requestId);
  const gone = await apiError(t, client.getContact(id));
  t.like(gone, { code: 'PYLON_HTTP', status: 404, endpoint: 'get' });
  t.truthy(gone.requestId);
  t.is(client.stats.rateLimited, 0);
});

test('a wrong token is PYLON_AUTH with Pylon code, never the token', async (t) => {
  const { emulator } = await boot(t, {});
  const client = createPylonClient({ baseUrl: emulator.url, token: 'wrong-token-abcdef', rates: UNPACED });
  t.teardown(() => client.close());
  const error = await apiError(t, client.me());
  t.like(error, { code: 'PYLON_AUTH', status: 401, retryable: false });
  t.truthy(error.pylonCode);
  t.false(JSON.stringify(error).includes('wrong-token-abcdef'));
  t.not(emulator.token, 'wrong-token-abcdef');
  t.is(DEFAULT_TOKEN, emulator.token);
});

test('paced at the spec limits, a burst of creates loses nothing and creates nothing twice, the 429s it meets retried', async (t) => {
  const { emulator, client } = await boot(t, { rateLimits: 'spec' });
  const n = 120;
  await runAll(n, 6, (i) => client.createContact({ name: `Paced ${i}`, email: `paced${i}@x.example` }));
  t.is(emulator.store.size, n);
  for (let i = 0; i < n; i++) t.truthy(emulator.store.findByEmail(`paced${i}@x.example`), `paced${i}`);
  t.is(client.stats.calls.create, n + client.stats.retries);
  // How many 429s is the machine's to say, not the pacer's: the pacer keeps sends within the limit with 25 ms to
  // spare in a 1 s window (the default margin), and a busy machine delays the arrivals at this in-process emulator by
  // more than that, so requests sent apart land in one window. The spacing itself is test/pylon/rate-limit.test.ts's.
  t.log(`429s: ${client.stats.rateLimited}`);
  for (let i = 0; i < n; i++) t.is(emulator.store.findAllByEmail(`paced${i}@x.example`).length, 1, `paced${i} once`);
  t.is(emulator.stats().rateLimited, client.stats.rateLimited);
  t.is(client.stats.retries, client.stats.rateLimited, 'each 429 retried, nothing else');
});

test('a 429 storm (pacing off, limits on) loses nothing and creates nothing twice', async (t) => {
  // 5 creates a window against 8 workers that start together: the first window is over its
  // limit however slowly a busy machine runs them, so the storm does not depend on speed.
  const { emulator, client } = await boot(t, { rateLimits: 'spec', rateOverrides: { create: 5 } }, {
    rates: UNPACED,
    retry: { limit: 100, baseDelayMs: 10, maxDelayMs: 200 },
  });
  const n = 30;
  await runAll(n, 8, (i) => client.createContact({ name: `Storm ${i}`, email: `storm${i}@x.example` }));
  t.true(client.stats.rateLimited > 0, 'the storm happened');
  t.is(emulator.store.size, n);
  for (let i = 0; i < n; i++) t.is(emulator.store.findAllByEmail(`storm${i}@x.example`).length, 1, `storm${i}`);
  t.is(emulator.stats().requests.create, client.stats.calls.create);
  t.is(client.stats.calls.create, n + client.stats.retries);
});

test('X-Rate-Limit-Remaining keeps a client paced too fast mostly out of 429s', async (t) => {
  // 5 reads a window against a client paced for 10: the remaining count runs low within the
  // first window even on a machine too busy to send 20 requests a second.
  const { emulator, client } = await boot(t, { rateLimits: 'spec', rateOverrides: { get: 5 }, remainingHeader: true }, { rates: { get: 10 } });
  const created = emulator.store.create({ name: 'Target', email: 'target@x.example' });
  await runAll(20, 2, () => client.getContact(created.id));
  t.is(client.stats.calls.get, 20 + client.stats.retries);
  const { holds, slowed } = client.pacing().get;
  t.log(`429s: ${client.stats.rateLimited}, holds: ${holds}, slowed: ${slowed}`);
  t.true(holds + slowed > 0, 'the bucket adapted to the remaining count');
  t.true(client.stats.rateLimited <= 6, `${client.stats.rateLimited} answers were 429`);
});
