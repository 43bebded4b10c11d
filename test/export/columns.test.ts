import test from 'ava';
import { STANDARD_COLUMNS } from '../../src/columns.js';
import { availableColumns, recordProblem, selectColumns, toCells, toJsonRecord } from '../../src/export/columns.js';
import { DEFAULT_CUSTOM_FIELDS } from '../../src/emulator/index.js';
import type { Contact, CustomFieldDefinition } from '../../src/pylon/types.js';

const defs: CustomFieldDefinition[] = [
  { id: '1', slug: 'tier', label: 'Tier', type: 'select', object_type: 'contact' },
  { id: '2', slug: 'interests', label: 'Interests', type: 'multiselect', object_type: 'contact' },
  { id: '3', slug: 'contact.salesforce.Id', label: 'SF', type: 'text', object_type: 'contact', is_read_only: true },
];

const contact: Contact = {
  id: 'c1',
  name: 'Ada, "the" Countess',
  email: 'ada@x.example',
  emails: ['ada@x.example', 'ada2@x.example'],
  account: { id: 'acc1', external_ids: [{ external_id: 'ext' }] },
  avatar_url: 'https://x.example/a.png',
  portal_role: 'admin',
  portal_role_id: 'role9',
  phone_numbers: ['15550001', '15550002'],
  primary_phone_number: '15550002',
  custom_fields: {
    tier: { slug: 'tier', value: 'gold' },
    interests: { slug: 'interests', values: ['api', 'billing'] },
    'contact.salesforce.Id': { slug: 'contact.salesforce.Id', value: '003X' },
    unknown: { slug: 'unknown', value: 'ignored' },
  },
};

test('default columns: the standard ones in the documented order, then custom.<slug> in definition order', (t) => {
  const names = availableColumns(defs).map((c) => c.name);
  t.deepEqual(names, [
    'id', 'name', 'email', 'emails', 'account_id', 'avatar_url', 'portal_role', 'portal_role_id', 'phone_numbers', 'primary_phone_number',
    'custom.tier', 'custom.interests', 'custom.contact.salesforce.Id',
  ]);
  t.deepEqual(names.slice(0, STANDARD_COLUMNS.length), [...STANDARD_COLUMNS]);
});

test('the emulator org yields one column per custom field, dotted slugs included', (t) => {
  const names = availableColumns(DEFAULT_CUSTOM_FIELDS).map((c) => c.name);
  t.is(names.length, STANDARD_COLUMNS.length + DEFAULT_CUSTOM_FIELDS.length);
  t.true(names.includes('custom.contact.salesforce.Contact_ID_for_Pylon__c'));
});

test('a slug listed twice gives one column', (t) => {
  const names = availableColumns([...defs, defs[0]!]).map((c) => c.name);
  t.is(names.filter((n) => n === 'custom.tier').length, 1);
});

test('CSV cells: account.id, lists joined with ;, absent values empty, unknown slugs not exported', (t) => {
  t.deepEqual(toCells(contact, availableColumns(defs)), [
    'c1', 'Ada, "the" Countess', 'ada@x.example', 'ada@x.example;ada2@x.example', 'acc1', 'https://x.example/a.png', 'admin', 'role9',
    '15550001;15550002', '15550002', 'gold', 'api;billing', '003X',
  ]);
  t.deepEqual(toCells({ id: 'bare' }, availableColumns(defs)), ['bare', '', '', '', '', '', '', '', '', '', '', '', '']);
});

test('NDJSON records: every key present; lists stay arrays ([] when empty), other values strings or null', (t) => {
  const columns = availableColumns(defs);
  t.deepEqual(toJsonRecord(contact, columns), {
    id: 'c1',
    name: 'Ada, "the" Countess',
    email: 'ada@x.example',
    emails: ['ada@x.example', 'ada2@x.example'],
    account_id: 'acc1',
    avatar_url: 'https://x.example/a.png',
    portal_role: 'admin',
    portal_role_id: 'role9',
    phone_numbers: ['15550001', '15550002'],
    primary_phone_number: '15550002',
    'custom.tier': 'gold',
    'custom.interests': ['api', 'billing'],
    'custom.contact.salesforce.Id': '003X',
  });
  const bare = toJsonRecord({ id: 'bare' }, columns);
  t.deepEqual(Object.keys(bare), columns.map((c) => c.name));
  t.deepEqual(bare.emails, []);
  t.deepEqual(bare['custom.interests'], []);
  t.is(bare.name, null);
  t.is(bare['custom.tier'], null);
});

test('--columns selects and orders', (t) => {
  const columns = selectColumns(availableColumns(defs), ['custom.interests', 'id', 'email']);
  t.deepEqual(columns.map((c) => c.name), ['custom.interests', 'id', 'email']);
  t.deepEqual(toCells(contact, columns), ['api;billing', 'c1', 'ada@x.example']);
});

test('--columns with an unknown name is a usage error listing the valid columns', (t) => {
  const error = t.throws(() => selectColumns(availableColumns(defs), ['id', 'custom.nope', 'mail']));
  t.is(error?.name, 'ConfigError');
  t.is((error as { code?: string }).code, 'CONFIG_UNKNOWN_COLUMNS');
  t.regex(error!.message, /unknown columns "custom\.nope"(?: \(did you mean [^)]*\))?, "mail" \(did you mean email\?\); valid columns are id, name, email, .*custom\.contact\.salesforce\.Id \(the default set\) and external_ids, account_external_ids, integration_user_ids \(on request\)$/);
});

test('--columns can ask for the id lists, which the default set leaves out', (t) => {
  const defaults = availableColumns(defs);
  t.false(defaults.some((c) => c.name.endsWith('_ids')));
  const columns = selectColumns(defaults, ['id', 'integration_user_ids', 'external_ids', 'account_external_ids']);
  const contact: Contact = {
    id: 'c1',
    external_ids: [{ external_id: 'e1', label: 'crm' }, { external_id: 'e2' }],
    account: { id: 'a1', external_ids: [{ external_id: 'acme', label: 'crm' }] },
  };
  t.deepEqual(toCells(contact, columns), ['c1', '', '[{"external_id":"e1","label":"crm"},{"external_id":"e2","label":null}]', '[{"external_id":"acme","label":"crm"}]']);
  t.deepEqual(toJsonRecord(contact, columns), {
    id: 'c1',
    integration_user_ids: [],
    external_ids: [
      { external_id: 'e1', label: 'crm' },
      { external_id: 'e2', label: null },
    ],
    account_external_ids: [{ external_id: 'acme', label: 'crm' }],
  });
});

test('--columns naming a column twice is a usage error', (t) => {
  const error = t.throws(() => selectColumns(availableColumns(defs), ['id', 'email', 'id']));
  t.is(error!.message, 'Invalid option `--columns`: expected each column once, got "id" twice');
});

test('records that cannot be exported are named, others pass', (t) => {
  t.is(recordProblem({ id: 'x' }), undefined);
  t.is(recordProblem(null), 'the record is not an object');
  t.is(recordProblem([1]), 'the record is not an object');
  t.is(recordProblem({ name: 'no id' }), 'the record has no id');
  t.is(recordProblem({ id: '' }), 'the record has no id');
  t.is(recordProblem({ id: 42 }), 'the record has no id');
  t.is(recordProblem({ id: 'a\nb' }), 'the id contains a line break');
});
