import { readFileSync } from 'node:fs';
import test from 'ava';
import { compileTransform, parseTransformMap, renameMapToTransform, salesforceId18, type TransformedRow } from '../../src/import/transform.js';
import { loadPhoneNumbers } from '../../src/import/phone.js';

test.before(loadPhoneNumbers);

const HEADER = ['Record ID', 'First Name', 'Last Name', 'Email', 'email2', 'email3', 'Phone Number', 'Mobile Phone Number', 'role', 'tags', 'user_fields.tier'];

function compile(map: unknown, header = HEADER, options: Partial<Parameters<typeof compileTransform>[2]> = {}) {
  return compileTransform(parseTransformMap(map, 'map.json'), header, { source: 'map.json', defaultCountry: 'US', ...options });
}

function row(values: Partial<Record<string, string>>, header = HEADER): string[] {
  return header.map((h) => values[h] ?? '');
}

function cellsOf(result: TransformedRow): string[] {
  if (result.kind !== 'row') throw new Error(`expected a row, got ${JSON.stringify(result)}`);
  return result.cells;
}

test('join skips empty parts; list gathers columns into one ;-list; value maps, const and nested paths', (t) => {
  const t1 = compile({
    fields: {
      name: { join: ['First Name', 'Last Name'] },
      email: 'Email',
      emails: { list: ['email2', 'email3'] },
      phone_numbers: { list: ['Phone Number', 'Mobile Phone Number'] },
      portal_role: { from: 'role', values: { 'end-user': 'member', Admin: 'admin' }, default: 'no_access' },
      'custom.tier': 'user_fields.tier',
      'custom.source': { const: 'hubspot' },
      'custom.interests': { from: 'tags', split: ',' },
    },
  });
  t.deepEqual(t1.header, ['name', 'email', 'emails', 'phone_numbers', 'portal_role', 'custom.tier', 'custom.source', 'custom.interests']);
  const full = t1.apply(row({ 'First Name': 'Ada', 'Last Name': 'Lovelace', Email: 'ada@x.example', email2: 'a@x.example', email3: 'b@x.example', 'Phone Number': '(415) 555-0101', 'Mobile Phone Number': '+44 20 7946 0958', role: 'ADMIN', 'user_fields.tier': 'gold', tags: 'api, security ,' }));
  t.deepEqual(cellsOf(full), ['Ada Lovelace', 'ada@x.example', 'a@x.example;b@x.example', '14155550101;442079460958', 'admin', 'gold', 'hubspot', 'api;security']);
  const sparse = t1.apply(row({ 'First Name': 'Aisha', Email: 'aisha@x.example', role: 'lead' }));
  t.deepEqual(cellsOf(sparse), ['Aisha', 'aisha@x.example', '', '', 'no_access', '', 'hubspot', '']);
});

test('a value with no entry in the value map (and no default) fails the row, naming the column and the key', (t) => {
  const tr = compile({ fields: { name: 'First Name', email: 'Email', portal_role: { from: 'role', values: { 'end-user': 'member' } } } });
  const result = tr.apply(row({ 'First Name': 'A', Email: 'a@x.example', role: 'agent' }));
  t.is(result.kind, 'fail');
  if (result.kind === 'fail') {
    t.is(result.issue.code, 'ROW_MAP_NO_VALUE');
    t.is(result.issue.field, 'role');
    t.regex(result.issue.message, /"agent" has no entry in fields\.portal_role\.values/);
  }
});

test('emailOf: the email a row the map does not build gives the reports; a ragged row names only an address', (t) => {
  const tr = compile({ fields: { name: 'First Name', email: 'Email' }, filters: [{ column: 'role', in: ['end-user'] }] });
  t.is(tr.emailOf(row({ Email: ' a@x.example ', role: 'agent' })), 'a@x.example');
  t.is(tr.emailOf(row({ Email: 'not an address' })), 'not an address', 'a row as wide as the header: its email cell as written');
  t.is(tr.emailOf(row({})), undefined);
  // A ragged row's cells may have shifted: the cell in the email column counts only when it is an address.
  t.is(tr.emailOf([...row({ Email: 'b@x.example' }), 'extra']), 'b@x.example');
  t.is(tr.emailOf([...row({ Email: 'Smith' }), 'extra']), undefined);
  t.is(compile({ fields: { name: 'First Name', id: 'Record ID' } }).emailOf(row({ Email: 'c@x.example' })), undefined, 'a map without an email');
});

test('filters skip rows with a reason; requireEmail fails rows without one', (t) => {
  const tr = compile({
    fields: { name: 'First Name', email: 'Email' },
    filters: [{ column: 'role', in: ['end-user'], reason: 'not an end user' }, { column: 'tags', notIn: ['spam'] }],
    requireEmail: true,
  });
  t.deepEqual(tr.apply(row({ 'First Name': 'A', Email: 'a@x.example', role: 'agent' })), { kind: 'skip', reason: 'not an end user (role is "agent", not "end-user")' });
  t.deepEqual(tr.apply(row({ 'First Name': 'A', Email: 'a@x.example', role: 'End-User', tags: 'SPAM' })), { kind: 'skip', reason: 'filtered out: tags is "SPAM"' });
  const noEmail = tr.apply(row({ 'First Name': 'A', role: 'end-user' }));
  t.is(noEmail.kind, 'fail');
  if (noEmail.kind === 'fail') t.is(noEmail.issue.code, 'ROW_EMAIL_REQUIRED');
  t.is(tr.apply(row({ 'First Name': 'A', Email: 'a@x.example', role: 'end-user' })).kind, 'row');
});

test('phones with --on-bad-phone fail: national numbers need a country; spreadsheet damage and bad numbers fail the row; extensions are notes', (t) => {
  const map = { fields: { name: 'First Name', email: 'Email', phone_numbers: { list: ['Phone Number', 'Mobile Phone Number'] } } };
  const noCountry = compile(map, HEADER, { defaultCountry: undefined, onBadPhone: 'fail' });
  const r1 = noCountry.apply(row({ 'First Name': 'A', Email: 'a@x.example', 'Phone Number': '020 7946 0958' }));
  t.is(r1.kind === 'fail' ? r1.issue.code : r1.kind, 'ROW_PHONE_NO_COUNTRY');
  const gb = compile(map, HEADER, { defaultCountry: 'GB', onBadPhone: 'fail' });
  t.deepEqual(cellsOf(gb.apply(row({ 'First Name': 'A', Email: 'a@x.example', 'Phone Number': '020 7946 0958', 'Mobile Phone Number': '+442079460958' }))), ['A', 'a@x.example', '442079460958']);
  const r2 = gb.apply(row({ 'First Name': 'A', Email: 'a@x.example', 'Phone Number': '4.4208E+11' }));
  t.is(r2.kind === 'fail' ? r2.issue.code : r2.kind, 'ROW_PHONE_SPREADSHEET');
  const r3 = gb.apply(row({ 'First Name': 'A', Email: 'a@x.example', 'Phone Number': '+1 415 555 0150 x204' }));
  t.deepEqual(r3, { kind: 'row', cells: ['A', 'a@x.example', '14155550150'], notes: ['extension 204 of "+1 415 555 0150 x204" dropped (Pylon stores digits only)'], phonesDropped: 0 });
});

const PHONE_HEADER = ['Name', 'Email', 'Phone', 'Mobile', 'Country/Region'];
const PHONE_MAP = { fields: { name: 'Name', email: 'Email', phone_numbers: { list: ['Phone', 'Mobile'] } }, country: { column: 'Country/Region', optional: true } };
const phoneRow = (phone: string, mobile: string, country: string) => ['P', 'p@x.example', phone, mobile, country];

test('phones (default --on-bad-phone drop): a number that is not valid for its country is left out with a note, the rest of the contact is kept', (t) => {
  const us = compile(PHONE_MAP, PHONE_HEADER, { defaultCountry: 'US' });
  t.deepEqual(us.apply(phoneRow('030 1234567', '(415) 555-0101', '')), {
    kind: 'row',
    cells: ['P', 'p@x.example', '14155550101'],
    notes: ['phone number dropped: Phone number "030 1234567" is not a valid number in US (--default-country) (no such number range)'],
    phonesDropped: 1,
  });
  const r = us.apply(phoneRow('7911123456', '3.1E+09', ''));
  t.is(r.kind, 'row');
  if (r.kind === 'row') {
    t.deepEqual(r.cells, ['P', 'p@x.example', '']);
    t.is(r.phonesDropped, 2);
    t.regex(r.notes[0]!, /"7911123456" is not a valid number in US/);
    t.regex(r.notes[1]!, /scientific notation/);
  }
});

test("phones: the row's own country column wins over --default-country; names, alpha-2 and alpha-3 codes are read", (t) => {
  const us = compile(PHONE_MAP, PHONE_HEADER, { defaultCountry: 'US' });
  t.deepEqual(cellsOf(us.apply(phoneRow('030 1234567', '', 'Germany'))), ['P', 'p@x.example', '49301234567']);
  t.deepEqual(cellsOf(us.apply(phoneRow('07911 123456', '7911123456', 'United Kingdom'))), ['P', 'p@x.example', '447911123456']);
  t.deepEqual(cellsOf(us.apply(phoneRow('06 12 34 56 78', '', 'FRA'))), ['P', 'p@x.example', '33612345678']);
  t.deepEqual(cellsOf(us.apply(phoneRow('(415) 555-0101', '', 'us'))), ['P', 'p@x.example', '14155550101']);
  // An international number needs no country, whatever the column says.
  t.deepEqual(cellsOf(us.apply(phoneRow('+44 20 7946 0958', '', 'Germany'))), ['P', 'p@x.example', '442079460958']);
  // No --default-country: the column alone reads the row.
  const none = compile(PHONE_MAP, PHONE_HEADER, { defaultCountry: undefined });
  t.deepEqual(cellsOf(none.apply(phoneRow('020 7946 0958', '', 'GB'))), ['P', 'p@x.example', '442079460958']);
  // The map's column is optional: a file without it reads with --default-country.
  const without = compile(PHONE_MAP, ['Name', 'Email', 'Phone', 'Mobile'], { defaultCountry: 'US' });
  t.deepEqual(cellsOf(without.apply(['P', 'p@x.example', '(415) 555-0101', ''])), ['P', 'p@x.example', '14155550101']);
});

test('phones: each row is read in its own country when the same country cells repeat (each distinct cell is read once and remembered)', (t) => {
  const us = compile(PHONE_MAP, PHONE_HEADER, { defaultCountry: 'US' });
  for (let round = 0; round < 3; round++) {
    t.deepEqual(cellsOf(us.apply(phoneRow('030 1234567', '', 'Germany'))), ['P', 'p@x.example', '49301234567']);
    t.deepEqual(cellsOf(us.apply(phoneRow('020 7946 0958', '', 'United Kingdom'))), ['P', 'p@x.example', '442079460958']);
    t.deepEqual(cellsOf(us.apply(phoneRow('(415) 555-0101', '', ''))), ['P', 'p@x.example', '14155550101'], 'an empty cell: --default-country');
    const narnia = us.apply(phoneRow('(415) 555-0101', '', 'Narnia'));
    t.is(narnia.kind === 'row' ? narnia.phonesDropped : -1, 1, 'an unknown country is reported on every row that holds it');
    t.regex(narnia.kind === 'row' ? narnia.notes[0]! : '', /column Country\/Region holds "Narnia"/);
  }
  // The same cell in another compiled map (another run) starts afresh: nothing is shared between runs.
  const none = compile(PHONE_MAP, PHONE_HEADER, { defaultCountry: undefined });
  t.is(none.apply(phoneRow('(415) 555-0101', '', '')).kind, 'row');
  t.deepEqual(cellsOf(none.apply(phoneRow('030 1234567', '', 'Germany'))), ['P', 'p@x.example', '49301234567']);
});

test('phones: a country column holding no known country never falls back to --default-country: national numbers are dropped (or fail the row) saying why', (t) => {
  const us = compile(PHONE_MAP, PHONE_HEADER, { defaultCountry: 'US' });
  const dropped = us.apply(phoneRow('(415) 555-0101', '+44 20 7946 0958', 'Narnia'));
  t.is(dropped.kind, 'row');
  if (dropped.kind === 'row') {
    t.deepEqual(dropped.cells, ['P', 'p@x.example', '442079460958']);
    t.is(dropped.phonesDropped, 1);
    t.regex(dropped.notes[0]!, /^phone number dropped: Phone number "\(415\) 555-0101" has no country code and column Country\/Region holds "Narnia", which is not a country/);
  }
  const failing = compile(PHONE_MAP, PHONE_HEADER, { defaultCountry: 'US', onBadPhone: 'fail' });
  const failed = failing.apply(phoneRow('(415) 555-0101', '', '12345'));
  t.is(failed.kind, 'fail');
  if (failed.kind === 'fail') {
    t.is(failed.issue.code, 'ROW_UNKNOWN_COUNTRY');
    t.regex(failed.issue.message, /column Country\/Region holds "12345"/);
  }
  // Without a phone number the country is not needed: the row is imported as it is.
  t.deepEqual(cellsOf(failing.apply(phoneRow('', '', 'Narnia'))), ['P', 'p@x.example', '']);
});

test('a map naming a country column the file lacks (not optional) stops before any row', (t) => {
  const error = t.throws(() => compile({ ...PHONE_MAP, country: 'Land' }, PHONE_HEADER));
  t.regex(error!.message, /country\.column: no column "Land"/);
});

test('the external id: from the map or --external-id-column, with its label as a column', (t) => {
  const tr = compile({ source: 'hubspot', fields: { name: 'First Name', email: 'Email' }, externalId: { column: 'Record ID' } });
  t.deepEqual(tr.header, ['name', 'email', 'external_id', 'external_id_label']);
  t.deepEqual(cellsOf(tr.apply(row({ 'First Name': 'A', Email: 'a@x.example', 'Record ID': '51234567801' }))), ['A', 'a@x.example', '51234567801', 'hubspot']);
  const flag = compile({ fields: { name: 'First Name', email: 'Email' } }, HEADER, { externalIdColumn: 'record id', externalIdLabel: 'crm' });
  t.deepEqual(cellsOf(flag.apply(row({ 'First Name': 'A', Email: 'a@x.example', 'Record ID': '7' }))), ['A', 'a@x.example', '7', 'crm']);
});

test('account association goes through the resolver: an id, nothing, or a failed row; the column is account_id_if_unset unless overwrite', (t) => {
  const seen: unknown[] = [];
  const tr = compile({ fields: { name: 'First Name', email: 'Email' } }, HEADER, {
    account: { match: 'domain' },
    accounts: (key) => {
      seen.push(key);
      if (key.email?.endsWith('@acme.example')) return { accountId: 'acc-1' };
      if (key.email?.endsWith('@both.example')) return { issue: { code: 'ROW_ACCOUNT_AMBIGUOUS', field: 'account', message: '2 accounts' } };
      return undefined;
    },
  });
  t.deepEqual(tr.header, ['name', 'email', 'account_id_if_unset']);
  t.deepEqual(cellsOf(tr.apply(row({ 'First Name': 'A', Email: 'a@acme.example' }))), ['A', 'a@acme.example', 'acc-1']);
  t.deepEqual(cellsOf(tr.apply(row({ 'First Name': 'A', Email: 'a@gmail.com' }))), ['A', 'a@gmail.com', '']);
  t.is(tr.apply(row({ 'First Name': 'A', Email: 'a@both.example' })).kind, 'fail');
  t.deepEqual(seen[0], { email: 'a@acme.example', value: undefined });
  const over = compile({ fields: { name: 'First Name', email: 'Email' } }, HEADER, { account: { match: 'domain', overwrite: true }, accounts: () => undefined });
  t.deepEqual(over.header, ['name', 'email', 'account_id']);
});

test('optional columns missing from the file are left out; required ones stop the run naming the key and the nearest column', (t) => {
  const tr = compile({ fields: { name: 'First Name', email: 'Email', phone_numbers: { list: ['Phone Number', 'phone9'], optional: true }, emails: { from: 'email7', optional: true } } });
  t.deepEqual(tr.header, ['name', 'email', 'phone_numbers']);
  const error = t.throws(() => compile({ fields: { name: { join: ['First Name', 'Last Nme'] }, email: 'Email' } }));
  t.is((error as { code?: string }).code, 'CONFIG_BAD_MAPPING');
  t.regex(error!.message, /key fields\.name\.join\[1\]: no column "Last Nme" in the file \(did you mean "Last Name"\?\)/);
  t.throws(() => compile({ fields: { name: 'First Name', email: 'Email' }, filters: [{ column: 'rol', in: ['x'] }] }), { message: /key filters\[0\]\.column: no column "rol"/ });
});

test('bad maps are refused with the key named', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ fields: { nmae: 'First Name' } }, /key fields\.nmae: "nmae" is not a Pylon field.*did you mean name\?/],
    [{ fields: { name: { join: 'First Name', list: ['x'] } } }, /key fields\.name: join and list cannot be combined/],
    [{ fields: { name: { from: ['First Name', 'Last Name'] } } }, /key fields\.name\.from: several columns: say how to combine them/],
    [{ fields: { name: { frm: 'x' } } }, /key fields\.name\.frm: unknown key/],
    [{ fields: { name: 3 } }, /key fields\.name: expected a column name/],
    [{ fields: { name: 'a', portal_role: { from: 'r', values: { x: 1 } } } }, /key fields\.portal_role\.values\.x: expected a string, got 1/],
    [{ fields: { name: 'a' }, filters: [{ column: 'r' }] }, /key filters\[0\]: a filter needs in, notIn/],
    [{ fields: { name: 'a' }, account: { match: 'name' } }, /key account\.column: account\.match name needs the column/],
    [{ fields: { name: 'a' }, account: { match: 'nope' } }, /key account\.match: expected one of domain, name, external-id, off/],
    [{ fields: { name: 'a' }, extra: 1 }, /key extra: unknown key/],
    [{ fields: { name: 'a' }, aliases: ['Email'] }, /key aliases: expected an object of column → other labels/],
    [{ fields: { name: 'a' }, aliases: { Email: [] } }, /key aliases\.Email: expected a column name or a non-empty array/],
  ];
  for (const [map, message] of cases) t.throws(() => parseTransformMap(map, 'map.json'), { message }, JSON.stringify(map));
});

test('aliases: a column the map names is read under its other label when the file lacks the first; a file with neither names both', (t) => {
  const map = { fields: { name: { join: ['First Name', 'Last Name'] }, email: 'E-mail' }, aliases: { 'e-mail': ['Adresse e-mail', 'Courriel'] } };
  const tr = compile(map, ['First Name', 'Last Name', 'Courriel']);
  t.deepEqual(cellsOf(tr.apply(['Ann', 'Lee', 'ann@x.example'])), ['Ann Lee', 'ann@x.example']);
  const both = compile(map, ['First Name', 'Last Name', 'Adresse e-mail', 'E-mail']);
  t.deepEqual(cellsOf(both.apply(['Ann', 'Lee', 'old@x.example', 'ann@x.example'])), ['Ann Lee', 'ann@x.example'], 'the label itself wins over an alias');
  t.throws(() => compile(map, ['First Name', 'Last Name', 'Mail']), { message: /key fields\.email: no column "E-mail" \(nor "Adresse e-mail" or "Courriel"\) in the file/ });
});

test('a map that produces no name, or nothing to match on, is refused (no name is fine for --mode update)', (t) => {
  t.throws(() => compile({ fields: { email: 'Email' } }), { message: /key fields\.name: the map produces no name/ });
  t.notThrows(() => compile({ fields: { email: 'Email' } }, HEADER, { requireName: false }));
  t.throws(() => compile({ fields: { name: 'First Name' } }), { message: /key fields\.email: the map produces neither an email nor an id/ });
});

test('a plain rename map seen as a transform keeps every column, renamed where asked, _columns and nulls dropped', (t) => {
  const map = renameMapToTransform(['Full Name', 'E-mail', 'Phone', '_line', 'Notes'], { 'Full Name': 'name', 'e-mail': 'email', Notes: null });
  t.deepEqual(Object.keys(map.fields), ['name', 'email', 'Phone']);
});

test('the hubspot preset: additional email addresses (;-list) go to emails, for matching merged contacts', (t) => {
  const preset = JSON.parse(readFileSync(new URL('../../presets/hubspot.json', import.meta.url), 'utf8'));
  const header = ['Record ID', 'First Name', 'Last Name', 'Email', 'Additional email addresses'];
  const tr = compile(preset, header);
  t.deepEqual(tr.header, ['name', 'email', 'emails', 'external_id', 'external_id_label']);
  t.deepEqual(cellsOf(tr.apply(['701', 'Ann', 'Lee', 'ann@x.example', 'ann.lee@old.example; ann@home.example'])), ['Ann Lee', 'ann@x.example', 'ann.lee@old.example;ann@home.example', '701', 'hubspot']);
});

test('salesforceId18: a 15-character id gets the suffix that encodes its capitals; an 18-character one gets the case its suffix encodes; anything else is refused', (t) => {
  t.deepEqual(salesforceId18('001A0000006Vm9r'), { id: '001A0000006Vm9rIAC' });
  t.deepEqual(salesforceId18('0035g00000QxA1A'), { id: '0035g00000QxA1AAAV' });
  t.deepEqual(salesforceId18('0035g00000QxA1AAAV'), { id: '0035g00000QxA1AAAV' });
  // 18 characters name one record whatever their case: a lower-cased or upper-cased copy is the same id.
  t.deepEqual(salesforceId18('0035g00000qxa3caav'), { id: '0035g00000QxA3CAAV' });
  t.deepEqual(salesforceId18('0035G00000QXA3CAAV'), { id: '0035g00000QxA3CAAV' });
  t.deepEqual(salesforceId18('001a0000006vm9riac'), { id: '001A0000006Vm9rIAC' });
  // 15 characters are case-sensitive: another case is another record.
  t.deepEqual(salesforceId18('0035g00000qxa3c'), { id: '0035g00000qxa3cAAA' });
  for (const bad of ['not-an-id', '0035g00000QxA3', '0035g00000QxA3CA', '0035g00000QxA3C AV', '0035g00000QxA3CAA9', '1035g00000QxA3CZAV']) {
    const result = salesforceId18(bad);
    t.true('reason' in result && result.reason.includes(JSON.stringify(bad)), bad);
  }
});

test('a map states the source format of dates and numbers: "date": "MM/DD/YYYY", "number": "1.234,5"; a value not in it fails the row naming the field', (t) => {
  const header = ['Name', 'Email', 'Renewal', 'MRR'];
  const tr = compile({ fields: { name: 'Name', email: 'Email', 'custom.renewal_date': { from: 'Renewal', date: 'MM/DD/YYYY' }, 'custom.mrr': { from: 'MRR', number: '1.234,5' } } }, header);
  t.deepEqual(cellsOf(tr.apply(['A', 'a@x.example', '11/2/2024', '1.250,5'])), ['A', 'a@x.example', '2024-11-02', '1250.5']);
  t.deepEqual(cellsOf(tr.apply(['A', 'a@x.example', '', ''])), ['A', 'a@x.example', '', '']);
  const bad = tr.apply(['A', 'a@x.example', '13/2/2024', '1']);
  t.is(bad.kind, 'fail');
  if (bad.kind === 'fail') {
    t.is(bad.issue.code, 'ROW_CUSTOM_FIELD_INVALID');
    t.is(bad.issue.message, `custom.renewal_date: "13/2/2024" is not a calendar date in the map's format MM/DD/YYYY`);
  }
  t.throws(() => compile({ fields: { name: 'Name', email: 'Email', 'custom.mrr': { from: 'MRR', number: '1,234' } } }, header), { message: /key fields\.custom\.mrr\.number: expected one of "1,234\.5", "1\.234,5"/ });
  t.throws(() => compile({ fields: { name: 'Name', email: 'Email', 'custom.renewal_date': { from: 'Renewal', date: 'M/D/YY' } } }, header), { message: /key fields\.custom\.renewal_date\.date: expected a date format such as "MM\/DD\/YYYY"/ });
});
