import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { withEmulator } from '../../helpers/with-emulator.js';
import { FULL_CONTACT, exportFrom, tempDir } from '../helpers.js';
import { ROW_GROUP_ROWS, createParquetEncoder } from '../../../src/export/parquet.js';
import type { TypedColumn, TypedRow } from '../../../src/export/schema.js';

/** Every page header of every column chunk, read by hyparquet's own header parser (a reader nobody here wrote). */
function pageTypes(buffer: ArrayBuffer, metadata: FileMetaData): string[] {
  const view = new DataView(buffer);
  const types: string[] = [];
  for (const group of metadata.row_groups) {
    for (const column of group.columns) {
      const meta = column.meta_data!;
      const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
      const end = start + Number(meta.total_compressed_size);
      const reader = { view, offset: start };
      let values = 0;
      while (reader.offset < end) {
        const header = parquetHeader(reader);
        types.push(header.type);
        if (header.type === 'DATA_PAGE') values += header.data_page_header!.num_values;
        reader.offset += header.compressed_page_size;
      }
      if (reader.offset !== end) throw new Error(`pages of ${meta.path_in_schema.join('.')} overrun the chunk`);
      if (values !== Number(meta.num_values)) throw new Error(`pages of ${meta.path_in_schema.join('.')} hold ${values} values, the chunk says ${meta.num_values}`);
    }
  }
  return types;
}

async function parquetOf(bytes: Uint8Array[]): Promise<{ buffer: ArrayBuffer; file: string }> {
  const all = Buffer.concat(bytes);
  const file = join(await tempDir(), 'rows.parquet');
  await writeFile(file, all);
  return { buffer: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength), file };
}

const COLUMNS: TypedColumn[] = [
  { name: 'id', source: 'id', kind: 'string', nullable: false },
  { name: 'note', source: 'note', kind: 'string', nullable: true },
  { name: 'n', source: 'n', kind: 'integer', nullable: true },
  { name: 'tags', source: 'tags', kind: 'string_list', nullable: false },
];

function row(i: number, note: string | null): TypedRow {
  return [`c-${String(i).padStart(7, '0')}`, note, i % 7 === 0 ? null : BigInt(i), i % 3 === 0 ? [] : ['a', `t${i % 5}`]];
}

test('an export writes version 1 data pages (DATA_PAGE), dictionary pages first, no DATA_PAGE_V2; DuckDB reads the same file', async (t) => {
  await withEmulator({ seed: 7, seedRandom: 300 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    const out = join(await tempDir(), 'contacts.parquet');
    const stats = await exportFrom(emulator, { output: out, pageSize: 97, rowGroupSize: 120 });
    t.like(stats, { complete: true, rows: 301 });
    const bytes = await readFile(out);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const metadata = parquetMetadata(buffer);
    t.deepEqual(
      metadata.row_groups.map((g) => Number(g.num_rows)),
      [120, 120, 61],
    );
    const types = pageTypes(buffer, metadata);
    t.true(types.includes('DATA_PAGE'));
    t.true(types.includes('DICTIONARY_PAGE'), 'text columns are dictionary-encoded');
    t.deepEqual([...new Set(types)].sort(), ['DATA_PAGE', 'DICTIONARY_PAGE']);
    const stats0 = metadata.row_groups[0]!.columns.flatMap((c) => c.meta_data!.encoding_stats ?? []);
    t.false(stats0.some((s) => s.page_type === 'DATA_PAGE_V2'));

    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const counted = (await duck.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM read_parquet('${out}')`)).getRowObjectsJS();
    t.deepEqual(counted, [{ n: 301, ids: 301 }]);
    const groups = (await duck.runAndReadAll(`SELECT DISTINCT row_group_id::INTEGER AS g, row_group_num_rows::INTEGER AS n FROM parquet_metadata('${out}') ORDER BY g`)).getRowObjectsJS();
    t.deepEqual(groups, [
      { g: 0, n: 120 },
      { g: 1, n: 120 },
      { g: 2, n: 61 },
    ]);
    duck.closeSync();
  });
});

test(`row groups end at ${ROW_GROUP_ROWS.toLocaleString('en')} rows by default; every value reads back`, async (t) => {
  const encoder = createParquetEncoder(COLUMNS);
  const parts = [encoder.start()];
  const total = 2 * ROW_GROUP_ROWS + 1_234;
  const expected: TypedRow[] = [];
  for (let i = 0; i < total; i += 1000) {
    const rows: TypedRow[] = [];
    for (let j = i; j < Math.min(total, i + 1000); j += 1) rows.push(row(j, j % 11 === 0 ? null : `note ${j % 97}`));
    expected.push(...rows);
    parts.push(encoder.page(rows));
  }
  parts.push(encoder.end());
  const { buffer, file } = await parquetOf(parts);
  const metadata = parquetMetadata(buffer);
  t.deepEqual(
    metadata.row_groups.map((g) => Number(g.num_rows)),
    [ROW_GROUP_ROWS, ROW_GROUP_ROWS, 1_234],
  );
  t.deepEqual([...new Set(pageTypes(buffer, metadata))].sort(), ['DATA_PAGE', 'DICTIONARY_PAGE']);
  const id = metadata.row_groups[1]!.columns[0]!.meta_data!;
  t.is(id.statistics?.min_value, `c-${String(ROW_GROUP_ROWS).padStart(7, '0')}`);
  t.is(id.statistics?.max_value, `c-${String(2 * ROW_GROUP_ROWS - 1).padStart(7, '0')}`);
  // Every id is distinct: PLAIN pages, no dictionary; the note column (97 distinct values) has one.
  t.deepEqual(id.encoding_stats!.map((s) => `${s.page_type} ${s.encoding}`), ['DATA_PAGE PLAIN'], JSON.stringify(id.encoding_stats));
  const note = metadata.row_groups[1]!.columns[1]!.meta_data!;
  t.deepEqual(note.encoding_stats!.map((s) => `${s.page_type} ${s.encoding}`), ['DICTIONARY_PAGE PLAIN', 'DATA_PAGE RLE_DICTIONARY'], JSON.stringify(note.encoding_stats));

  const read = await parquetReadObjects({ file: buffer });
  t.is(read.length, total);
  for (const i of [0, 7, 11, 33, ROW_GROUP_ROWS - 1, ROW_GROUP_ROWS, total - 1]) {
    const [idValue, note, n, tags] = expected[i]!;
    t.deepEqual(read[i], { id: idValue, note, n, tags }, `row ${i}`);
  }
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const sums = (await duck.runAndReadAll(`SELECT count(*)::BIGINT AS n, sum(n)::BIGINT AS s, count(note)::BIGINT AS notes, sum(len(tags))::BIGINT AS tags FROM read_parquet('${file}')`)).getRowObjectsJS();
  let s = 0n;
  let notes = 0n;
  let tags = 0n;
  for (const r of expected) {
    if (r[2] !== null) s += r[2] as bigint;
    if (r[1] !== null) notes += 1n;
    tags += BigInt((r[3] as string[]).length);
  }
  t.deepEqual(sums, [{ n: BigInt(total), s, notes, tags }]);
  duck.closeSync();
});

test('a row group also ends when its pages pass the byte budget, before the row count', async (t) => {
  const budget = 1 << 20;
  const encoder = createParquetEncoder(COLUMNS, { rowGroupBytes: budget });
  const parts = [encoder.start()];
  const long = 'x'.repeat(1000);
  for (let i = 0; i < 6_000; i += 500) {
    const rows: TypedRow[] = [];
    for (let j = i; j < i + 500; j += 1) rows.push(row(j, `${long}${j}`));
    parts.push(encoder.page(rows));
  }
  parts.push(encoder.end());
  const { buffer, file } = await parquetOf(parts);
  const metadata = parquetMetadata(buffer);
  const groups = metadata.row_groups;
  t.true(groups.length >= 4, `${groups.length} row groups`);
  t.is(groups.reduce((sum, g) => sum + Number(g.num_rows), 0), 6_000);
  for (const group of groups.slice(0, -1)) {
    const size = Number(group.total_byte_size);
    t.true(size >= budget && size <= budget * 1.25, `a full group holds ${size} bytes uncompressed (budget ${budget})`);
  }
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const read = (await duck.runAndReadAll(`SELECT count(*)::INTEGER AS n, min(length(note))::INTEGER AS lo FROM read_parquet('${file}')`)).getRowObjectsJS();
  t.deepEqual(read, [{ n: 6_000, lo: 1001 }]);
  // Every row once, in order, whole: a batch that would pass a page's byte limit is taken back and admitted row by row.
  const rows = await parquetReadObjects({ file: buffer });
  const wrong = rows.findIndex((r, i) => r.note !== `${long}${i}` || r.id !== row(i, '')[0]);
  t.is(wrong, -1, `row ${wrong}: ${JSON.stringify(rows[wrong])?.slice(0, 80)}`);
  duck.closeSync();
});

test('string min/max follow UTF-8 byte order (a character above U+FFFF sorts after U+FFFD, unlike JavaScript\'s <)', async (t) => {
  const encoder = createParquetEncoder(COLUMNS);
  const notes = ['\u{1F600} grin', '\uFFFD replacement', 'plain', null];
  const parts = [encoder.start(), encoder.page(notes.map((note, i) => row(i, note))), encoder.end()];
  const { buffer, file } = await parquetOf(parts);
  const note = parquetMetadata(buffer).row_groups[0]!.columns[1]!.meta_data!.statistics!;
  t.is(note.min_value, 'plain');
  t.is(note.max_value, '\u{1F600} grin');
  t.is(note.null_count, 1n);
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const [bounds] = (await duck.runAndReadAll(`SELECT stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata('${file}') WHERE path_in_schema = 'note'`)).getRowObjectsJS();
  t.deepEqual(bounds, { lo: 'plain', hi: '\u{1F600} grin' });
  duck.closeSync();
});
