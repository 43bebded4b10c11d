import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ErrorCode } from '../../src/errors.js';
import { createEmulator, DEFAULT_ACCOUNTS, MSG } from '../../src/emulator/index.js';
import { client, collectPages, withEmulator } from '../helpers/with-emulator.js';

const SAMPLE = fileURLToPath(new URL('../../samples/seed.json', import.meta.url));
const [acme, globex, , umbrella] = DEFAULT_ACCOUNTS;

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'pylon-emu-seed-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('samples/seed.json: 8 contacts across the default accounts, ids and read-only fields kept', async (t) => {
  await withEmulator({ seedFile: SAMPLE }, async (em) => {
    t.is(em.store.size, 8);
    const ada = em.store.get('5a0c1d2e-0001-4a00-8000-000000000001')!;
    t.deepEqual(ada.account, { id: acme.id, external_ids: acme.external_ids });
    t.deepEqual(ada.emails, ['ada@acme.example', 'ada.lovelace@home.example']);
    t.deepEqual(ada.custom_fields?.['contact.salesforce.Contact_ID_for_Pylon__c'], {
      slug: 'contact.salesforce.Contact_ID_for_Pylon__c',
      value: '0035g00000AdaXYZ',
    });
    t.deepEqual(ada.custom_fields?.interests, { slug: 'interests', values: ['api', 'security'] });
    const accounts = new Set([...em.store.all()].map((c) => c.account?.id));
    t.deepEqual(accounts, new Set([acme.id, globex.id, DEFAULT_ACCOUNTS[2].id, umbrella.id, undefined]));
    t.is(em.store.get('5a0c1d2e-0001-4a00-8000-000000000003')!.primary_phone_number, '12025550124');
    const res = await client(em).get('/contacts');
    t.is(res.body.data.length, 8);
  });
});

test('a CSV seed uses the import/export columns and custom.<slug>', async (t) => {
  await withTmp(async (dir) => {
    const file = join(dir, 'seed.csv');
    await writeFile(
      file,
      '\ufeffname,email,emails,account_external_id,phone_numbers,portal_role,custom.tier,custom.interests,custom.contact.salesforce.Contact_ID_for_Pylon__c,_note\n' +
        'Ada,ada@acme.example,ada@acme.example;ada@home.example,acme,111;222,admin,gold,api;billing,SF1,ignored\n' +
        'Bob,bob@globex.example,,globex,,,,,,\n',
    );
    await withEmulator({ seedFile: file }, async (em) => {
      const [ada, bob] = [...em.store.all()];
      t.deepEqual(ada.emails, ['ada@acme.example', 'ada@home.example']);
      t.deepEqual(ada.phone_numbers, ['111', '222']);
      t.is(ada.portal_role, 'admin');
      t.deepEqual(ada.custom_fields, {
        tier: { slug: 'tier', value: 'gold' },
        interests: { slug: 'interests', values: ['api', 'billing'] },
        'contact.salesforce.Contact_ID_for_Pylon__c': { slug: 'contact.salesforce.Contact_ID_for_Pylon__c', value: 'SF1' },
      });
      t.deepEqual([bob.name, bob.account?.id, bob.custom_fields], ['Bob', globex.id, {}]);
    });
  });
});

test('a JSON array seed accepts the read shape (account object, custom_fields map of {slug, value})', async (t) => {
  await withTmp(async (dir) => {
    const file = join(dir, 'seed.json');
    await writeFile(file, JSON.stringify([{ name: 'R', email: 'r@x.example', account: { id: umbrella.id }, custom_fields: { seats: { slug: 'seats', value: '4' } } }]));
    await withEmulator({ seedFile: file }, async (em) => {
      const [r] = [...em.store.all()];
      t.deepEqual([r.account?.id, r.custom_fields], [umbrella.id, { seats: { slug: 'seats', value: '4' } }]);
    });
  });
});

test('bad seed files fail with a ConfigError naming the file and the problem', async (t) => {
  await withTmp(async (dir) => {
    const write = async (name: string, text: string) => {
      await writeFile(join(dir, name), text);
      return join(dir, name);
    };
    const cases: Array<[string, ErrorCode, RegExp]> = [
      [join(dir, 'missing.json'), 'INPUT_NOT_FOUND', /missing\.json: not found/],
      [await write('bad.json', '{"contacts": ['), 'INPUT_UNREADABLE', /not valid JSON/],
      [await write('obj.json', '{"people": []}'), 'INPUT_UNREADABLE', /expected an array of contacts/],
      [await write('seed.txt', 'x'), 'INPUT_UNREADABLE', /expected a \.json or \.csv file/],
      [await write('cols.csv', 'name,shoe_size\nA,9\n'), 'INPUT_UNREADABLE', /unknown column "shoe_size"/],
      [await write('row.csv', 'name,email\nA,a@x.example\nB,not-an-email\n'), 'INPUT_UNREADABLE', /contact #2 \(line 3\): email is not a valid email address/],
      [await write('row.json', JSON.stringify([{ email: 'a@x.example' }])), 'INPUT_UNREADABLE', new RegExp(`contact #1: ${MSG.nameRequired}`)],
      [await write('dup.json', JSON.stringify([{ id: 'x', name: 'A' }, { id: 'x', name: 'B' }])), 'INPUT_UNREADABLE', /contact #2: A contact with id "x" already exists/],
    ];
    for (const [file, code, message] of cases) {
      const error = await t.throwsAsync(createEmulator({ seedFile: file }), { instanceOf: ConfigError });
      t.is(error?.code, code, file);
      t.regex(error?.message ?? '', message);
    }
  });
});

test('seedRandom: N valid contacts with unique emails, the same for the same seed', async (t) => {
  const snapshot = (seed: number) => withEmulator({ seed, seedRandom: 500 }, async (em) => [...em.store.all()]);
  const a = await snapshot(9);
  const b = await snapshot(9);
  const c = await snapshot(10);
  t.is(a.length, 500);
  t.deepEqual(a, b);
  t.notDeepEqual(a.map((x) => x.id), c.map((x) => x.id));
  t.is(new Set(a.map((x) => x.email)).size, 500);
  t.true(a.some((x) => Object.keys(x.custom_fields ?? {}).length > 0));
  t.true(a.some((x) => x.account === undefined) && a.some((x) => x.account !== undefined));
  // every random contact survives a round trip through the write validation
  await withEmulator({}, async (em) => {
    for (const contact of a.slice(0, 50)) {
      const { id, ...rest } = contact;
      t.notThrows(() => em.store.insert({ ...rest, name: rest.name as string }), id);
    }
  });
});

test('ids from POST /contacts repeat for the same seed', async (t) => {
  const ids = (seed: number) =>
    withEmulator({ seed }, async (em) => [(await client(em).post('/contacts', { name: 'A' })).body.data.id, (await client(em).post('/contacts', { name: 'B' })).body.data.id]);
  t.deepEqual(await ids(5), await ids(5));
  t.notDeepEqual(await ids(5), await ids(6));
});

test('store API for tests: insert, get, all, size, findByEmail, clear', async (t) => {
  await withEmulator({}, async (em) => {
    const a = em.store.insert({ name: 'A', email: 'a@x.example', custom_fields: [{ slug: 'tier', value: 'gold' }] });
    const b = em.store.insert({ id: 'fixed-id', name: 'B', emails: ['b@x.example', 'b2@x.example'], custom_fields: { seats: '7' } });
    t.is(em.store.size, 2);
    t.is(em.store.get('fixed-id'), b);
    t.deepEqual([...em.store.all()], [a, b]);
    t.is(em.store.findByEmail('B2@X.example'), b);
    t.is(em.store.findByEmail('nobody@x.example'), undefined);
    t.throws(() => em.store.insert({ name: 'C', custom_fields: { tier: 'platinum' } }), { message: MSG.unknownSelectOption('tier', 'platinum') });
    em.store.clear();
    t.is(em.store.size, 0);
    t.deepEqual([...em.store.all()], []);
    t.is((await client(em).get('/contacts')).body.data.length, 0);
  });
});

test('a store of 100,000 contacts pages completely at limit 999', async (t) => {
  await withEmulator({ seed: 1, seedRandom: 100_000 }, async (em) => {
    const { rows, pages } = await collectPages(em, { limit: 999 });
    t.is(pages.length, Math.ceil(100_000 / 999));
    t.is(rows.length, 100_000);
    t.is(new Set(rows.map((r) => r.id)).size, 100_000);
    t.is(rows[54_321].id, [...em.store.all()][54_321].id);
    const probe = rows[77_777];
    const found = await client(em).post('/contacts/search', { filter: { field: 'email', operator: 'in', values: [probe.email.toUpperCase()] } });
    t.deepEqual(found.body.data, [probe]);
  });
});
