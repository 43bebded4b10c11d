import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { withEmulator } from '../../helpers/with-emulator.js';
import { exportFrom, tempDir } from '../helpers.js';
import { createParquetEncoder } from '../../../src/export/parquet.js';
import { formatDate, formatDecimal, formatTimestamp, type TypedColumn, type TypedRow } from '../../../src/export/schema.js';

// The encoder writes PLAIN integers, timestamps, dates, booleans and decimals
// itself (parquet-chunk.ts): every edge of each type is read back by DuckDB,
// a reader nobody here wrote, with the row groups' min/max statistics.

const COLUMNS: TypedColumn[] = [
  { name: 'id', source: 'id', kind: 'string', nullable: false },
  { name: 'text', source: 'text', kind: 'string', nullable: true },
  { name: 'tier', source: 'tier', kind: 'string', nullable: true },
  { name: 'n', source: 'n', kind: 'integer', nullable: true },
  { name: 'amount', source: 'amount', kind: 'decimal', nullable: true },
  { name: 'flag', source: 'flag', kind: 'boolean', nullable: true },
  { name: 'day', source: 'day', kind: 'date', nullable: true },
  { name: 'at', source: 'at', kind: 'timestamp', nullable: true },
  { name: 'tags', source: 'tags', kind: 'string_list', nullable: false },
];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL_MAX = 10n ** 38n - 1n;
const TEXTS = ['', 'plain', 'Zoë', '\u{1F600} smile', '\uFFFD replacement', '\uE000 private', 'a\u0000b', 'ünïcode'];
const TIERS = ['gold', 'silver', 'bronze'];

/** Row i: every value of a kind comes round, nulls included; a fixed sequence, so a failure repeats. */
function row(i: number): TypedRow {
  const pick = <T>(values: readonly T[], k: number) => values[(i * k) % values.length]!;
  return [
    `c-${String(i).padStart(6, '0')}`,
    i % 11 === 0 ? null : pick(TEXTS, 7) + String(i % 13),
    i % 5 === 0 ? null : pick(TIERS, 1),
    i % 7 === 0 ? null : pick([INT64_MIN, INT64_MAX, 0n, -1n, 1n, BigInt(i) * -1_000_003n], 1),
    i % 9 === 0 ? null : pick([DECIMAL_MAX, -DECIMAL_MAX, 0n, -1n, 1n, -1_234_500_000_000n, BigInt(i) * 987_654_321n], 1),
    i % 4 === 0 ? null : i % 3 === 0,
    i % 6 === 0 ? null : pick([-719_162, -25_567, -1, 0, 1, 2_932_896, i], 1),
    i % 8 === 0 ? null : pick([-62_135_596_800_000_000n, -1n, 0n, 1n, 253_402_300_799_999_999n, BigInt(i) * 1_000_001n], 1),
    i % 3 === 0 ? [] : [pick(TEXTS, 1), `t${i % 4}`],
  ];
}

/** A value as DuckDB's VARCHAR cast shows it. */
function shown(column: TypedColumn, value: TypedRow[number]): string | null {
  if (value === null) return null;
  switch (column.kind) {
    case 'decimal': {
      const text = formatDecimal(value as bigint);
      const [int, frac = ''] = text.split('.');
      return `${int}.${frac.padEnd(9, '0')}`;
    }
    case 'date':
      return formatDate(value as number);
    case 'timestamp':
      return formatTimestamp(value as bigint);
    default:
      return String(value);
  }
}

const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

test('integers, decimals, booleans, dates and timestamps at their edges, nulls and strings past U+FFFF read back by DuckDB with their row groups\' min/max', async (t) => {
  const rows = Array.from({ length: 10_000 }, (_, i) => row(i));
  const encoder = createParquetEncoder(COLUMNS, { rowGroupSize: 4_500 });
  const parts: Uint8Array[] = [encoder.start()];
  for (let i = 0; i < rows.length; i += 999) parts.push(...encoder.pageParts(rows.slice(i, i + 999)));
  parts.push(...encoder.endParts());
  const file = join(await tempDir(), 'values.parquet');
  await writeFile(file, Buffer.concat(parts));

  const instance = await DuckDBInstance.create();
  const db = await instance.connect();
  try {
    const select = COLUMNS.filter((c) => c.kind !== 'string_list' && c.kind !== 'boolean')
      .map((c) => (c.kind === 'timestamp' ? `strftime("${c.name}", '%Y-%m-%dT%H:%M:%S.%fZ') AS "${c.name}"` : `"${c.name}"::VARCHAR AS "${c.name}"`))
      .join(', ');
    const read = (await db.runAndReadAll(`SELECT ${select}, flag, tags FROM read_parquet('${file}') ORDER BY id`)).getRowObjectsJS();
    t.is(read.length, rows.length);
    let mismatches = 0;
    rows.forEach((expected, r) => {
      COLUMNS.forEach((column, c) => {
        const got = read[r]![column.name];
        const want = column.kind === 'boolean' || column.kind === 'string_list' ? expected[c] : shown(column, expected[c]!);
        if (JSON.stringify(got) !== JSON.stringify(want) && mismatches++ < 5) t.fail(`row ${r} ${column.name}: read ${JSON.stringify(got)}, wrote ${JSON.stringify(want)}`);
      });
    });
    t.is(mismatches, 0);

    // Statistics of each row group against the values it holds.
    const stats = (await db.runAndReadAll(`SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('${file}') WHERE path_in_schema NOT LIKE 'tags%' ORDER BY row_group_id, column_id`)).getRowObjectsJS();
    t.is(new Set(stats.map((s) => s.row_group_id)).size, 3);
    for (const stat of stats) {
      const group = Number(stat.row_group_id);
      const c = COLUMNS.findIndex((column) => column.name === stat.path_in_schema);
      const column = COLUMNS[c]!;
      const values = rows.slice(group * 4_500, (group + 1) * 4_500).map((r) => r[c]!);
      const present = values.filter((v) => v !== null);
      t.is(Number(stat.stats_null_count), values.length - present.length, `${column.name} null count, group ${group}`);
      const sorted = column.kind === 'string' ? (present as string[]).sort(byUtf8) : present.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (column.kind === 'string') {
        t.is(stat.stats_min_value, sorted[0] as string, `${column.name} min, group ${group}`);
        t.is(stat.stats_max_value, sorted.at(-1) as string, `${column.name} max, group ${group}`);
      } else if (column.kind === 'boolean' || column.kind === 'integer') {
        t.is(stat.stats_min_value, String(sorted[0]), `${column.name} min, group ${group}`);
        t.is(stat.stats_max_value, String(sorted.at(-1)), `${column.name} max, group ${group}`);
      } else {
        // DuckDB prints these bounds in its own forms: compare them as the values DuckDB reads them back as.
        const [{ lo, hi }] = (await db.runAndReadAll(`SELECT min("${column.name}")::VARCHAR = '${stat.stats_min_value}' AS lo, max("${column.name}")::VARCHAR = '${stat.stats_max_value}' AS hi FROM (SELECT * FROM read_parquet('${file}') ORDER BY id LIMIT 4500 OFFSET ${group * 4_500})`)).getRowObjectsJS() as [{ lo: boolean; hi: boolean }];
        t.true(lo && hi, `${column.name} min/max, group ${group}: ${stat.stats_min_value} / ${stat.stats_max_value}`);
      }
    }
  } finally {
    db.closeSync();
    instance.closeSync();
  }
});

test('pages kept in a scratch file (spill) give the same bytes as pages kept in memory; earlier row groups stay valid while later ones are made; the file does not outlive the encoder', async (t) => {
  const rows = Array.from({ length: 10_000 }, (_, i) => row(i));
  const encode = (spill?: string, rowGroupSize = 3_000) => {
    const encoder = createParquetEncoder(COLUMNS, { rowGroupSize, spill });
    const parts: Uint8Array[] = [encoder.start()];
    // Every piece is kept until the end: a group's pieces must not change when the next group is made.
    for (let i = 0; i < rows.length; i += 999) parts.push(...encoder.pageParts(rows.slice(i, i + 999)));
    parts.push(...encoder.endParts());
    encoder.close();
    return Buffer.concat(parts);
  };
  // Another encoder first: an encoder's bytes must not depend on what others in the process compressed (snappy's match table).
  encode(undefined, 700);
  const spill = join(await tempDir(), 'pages');
  const spilled = encode(spill);
  t.false(existsSync(spill), 'the scratch file is gone after close()');
  const inMemory = encode();
  t.true(spilled.equals(inMemory), 'same bytes either way');
  // Groups of 400 rows: two or three end within one call of 999 rows, so the file holds several groups' pages at once.
  t.true(encode(join(await tempDir(), 'pages'), 400).equals(encode(undefined, 400)), 'same bytes with several groups a call');
  const file = join(await tempDir(), 'spilled.parquet');
  await writeFile(file, spilled);
  const instance = await DuckDBInstance.create();
  const db = await instance.connect();
  try {
    const [counted] = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, (SELECT count(DISTINCT row_group_id)::INTEGER FROM parquet_metadata('${file}')) AS groups FROM read_parquet('${file}')`)).getRowObjectsJS();
    t.deepEqual(counted, { n: 10_000, ids: 10_000, groups: 4 });
  } finally {
    db.closeSync();
    instance.closeSync();
  }
});

test('compression UNCOMPRESSED (DuckDB\'s staging files): every column chunk says UNCOMPRESSED, the file is larger, and DuckDB reads the same rows as from the snappy file', async (t) => {
  const rows = Array.from({ length: 5_000 }, (_, i) => row(i));
  const encode = (compression?: 'SNAPPY' | 'UNCOMPRESSED') => {
    const encoder = createParquetEncoder(COLUMNS, { rowGroupSize: 2_000, compression });
    const parts: Uint8Array[] = [encoder.start()];
    for (let i = 0; i < rows.length; i += 999) parts.push(...encoder.pageParts(rows.slice(i, i + 999)));
    parts.push(...encoder.endParts());
    return Buffer.concat(parts);
  };
  const dir = await tempDir();
  const plain = join(dir, 'plain.parquet');
  const snappy = join(dir, 'snappy.parquet');
  await writeFile(plain, encode('UNCOMPRESSED'));
  await writeFile(snappy, encode());
  t.true((await readFile(plain)).length > (await readFile(snappy)).length, 'no compression: a larger file');
  const instance = await DuckDBInstance.create();
  const db = await instance.connect();
  try {
    const codecs = async (file: string) => (await db.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}') ORDER BY 1`)).getRows().map((r) => String(r[0]));
    t.deepEqual(await codecs(plain), ['UNCOMPRESSED']);
    t.deepEqual(await codecs(snappy), ['SNAPPY']);
    const [counted] = (await db.runAndReadAll(`SELECT (SELECT count(*)::INTEGER FROM read_parquet('${plain}')) AS n, (SELECT count(*)::INTEGER FROM (SELECT * FROM read_parquet('${plain}') EXCEPT ALL SELECT * FROM read_parquet('${snappy}'))) AS extra, (SELECT count(*)::INTEGER FROM (SELECT * FROM read_parquet('${snappy}') EXCEPT ALL SELECT * FROM read_parquet('${plain}'))) AS missing`)).getRowObjectsJS();
    t.deepEqual(counted, { n: 5_000, extra: 0, missing: 0 });
  } finally {
    db.closeSync();
    instance.closeSync();
  }
});

test('a Parquet export keeps its pages in a scratch folder of its own and leaves none behind', async (t) => {
  const mine = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`pylon-contacts-parquet-${process.pid}-`));
  const before = mine();
  await withEmulator({ seed: 3, seedRandom: 700 }, async (emulator) => {
    const out = join(await tempDir(), 'contacts.parquet');
    let during = 0;
    const stats = await exportFrom(emulator, { output: out, pageSize: 150, rowGroupSize: 250 }, { onProgress: () => void (during = Math.max(during, mine().length - before.length)) });
    t.like(stats, { complete: true, rows: 700 });
    t.is(during, 1, 'one scratch folder while the export ran');
    const bytes = await readFile(out);
    const instance = await DuckDBInstance.create();
    const db = await instance.connect();
    try {
      const [counted] = (await db.runAndReadAll(`SELECT count(DISTINCT id)::INTEGER AS ids, (SELECT count(DISTINCT row_group_id)::INTEGER FROM parquet_metadata('${out}')) AS groups FROM read_parquet('${out}')`)).getRowObjectsJS();
      t.deepEqual(counted, { ids: 700, groups: 3 });
    } finally {
      db.closeSync();
      instance.closeSync();
    }
    t.true(bytes.length > 0);
  });
  t.deepEqual(mine(), before);
});

test('a page scratch file that cannot be made is an OUTPUT_WRITE error naming it', async (t) => {
  const spill = join(await tempDir(), 'missing-folder', 'pages');
  const error = t.throws(() => createParquetEncoder(COLUMNS, { spill }));
  t.like(error, { code: 'OUTPUT_WRITE' });
  t.true(error!.message.startsWith(`Cannot write ${spill}: ENOENT`), error!.message);
});

test('pageParts(rows, last): the last column handed beside the rows gives the same file, byte for byte, as rows that hold it (DuckDB staging adds its row hash this way)', async (t) => {
  const withHash: TypedColumn[] = [...COLUMNS, { name: '_row_hash', source: '_row_hash', kind: 'string', nullable: false }];
  const rows = Array.from({ length: 7_000 }, (_, i) => row(i));
  const hashes = rows.map((_, i) => `h${String(i * 7919).padStart(15, '0')}`);
  // Also a page cut by bytes inside a call: long texts push a page over the budget row by row.
  const options = { rowGroupSize: 3_000, rowGroupBytes: 400_000, statistics: false, compression: 'UNCOMPRESSED' as const };
  const encode = (add: (encoder: ReturnType<typeof createParquetEncoder>, from: number, to: number) => Iterable<Uint8Array>) => {
    const encoder = createParquetEncoder(withHash, options);
    const parts: Uint8Array[] = [encoder.start()];
    for (let i = 0; i < rows.length; i += 999) parts.push(...add(encoder, i, Math.min(rows.length, i + 999)));
    parts.push(...encoder.endParts());
    return Buffer.concat(parts);
  };
  const long = (i: number) => (i % 50 === 0 ? 'x'.repeat(2_000) : '');
  const rowsWithLong = rows.map((r, i) => [r[0]!, `${String(r[1] ?? '')}${long(i)}`, ...r.slice(2)]);
  const copied = encode((encoder, from, to) => encoder.pageParts(rowsWithLong.slice(from, to).map((r, k) => [...r, hashes[from + k]!])));
  const beside = encode((encoder, from, to) => encoder.pageParts(rowsWithLong.slice(from, to), hashes.slice(from, to)));
  t.true(beside.equals(copied), 'the same bytes');

  const file = join(await tempDir(), 'last.parquet');
  await writeFile(file, beside);
  const instance = await DuckDBInstance.create();
  const db = await instance.connect();
  const read = (await db.runAndReadAll(`SELECT _row_hash FROM read_parquet('${file}')`)).getRows().map((r) => r[0]);
  db.closeSync();
  t.deepEqual(read, hashes);
});
