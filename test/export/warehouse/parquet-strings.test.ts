import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { tempDir } from '../helpers.js';
import { createParquetEncoder } from '../../../src/export/parquet.js';
import type { TypedColumn, TypedRow } from '../../../src/export/schema.js';

// PLAIN text is written a page at a time (parquet-chunk.ts writePlainStrings):
// a page whose values are all ASCII is joined, written once and moved apart
// (short values by a loop, long ones by copyWithin); a page with any other
// character is written value by value. Pages end with the rows of a call once
// they hold 512. Every value is read back by DuckDB and by hyparquet.

const COLUMNS: TypedColumn[] = [
  { name: 'id', source: 'id', kind: 'string', nullable: false },
  { name: 'text', source: 'text', kind: 'string', nullable: true },
  { name: 'tags', source: 'tags', kind: 'string_list', nullable: false },
];

/** Distinct values (PLAIN pages): lengths 0 to ~300, ASCII unless `other` puts a non-ASCII character in. */
function rows(from: number, count: number, other: (i: number) => boolean): TypedRow[] {
  const out: TypedRow[] = [];
  for (let i = from; i < from + count; i += 1) {
    const body = 'x'.repeat((i * 37) % 300);
    const text = i % 10 === 0 ? null : i % 17 === 0 ? '' : `${other(i) ? 'é\u{1F600}' : ''}${i}:${body}`;
    out.push([`id-${i}-${'k'.repeat(i % 40)}`, text, i % 4 === 0 ? [] : [`t${i}`, `u${i}-${body.slice(0, 50)}`]]);
  }
  return out;
}

async function readBoth(t: import('ava').ExecutionContext, expected: TypedRow[], bytes: Uint8Array[]): Promise<ArrayBuffer> {
  const all = Buffer.concat(bytes);
  const file = join(await tempDir(), 'strings.parquet');
  await writeFile(file, all);
  const buffer = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const read = await parquetReadObjects({ file: buffer });
  t.is(read.length, expected.length);
  t.deepEqual(
    read.map((r) => [r.id, r.text, r.tags]),
    expected,
    'hyparquet reads every value back',
  );
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const got = (await duck.runAndReadAll(`SELECT id, text, tags FROM read_parquet('${file}')`)).getRowObjectsJS();
  duck.closeSync();
  t.deepEqual(
    got.map((r) => [r.id, r.text, r.tags]),
    expected,
    'DuckDB reads every value back',
  );
  return buffer;
}

test('ASCII pages (joined and moved apart), pages with other characters (value by value) and mixed row groups read back in DuckDB and hyparquet', async (t) => {
  const encoder = createParquetEncoder(COLUMNS, { rowGroupSize: 3_000 });
  const parts = [encoder.start()];
  const expected: TypedRow[] = [];
  // Calls of 999, 300 and 1 rows: all ASCII, then one non-ASCII value a call, then every value non-ASCII.
  const plans: Array<[number, (i: number) => boolean]> = [
    [999, () => false],
    [999, (i) => i % 999 === 500],
    [300, () => false],
    [1, () => false],
    [999, () => true],
    [999, () => false],
  ];
  let next = 0;
  for (const [count, other] of plans) {
    const batch = rows(next, count, other);
    next += count;
    expected.push(...batch);
    parts.push(encoder.page(batch));
  }
  parts.push(encoder.end());
  const buffer = await readBoth(t, expected, parts);
  const metadata = parquetMetadata(buffer);
  t.deepEqual(
    metadata.row_groups.map((g) => Number(g.num_rows)),
    [3_000, 1_297],
  );
  // The text column's bounds are its values' UTF-8 order, whichever path wrote them.
  const text = metadata.row_groups[1]!.columns[1]!.meta_data!.statistics!;
  const inGroup = expected.slice(3_000).map((r) => r[1]).filter((v): v is string => v !== null);
  const sorted = inGroup.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  t.is(text.min_value, sorted[0]);
  // The max is cut to 64 bytes and its last byte raised (an upper bound): every value sorts at or below it, and it starts as the largest does.
  const max = Buffer.from(text.max_value as string);
  const largest = Buffer.from(sorted.at(-1)!);
  t.true(inGroup.every((v) => Buffer.compare(Buffer.from(v), max) <= 0), 'max bounds every value');
  t.true(max.subarray(0, max.length - 1).equals(largest.subarray(0, max.length - 1)), 'max is the largest value, cut');
});

test('a page ends with a call of at least 512 rows; smaller calls gather into one page', async (t) => {
  const pageCounts = async (sizes: number[]) => {
    const encoder = createParquetEncoder(COLUMNS);
    const parts = [encoder.start()];
    const expected: TypedRow[] = [];
    let next = 0;
    for (const size of sizes) {
      const batch = rows(next, size, (i) => i % 7 === 0);
      next += size;
      expected.push(...batch);
      parts.push(encoder.page(batch));
    }
    parts.push(encoder.end());
    const buffer = await readBoth(t, expected, parts);
    const id = parquetMetadata(buffer).row_groups[0]!.columns[0]!.meta_data!;
    return id.encoding_stats!.reduce((sum, s) => sum + (s.page_type === 'DATA_PAGE' ? s.count : 0), 0);
  };
  t.is(await pageCounts([999, 999, 999]), 3, 'one page per call of 999 rows');
  t.is(await pageCounts([100, 100, 100, 100, 100, 100, 100]), 2, '700 rows in calls of 100: a page of 600 at the first call that brings 512, then one of 100 at the end');
  t.is(await pageCounts([5_000]), 2, 'a call of 5,000 rows: a page of 4,096, then the rest');
});
