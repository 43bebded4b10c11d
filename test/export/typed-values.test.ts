import test from 'ava';
import { availableColumns } from '../../src/export/columns.js';
import { jsonLineKeys, jsonValue, toTypedRow, typedColumns, typedJsonLine, type TypedColumn, type TypedRow, type TypedValue } from '../../src/export/schema.js';
import type { Contact, CustomFieldDefinition } from '../../src/pylon/types.js';

/**
 * The typed conversion of custom-field text: the fast paths (digits read one
 * by one) and the general ones (regular expressions and Date) must give the
 * same values and the same errors. Expected values are written out or made
 * with Date.parse / Date.UTC, not with the code under test.
 */
const defs: CustomFieldDefinition[] = [
  { id: '1', slug: 'n', label: 'N', type: 'number', object_type: 'contact' },
  { id: '2', slug: 'd', label: 'D', type: 'decimal', object_type: 'contact' },
  { id: '3', slug: 'b', label: 'B', type: 'boolean', object_type: 'contact' },
  { id: '4', slug: 'day', label: 'Day', type: 'date', object_type: 'contact' },
  { id: '5', slug: 'at', label: 'At', type: 'datetime', object_type: 'contact' },
  { id: '6', slug: 'tags', label: 'Tags', type: 'multiselect', object_type: 'contact' },
  { id: '7', slug: 'text', label: 'Text', type: 'text', object_type: 'contact' },
];
const columns = availableColumns(defs).filter((c) => c.name === 'id' || c.slug !== undefined);
const typed = typedColumns(columns);
const index = (slug: string) => columns.findIndex((c) => c.slug === slug);

/** The typed value of one custom field holding `value`, or the error text. */
function typedValue(slug: string, value: string | string[] | undefined): TypedValue | string {
  const field = Array.isArray(value) ? { slug, values: value } : { slug, value };
  const contact: Contact = { id: 'c1', custom_fields: value === undefined ? {} : { [slug]: field } } as Contact;
  const row = toTypedRow(contact, typed, columns);
  return typeof row === 'string' ? row : row[index(slug)]!;
}

const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

test('integers: signs, leading zeros, blanks and the 64-bit bounds', (t) => {
  t.is(typedValue('n', '418'), 418n);
  t.is(typedValue('n', ' -7 '), -7n);
  t.is(typedValue('n', '+5'), 5n);
  t.is(typedValue('n', '-0'), 0n);
  t.is(typedValue('n', '007'), 7n);
  t.is(typedValue('n', '999999999999999'), 999_999_999_999_999n);
  t.is(typedValue('n', '9223372036854775807'), 9_223_372_036_854_775_807n);
  t.is(typedValue('n', '-9223372036854775808'), -9_223_372_036_854_775_808n);
  t.is(typedValue('n', '   '), null);
  t.is(typedValue('n', undefined), null);
  t.regex(typedValue('n', '9223372036854775808') as string, /^custom\.n = "9223372036854775808" is outside the 64-bit integer range/);
  for (const bad of ['1.5', '-', '+', '1e3', '12a', '0x10', '１２']) t.regex(typedValue('n', bad) as string, /is not an integer \(column type int64\)$/, bad);
});

test('decimals: exact at scale 9 on both paths, with their errors', (t) => {
  t.is(typedValue('d', '537.69'), 537_690_000_000n);
  t.is(typedValue('d', '-0.5'), -500_000_000n);
  t.is(typedValue('d', '.5'), 500_000_000n);
  t.is(typedValue('d', '5.'), 5_000_000_000n);
  t.is(typedValue('d', '+12'), 12_000_000_000n);
  t.is(typedValue('d', '-0.0'), 0n);
  t.is(typedValue('d', '999999.999999999'), 999_999_999_999_999n);
  t.is(typedValue('d', '0.000000001'), 1n);
  // Past the fast path: 7 integer digits, trailing zeros past 9 places, 29 integer digits.
  t.is(typedValue('d', '1234567.1'), 1_234_567_100_000_000n);
  t.is(typedValue('d', '1.50000000000'), 1_500_000_000n);
  t.is(typedValue('d', '12345678901234567890123456789'), 12_345_678_901_234_567_890_123_456_789_000_000_000n);
  t.regex(typedValue('d', '1.0000000001') as string, /more than 9 decimal places/);
  t.regex(typedValue('d', '123456789012345678901234567890') as string, /more than 29 integer digits/);
  for (const bad of ['.', '-', '1.2.3', '1,5', 'abc', '1e5', '- 1']) t.regex(typedValue('d', bad) as string, /is not a decimal number/, bad);
});

test('booleans in any case', (t) => {
  t.is(typedValue('b', 'true'), true);
  t.is(typedValue('b', 'false'), false);
  t.is(typedValue('b', 'TRUE'), true);
  t.is(typedValue('b', ' False '), false);
  t.regex(typedValue('b', 'yes') as string, /is not true or false/);
});

test('dates: calendar days, leap years, and the general path for what the fast one leaves', (t) => {
  const days = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / 86_400_000;
  t.is(typedValue('day', '2026-10-05'), days(2026, 10, 5));
  t.is(typedValue('day', '1970-01-01'), 0);
  t.is(typedValue('day', '1969-12-31'), -1);
  t.is(typedValue('day', '2024-02-29'), days(2024, 2, 29));
  t.is(typedValue('day', '2000-02-29'), days(2000, 2, 29));
  t.is(typedValue('day', '9999-12-31'), days(9999, 12, 31));
  t.is(typedValue('day', '0100-01-01'), days(100, 1, 1));
  for (const bad of ['2025-02-29', '1900-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '0050-01-01']) t.regex(typedValue('day', bad) as string, /is not a calendar date/, bad);
  for (const bad of ['2026-1-05', '2026/10/05', '26-10-05', '2026-10-05T00:00:00Z', '2026-1a-05']) t.regex(typedValue('day', bad) as string, /is not a date \(YYYY-MM-DD\)/, bad);
});

test('timestamps: Z with and without fractions, offsets, and invalid times', (t) => {
  t.is(typedValue('at', '2026-11-06T03:36:58Z'), micros('2026-11-06T03:36:58Z'));
  t.is(typedValue('at', '2026-11-06t03:36:58z'), micros('2026-11-06T03:36:58Z'));
  t.is(typedValue('at', '2026-11-06 03:36:58Z'), micros('2026-11-06T03:36:58Z'));
  t.is(typedValue('at', '2026-11-06T03:36:58.5Z'), micros('2026-11-06T03:36:58Z') + 500_000n);
  t.is(typedValue('at', '2026-11-06T03:36:58.123456Z'), micros('2026-11-06T03:36:58Z') + 123_456n);
  t.is(typedValue('at', '2026-11-06T03:36:58.1234567891Z'), micros('2026-11-06T03:36:58Z') + 123_456n);
  t.is(typedValue('at', '2024-02-29T23:59:59Z'), micros('2024-02-29T23:59:59Z'));
  t.is(typedValue('at', '1969-12-31T23:59:59.999999Z'), -1n);
  t.is(typedValue('at', '2026-11-06T03:36:58+01:00'), micros('2026-11-06T02:36:58Z'));
  t.is(typedValue('at', '2026-11-06T03:36:58.25-0230'), micros('2026-11-06T06:06:58Z') + 250_000n);
  t.is(typedValue('at', '2300-01-01T00:00:00.000001Z'), micros('2300-01-01T00:00:00Z') + 1n);
  for (const bad of ['2026-11-06T24:00:00Z', '2026-11-06T03:60:00Z', '2026-11-06T03:36:60Z', '2026-02-30T00:00:00Z', '2026-11-00T00:00:00Z']) {
    t.regex(typedValue('at', bad) as string, /is not a valid date-time/, bad);
  }
  for (const bad of ['2026-11-06T03:36:58', '2026-11-06T03:36:58.Z', '2026-11-06T03:36:58.1a2Z', '2026-11-06T03:36Z', '2026-11-06T3:36:58Z', '2026-11-06T03:36:58.123456789xZ']) {
    t.regex(typedValue('at', bad) as string, /is not an RFC 3339 date-time/, bad);
  }
});

test('lists and text: values kept as strings, a scalar becomes a one-value list, absent is []', (t) => {
  t.deepEqual(typedValue('tags', ['api', 'billing']), ['api', 'billing']);
  t.deepEqual(typedValue('tags', 'api'), ['api']);
  t.deepEqual(typedValue('tags', [1, 'x'] as never), ['1', 'x']);
  t.deepEqual(typedValue('tags', undefined), []);
  t.is(typedValue('text', 'hello'), 'hello');
  t.is(typedValue('text', ['a', 'b']), 'a;b');
  t.is(typedValue('text', undefined), null);
});

test('the typed JSON line: each value as jsonValue writes it after its key, whatever the text (the values digest is over these bytes)', (t) => {
  const all: TypedColumn[] = [
    { name: 'id', source: 'id', kind: 'string', nullable: false },
    { name: 'name', source: 'name', kind: 'string', nullable: true },
    { name: 'tags', source: 'tags', kind: 'string_list', nullable: true },
    { name: 'n', source: 'n', kind: 'integer', nullable: true },
    { name: 'd', source: 'd', kind: 'decimal', nullable: true },
    { name: 'b', source: 'b', kind: 'boolean', nullable: true },
    { name: 'day', source: 'day', kind: 'date', nullable: true },
    { name: 'at', source: 'at', kind: 'timestamp', nullable: true },
    { name: 'ids', source: 'ids', kind: 'id_list', nullable: true, fields: ['external_id', 'label'] },
  ];
  const texts = ['', 'Ada', 'say "hi"', 'back\\slash', 'tab\there', 'line\nbreak', '\u0001\u001f', 'café', '日本', '\ud83d\ude00', 'half \ud800 of it', '\u007f', ' ', 'x'.repeat(300)];
  const rows: TypedRow[] = [];
  for (const [i, text] of texts.entries()) {
    rows.push([`c${i}`, text, [text, 'b'], BigInt(i) * -12345678901n, 1234500000000n * BigInt(i), i % 2 === 0, 20_000 + i, 1_700_000_000_000_000n + BigInt(i), [{ external_id: text, label: i % 3 === 0 ? null : 'crm' }]]);
    rows.push([text || 'e', null, null, null, null, null, null, null, null]);
  }
  const keys = jsonLineKeys(all);
  for (const row of rows) {
    const line = typedJsonLine(all, row);
    t.is(line, all.map((c, i) => keys[i]! + jsonValue(c.kind, row[i]!)).join('') + '}');
    t.is(JSON.parse(line).id, row[0]);
  }
});
