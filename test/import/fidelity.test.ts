/**
 * The import's answers to behaviour Pylon leaves open (issue 15), against the
 * emulator's switches: a cap on search `in` values, and `""` clears that are
 * refused or ignored.
 */
import test from 'ava';
import { createEmulator, MSG } from '../../src/emulator/index.js';
import { unclearedIssue, updateWithClears } from '../../src/import/clears.js';
import { createLookup } from '../../src/import/lookup.js';
import { createPylonClient } from '../../src/pylon/client.js';

async function setup(t: import('ava').ExecutionContext, options: Parameters<typeof createEmulator>[0]) {
  const em = await createEmulator({ seed: 4, ...options });
  t.teardown(() => em.close());
  const client = createPylonClient({
    baseUrl: em.url,
    token: em.token,
    rates: { list: 0, search: 0, get: 0, patch: 0, customFields: 0 },
    retry: { limit: 2, baseDelayMs: 5, maxDelayMs: 20 },
  });
  t.teardown(() => client.close?.());
  return { em, client };
}

test('search cap: a 400 on a batch halves it, the same keys are sent again, and the size is kept for the rest of the run', async (t) => {
  const { em, client } = await setup(t, { searchMaxValues: 3 });
  for (let i = 0; i < 10; i++) em.store.insert({ name: `P${i}`, email: `p${i}@x.example`, ...(i === 0 ? { emails: ['p0@x.example', 'P0.alt@x.example'] } : {}) });
  const notes: string[] = [];
  const lookup = await createLookup({ client, strategy: 'search', estimatedRows: 10, batchSize: 8, byId: false, onNote: (m) => notes.push(m) });
  const keys = Array.from({ length: 10 }, (_, i) => `e:p${i}@x.example`);
  const first = await lookup.resolve(keys);
  t.deepEqual([...first.values()].map((m) => m.kind), Array(10).fill('one'));
  t.deepEqual(notes.filter((n) => n.includes('refused')), [
    `lookup: search refused 8 values in one filter (${MSG.tooManyFilterValues(8, 3)}); searching 4 at a time from now on`,
    `lookup: search refused 4 values in one filter (${MSG.tooManyFilterValues(4, 3)}); searching 2 at a time from now on`,
  ]);
  const refused = em.stats().status[400];
  const second = await lookup.resolve(keys.slice(0, 6));
  t.is(second.size, 6);
  t.is(em.stats().status[400], refused, 'no further 400: the smaller batch is remembered');
  lookup.close();
});

test('search cap 1: the batch halves down to one key per call and every key is answered', async (t) => {
  const { em, client } = await setup(t, { searchMaxValues: 1 });
  em.store.insert({ name: 'A', email: 'a@x.example' });
  const lookup = await createLookup({ client, strategy: 'search', estimatedRows: 2, batchSize: 2, byId: false });
  // Two keys → 400 → one at a time → answered.
  const found = await lookup.resolve(['e:a@x.example', 'e:b@x.example']);
  t.deepEqual([...found.values()].map((m) => m.kind), ['one', 'none']);
  lookup.close();
});

const FIELDS = { avatar_url: 'https://cdn.example/a.png', portal_role_id: 'role-1' } as const;

for (const mode of ['clears', 'rejected', 'ignored'] as const) {
  test(`updateWithClears, emptyString=${mode}: the other changes land; what did not clear is reported with the answer`, async (t) => {
    const { em, client } = await setup(t, { emptyString: mode });
    const c = em.store.insert({ name: 'A', email: 'a@x.example', ...FIELDS });
    const { res, uncleared } = await updateWithClears(client, c.id, { name: 'B', avatar_url: '', portal_role_id: '' });
    t.is(res!.data.name, 'B');
    t.is(em.store.get(c.id)?.name, 'B');
    if (mode === 'clears') {
      t.deepEqual(uncleared, []);
      t.is(em.store.get(c.id)?.avatar_url, undefined);
      return;
    }
    t.deepEqual(uncleared.map((u) => u.field), ['avatar_url', 'portal_role_id']);
    t.is(em.store.get(c.id)?.avatar_url, FIELDS.avatar_url);
    const reason = mode === 'rejected' ? `Pylon refused "" (400: ${MSG.emptyString('avatar_url')}; ${MSG.emptyString('portal_role_id')})` : `Pylon answered 200 but kept "${FIELDS.avatar_url}": it ignores "" here`;
    t.is(uncleared[0]!.reason, reason);
    const issue = unclearedIssue(uncleared);
    t.is(issue.code, 'ROW_CANNOT_CLEAR');
    t.regex(issue.message, /^Not cleared: avatar_url \(.+\); portal_role_id \(.+\)\. The row's other changes were applied/);
  });
}

test('updateWithClears: a PATCH that only clears, refused, sends nothing more and reads the contact back', async (t) => {
  const { em, client } = await setup(t, { emptyString: 'rejected' });
  const c = em.store.insert({ name: 'A', email: 'a@x.example', phone_numbers: ['15550100'], primary_phone_number: '15550100' });
  const { res, uncleared } = await updateWithClears(client, c.id, { primary_phone_number: '', phone_numbers: ['15550100'] });
  t.deepEqual(uncleared.map((u) => u.field), ['primary_phone_number']);
  t.is(res!.data.id, c.id);
  t.deepEqual([em.stats().requests.patch, em.stats().requests.get], [1, 1]);
});
