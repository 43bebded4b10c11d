import { ByteWriter } from 'hyparquet-writer';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { schemaPathResolver } from 'hyparquet-writer/src/schema.js';
import { ColumnChunkBuilder, createCompressor, MemoryPages, SpilledPages, type FileMetaData, type RowGroup, type SchemaTree } from './parquet-chunk.js';
import { ROW_GROUP_BYTES, ROW_GROUP_ROWS } from './parquet-layout.js';

/**
 * hyparquet-writer's thrift encoder cannot tell an empty list's element type
 * and writes none; arrow-rs (the Rust Parquet reader, also behind DataFusion
 * and delta-rs) refuses a footer whose `row_groups` is not a list of structs,
 * so a file of 0 rows (a night with no changes) did not open there ("Expected
 * list element type of Struct but got Byte"). The footer just written from
 * `start` is compared with the same footer holding one empty row group: the
 * first byte that differs is the list header (its size), which becomes
 * "0 elements of type struct" (0x0C), as DuckDB and Arrow write it.
 */
function markEmptyRowGroups(writer: ByteWriter, start: number, metadata: FileMetaData): void {
  const other = new ByteWriter(1 << 12);
  writeMetadata(other, { ...metadata, row_groups: [{ columns: [], total_byte_size: 0n, num_rows: 0n }] } as FileMetaData, STATISTICS_TRUNCATE);
  const written = new Uint8Array(writer.buffer, start, writer.index - start);
  const one = new Uint8Array(other.buffer, 0, other.index);
  let at = 0;
  while (at < written.length && written[at] === one[at]) at += 1;
  // The byte before is the field header (id +1 after num_rows, type LIST: 0x19); this one holds size 0 in its high bits.
  if (written[at - 1] !== 0x19 || (written[at]! & 0xf0) !== 0) throw new Error('parquet footer: the empty row group list was not where it was expected');
  written[at] = 0x0c;
}
import { DECIMAL_PRECISION, DECIMAL_SCALE, type TypedColumn, type TypedRow, type TypedValue } from './schema.js';

/**
 * Parquet through hyparquet-writer's encoders (pure JavaScript, runs on Node
 * 20), with version 1 data pages assembled in parquet-chunk.ts. Rows are
 * encoded a page at a time and the compressed pages held until the row group
 * is written: a row group ends at ROW_GROUP_ROWS rows (DuckDB's default) or
 * once its pages reach ROW_GROUP_BYTES uncompressed, whichever comes first. A
 * page holds PAGE_ROWS rows or about PAGE_BYTES of values (an eighth of the
 * row group's budget when that is smaller, so a group overshoots it by little),
 * and also ends with the rows given to one call once it holds PAGE_FLUSH_ROWS:
 * the export gives an API page of contacts (999 by default) at a time, so its
 * rows are encoded before the next page is fetched and die young; kept
 * across fetches they outlived the young generation's collections, were
 * copied to the old one and cost major collections (issue 19: a fifth of the
 * Parquet run's extra CPU was the collector).
 */
export { ROW_GROUP_BYTES, ROW_GROUP_ROWS };
const PAGE_ROWS = 4_096;
const PAGE_FLUSH_ROWS = 512;
const PAGE_BYTES = 8 * 1024 * 1024;

/**
 * Min/max statistics for every scalar column, strings included (readers prune
 * row groups on them, e.g. a name or email range); string bounds are cut to
 * STATISTICS_TRUNCATE bytes (the max rounded up), so a long value cannot bloat
 * the footer. Lists have none.
 */
const STATISTICS: ReadonlySet<TypedColumn['kind']> = new Set(['string', 'integer', 'decimal', 'boolean', 'date', 'timestamp']);
const STATISTICS_TRUNCATE = 64;

type SchemaElement = FileMetaData['schema'][number];

function schemaElements(columns: readonly TypedColumn[]): SchemaElement[] {
  const elements: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const column of columns) {
    const repetition_type = column.nullable ? 'OPTIONAL' : 'REQUIRED';
    const name = column.name;
    switch (column.kind) {
      case 'string':
        elements.push({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type });
        break;
      case 'string_list':
        elements.push(
          { name, repetition_type: 'REQUIRED', converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
          { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
          { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'REQUIRED' },
        );
        break;
      case 'integer':
        elements.push({ name, type: 'INT64', repetition_type });
        break;
      case 'decimal':
        elements.push({
          name,
          type: 'FIXED_LEN_BYTE_ARRAY',
          type_length: 16,
          converted_type: 'DECIMAL',
          precision: DECIMAL_PRECISION,
          scale: DECIMAL_SCALE,
          logical_type: { type: 'DECIMAL', precision: DECIMAL_PRECISION, scale: DECIMAL_SCALE },
          repetition_type,
        });
        break;
      case 'boolean':
        elements.push({ name, type: 'BOOLEAN', repetition_type });
        break;
      case 'date':
        elements.push({ name, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' }, repetition_type });
        break;
      case 'timestamp':
        // The ConvertedType beside the logical type, as the format asks writers to add for readers that predate logical types.
        elements.push({ name, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type });
        break;
      case 'id_list':
        elements.push(...idListElements(name, column.fields!));
        break;
    }
  }
  return elements;
}

/** An id list as LIST<STRUCT<id REQUIRED, label OPTIONAL>> (the three-level list of the format's LogicalTypes.md). */
function idListElements(name: string, [id, label]: readonly [string, string]): SchemaElement[] {
  const text = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const;
  return [
    { name, repetition_type: 'REQUIRED', converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'REQUIRED', num_children: 2 },
    { name: id, ...text, repetition_type: 'REQUIRED' },
    { name: label, ...text, repetition_type: 'OPTIONAL' },
  ];
}

export interface ParquetEncoder {
  /** The leading magic bytes. */
  start(): Uint8Array;
  /** Takes typed rows; returns the bytes of any row group this completed (often none). */
  page(rows: readonly TypedRow[]): Uint8Array;
  /** The last row group and the footer. */
  end(): Uint8Array;
  /**
   * page() as the row groups' pieces in file order, not copied into one array
   * (a row group is megabytes: the export writes the pieces). With `spill`
   * the pieces are read from the scratch file as they are taken: take them
   * all before the next call. `last`: the last column's values, one per row,
   * when the rows do not hold them (DuckDB's staging file adds each row's
   * hash this way instead of copying every row into a longer array).
   */
  pageParts(rows: readonly TypedRow[], last?: readonly TypedValue[]): Iterable<Uint8Array>;
  /** end() as pieces in file order. */
  endParts(): Iterable<Uint8Array>;
  /** Closes the page scratch file (`spill`); the pieces already returned stay valid. */
  close(): void;
}

const joined = (pieces: Iterable<Uint8Array>): Uint8Array => {
  const parts = [...pieces];
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
};

function leaves(tree: SchemaTree[]): SchemaTree[][] {
  const node = tree.at(-1)!;
  return node.children.length === 0 ? [tree] : node.children.flatMap((child) => leaves([...tree, child]));
}

/**
 * A rough size of a value in memory-to-be-encoded, to end a page before its
 * values grow large: text is its length and 4, a list 4 and each entry's
 * (64 for an id-list entry), anything else (a number, a bigint, null) 8.
 */
function valueSize(value: TypedValue): number {
  if (typeof value === 'string') return value.length + 4;
  if (Array.isArray(value)) {
    let size = 4;
    for (const entry of value) size += typeof entry === 'string' ? entry.length + 4 : 64;
    return size;
  }
  return 8;
}

/** Kinds whose values are never text or lists: each counts 8 in valueSize, whatever the row. */
const FIXED_SIZE: ReadonlySet<TypedColumn['kind']> = new Set(['integer', 'decimal', 'boolean', 'date', 'timestamp']);

/**
 * `statistics: false` for a file only this tool reads once (DuckDB's staging
 * file): no min/max to compute. `rowGroupSize` and `rowGroupBytes` override
 * ROW_GROUP_ROWS and ROW_GROUP_BYTES. `spill`: a path for a scratch file
 * that holds a row group's compressed pages until the group is written
 * (SpilledPages), instead of memory; close() the encoder when done.
 * `compression: 'UNCOMPRESSED'` writes the pages as they are (the staging
 * file again); snappy otherwise.
 */
export function createParquetEncoder(columns: readonly TypedColumn[], options: { rowGroupSize?: number; rowGroupBytes?: number; statistics?: boolean; spill?: string; compression?: 'SNAPPY' | 'UNCOMPRESSED' } = {}): ParquetEncoder {
  const withStatistics = options.statistics ?? true;
  const groupRows = options.rowGroupSize ?? ROW_GROUP_ROWS;
  const groupBytesLimit = options.rowGroupBytes ?? ROW_GROUP_BYTES;
  const pageBytesLimit = Math.min(PAGE_BYTES, Math.ceil(groupBytesLimit / 8));
  const schema = schemaElements(columns);
  const resolve = schemaPathResolver(schema);
  const store = options.spill === undefined ? new MemoryPages() : new SpilledPages(options.spill);
  const compress = createCompressor(options.compression);
  const builders = columns.map((column) => {
    const flat = column.kind !== 'string_list' && column.kind !== 'id_list';
    return leaves(resolve([column.name])).map((path) => new ColumnChunkBuilder(path, withStatistics && flat && STATISTICS.has(column.kind), store, compress));
  });
  const writer = new ByteWriter(1 << 16);
  const rowGroups: RowGroup[] = [];
  let numRows = 0n;
  // The pending page, column by column (rows are copied into it as the page takes them, then dropped).
  let pending: unknown[][] = columns.map(() => []);
  let pendingRows = 0;
  let pendingBytes = 0;
  let groupCount = 0;
  let groupBytes = 0;
  // Fixed-size columns add the same to every row's estimate; only text and lists are measured.
  const texts = columns.flatMap((column, i) => (column.kind === 'string' ? [i] : []));
  const lists = columns.flatMap((column, i) => (FIXED_SIZE.has(column.kind) || column.kind === 'string' ? [] : [i]));
  const fixedRowBytes = 8 * (columns.length - texts.length - lists.length);
  /** Whether measure() counts the last column among texts or lists (then `last`'s values replace the 8 it counts for the missing cell). */
  const lastMeasured = columns.length > 0 && (texts.includes(columns.length - 1) || lists.includes(columns.length - 1));

  const take = (): Uint8Array => {
    const bytes = new Uint8Array(writer.buffer.slice(0, writer.index));
    writer.index = 0;
    return bytes;
  };
  /** Copies rows[from, to) into the pending page, a column at a time (the last column's values from `last` when given). */
  const admit = (rows: readonly TypedRow[], from: number, to: number, last: readonly TypedValue[] | undefined) => {
    if (from === to) return;
    /** The column whose values come from `last` (none without it). */
    const fromLast = last === undefined ? -1 : columns.length - 1;
    for (let i = 0; i < columns.length; i += 1) {
      let values = pending[i]!;
      // An empty page takes the rows into an array of their size (grown by push, its copies were most of the encoder's garbage).
      if (i === fromLast) {
        if (values.length === 0) pending[i] = last!.slice(from, to);
        else for (let r = from; r < to; r += 1) values.push(last![r]);
      } else if (values.length === 0) {
        values = pending[i] = new Array<unknown>(to - from);
        for (let r = from; r < to; r += 1) values[r - from] = rows[r]![i];
      } else for (let r = from; r < to; r += 1) values.push(rows[r]![i]);
    }
  };
  const encodePage = () => {
    if (pendingRows === 0) return;
    for (let i = 0; i < columns.length; i += 1) {
      const values = pending[i]!;
      for (const builder of builders[i]!) groupBytes += builder.addPage(values);
    }
    groupCount += pendingRows;
    pending = columns.map(() => []);
    pendingRows = 0;
    pendingBytes = 0;
  };
  /** Returns the row group's bytes as the column chunks' pieces, in file order, taken lazily (none when no row is pending); its metadata is recorded now. */
  const writeGroup = (): Iterable<Uint8Array> => {
    encodePage();
    if (groupCount === 0) return [];
    const start = writer.offset;
    let offset = start;
    const chunks = builders.flat().map((builder) => {
      const written = builder.write(offset);
      offset += written.length;
      return written;
    });
    const taken = store.endGroup();
    let totalByteSize = 0n;
    for (const { uncompressed } of chunks) totalByteSize += uncompressed;
    writer.offset = offset;
    rowGroups.push({ columns: chunks.map(({ chunk }) => chunk), num_rows: BigInt(groupCount), total_byte_size: totalByteSize, total_compressed_size: BigInt(offset - start) });
    numRows += BigInt(groupCount);
    groupCount = 0;
    groupBytes = 0;
    return (function* () {
      for (const { parts, pages } of chunks) {
        yield* parts;
        yield* pages;
      }
      taken();
    })();
  };
  /**
   * The size estimate (valueSize) of rows[from, to), a row at a time: each
   * row's array is read once for all its measured columns (a column at a time
   * read every row's array once per column, twice the time in a
   * micro-benchmark of 300,000 rows: 18-20 ms against 39-40 ms).
   */
  const measure = (rows: readonly TypedRow[], from: number, to: number, last: readonly TypedValue[] | undefined): number => {
    let bytes = fixedRowBytes * (to - from);
    // The last column's values from `last`: the rows' arrays end before it, so the loop below counts it as a null (8); a fixed-size kind is in fixedRowBytes already.
    if (last !== undefined && lastMeasured) for (let r = from; r < to; r += 1) bytes += valueSize(last[r]!) - 8;
    const textCount = texts.length;
    const listCount = lists.length;
    for (let r = from; r < to; r += 1) {
      const row = rows[r]!;
      // A text column holds text or null (valueSize: its length and 4, or 8).
      for (let m = 0; m < textCount; m += 1) {
        const value = row[texts[m]!];
        bytes += typeof value === 'string' ? value.length + 4 : 8;
      }
      for (let m = 0; m < listCount; m += 1) bytes += valueSize(row[lists[m]!]!);
    }
    return bytes;
  };
  /** After the rows up to here are admitted: ends the row group or the page if one is full. */
  const boundary = (groups: Iterable<Uint8Array>[]): boolean => {
    if (groupCount + pendingRows >= groupRows) {
      groups.push(writeGroup());
      return true;
    }
    if (pendingRows >= PAGE_ROWS || pendingBytes >= pageBytesLimit) {
      encodePage();
      if (groupBytes >= groupBytesLimit) groups.push(writeGroup());
      return true;
    }
    return false;
  };
  const pageParts = (rows: readonly TypedRow[], last?: readonly TypedValue[]): Iterable<Uint8Array> => {
    const groups: Iterable<Uint8Array>[] = [];
    let from = 0;
    while (from < rows.length) {
      // The rows up to the next row-count boundary: when their sizes cannot reach the byte limit, they are taken together.
      const to = Math.min(rows.length, from + Math.min(groupRows - groupCount - pendingRows, PAGE_ROWS - pendingRows));
      const bytes = measure(rows, from, to, last);
      if (pendingBytes + bytes < pageBytesLimit) {
        pendingRows += to - from;
        pendingBytes += bytes;
        admit(rows, from, to, last);
        from = to;
        boundary(groups);
        continue;
      }
      // The byte limit falls among them: row by row up to it.
      for (let r = from; r < to; r += 1) {
        pendingRows += 1;
        pendingBytes += measure(rows, r, r + 1, last);
        if (r === to - 1 || groupCount + pendingRows >= groupRows || pendingRows >= PAGE_ROWS || pendingBytes >= pageBytesLimit) {
          admit(rows, from, r + 1, last);
          from = r + 1;
          if (boundary(groups)) break;
        }
      }
    }
    if (pendingRows >= PAGE_FLUSH_ROWS) {
      encodePage();
      if (groupBytes >= groupBytesLimit) groups.push(writeGroup());
    }
    if (groups.length <= 1) return groups[0] ?? [];
    return (function* () {
      for (const group of groups) yield* group;
    })();
  };
  const endParts = (): Iterable<Uint8Array> => {
    const group = writeGroup();
    const metadata = { version: 1, created_by: 'pylon-contacts (hyparquet-writer encoders)', schema, num_rows: numRows, row_groups: rowGroups } as Omit<FileMetaData, 'metadata_length'>;
    const footerStart = writer.index;
    writeMetadata(writer, metadata as FileMetaData, STATISTICS_TRUNCATE);
    if (rowGroups.length === 0) markEmptyRowGroups(writer, footerStart, metadata as FileMetaData);
    writer.appendUint32(0x31524150);
    const footer = take();
    return (function* () {
      yield* group;
      yield footer;
    })();
  };
  return {
    start() {
      writer.appendUint32(0x31524150); // PAR1
      return take();
    },
    pageParts,
    endParts,
    page: (rows) => joined(pageParts(rows)),
    end: () => joined(endParts()),
    close: () => store.close(),
  };
}
