import test from 'ava';
import { CODES, DEFAULT_ACCOUNTS, MSG, type Emulator } from '../../src/emulator/index.js';
import { client, collectPages, withEmulator } from '../helpers/with-emulator.js';

const [acme, globex, initech] = DEFAULT_ACCOUNTS;

function seedPeople(em: Emulator) {
  const ada = em.store.insert({
    name: 'Ada Lovelace',
    emails: ['ada@acme.example', 'ada.l@home.example'],
    account_external_id: 'acme',
    custom_fields: {
      tier: 'gold',
      interests: ['api', 'billing'],
      seats: '10',
      mrr: '99.50',
      vip: 'true',
      renewal_date: '2026-03-01',
      last_seen_at: '2026-02-01T10:00:00Z',
      linkedin: 'https://linkedin.example/ada',
      owner: 'user-1',
      notes: 'Key account',
      'contact.salesforce.Contact_ID_for_Pylon__c': 'SF-1',
    },
  });
  const grace = em.store.insert({
    name: 'Grace Hopper',
    email: 'grace@globex.example',
    account_id: globex.id,
    custom_fields: {
      tier: 'silver',
      interests: ['security'],
      seats: '200',
      mrr: '1200',
      vip: 'false',
      renewal_date: '2026-09-30',
      last_seen_at: '2025-12-24T08:00:00+01:00',
    },
  });
  const alan = em.store.insert({ name: 'Alan Turing', email: 'ALAN@Initech.example', account_external_id: 'initech' });
  const linus = em.store.insert({ name: 'Linus', custom_fields: { notes: 'Kernel hacker' } });
  return { ada, grace, alan, linus };
}

async function names(em: Emulator, filter: unknown): Promise<string[]> {
  const res = await client(em).post('/contacts/search', { filter });
  if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
  return res.body.data.map((c: any) => c.name.split(' ')[0]);
}

const leaf = (field: string, operator: string, extra: Record<string, unknown> = {}) => ({ field, operator, ...extra });

test('each documented operator on id, email, name and account_id', async (t) => {
  await withEmulator({}, async (em) => {
    const p = seedPeople(em);
    const cases: Array<[unknown, string[]]> = [
      [leaf('id', 'equals', { value: p.grace.id }), ['Grace']],
      [leaf('id', 'in', { values: [p.ada.id, p.linus.id, 'nope'] }), ['Ada', 'Linus']],
      [leaf('id', 'not_in', { values: [p.ada.id] }), ['Grace', 'Alan', 'Linus']],
      [leaf('email', 'equals', { value: 'grace@globex.example' }), ['Grace']],
      [leaf('email', 'equals', { value: 'alan@initech.example' }), ['Alan']],
      [leaf('email', 'in', { values: ['ADA@acme.example', 'grace@globex.example'] }), ['Ada', 'Grace']],
      [leaf('email', 'not_in', { values: ['ada@acme.example'] }), ['Grace', 'Alan', 'Linus']],
      [leaf('email', 'string_contains', { value: 'INITECH' }), ['Alan']],
      [leaf('name', 'equals', { value: 'Grace Hopper' }), ['Grace']],
      [leaf('name', 'in', { values: ['Linus', 'Alan Turing'] }), ['Alan', 'Linus']],
      [leaf('name', 'not_in', { values: ['Linus'] }), ['Ada', 'Grace', 'Alan']],
      [leaf('name', 'string_contains', { value: 'ho' }), ['Grace']],
      [leaf('account_id', 'equals', { value: acme.id }), ['Ada']],
      [leaf('account_id', 'in', { values: [acme.id, initech.id] }), ['Ada', 'Alan']],
      [leaf('account_id', 'not_in', { values: [acme.id] }), ['Grace', 'Alan', 'Linus']],
    ];
    for (const [filter, expected] of cases) t.deepEqual(await names(em, filter), expected, JSON.stringify(filter));
  });
});

test('operators on custom-field slugs, by field type', async (t) => {
  await withEmulator({}, async (em) => {
    seedPeople(em);
    const cases: Array<[unknown, string[]]> = [
      [leaf('tier', 'equals', { value: 'gold' }), ['Ada']],
      [leaf('tier', 'not_equals', { value: 'gold' }), ['Grace', 'Alan', 'Linus']],
      [leaf('tier', 'in', { values: ['gold', 'silver'] }), ['Ada', 'Grace']],
      [leaf('tier', 'not_in', { values: ['gold'] }), ['Grace', 'Alan', 'Linus']],
      [leaf('tier', 'is_set'), ['Ada', 'Grace']],
      [leaf('tier', 'is_unset'), ['Alan', 'Linus']],
      [leaf('interests', 'contains', { value: 'api' }), ['Ada']],
      [leaf('interests', 'contains', { values: ['security', 'billing'] }), ['Ada', 'Grace']],
      [leaf('interests', 'does_not_contain', { value: 'api' }), ['Grace', 'Alan', 'Linus']],
      [leaf('seats', 'greater_than', { value: '10' }), ['Grace']],
      [leaf('seats', 'greater_than_or_equals', { value: '10' }), ['Ada', 'Grace']],
      [leaf('seats', 'less_than', { value: '200' }), ['Ada']],
      [leaf('seats', 'less_than_or_equals', { value: '200' }), ['Ada', 'Grace']],
      [leaf('seats', 'equals', { value: '10.0' }), ['Ada']],
      [leaf('mrr', 'greater_than', { value: '100' }), ['Grace']],
      [leaf('mrr', 'in', { values: ['99.5', '7'] }), ['Ada']],
      [leaf('vip', 'equals', { value: 'true' }), ['Ada']],
      [leaf('vip', 'not_equals', { value: 'true' }), ['Grace', 'Alan', 'Linus']],
      [leaf('renewal_date', 'time_is_after', { value: '2026-06-01T00:00:00Z' }), ['Grace']],
      [leaf('renewal_date', 'time_is_before', { value: '2026-06-01' }), ['Ada']],
      [leaf('renewal_date', 'equals', { value: '2026-03-01' }), ['Ada']],
      [leaf('last_seen_at', 'time_is_after', { value: '2026-01-01T00:00:00Z' }), ['Ada']],
      [leaf('last_seen_at', 'time_range', { values: ['2025-12-24T00:00:00Z', '2025-12-24T23:59:59Z'] }), ['Grace']],
      [leaf('notes', 'string_contains', { value: 'KERNEL' }), ['Linus']],
      [leaf('notes', 'string_does_not_contain', { value: 'kernel' }), ['Ada', 'Grace', 'Alan']],
      [leaf('linkedin', 'equals', { value: 'https://linkedin.example/ada' }), ['Ada']],
      [leaf('owner', 'in', { values: ['user-1'] }), ['Ada']],
      [leaf('contact.salesforce.Contact_ID_for_Pylon__c', 'equals', { value: 'SF-1' }), ['Ada']],
    ];
    for (const [filter, expected] of cases) t.deepEqual(await names(em, filter), expected, JSON.stringify(filter));
  });
});

test('and / or with subfilters to depth 3; depth 4 is rejected', async (t) => {
  await withEmulator({}, async (em) => {
    const p = seedPeople(em);
    t.deepEqual(
      await names(em, { operator: 'and', subfilters: [leaf('tier', 'is_set'), leaf('account_id', 'equals', { value: globex.id })] }),
      ['Grace'],
    );
    t.deepEqual(await names(em, { operator: 'or', subfilters: [leaf('id', 'equals', { value: p.linus.id }), leaf('email', 'equals', { value: 'ada@acme.example' })] }), [
      'Ada',
      'Linus',
    ]);
    const depth3 = {
      operator: 'or',
      subfilters: [
        { operator: 'and', subfilters: [leaf('tier', 'equals', { value: 'gold' }), leaf('vip', 'equals', { value: 'true' })] },
        { operator: 'and', subfilters: [leaf('email', 'string_contains', { value: 'initech' }), leaf('tier', 'is_unset')] },
      ],
    };
    t.deepEqual(await names(em, depth3), ['Ada', 'Alan']);
    const depth4 = { operator: 'and', subfilters: [{ operator: 'or', subfilters: [{ operator: 'and', subfilters: [leaf('tier', 'is_set')] }] }] };
    const res = await client(em).post('/contacts/search', { filter: depth4 });
    t.deepEqual([res.status, res.body.code, res.body.errors], [400, CODES.invalidRequest, [MSG.filterDepth]]);
  });
});

test('malformed filters → 400 with a message naming the problem', async (t) => {
  await withEmulator({}, async (em) => {
    seedPeople(em);
    const cases: Array<[unknown, string]> = [
      ['email', MSG.filterRequired],
      [{ field: 'email', operator: 'like', value: 'x' }, MSG.filterOperator('like')],
      [{ field: 'email', value: 'x' }, MSG.filterOperator(undefined)],
      [{ operator: 'and', subfilters: [] }, MSG.filterSubfilters('and')],
      [{ operator: 'or' }, MSG.filterSubfilters('or')],
      [{ operator: 'equals', value: 'x' }, MSG.filterField],
      [leaf('phone_numbers', 'equals', { value: '1' }), MSG.filterUnknownField('phone_numbers')],
      [leaf('id', 'string_contains', { value: '1' }), MSG.filterOperatorForField('string_contains', 'id')],
      [leaf('account_id', 'is_set'), MSG.filterOperatorForField('is_set', 'account_id')],
      [leaf('tier', 'greater_than', { value: '1' }), MSG.filterOperatorForField('greater_than', 'tier')],
      [leaf('email', 'equals'), MSG.filterValue('equals')],
      [leaf('email', 'equals', { value: 5 }), MSG.filterValue('equals')],
      [leaf('email', 'in', { value: 'a@b.example' }), MSG.filterValues('in')],
      [leaf('email', 'in', { values: [1] }), MSG.filterValues('in')],
      [leaf('seats', 'greater_than', { value: 'many' }), MSG.filterBadNumber('many')],
      [leaf('last_seen_at', 'time_is_after', { value: 'yesterday' }), MSG.filterBadTime('yesterday')],
      [leaf('last_seen_at', 'time_range', { value: '2026-01-01T00:00:00Z' }), MSG.filterTimeRange],
    ];
    for (const [filter, message] of cases) {
      const res = await client(em).post('/contacts/search', { filter });
      t.deepEqual([res.status, res.body.errors], [400, [message]], JSON.stringify(filter));
    }
    const text = await client(em).post('/contacts/search', { search_text: 5 });
    t.deepEqual([text.status, text.body.errors], [400, [MSG.wrongType('search_text', 'a string')]]);
  });
});

test('no filter returns everything; search_text narrows by name or email', async (t) => {
  await withEmulator({}, async (em) => {
    seedPeople(em);
    const all = await client(em).post('/contacts/search', {});
    t.is(all.body.data.length, 4);
    const text = await client(em).post('/contacts/search', { search_text: 'HOME.example' });
    t.deepEqual(text.body.data.map((c: any) => c.name), ['Ada Lovelace']);
    const both = await client(em).post('/contacts/search', { search_text: 'a', filter: leaf('tier', 'is_set') });
    t.deepEqual(both.body.data.map((c: any) => c.name), ['Ada Lovelace', 'Grace Hopper']);
  });
});

test('search pages with a cursor in the body, for indexed and scanned filters alike', async (t) => {
  await withEmulator({ seed: 3, seedRandom: 3000 }, async (em) => {
    const all = [...em.store.all()];
    const inAcme = all.filter((c) => c.account?.id === acme.id).map((c) => c.id);
    const viaIndex = await collectPages(em, { limit: 97, search: { filter: leaf('account_id', 'equals', { value: acme.id }) } });
    t.deepEqual(viaIndex.rows.map((r) => r.id), inAcme);
    t.is(viaIndex.pages.length, Math.ceil(inAcme.length / 97));

    const emails = all.filter((_, i) => i % 37 === 0).map((c) => c.email as string);
    const byEmail = await collectPages(em, { limit: 10, search: { filter: leaf('email', 'in', { values: emails.map((e) => e.toUpperCase()) }) } });
    t.deepEqual(byEmail.rows.map((r) => r.email), emails);

    const gold = all.filter((c) => c.custom_fields?.tier?.value === 'gold').map((c) => c.id);
    const scanned = await collectPages(em, { limit: 50, search: { filter: leaf('tier', 'equals', { value: 'gold' }) } });
    t.deepEqual(scanned.rows.map((r) => r.id), gold);
    t.true(gold.length > 100);
  });
});
