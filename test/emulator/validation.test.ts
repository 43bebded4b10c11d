import test from 'ava';
import { CODES, DEFAULT_ACCOUNTS, MSG } from '../../src/emulator/index.js';
import { client, withEmulator } from '../helpers/with-emulator.js';

const READ_ONLY = 'contact.salesforce.Contact_ID_for_Pylon__c';

/** [body, expected errors[]] for POST /contacts. */
const CREATE_CASES: Array<[string, Record<string, unknown>, string[]]> = [
  ['name missing', { email: 'a@b.example' }, [MSG.nameRequired]],
  ['name null', { name: null }, [MSG.nameRequired]],
  ['name empty', { name: '  ' }, [MSG.nameEmpty]],
  ['name not a string', { name: 42 }, [MSG.wrongType('name', 'a string')]],
  ['email syntax', { name: 'A', email: 'not-an-email' }, [MSG.invalidEmail('email', 'not-an-email')]],
  ['email with space', { name: 'A', email: 'a b@c.example' }, [MSG.invalidEmail('email', 'a b@c.example')]],
  ['email without dot in domain', { name: 'A', email: 'a@localhost' }, [MSG.invalidEmail('email', 'a@localhost')]],
  ['email wrong type', { name: 'A', email: ['a@b.example'] }, [MSG.wrongType('email', 'a string')]],
  ['account id and external id', { name: 'A', account_id: DEFAULT_ACCOUNTS[0].id, account_external_id: 'acme' }, [MSG.accountIdAndExternalId]],
  ['unknown account id', { name: 'A', account_id: 'nope' }, [MSG.unknownAccountId('nope')]],
  ['unknown account external id', { name: 'A', account_external_id: 'nope' }, [MSG.unknownAccountExternalId('nope')]],
  ['empty account external id', { name: 'A', account_external_id: '' }, [MSG.emptyAccountExternalId]],
  ['portal role enum', { name: 'A', portal_role: 'owner' }, [MSG.invalidPortalRole('owner')]],
  ['avatar extension', { name: 'A', avatar_url: 'https://cdn.example/a.gif' }, [MSG.invalidAvatar('https://cdn.example/a.gif')]],
  ['avatar not a URL', { name: 'A', avatar_url: 'a.png' }, [MSG.invalidAvatar('a.png')]],
  ['phone with symbols', { name: 'A', phone_numbers: ['+1 555 0100'] }, [MSG.invalidPhone('+1 555 0100')]],
  ['phone too long', { name: 'A', phone_numbers: ['1234567890123456'] }, [MSG.invalidPhone('1234567890123456')]],
  ['phones not an array', { name: 'A', phone_numbers: '15550100' }, [MSG.wrongType('phone_numbers', 'an array of strings')]],
  ['primary phone not listed', { name: 'A', phone_numbers: ['15550100'], primary_phone_number: '15550199' }, [MSG.primaryPhoneNotListed('15550199')]],
  ['external id empty', { name: 'A', external_ids: [{ external_id: '' }] }, [MSG.emptyExternalId]],
  ['external id twice', { name: 'A', external_ids: [{ external_id: 'x' }, { external_id: 'x' }] }, [MSG.duplicateExternalId('x')]],
  ['custom fields not an array', { name: 'A', custom_fields: { tier: 'gold' } }, [MSG.wrongType('custom_fields', 'an array of {slug, value | values}')]],
  ['custom field without slug', { name: 'A', custom_fields: [{ value: 'x' }] }, [MSG.customFieldSlug(0)]],
  ['unknown custom field', { name: 'A', custom_fields: [{ slug: 'shoe_size', value: '9' }] }, [MSG.unknownCustomField('shoe_size')]],
  ['read-only custom field', { name: 'A', custom_fields: [{ slug: READ_ONLY, value: 'x' }] }, [MSG.readOnlyCustomField(READ_ONLY)]],
  ['value and values', { name: 'A', custom_fields: [{ slug: 'tier', value: 'gold', values: ['gold'] }] }, [MSG.customFieldValueAndValues('tier')]],
  ['values on a single-valued field', { name: 'A', custom_fields: [{ slug: 'tier', values: ['gold'] }] }, [MSG.customFieldNeedsValue('tier')]],
  ['value on a multiselect', { name: 'A', custom_fields: [{ slug: 'interests', value: 'api' }] }, [MSG.customFieldNeedsValues('interests')]],
  ['select label instead of slug', { name: 'A', custom_fields: [{ slug: 'tier', value: 'Gold' }] }, [MSG.unknownSelectOption('tier', 'Gold')]],
  ['multiselect unknown option', { name: 'A', custom_fields: [{ slug: 'interests', values: ['api', 'golf'] }] }, [MSG.unknownSelectOption('interests', 'golf')]],
  ['field listed twice', { name: 'A', custom_fields: [{ slug: 'seats', value: '1' }, { slug: 'seats', value: '2' }] }, [MSG.duplicateCustomField('seats')]],
  ['number', { name: 'A', custom_fields: [{ slug: 'seats', value: '1.5' }] }, [MSG.customFieldFormat('seats', 'number', 'an integer such as "42"', '1.5')]],
  ['decimal', { name: 'A', custom_fields: [{ slug: 'mrr', value: '1,200.00' }] }, [MSG.customFieldFormat('mrr', 'decimal', 'a decimal number such as "12.50"', '1,200.00')]],
  ['boolean', { name: 'A', custom_fields: [{ slug: 'vip', value: 'yes' }] }, [MSG.customFieldFormat('vip', 'boolean', '"true" or "false"', 'yes')]],
  ['date', { name: 'A', custom_fields: [{ slug: 'renewal_date', value: '2026-02-30' }] }, [MSG.customFieldFormat('renewal_date', 'date', 'a date as YYYY-MM-DD', '2026-02-30')]],
  [
    'datetime',
    { name: 'A', custom_fields: [{ slug: 'last_seen_at', value: '2026-01-31 09:30' }] },
    [MSG.customFieldFormat('last_seen_at', 'datetime', 'an RFC 3339 date-time such as "2026-01-31T09:30:00Z"', '2026-01-31 09:30')],
  ],
  ['url', { name: 'A', custom_fields: [{ slug: 'linkedin', value: 'ftp://x.example' }] }, [MSG.customFieldFormat('linkedin', 'url', 'an http(s) URL', 'ftp://x.example')]],
  ['user', { name: 'A', custom_fields: [{ slug: 'owner', value: ' ' }] }, [MSG.customFieldFormat('owner', 'user', 'a user id', ' ')]],
  ['value wrong type', { name: 'A', custom_fields: [{ slug: 'seats', value: 3 }] }, [MSG.wrongType('custom_fields[0].value', 'a string')]],
  ['several problems at once', { name: '', email: 'x', portal_role: 'boss' }, [MSG.nameEmpty, MSG.invalidEmail('email', 'x'), MSG.invalidPortalRole('boss')]],
];

for (const [title, body, errors] of CREATE_CASES) {
  test(`POST /contacts rejects: ${title}`, async (t) => {
    await withEmulator({}, async (em) => {
      const res = await client(em).post('/contacts', body);
      t.is(res.status, 400);
      t.deepEqual(res.body, { errors, request_id: res.body.request_id, code: CODES.invalidRequest });
      t.is(em.store.size, 0, 'nothing was created');
    });
  });
}

test('POST /contacts accepts every custom-field type in its documented write format', async (t) => {
  await withEmulator({}, async (em) => {
    const custom_fields = [
      { slug: 'tier', value: 'bronze' },
      { slug: 'interests', values: ['mobile', 'api', 'mobile'] },
      { slug: 'seats', value: '-3' },
      { slug: 'mrr', value: '1200.75' },
      { slug: 'vip', value: 'false' },
      { slug: 'renewal_date', value: '2028-02-29' },
      { slug: 'last_seen_at', value: '2026-01-31T09:30:00.123+02:00' },
      { slug: 'linkedin', value: 'http://linkedin.example/in/a' },
      { slug: 'owner', value: 'usr_123' },
      { slug: 'notes', value: 'anything, even "quotes"' },
      { slug: 'notes2-not-sent-cleared-anyway' },
    ].filter((f) => f.slug !== 'notes2-not-sent-cleared-anyway');
    const res = await client(em).post('/contacts', { name: 'A', custom_fields, avatar_url: 'https://cdn.example/a.JPEG', portal_role_id: 'role_1' });
    t.is(res.status, 200, res.text);
    const cf = res.body.data.custom_fields;
    t.deepEqual(cf.interests, { slug: 'interests', values: ['mobile', 'api'] });
    t.deepEqual(Object.keys(cf).sort(), custom_fields.map((f) => f.slug).sort());
    t.is(res.body.data.portal_role_id, 'role_1');
  });
});

test('a custom field sent without value (or with "" / []) is cleared', async (t) => {
  await withEmulator({}, async (em) => {
    const { id } = em.store.insert({ name: 'A', custom_fields: { tier: 'gold', notes: 'x', interests: ['api'], seats: '3' } });
    const res = await client(em).patch(`/contacts/${id}`, {
      custom_fields: [{ slug: 'tier' }, { slug: 'notes', value: '' }, { slug: 'interests', values: [] }, { slug: 'seats', value: null }],
    });
    t.deepEqual(res.body.data.custom_fields, {});
  });
});

test('PATCH validation: email with emails, bad entries, read-only field, unknown account; nothing changes', async (t) => {
  await withEmulator({}, async (em) => {
    const contact = em.store.insert({ name: 'A', email: 'a@x.example' });
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ email: 'b@x.example', emails: [{ email: 'c@x.example' }] }, [MSG.emailAndEmails]],
      [{ emails: [{ email: 'bad' }] }, [MSG.invalidEmail('emails[0]', 'bad')]],
      [{ emails: 'a@x.example' }, [MSG.wrongType('emails', 'an array of {email, is_primary}')]],
      [{ emails: [{ email: 'a@x.example' }, { email: 'A@x.example' }] }, [MSG.duplicateEmailInList('A@x.example')]],
      [{ emails: [{ email: 'a@x.example', is_primary: true }, { email: 'b@x.example', is_primary: true }] }, [MSG.severalPrimaryEmails]],
      [{ emails: [{ email: 'a@x.example', is_primary: 'yes' }] }, [MSG.wrongType('emails[0].is_primary', 'a boolean')]],
      [{ name: '' }, [MSG.nameEmpty]],
      [{ custom_fields: [{ slug: READ_ONLY }] }, [MSG.readOnlyCustomField(READ_ONLY)]],
      [{ account_id: 'nope' }, [MSG.unknownAccountId('nope')]],
      [{ primary_phone_number: '15550100' }, [MSG.primaryPhoneNotListed('15550100')]],
    ];
    for (const [body, errors] of cases) {
      const res = await client(em).patch(`/contacts/${contact.id}`, body);
      t.deepEqual([res.status, res.body.errors, res.body.code], [400, errors, CODES.invalidRequest], JSON.stringify(body));
    }
    t.deepEqual(em.store.get(contact.id), contact);
  });
});

test('PATCH with no known fields changes nothing and answers 200; name is not required', async (t) => {
  await withEmulator({}, async (em) => {
    const contact = em.store.insert({ name: 'A', email: 'a@x.example', account_external_id: 'acme' });
    const res = await client(em).patch(`/contacts/${contact.id}`, { whatever: 1, name: null });
    t.is(res.status, 200);
    t.deepEqual(res.body.data, contact);
  });
});

test('phone numbers: the first is primary unless primary_phone_number names another', async (t) => {
  await withEmulator({}, async (em) => {
    const api = client(em);
    const a = await api.post('/contacts', { name: 'A', phone_numbers: ['111', '222'] });
    t.is(a.body.data.primary_phone_number, '111');
    const b = await api.patch(`/contacts/${a.body.data.id}`, { primary_phone_number: '222' });
    t.deepEqual([b.body.data.phone_numbers, b.body.data.primary_phone_number], [['111', '222'], '222']);
    const c = await api.patch(`/contacts/${a.body.data.id}`, { phone_numbers: ['333'] });
    t.deepEqual([c.body.data.phone_numbers, c.body.data.primary_phone_number], [['333'], '333']);
  });
});

test('external ids are unique per object type: a taken one → 400 with exists_id', async (t) => {
  await withEmulator({}, async (em) => {
    const owner = em.store.insert({ name: 'A', external_ids: [{ external_id: 'crm-1', label: 'crm' }] });
    const res = await client(em).post('/contacts', { name: 'B', external_ids: [{ external_id: 'crm-1' }] });
    t.deepEqual(res.body, { errors: [MSG.externalIdTaken('crm-1')], request_id: res.body.request_id, code: CODES.alreadyExists, exists_id: owner.id });
    const self = await client(em).patch(`/contacts/${owner.id}`, { external_ids: [{ external_id: 'crm-1', label: 'again' }] });
    t.is(self.status, 200, 'a contact may keep its own external id');
  });
});
