import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { encodeNestedValues } from 'hyparquet-writer/src/dremel.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { writePlain } from 'hyparquet-writer/src/plain.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { unconvert } from 'hyparquet-writer/src/unconvert.js';
import type { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import type { schemaPathResolver } from 'hyparquet-writer/src/schema.js';

// The format's types as hyparquet-writer declares them (its own hyparquet, which may differ from the dev dependency's).
type FileMetaData = Parameters<typeof writeMetadata>[1];
export type RowGroup = FileMetaData['row_groups'][number];
type ColumnChunk = RowGroup['columns'][number];
type ColumnMetaData = NonNullable<ColumnChunk['meta_data']>;
type Encoding = ColumnMetaData['encodings'][number];
type PageEncodingStats = NonNullable<ColumnMetaData['encoding_stats']>[number];
export type SchemaTree = ReturnType<ReturnType<typeof schemaPathResolver>>[number];
type SchemaElement = SchemaTree['element'];
export type { FileMetaData };

/**
 * One leaf column of one row group, written as version 1 data pages
 * (`DATA_PAGE`: levels and values compressed together, each level run
 * prefixed by its byte length), the page kind every Parquet reader accepts;
 * hyparquet-writer 0.17 writes only version 2 pages, so this file assembles
 * the pages itself from that library's encoders (levels, PLAIN values,
 * snappy, thrift page headers).
 *
 * Pages are encoded as they arrive and kept compressed until the row group is
 * written, so memory holds the row group's compressed bytes and one page of
 * values, not the row group's values. Text columns are dictionary-encoded
 * until their distinct values pass DICTIONARY_LIMIT bytes; later pages of that
 * chunk are PLAIN (as Arrow and DuckDB do). A chunk whose first page has more
 * distinct values than half its values is PLAIN throughout.
 */
export const DICTIONARY_LIMIT = 1 << 20;

function bitWidth(max: number): number {
  return max === 0 ? 0 : 32 - Math.clz32(max);
}

/** UTF-8 byte order (code point order), which the format asks of BYTE_ARRAY min/max; JavaScript's `<` orders UTF-16 units. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i < length && a.charCodeAt(i) === b.charCodeAt(i)) i += 1;
  if (i === length) return a.length - b.length;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  const xs = x >= 0xd800 && x <= 0xdfff;
  const ys = y >= 0xd800 && y <= 0xdfff;
  // A surrogate stands for a code point above U+FFFF, above every other unit.
  if (xs !== ys) return xs ? 1 : -1;
  return x - y;
}

function compareScalar(a: unknown, b: unknown): number {
  if (typeof a === 'string') return compareUtf8(a, b as string);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/**
 * PLAIN BYTE_ARRAY values (4-byte length, UTF-8 bytes) written straight into
 * the writer's buffer: one bound check and one Buffer view per page instead of
 * a Uint8Array per value.
 */
function writePlainStrings(writer: ByteWriter, values: readonly unknown[]): void {
  let bound = 0;
  for (const value of values) bound += 4 + 3 * (value as string).length;
  writer.ensure(bound);
  const buffer = Buffer.from(writer.buffer, 0, writer.buffer.byteLength);
  let at = writer.index;
  for (const value of values) {
    const length = buffer.write(value as string, at + 4, 'utf8');
    buffer.writeUInt32LE(length, at);
    at += 4 + length;
  }
  writer.offset += at - writer.index;
  writer.index = at;
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A page header and its (compressed) body, as two parts, and the page's uncompressed size (header included), as the column metadata counts it. */
function framePage(header: Parameters<typeof writePageHeader>[1], body: Uint8Array, uncompressedBody: number): { parts: [Uint8Array, Uint8Array]; length: number; uncompressed: number } {
  const head = new ByteWriter(64);
  writePageHeader(head, header);
  const headBytes = head.getBytes();
  return { parts: [headBytes, body], length: headBytes.length + body.length, uncompressed: headBytes.length + uncompressedBody };
}

/**
 * Scratch buffers reused by every page (encoding is synchronous and nothing
 * keeps a view of them: snappy copies its input into a new array), so a page
 * allocates its compressed bytes and little else.
 */
const scratch = { body: new ByteWriter(1 << 18), levels: new ByteWriter(1 << 16) };

function cleared(writer: ByteWriter): ByteWriter {
  writer.index = 0;
  writer.offset = 0;
  return writer;
}

function written(writer: ByteWriter): Uint8Array {
  return new Uint8Array(writer.buffer, 0, writer.index);
}

export class ColumnChunkBuilder {
  private readonly element: SchemaElement;
  private readonly maxRepetition: number;
  private pages: Uint8Array[] = [];
  private compressedBytes = 0;
  private uncompressedBytes = 0;
  private numValues = 0;
  private dictionary: Map<string, number> | undefined;
  private dictionaryValues: string[] = [];
  private dictionaryBytes = 0;
  private dictionaryPages = 0;
  private plainPages = 0;
  private min: unknown;
  private max: unknown;
  private nullCount = 0n;

  /** `path`: the schema tree from the root to this leaf; `statistics`: keep min/max and the null count (flat scalar columns). */
  constructor(
    private readonly path: SchemaTree[],
    private readonly statistics: boolean,
  ) {
    this.element = path.at(-1)!.element;
    this.maxRepetition = path.filter((node) => node.element.repetition_type === 'REPEATED').length;
    this.dictionary = this.element.type === 'BYTE_ARRAY' ? new Map() : undefined;
  }

  /** Encodes one page from the top-level column values of a run of rows; returns the bytes it adds to the chunk uncompressed (the page, and what it added to the dictionary). */
  addPage(rows: readonly unknown[]): number {
    const dictionaryBefore = this.dictionaryBytes;
    const { values, definitionLevels, repetitionLevels, maxDefinitionLevel } = encodeNestedValues(this.path, rows as unknown[]);
    let present = values as unknown[];
    if (maxDefinitionLevel > 0) {
      present = [];
      for (let i = 0; i < values.length; i += 1) {
        const value: unknown = values[i];
        if (value !== null && value !== undefined) present.push(value);
      }
    }
    if (this.statistics) this.observe(present, values.length - present.length);

    const body = cleared(scratch.body);
    if (this.maxRepetition > 0) this.writeLevels(body, repetitionLevels, this.maxRepetition);
    if (maxDefinitionLevel > 0) this.writeLevels(body, definitionLevels, maxDefinitionLevel);
    const encoding = this.writeValues(body, present);
    const raw = written(body);
    const compressed = snappyCompress(raw);
    const numValues = definitionLevels.length || values.length;
    const page = framePage(
      {
        type: 'DATA_PAGE',
        uncompressed_page_size: raw.length,
        compressed_page_size: compressed.length,
        data_page_header: { num_values: numValues, encoding, definition_level_encoding: 'RLE', repetition_level_encoding: 'RLE' },
      },
      compressed,
      raw.length,
    );
    this.pages.push(...page.parts);
    this.compressedBytes += page.length;
    this.uncompressedBytes += page.uncompressed;
    this.numValues += numValues;
    return page.uncompressed + this.dictionaryBytes - dictionaryBefore;
  }

  /** Version 1 levels: the RLE/bit-packed hybrid run, prefixed by its length in 4 bytes. */
  private writeLevels(body: ByteWriter, levels: number[], max: number): void {
    const run = cleared(scratch.levels);
    writeRleBitPackedHybrid(run, levels, bitWidth(max));
    body.appendUint32(run.index);
    body.appendBytes(written(run));
  }

  private writeValues(body: ByteWriter, present: unknown[]): Encoding {
    // The chunk's first page decides: mostly distinct values (ids, emails, names) are PLAIN from the start, with no dictionary to build or hold.
    if (this.dictionary && this.dictionaryValues.length === 0 && new Set(present).size > present.length / 2) this.dictionary = undefined;
    if (this.dictionary) {
      const indexes = new Array<number>(present.length);
      let maxIndex = 0;
      for (let i = 0; i < present.length; i += 1) {
        const value = present[i] as string;
        let index = this.dictionary.get(value);
        if (index === undefined) {
          index = this.dictionaryValues.length;
          this.dictionary.set(value, index);
          this.dictionaryValues.push(value);
          this.dictionaryBytes += 4 + Buffer.byteLength(value);
        }
        indexes[i] = index;
        if (index > maxIndex) maxIndex = index;
      }
      const width = bitWidth(maxIndex);
      body.appendUint8(width);
      writeRleBitPackedHybrid(body, indexes, width);
      this.dictionaryPages += 1;
      // Too many distinct values to pay off: the dictionary stops growing and later pages are PLAIN.
      if (this.dictionaryBytes > DICTIONARY_LIMIT) this.dictionary = undefined;
      return 'RLE_DICTIONARY';
    }
    if (this.element.type === 'BYTE_ARRAY') writePlainStrings(body, present);
    else writePlain(body, unconvert(this.element, present), this.element.type!, this.element.type_length);
    this.plainPages += 1;
    return 'PLAIN';
  }

  private observe(present: readonly unknown[], nulls: number): void {
    this.nullCount += BigInt(nulls);
    for (const value of present) {
      if (this.min === undefined || compareScalar(value, this.min) < 0) this.min = value;
      if (this.max === undefined || compareScalar(value, this.max) > 0) this.max = value;
    }
  }

  /** The chunk's bytes (dictionary page, then data pages) when it starts at `fileOffset`, and its metadata. The builder is empty afterwards. */
  write(fileOffset: number): { parts: Uint8Array[]; length: number; chunk: ColumnChunk; uncompressed: bigint } {
    const parts: Uint8Array[] = [];
    let offset = fileOffset;
    let uncompressed = this.uncompressedBytes;
    let dictionaryPageOffset: bigint | undefined;
    const encodings = new Set<Encoding>();
    const encodingStats: PageEncodingStats[] = [];
    if (this.dictionaryPages > 0) {
      dictionaryPageOffset = BigInt(offset);
      const plain = cleared(scratch.body);
      writePlainStrings(plain, this.dictionaryValues);
      const raw = written(plain);
      const compressed = snappyCompress(raw);
      const page = framePage(
        { type: 'DICTIONARY_PAGE', uncompressed_page_size: raw.length, compressed_page_size: compressed.length, dictionary_page_header: { num_values: this.dictionaryValues.length, encoding: 'PLAIN' } },
        compressed,
        raw.length,
      );
      parts.push(...page.parts);
      offset += page.length;
      uncompressed += page.uncompressed;
      encodings.add('PLAIN').add('RLE_DICTIONARY');
      encodingStats.push({ page_type: 'DICTIONARY_PAGE', encoding: 'PLAIN', count: 1 }, { page_type: 'DATA_PAGE', encoding: 'RLE_DICTIONARY', count: this.dictionaryPages });
    }
    if (this.plainPages > 0) {
      encodings.add('PLAIN');
      encodingStats.push({ page_type: 'DATA_PAGE', encoding: 'PLAIN', count: this.plainPages });
    }
    if (this.maxRepetition > 0 || this.element.repetition_type !== 'REQUIRED' || this.path.length > 2) encodings.add('RLE');
    const dataPageOffset = BigInt(offset);
    parts.push(...this.pages);
    offset += this.compressedBytes;
    const chunk: ColumnChunk = {
      file_offset: BigInt(fileOffset),
      meta_data: {
        type: this.element.type!,
        encodings: [...encodings],
        path_in_schema: this.path.slice(1).map((node) => node.element.name),
        codec: 'SNAPPY',
        num_values: BigInt(this.numValues),
        total_uncompressed_size: BigInt(uncompressed),
        total_compressed_size: BigInt(offset - fileOffset),
        data_page_offset: dataPageOffset,
        dictionary_page_offset: dictionaryPageOffset,
        encoding_stats: encodingStats,
        statistics: this.statistics ? { null_count: this.nullCount, min_value: this.min as never, max_value: this.max as never } : undefined,
      },
    };
    this.reset();
    return { parts, length: offset - fileOffset, chunk, uncompressed: BigInt(uncompressed) };
  }

  private reset(): void {
    this.pages = [];
    this.compressedBytes = 0;
    this.uncompressedBytes = 0;
    this.numValues = 0;
    this.dictionary = this.element.type === 'BYTE_ARRAY' ? new Map() : undefined;
    this.dictionaryValues = [];
    this.dictionaryBytes = 0;
    this.dictionaryPages = 0;
    this.plainPages = 0;
    this.min = undefined;
    this.max = undefined;
    this.nullCount = 0n;
  }
}
