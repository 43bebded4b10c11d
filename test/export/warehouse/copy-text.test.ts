import test from 'ava';
import { copyRows, escapeCopy } from '../../../src/export/load/copy-text.js';
import { formatDate, formatTimestamp, type TypedColumn } from '../../../src/export/schema.js';

// The reference: Date and BigInt arithmetic, as formatDate/formatTimestamp were written before their Number fast path.
const DAY_MS = 86_400_000;
const referenceDate = (days: number) => new Date(days * DAY_MS).toISOString().slice(0, 10);
function referenceTimestamp(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const rest = micros - ms * 1000n;
  return `${new Date(Number(ms)).toISOString().slice(0, 23)}${rest.toString().padStart(3, '0')}Z`;
}

/** A deterministic generator (mulberry32), so a failure names values that can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY_US = 86_400_000_000n;

test('formatTimestamp (Number fast path) gives the text of Date and BigInt arithmetic: random instants from year 0 to 9999, day edges, before the epoch, beyond the fast range', (t) => {
  const next = random(19);
  const values: bigint[] = [0n, -1n, 1n, DAY_US - 1n, DAY_US, -DAY_US, -DAY_US - 1n, -DAY_US + 1n, 253_402_300_799_999_999n, -62_167_219_200_000_000n, 253_402_300_800_000_000n, -62_167_219_200_000_001n, 8_640_000_000_000_000_000n / 1000n];
  for (let i = 0; i < 200_000; i += 1) {
    // Anywhere from 0000-01-01 to 9999-12-31, to the microsecond.
    values.push(BigInt(Math.floor(-62_167_219_200_000_000 + next() * 315_537_897_600_000_000)));
    // Near a day's edge, where the rounded division needs its correction.
    const day = BigInt(Math.floor(-719_528 + next() * 3_652_424));
    values.push(day * DAY_US + BigInt(Math.floor(next() * 5)) - 2n);
  }
  let differ = 0;
  let first: string | undefined;
  for (const v of values) {
    if (formatTimestamp(v) !== referenceTimestamp(v)) {
      differ += 1;
      first ??= `${v}: ${formatTimestamp(v)} vs ${referenceTimestamp(v)}`;
    }
  }
  t.is(differ, 0, first);
  t.is(formatTimestamp(1_793_606_400_123_456n), '2026-11-02T08:00:00.123456Z');
});

test('formatDate (cached by day) gives the text of a Date, inside and outside years 0–9999', (t) => {
  const next = random(7);
  const days = [0, -1, 1, -719_528, 2_932_896, -719_529, 2_932_897, 20_759];
  for (let i = 0; i < 50_000; i += 1) days.push(Math.floor(-800_000 + next() * 3_800_000));
  t.deepEqual(days.map(formatDate), days.map(referenceDate));
  t.is(formatDate(20_759), '2026-11-02');
});

test('escapeCopy escapes exactly the backslash, tab, newline and carriage return', (t) => {
  t.is(escapeCopy('plain text, "quotes" {braces}'), 'plain text, "quotes" {braces}');
  t.is(escapeCopy('a\\b\tc\nd\re'), 'a\\\\b\\tc\\nd\\re');
});

test('copyRows: a NUL, which PostgreSQL text and jsonb cannot hold, is U+FFFD in text, list and id-list values; onNul names each such row once', (t) => {
  const col = (name: string, kind: TypedColumn['kind']) => ({ name, source: name, kind, nullable: true }) as TypedColumn;
  const seen: string[] = [];
  const encode = copyRows([col('id', 'string'), col('name', 'string'), col('tags', 'string_list'), col('ids', 'id_list')], (id) => seen.push(id));
  const text = encode(
    [
      ['c1', 'a\u0000b\u0000', ['x\u0000'], [{ id: 'i\u0000', source: 's' }]],
      ['c2', 'plain', [], [{ id: 'lit \\u0000 text', source: 's' }]],
      ['c3', null, [], [{ id: 'j', source: '\u0000' }]],
    ] as never,
    ['h1', 'h2', 'h3'],
  );
  t.is(text, 'c1\ta\ufffdb\ufffd\t{"x\ufffd"}\t[{"id":"i\ufffd","source":"s"}]\th1\nc2\tplain\t{}\t[{"id":"lit \\\\\\\\u0000 text","source":"s"}]\th2\nc3\t\\N\t{}\t[{"id":"j","source":"\ufffd"}]\th3\n');
  t.deepEqual(seen, ['c1', 'c3'], 'a backslash and u0000 written as text is no NUL');
});

test('copyRows: one line per row, NULL as \\N, lists as quoted array literals, the row hash last', (t) => {
  const col = (name: string, kind: TypedColumn['kind']) => ({ name, source: name, kind, nullable: true }) as TypedColumn;
  const encode = copyRows([col('id', 'string'), col('tags', 'string_list'), col('n', 'integer'), col('ok', 'boolean'), col('d', 'date'), col('at', 'timestamp'), col('ids', 'id_list'), col('x', 'decimal')]);
  const text = encode(
    [
      ['c1', ['a', 'b "q"', 'c\\d', 'NULL', 'e,f'], 42, true, 20_759, 1_793_606_400_000_001n, [{ source: 'crm', id: 'x\ty' }], 1_500_000_000n],
      ['c2\nx', [], null, false, null, null, null, null],
    ] as never,
    ['h1', 'h2'],
  );
  t.is(
    text,
    'c1\t{"a","b \\\\"q\\\\"","c\\\\\\\\d","NULL","e,f"}\t42\tt\t2026-11-02\t2026-11-02T08:00:00.000001Z\t[{"source":"crm","id":"x\\\\ty"}]\t1.5\th1\n' +
      'c2\\nx\t{}\t\\N\tf\t\\N\t\\N\t\\N\t\\N\th2\n',
  );
});
