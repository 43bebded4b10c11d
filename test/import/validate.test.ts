import test from 'ava';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRecordSource } from '../../src/csv/read.js';
import { DEFAULT_CUSTOM_FIELDS } from '../../src/emulator/default-org.js';
import { resolveColumns } from '../../src/import/columns.js';
import { createDuplicateTracker } from '../../src/import/dedupe.js';
import type { DesiredContact, RowIssueCode } from '../../src/import/desired.js';
import { keyFor } from '../../src/import/lookup.js';
import { BEYOND_SPEC, compileValidator, isEmail, normalizePhone, parseDateTime, validateRow, type ValidationContext } from '../../src/import/validate.js';

const SF = 'custom.contact.salesforce.Contact_ID_for_Pylon__c';
const header = [
  'id', 'Name', 'EMAIL', 'emails', 'account_id', 'account_external_id', 'avatar_url', 'portal_role', 'portal_role_id',
  'phone_numbers', 'primary_phone_number', 'custom.tier', 'custom.interests', 'custom.seats', 'custom.mrr', 'custom.vip',
  'custom.renewal_date', 'custom.last_seen_at', 'custom.linkedin', 'custom.owner', 'custom.notes', SF,
];
const plan = resolveColumns(header, { customFields: DEFAULT_CUSTOM_FIELDS });
const context: ValidationContext = { customFields: new Map(DEFAULT_CUSTOM_FIELDS.map((f) => [f.slug, f])), clearToken: '#N/A' };

function cells(values: Record<string, string>): string[] {
  for (const key of Object.keys(values)) if (!header.includes(key)) throw new Error(`no column ${key}`);
  return header.map((h) => values[h] ?? '');
}

const validate = (values: Record<string, string>) => validateRow(cells(values), plan, context);

/** Valid rows: cells → exactly this desired contact, no issues. */
const valid: Array<[string, Record<string, string>, DesiredContact]> = [
  ['empty row changes nothing', {}, { custom: {} }],
  ['cells are trimmed', { Name: '  Ann Lee ', EMAIL: ' Ann@Example.com ' }, { name: 'Ann Lee', email: 'Ann@Example.com', custom: {} }],
  ['id', { id: ' c_123 ' }, { id: 'c_123', custom: {} }],
  ['emails split on ;', { emails: 'a@x.io; b@y.io ;;' }, { emails: ['a@x.io', 'b@y.io'], custom: {} }],
  ['account_id and its clear token', { account_id: 'acc-1' }, { account_id: 'acc-1', custom: {} }],
  ['account_id cleared', { account_id: '#N/A' }, { account_id: null, custom: {} }],
  ['account_external_id', { account_external_id: 'acme' }, { account_external_id: 'acme', custom: {} }],
  ['avatar .png with query string', { avatar_url: 'https://cdn.example.com/a/b.PNG?size=64' }, { avatar_url: 'https://cdn.example.com/a/b.PNG?size=64', custom: {} }],
  ['avatar .jpeg over http', { avatar_url: 'http://x.io/me.jpeg' }, { avatar_url: 'http://x.io/me.jpeg', custom: {} }],
  ['avatar cleared', { avatar_url: '#N/A' }, { avatar_url: null, custom: {} }],
  ['portal_role any case', { portal_role: 'Admin' }, { portal_role: 'admin', custom: {} }],
  ['portal_role no_access', { portal_role: 'no_access' }, { portal_role: 'no_access', custom: {} }],
  ['portal_role_id free text; cleared', { portal_role_id: 'role_9' }, { portal_role_id: 'role_9', custom: {} }],
  ['portal_role_id cleared', { portal_role_id: '#N/A' }, { portal_role_id: null, custom: {} }],
  [
    'phones normalised; primary among them',
    { phone_numbers: '+1 (555) 010-0000; 44.20.7946.0000', primary_phone_number: '+44 20 7946 0000' },
    { phone_numbers: ['15550100000', '442079460000'], primary_phone_number: '442079460000', custom: {} },
  ],
  ['phones deduplicated', { phone_numbers: '555-0100;5550100' }, { phone_numbers: ['5550100'], custom: {} }],
  ['primary alone (the planner adds the list)', { primary_phone_number: '555 0100' }, { primary_phone_number: '5550100', custom: {} }],
  ['phones cleared', { phone_numbers: '#N/A', primary_phone_number: '#N/A' }, { phone_numbers: null, primary_phone_number: null, custom: {} }],
  ['select by slug', { 'custom.tier': 'gold' }, { custom: { tier: { value: 'gold' } } }],
  ['select by label, any case', { 'custom.tier': 'SILVER' }, { custom: { tier: { value: 'silver' } } }],
  ['multiselect mixes labels and slugs, deduplicated', { 'custom.interests': 'API; billing;Api' }, { custom: { interests: { values: ['api', 'billing'] } } }],
  ['multiselect of separators only leaves it unchanged', { 'custom.interests': ' ; ' }, { custom: {} }],
  ['number', { 'custom.seats': '+0042' }, { custom: { seats: { value: '42' } } }],
  ['negative number, zero', { 'custom.seats': '-0' }, { custom: { seats: { value: '0' } } }],
  ['decimal normalised', { 'custom.mrr': '+.5' }, { custom: { mrr: { value: '0.5' } } }],
  ['decimal with trailing dot', { 'custom.mrr': '-12.' }, { custom: { mrr: { value: '-12' } } }],
  ['decimal kept as written', { 'custom.mrr': '1234.50' }, { custom: { mrr: { value: '1234.50' } } }],
  ['boolean yes', { 'custom.vip': 'Yes' }, { custom: { vip: { value: 'true' } } }],
  ['boolean 0', { 'custom.vip': '0' }, { custom: { vip: { value: 'false' } } }],
  ['date, leap day', { 'custom.renewal_date': '2028-02-29' }, { custom: { renewal_date: { value: '2028-02-29' } } }],
  // Spreadsheet forms with one reading (issue 18).
  ['number with thousands commas', { 'custom.seats': '1,250' }, { custom: { seats: { value: '1250' } } }],
  ['number with thousands spaces', { 'custom.seats': '1 250 000' }, { custom: { seats: { value: '1250000' } } }],
  ['decimal with both separators', { 'custom.mrr': '1,250.5' }, { custom: { mrr: { value: '1250.5' } } }],
  ['decimal with a decimal comma and grouping dots', { 'custom.mrr': '1.250,5' }, { custom: { mrr: { value: '1250.5' } } }],
  ['decimal with a lone decimal comma', { 'custom.mrr': '12,50' }, { custom: { mrr: { value: '12.50' } } }],
  ['date, day first (the day is over 12)', { 'custom.renewal_date': '31/01/2026' }, { custom: { renewal_date: { value: '2026-01-31' } } }],
  ['date, month first (the day is over 12)', { 'custom.renewal_date': '2/13/2026' }, { custom: { renewal_date: { value: '2026-02-13' } } }],
  ['date with dots (day first)', { 'custom.renewal_date': '2.11.2024' }, { custom: { renewal_date: { value: '2024-11-02' } } }],
  ['date with a month name', { 'custom.renewal_date': 'Nov 2, 2024' }, { custom: { renewal_date: { value: '2024-11-02' } } }],
  ['date with a time (as XLSX date-time cells read)', { 'custom.renewal_date': '2024-11-02T14:30:05' }, { custom: { renewal_date: { value: '2024-11-02' } } }],
  ['datetime from a date alone: midnight UTC (as an XLSX date cell reads)', { 'custom.last_seen_at': '2024-11-02' }, { custom: { last_seen_at: { value: '2024-11-02T00:00:00.000Z' } } }],
  ['datetime normalised to UTC ISO', { 'custom.last_seen_at': '2026-01-31T09:30:00+02:00' }, { custom: { last_seen_at: { value: '2026-01-31T07:30:00.000Z' } } }],
  ['datetime lower-case t/z and a space', { 'custom.last_seen_at': '2026-01-31 09:30:00.5z' }, { custom: { last_seen_at: { value: '2026-01-31T09:30:00.500Z' } } }],
  ['url', { 'custom.linkedin': 'https://www.linkedin.com/in/ann' }, { custom: { linkedin: { value: 'https://www.linkedin.com/in/ann' } } }],
  ['user and text as written', { 'custom.owner': 'usr_1', 'custom.notes': 'Likes "tea"; hates; semicolons' }, { custom: { owner: { value: 'usr_1' }, notes: { value: 'Likes "tea"; hates; semicolons' } } }],
  ['custom fields cleared', { 'custom.tier': '#N/A', 'custom.notes': '#N/A' }, { custom: { tier: null, notes: null } }],
  ['read-only field left empty is fine', { [SF]: '  ' }, { custom: {} }],
];

for (const [title, values, desired] of valid) {
  test(`valid: ${title}`, (t) => {
    const result = validate(values);
    t.deepEqual(result.issues, []);
    t.deepEqual(result.desired, desired);
  });
}

/** Invalid rows: cells → these issues (code, field = header as written), message matching. */
const invalid: Array<[string, Record<string, string>, Array<[RowIssueCode, string, RegExp]>]> = [
  ['email without @', { EMAIL: 'ann.example.com' }, [['ROW_INVALID_EMAIL', 'EMAIL', /^Invalid email "ann\.example\.com" in column EMAIL$/]]],
  ['two emails in one cell', { EMAIL: 'a@x.test; b@x.test' }, [['ROW_INVALID_EMAIL', 'EMAIL', /^Invalid email "a@x\.test; b@x\.test" in column EMAIL: one address per cell; keep "a@x\.test" here and put "b@x\.test" in an emails column/]]],
  ["Google's ::: between emails", { EMAIL: 'a@x.test ::: b@x.test ::: c@x.test' }, [['ROW_INVALID_EMAIL', 'EMAIL', /: one address per cell; keep "a@x\.test" here and put "b@x\.test", "c@x\.test" in an emails column/]]],
  ['an email with a display name', { EMAIL: 'Jane Doe <jane@x.test>' }, [['ROW_INVALID_EMAIL', 'EMAIL', /^Invalid email "Jane Doe <jane@x\.test>" in column EMAIL: a display name is not part of the address; write "jane@x\.test" alone/]]],
  ['email with two @', { EMAIL: 'a@b@c.io' }, [['ROW_INVALID_EMAIL', 'EMAIL', /"a@b@c\.io"/]]],
  ['email domain without dot', { EMAIL: 'ann@localhost' }, [['ROW_INVALID_EMAIL', 'EMAIL', /ann@localhost/]]],
  ['email with space', { EMAIL: 'ann lee@x.io' }, [['ROW_INVALID_EMAIL', 'EMAIL', /ann lee@x\.io/]]],
  ['email empty local part', { EMAIL: '@x.io' }, [['ROW_INVALID_EMAIL', 'EMAIL', /"@x\.io"/]]],
  ['emails: each checked', { emails: 'a@x.io;nope;b@y' }, [['ROW_INVALID_EMAIL', 'emails', /^Invalid emails "nope", "b@y" in column emails/]]],
  ['portal role', { portal_role: 'owner' }, [['ROW_INVALID_ROLE', 'portal_role', /"owner".*expected one of no_access, member, admin/]]],
  ['account conflict', { account_id: 'acc-1', account_external_id: 'acme' }, [['ROW_ACCOUNT_CONFLICT', 'account_external_id', /either account_id or account_external_id, not both/]]],
  ['account conflict with a cleared account_id', { account_id: '#N/A', account_external_id: 'acme' }, [['ROW_ACCOUNT_CONFLICT', 'account_external_id', /not both/]]],
  ['avatar not an image', { avatar_url: 'https://x.io/me.gif' }, [['ROW_INVALID_AVATAR', 'avatar_url', /"https:\/\/x\.io\/me\.gif".*\.png, \.jpg or \.jpeg/]]],
  ['avatar not http', { avatar_url: 'ftp://x.io/me.png' }, [['ROW_INVALID_AVATAR', 'avatar_url', /ftp/]]],
  ['avatar extension only in the query', { avatar_url: 'https://x.io/me?f=a.png' }, [['ROW_INVALID_AVATAR', 'avatar_url', /me\?f=a\.png/]]],
  ['phone with letters', { phone_numbers: '555-0100;call me' }, [['ROW_INVALID_PHONE', 'phone_numbers', /^Invalid phone number "call me" in column phone_numbers/]]],
  ['phone over 15 digits', { phone_numbers: '+1234567890123456' }, [['ROW_INVALID_PHONE', 'phone_numbers', /"\+1234567890123456"/]]],
  ['phone with an inner +', { primary_phone_number: '1+2' }, [['ROW_INVALID_PHONE', 'primary_phone_number', /"1\+2"/]]],
  ['primary not listed', { phone_numbers: '555 0100', primary_phone_number: '555 0199' }, [['ROW_PRIMARY_PHONE_NOT_LISTED', 'primary_phone_number', /5550199 .* not among the numbers in column phone_numbers/]]],
  ['primary set while the list is cleared', { phone_numbers: '#N/A', primary_phone_number: '5550100' }, [['ROW_PRIMARY_PHONE_NOT_LISTED', 'primary_phone_number', /5550100/]]],
  ['select option unknown', { 'custom.tier': 'Platinum' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.tier', /^Column custom\.tier: "Platinum" is not an option of tier; valid options: gold \(Gold\), silver \(Silver\), bronze \(Bronze\)$/]]],
  ['multiselect option unknown', { 'custom.interests': 'api;Cooking;golf' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.interests', /"Cooking", "golf" are not options of interests; valid options: api \(API\)/]]],
  ['number with decimals', { 'custom.seats': '12.5' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.seats', /"12\.5" is not a whole number/]]],
  // Issue 18: spreadsheet forms are read where they have one reading (1,200 and 12,50 now are, below); ambiguous ones fail saying why.
  ['number with a dot that may group thousands', { 'custom.seats': '1.200' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.seats', /"1\.200" is ambiguous in a whole-number field/]]],
  ['decimal with a comma that may group thousands', { 'custom.mrr': '12,500' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.mrr', /"12,500" is ambiguous: 12500 with a comma grouping thousands, or 12\.500 with a decimal comma/]]],
  ['number with letters', { 'custom.seats': '1,200 seats' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.seats', /not a whole number/]]],
  ['decimal with an exponent', { 'custom.mrr': '1e3' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.mrr', /"1e3" is not a decimal number \[a check of this CLI beyond/]]],
  ['boolean', { 'custom.vip': 'maybe' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.vip', /"maybe" is not a boolean/]]],
  ['date not on the calendar', { 'custom.renewal_date': '2027-02-29' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.renewal_date', /"2027-02-29" is not a date \(YYYY-MM-DD\)/]]],
  ['date whose day and month can swap', { 'custom.renewal_date': '11/02/2026' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.renewal_date', /"11\/02\/2026" is ambiguous: 2026-11-02 as month\/day\/year \(US\) or 2026-02-11 as day\/month\/year/]]],
  ['date with a two-digit year', { 'custom.renewal_date': '31/01/26' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.renewal_date', /two-digit year/]]],
  ['datetime without zone', { 'custom.last_seen_at': '2026-01-31T09:30:00' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.last_seen_at', /"2026-01-31T09:30:00" has no time zone, so it names no instant: add Z if it is UTC \(2026-01-31T09:30:00Z\) or its offset/]]],
  ['datetime without zone or seconds', { 'custom.last_seen_at': '2026-01-31 09:30' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.last_seen_at', /has no time zone.*\(2026-01-31T09:30:00Z\)/]]],
  ['datetime hour 24', { 'custom.last_seen_at': '2026-01-31T24:00:00Z' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.last_seen_at', /RFC 3339/]]],
  ['url without scheme', { 'custom.linkedin': 'linkedin.com/in/ann' }, [['ROW_CUSTOM_FIELD_INVALID', 'custom.linkedin', /not an http\(s\) URL/]]],
  ['read-only field cleared', { [SF]: '#N/A' }, [['ROW_CUSTOM_FIELD_READ_ONLY', SF, /read-only/]]],
  ['name cannot be cleared', { Name: '#N/A' }, [['ROW_CANNOT_CLEAR', 'Name', /^Column Name: the name cannot be cleared/]]],
  ['email cannot be cleared', { EMAIL: '#N/A' }, [['ROW_CANNOT_CLEAR', 'EMAIL', /primary email/]]],
  ['portal_role cannot be cleared', { portal_role: '#N/A' }, [['ROW_CANNOT_CLEAR', 'portal_role', /portal role/]]],
  ['account_external_id cannot be cleared', { account_external_id: '#N/A' }, [['ROW_CANNOT_CLEAR', 'account_external_id', /clear account_id instead/]]],
  ['id and emails cannot be cleared', { id: '#N/A', emails: '#N/A' }, [['ROW_CANNOT_CLEAR', 'id', /id/], ['ROW_CANNOT_CLEAR', 'emails', /email list/]]],
  [
    'every problem of a row is reported',
    { EMAIL: 'bad', portal_role: 'boss', 'custom.seats': 'many' },
    [['ROW_INVALID_EMAIL', 'EMAIL', /bad/], ['ROW_INVALID_ROLE', 'portal_role', /boss/], ['ROW_CUSTOM_FIELD_INVALID', 'custom.seats', /many/]],
  ],
];

for (const [title, values, expected] of invalid) {
  test(`invalid: ${title}`, (t) => {
    const { issues } = validate(values);
    t.deepEqual(issues.map((i) => [i.code, i.field]), expected.map(([code, field]) => [code, field]));
    for (const [i, [, , pattern]] of expected.entries()) t.regex(issues[i]!.message, pattern);
  });
}

test('without a clear token, #N/A is an ordinary value', (t) => {
  const noToken = { customFields: context.customFields };
  const result = validateRow(cells({ Name: '#N/A', 'custom.notes': '#N/A' }), plan, noToken);
  t.deepEqual(result, { desired: { name: '#N/A', custom: { notes: { value: '#N/A' } } }, issues: [] });
});

test('short (ragged) rows are read as far as they go; extra cells are ignored', (t) => {
  const validator = compileValidator(plan, context);
  t.deepEqual(validator(['', 'Ann']), { desired: { name: 'Ann', custom: {} }, issues: [] });
  t.deepEqual(validator([...cells({ Name: 'Bo' }), 'extra']).desired, { name: 'Bo', custom: {} });
});

test('ignored and unknown columns are never read', (t) => {
  const withMeta = resolveColumns(['email', '_error_code', 'whatever'], { customFields: DEFAULT_CUSTOM_FIELDS, ignoreUnknown: true });
  t.deepEqual(validateRow(['a@x.io', 'ROW_INVALID_EMAIL', 'zzz'], withMeta, context), { desired: { email: 'a@x.io', custom: {} }, issues: [] });
});

test('validateRow never throws, whatever the cells hold', (t) => {
  const junk = ['\u0000', '"', ';;;', '#N/A', 'http://', '9'.repeat(400), '\ud800', ' ', '💥', 'true'];
  for (let i = 0; i < 300; i++) {
    const row = header.map((_, j) => junk[(i * 7 + j * 3) % junk.length]!);
    t.notThrows(() => validateRow(row, plan, context));
  }
});

test('the compiled validator is cached per plan and context', (t) => {
  const a = validateRow(cells({ Name: 'x' }), plan, context);
  const b = validateRow(cells({ Name: 'x' }), plan, context);
  t.deepEqual(a, b);
  t.not(a.desired, b.desired, 'each row gets its own objects');
});

test('helpers: isEmail, normalizePhone, parseDateTime', (t) => {
  t.true(isEmail('first.last+tag@sub.example.co.uk'));
  t.false(isEmail('a@b..c'));
  t.false(isEmail('a@.b.c'));
  t.is(normalizePhone('+33 (0)1.23-45'), '33012345');
  t.is(normalizePhone('++33'), undefined);
  t.is(normalizePhone(''), undefined);
  t.is(parseDateTime('2026-12-31T23:59:59-01:00'), '2027-01-01T00:59:59.000Z');
  t.is(parseDateTime('2026-13-01T00:00:00Z'), undefined);
  t.is(parseDateTime('2026-01-01T00:00:00+25:00'), undefined);
});

const samples = fileURLToPath(new URL('../../samples/', import.meta.url));

/** The input side of an import, as run-import chains it: reader → validation → key → in-file duplicates. */
async function inputSide(file: string, clearToken?: string) {
  const source = createRecordSource({ input: join(samples, file) });
  const columns = resolveColumns(await source.header(), { customFields: DEFAULT_CUSTOM_FIELDS });
  const validation = { customFields: context.customFields, clearToken };
  const duplicates = createDuplicateTracker();
  const outcome: Record<number, string> = {};
  for await (const item of source) {
    if (item.error) {
      outcome[item.line] = `ROW_MALFORMED ${item.error.code}`;
      continue;
    }
    const { desired, issues } = validateRow(item.cells, columns, validation);
    const key = keyFor(desired);
    if (issues.length > 0) outcome[item.line] = issues.map((i) => `${i.code} ${i.field}`).join(', ');
    else if (!key) outcome[item.line] = 'ROW_EMAIL_REQUIRED';
    else {
      const decision = duplicates.decide(item.line, key);
      outcome[item.line] = decision.keep ? 'ok' : `ROW_DUPLICATE_IN_FILE of ${decision.duplicateOf}`;
    }
  }
  return outcome;
}

test('samples/contacts.csv: 25 valid rows, no duplicates', async (t) => {
  const outcome = await inputSide('contacts.csv', '#N/A');
  t.deepEqual(Object.keys(outcome).map(Number), Array.from({ length: 25 }, (_, i) => i + 2));
  t.deepEqual(Object.entries(outcome).filter(([, o]) => o !== 'ok'), []);
});

test('samples/contacts-with-errors.csv: each line shows its error code', async (t) => {
  const expected = {
    2: 'ok',
    3: 'ROW_INVALID_EMAIL email',
    4: 'ROW_INVALID_ROLE portal_role',
    5: 'ROW_ACCOUNT_CONFLICT account_external_id',
    6: 'ROW_INVALID_AVATAR avatar_url',
    7: 'ROW_INVALID_PHONE phone_numbers',
    8: 'ROW_PRIMARY_PHONE_NOT_LISTED primary_phone_number',
    9: 'ROW_CUSTOM_FIELD_INVALID custom.tier',
    10: 'ROW_CUSTOM_FIELD_INVALID custom.renewal_date',
    11: 'ok', // a read-only value: the planner refuses it unless Pylon already holds it
    12: 'ROW_CANNOT_CLEAR portal_role',
    13: 'ok', // no name: the planner fails it with ROW_NAME_REQUIRED when it must create
    14: 'ROW_EMAIL_REQUIRED',
    15: 'ok', // an id that does not exist: ROW_NOT_FOUND from the planner
    16: 'ok', // account external id "hooli" does not exist: ROW_ACCOUNT_NOT_FOUND from the import
    17: 'ROW_MALFORMED CSV_RECORD_INCONSISTENT_COLUMNS',
    18: 'ok',
    19: 'ROW_DUPLICATE_IN_FILE of 2',
  };
  t.deepEqual(await inputSide('contacts-with-errors.csv', '#N/A'), expected);
  const withoutToken = await inputSide('contacts-with-errors.csv');
  t.is(withoutToken[12], 'ROW_INVALID_ROLE portal_role', 'without --clear-token, #N/A is just an invalid role');
});

test('a read-only value is kept for the planner, not written', (t) => {
  const plan = resolveColumns([SF, 'email'], { customFields: DEFAULT_CUSTOM_FIELDS });
  const { desired, issues } = validateRow(['003XYZ', 'a@example.com'], plan, { customFields: new Map(DEFAULT_CUSTOM_FIELDS.map((f) => [f.slug, f])) });
  t.deepEqual(issues, []);
  t.deepEqual(desired.custom, {});
  t.deepEqual(desired.readOnly, { 'contact.salesforce.Contact_ID_for_Pylon__c': { value: '003XYZ' } });
});

test('parseDateTime: the UTC fast path agrees with Date', (t) => {
  for (const value of ['2026-01-31T09:30:00Z', '2026-01-31t09:30:00.1z', '2024-02-29 23:59:59.123456Z', '0999-12-31T00:00:00.99Z', '2026-06-30T12:00:00+00:00']) {
    t.is(parseDateTime(value), new Date(Date.parse(value.replace(' ', 'T').toUpperCase())).toISOString(), value);
  }
});

test('--lenient: values refused only by checks beyond the spec and docs are sent as written; documented checks stay', (t) => {
  const lenient: ValidationContext = { ...context, lenient: true };
  const values = {
    EMAIL: 'user@localhost',
    portal_role: 'billing-viewer',
    'custom.seats': '12.5',
    'custom.vip': 'Y',
    'custom.renewal_date': '11/02/2026',
    'custom.last_seen_at': '2026-01-31T09:30:00',
    'custom.linkedin': 'linkedin.com/in/x',
  };
  const strictIssues = validateRow(cells(values), plan, context).issues;
  t.is(strictIssues.length, 7);
  t.true(strictIssues.every((i) => i.message.endsWith(BEYOND_SPEC)), 'each strict refusal says it goes beyond the spec');
  const { desired, issues } = validateRow(cells(values), plan, lenient);
  t.deepEqual(issues, []);
  t.like(desired, {
    email: 'user@localhost',
    portal_role: 'billing-viewer',
    custom: {
      seats: { value: '12.5' },
      vip: { value: 'Y' },
      renewal_date: { value: '11/02/2026' },
      last_seen_at: { value: '2026-01-31T09:30:00' },
      linkedin: { value: 'linkedin.com/in/x' },
    },
  });
  // Documented rules: the select option, digits-only phones, the avatar's extension, an address without "@".
  const documented = validateRow(cells({ EMAIL: 'no-at-sign', 'custom.tier': 'platinum', phone_numbers: 'call me', avatar_url: 'https://x.io/a.gif' }), plan, lenient).issues;
  t.deepEqual(documented.map((i) => i.code), ['ROW_INVALID_EMAIL', 'ROW_INVALID_AVATAR', 'ROW_INVALID_PHONE', 'ROW_CUSTOM_FIELD_INVALID']);
  t.true(documented.every((i) => !i.message.endsWith(BEYOND_SPEC)));
});
