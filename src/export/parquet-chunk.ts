import { closeSync, openSync, readSync, rmSync, unlinkSync, writevSync } from 'node:fs';
import { ByteWriter } from 'hyparquet-writer';
import { outputWriteError } from '../output/output-file.js';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { encodeNestedValues } from 'hyparquet-writer/src/dremel.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { snappyCompressor } from 'hysnappy';
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

/**
 * compareUtf8(a, b) < 0, settled by the first units when they differ and
 * neither is a surrogate or above (the usual case: one comparison, no loop).
 */
function lessUtf8(a: string, b: string): boolean {
  const x = a.charCodeAt(0);
  const y = b.charCodeAt(0);
  if (x !== y && x < 0xd800 && y < 0xd800) return x < y;
  return compareUtf8(a, b) < 0;
}

/** Below this many bytes a value is moved by a loop, above it by copyWithin (a call into the engine). */
const SHORT_MOVE = 32;

/**
 * PLAIN BYTE_ARRAY values (4-byte length, UTF-8 bytes) written straight into
 * the writer's buffer. The page's values are joined and written with one
 * call; when that wrote one byte per character (every value is ASCII), each
 * value's length is its character count, so the values are moved apart from
 * the last to the first to make room for their lengths. Otherwise they are
 * written one by one over it.
 */
function writePlainStrings(writer: ByteWriter, values: readonly unknown[]): void {
  const count = values.length;
  let bound = 0;
  for (let i = 0; i < count; i += 1) bound += 4 + 3 * (values[i] as string).length;
  writer.ensure(bound);
  const buffer = Buffer.from(writer.buffer, 0, writer.buffer.byteLength);
  const start = writer.index;
  const joined = (values as string[]).join('');
  const bytes = buffer.write(joined, start, 'utf8');
  let at: number;
  if (bytes === joined.length) {
    const view = writer.view;
    let source = start + bytes;
    let end = start + 4 * count + bytes;
    for (let k = count - 1; k >= 0; k -= 1) {
      const length = (values[k] as string).length;
      source -= length;
      const target = end - length;
      if (length < SHORT_MOVE) for (let j = length - 1; j >= 0; j -= 1) buffer[target + j] = buffer[source + j]!;
      else buffer.copyWithin(target, source, source + length);
      view.setUint32(target - 4, length, true);
      end = target - 4;
    }
    at = start + 4 * count + bytes;
  } else {
    at = start;
    for (let i = 0; i < count; i += 1) {
      const length = buffer.write(values[i] as string, at + 4, 'utf8');
      buffer.writeUInt32LE(length, at);
      at += 4 + length;
    }
  }
  writer.offset += at - writer.index;
  writer.index = at;
}

/**
 * Snappy from hysnappy (WebAssembly, by hyparquet's authors): about three
 * times the speed of hyparquet-writer's JavaScript snappy on export pages
 * (bench/RESULTS.md, issue 19). An instance keeps its match table between
 * calls, so its output depends on what it compressed before (valid either
 * way): each encoder has its own, and the same rows give the same file.
 */
export type Compress = ((input: Uint8Array) => Uint8Array) & { readonly codec?: 'UNCOMPRESSED' };

/**
 * A page compressor for `codec`: snappy (every output file), or none (a
 * scratch file read once by DuckDB, parquetStage in load/duckdb.ts: no
 * compression to run on the walk's thread, none to undo in DuckDB's). The
 * uncompressed pages are copies: the bytes handed in are the encoder's
 * scratch buffer, rewritten by the next page.
 */
export function createCompressor(codec: 'SNAPPY' | 'UNCOMPRESSED' = 'SNAPPY'): Compress {
  if (codec === 'SNAPPY') return snappyCompressor();
  return Object.assign((input: Uint8Array) => input.slice(), { codec: 'UNCOMPRESSED' as const });
}

/** PLAIN INT64 (integers and timestamps, as bigint), little-endian, straight into the writer's buffer. */
function writePlainInt64(writer: ByteWriter, values: readonly unknown[]): void {
  writer.ensure(8 * values.length);
  const view = writer.view;
  let at = writer.index;
  for (const value of values) {
    view.setBigInt64(at, value as bigint, true);
    at += 8;
  }
  writer.offset += at - writer.index;
  writer.index = at;
}

/** PLAIN INT32 (dates as days). */
function writePlainInt32(writer: ByteWriter, values: readonly unknown[]): void {
  writer.ensure(4 * values.length);
  const view = writer.view;
  let at = writer.index;
  for (const value of values) {
    view.setInt32(at, value as number, true);
    at += 4;
  }
  writer.offset += at - writer.index;
  writer.index = at;
}

/** PLAIN BOOLEAN: one bit a value, least significant bit first. */
function writePlainBooleans(writer: ByteWriter, values: readonly unknown[]): void {
  const bytes = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i += 1) if (values[i] === true) bytes[i >> 3]! |= 1 << (i & 7);
  writer.appendBytes(bytes);
}

const INT128 = (1n << 128n) - 1n;
const UINT64 = (1n << 64n) - 1n;

/** PLAIN FIXED_LEN_BYTE_ARRAY(16) decimals: the unscaled bigint as 16 bytes of big-endian two's complement. */
function writePlainDecimals(writer: ByteWriter, values: readonly unknown[]): void {
  writer.ensure(16 * values.length);
  const view = writer.view;
  let at = writer.index;
  for (const value of values) {
    const bits = (value as bigint) & INT128;
    view.setBigUint64(at, bits >> 64n, false);
    view.setBigUint64(at + 8, bits & UINT64, false);
    at += 16;
  }
  writer.offset += at - writer.index;
  writer.index = at;
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

/** Typed scratch arrays for levels and dictionary indexes, reused by every page (a page's levels were two arrays of numbers a column). */
const levelScratch = { repetition: new Uint8Array(1 << 13), definition: new Uint8Array(1 << 13) };
let indexScratch = new Int32Array(1 << 13);

/** The first `length` slots of a level scratch array, grown when a page needs more. */
function levelRoom(kind: keyof typeof levelScratch, length: number): Uint8Array {
  if (levelScratch[kind].length < length) levelScratch[kind] = new Uint8Array(Math.max(length, 2 * levelScratch[kind].length));
  return levelScratch[kind].subarray(0, length);
}

function indexRoom(length: number): Int32Array {
  if (indexScratch.length < length) indexScratch = new Int32Array(Math.max(length, 2 * indexScratch.length));
  return indexScratch.subarray(0, length);
}

function cleared(writer: ByteWriter): ByteWriter {
  writer.index = 0;
  writer.offset = 0;
  return writer;
}

function written(writer: ByteWriter): Uint8Array {
  return new Uint8Array(writer.buffer, 0, writer.index);
}

/**
 * Where a row group's compressed pages wait until the group is written (a
 * column chunk's pages must be contiguous in the file, so none can be written
 * before the group ends). keep() takes one page's pieces and returns a handle;
 * at the group's end, endGroup() closes the group and returns the function to
 * call once its pieces have all been taken, and pieces() gives the bytes of a
 * column's handles, in order, as they are taken.
 */
export interface PageStore {
  keep(parts: readonly Uint8Array[], length: number): unknown;
  pieces(handles: readonly unknown[]): Iterable<Uint8Array>;
  endGroup(): () => void;
  close(): void;
}

/** Pages held in memory, as compressed. */
export class MemoryPages implements PageStore {
  keep(parts: readonly Uint8Array[]): unknown {
    return parts;
  }
  pieces(handles: readonly unknown[]): Iterable<Uint8Array> {
    return (handles as Uint8Array[][]).flat();
  }
  endGroup(): () => void {
    return () => {};
  }
  close(): void {}
}

/** Bytes read from the scratch file at a time when a group is written. */
const READ_PIECE = 1 << 20;
/** Kept pages are written to the scratch file once they reach this many bytes or pieces (a group's end writes the rest). */
const WRITE_PIECE = 1 << 20;
const WRITE_PARTS = 512;

/**
 * Pages appended to a scratch file as they are made (gathered up to
 * WRITE_PIECE bytes, then written with one call), and read back a piece
 * (at most READ_PIECE bytes) at a time as the writer takes the group: in
 * memory a held group's pages outlive many minor collections, so after the
 * group is written they wait for a major one while the next group's pages
 * pile up beside them. The file starts over at the first page after a group
 * whose pieces have all been taken (else it grows: a group's pieces are read
 * from the file as they are taken). It is removed at once where the system
 * allows (its bytes stay reachable through the open descriptor, and a killed
 * run leaves nothing behind), else by close(), and its folder by the run's
 * scratch sweep. A failure of the file (ENOSPC in the temporary folder…) is
 * an OUTPUT_WRITE naming it, not the data file.
 */
export class SpilledPages implements PageStore {
  private readonly fd: number;
  /** Set while the file still has a name (it could not be unlinked while open). */
  private readonly path: string | undefined;
  private length = 0;
  private groupOpen = false;
  /** Groups whose pieces have not all been taken: their bytes are still in the file. */
  private untaken = 0;
  /** Kept pages not written yet (up to WRITE_PIECE bytes), and where they go in the file. */
  private unwritten: Uint8Array[] = [];
  private unwrittenBytes = 0;
  private flushedTo = 0;

  constructor(private readonly shownPath: string) {
    try {
      this.fd = openSync(shownPath, 'w+', 0o600);
    } catch (error) {
      throw outputWriteError(shownPath, error);
    }
    try {
      unlinkSync(shownPath);
      this.path = undefined;
    } catch {
      this.path = shownPath;
    }
  }

  keep(parts: readonly Uint8Array[], length: number): unknown {
    if (!this.groupOpen) {
      if (this.untaken === 0) this.length = 0;
      this.groupOpen = true;
      this.flushedTo = this.length;
    }
    const start = this.length;
    for (const part of parts) this.unwritten.push(part);
    this.unwrittenBytes += length;
    this.length += length;
    if (this.unwrittenBytes >= WRITE_PIECE || this.unwritten.length >= WRITE_PARTS) this.flush();
    return [start, this.length];
  }

  /** Writes the pages kept since the last write, with one call (a page is a few kilobytes: one call each was a tenth of the encoder's time). */
  private flush(): void {
    if (this.unwrittenBytes === 0) return;
    const parts = this.unwritten;
    const length = this.unwrittenBytes;
    const start = this.flushedTo;
    this.unwritten = [];
    this.unwrittenBytes = 0;
    try {
      let written = 0;
      while (written < length) written += writevSync(this.fd, written === 0 ? parts : [Buffer.concat(parts).subarray(written)], start + written);
    } catch (error) {
      throw outputWriteError(this.shownPath, error);
    }
    this.flushedTo = start + length;
  }

  endGroup(): () => void {
    this.flush();
    this.groupOpen = false;
    this.untaken += 1;
    let taken = false;
    return () => {
      if (taken) return;
      taken = true;
      this.untaken -= 1;
    };
  }

  *pieces(handles: readonly unknown[]): Iterable<Uint8Array> {
    this.flush();
    let i = 0;
    while (i < handles.length) {
      // Pages side by side in the file (one column's run) are read together.
      let [start, end] = handles[i++] as [number, number];
      while (i < handles.length && (handles[i] as [number, number])[0] === end) end = (handles[i++] as [number, number])[1];
      for (let at = start; at < end; at += READ_PIECE) yield this.read(at, Math.min(READ_PIECE, end - at));
    }
  }

  private read(position: number, length: number): Uint8Array {
    const buffer = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      let got: number;
      try {
        got = readSync(this.fd, buffer, read, length - read, position + read);
      } catch (error) {
        throw outputWriteError(this.shownPath, error);
      }
      if (got === 0) throw outputWriteError(this.shownPath, new Error(`it ended at ${position + read} of ${this.length} bytes`));
      read += got;
    }
    return buffer;
  }

  close(): void {
    closeSync(this.fd);
    if (this.path !== undefined) rmSync(this.path, { force: true });
  }
}

export class ColumnChunkBuilder {
  private readonly element: SchemaElement;
  private readonly maxRepetition: number;
  /** Handles of the kept pages (PageStore), in order. */
  private pages: unknown[] = [];
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
  /** A list of required scalars directly under the root: levels without the Dremel walk (listLevels). */
  private readonly simpleList: boolean;
  private listSlots = 0;

  /** `path`: the schema tree from the root to this leaf; `statistics`: keep min/max and the null count (flat scalar columns); `store`: where its pages wait and `compress` its snappy (both shared by an encoder's builders). */
  constructor(
    private readonly path: SchemaTree[],
    private readonly statistics: boolean,
    private readonly store: PageStore = new MemoryPages(),
    private readonly compress: Compress = createCompressor(),
  ) {
    this.element = path.at(-1)!.element;
    this.maxRepetition = path.filter((node) => node.element.repetition_type === 'REPEATED').length;
    this.dictionary = this.element.type === 'BYTE_ARRAY' ? new Map() : undefined;
    const [, list, repeated, element] = path;
    this.simpleList = path.length === 4 && list!.element.repetition_type === 'REQUIRED' && repeated!.element.repetition_type === 'REPEATED' && element!.element.repetition_type === 'REQUIRED' && element!.children.length === 0;
  }

  /** Encodes one page from the top-level column values of a run of rows; returns the bytes it adds to the chunk uncompressed (the page, and what it added to the dictionary). */
  addPage(rows: readonly unknown[]): number {
    const dictionaryBefore = this.dictionaryBytes;
    const body = cleared(scratch.body);
    let present: unknown[];
    let numValues: number;
    if (this.path.length === 2) {
      // A top-level scalar column: its values are the rows' and a level says only whether a value is there, so no Dremel walk.
      present = this.flatLevels(body, rows);
      numValues = rows.length;
    } else if (this.simpleList) {
      present = this.listLevels(body, rows);
      numValues = this.listSlots;
    } else {
      const { values, definitionLevels, repetitionLevels, maxDefinitionLevel } = encodeNestedValues(this.path, rows as unknown[]);
      present = values as unknown[];
      if (maxDefinitionLevel > 0) {
        present = [];
        for (let i = 0; i < values.length; i += 1) {
          const value: unknown = values[i];
          if (value !== null && value !== undefined) present.push(value);
        }
      }
      if (this.maxRepetition > 0) this.writeLevels(body, repetitionLevels, this.maxRepetition);
      if (maxDefinitionLevel > 0) this.writeLevels(body, definitionLevels, maxDefinitionLevel);
      numValues = definitionLevels.length || values.length;
    }
    const encoding = this.writeValues(body, present);
    const raw = written(body);
    const compressed = this.compress(raw);
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
    this.pages.push(this.store.keep(page.parts, page.length));
    this.compressedBytes += page.length;
    this.uncompressedBytes += page.uncompressed;
    this.numValues += numValues;
    return page.uncompressed + this.dictionaryBytes - dictionaryBefore;
  }

  /**
   * A flat column's definition levels (none when it is REQUIRED): one RLE run
   * of ones when no value is missing (the usual page), else the hybrid
   * encoding of the 0/1 levels. Returns the values present.
   */
  private flatLevels(body: ByteWriter, rows: readonly unknown[]): unknown[] {
    if (this.element.repetition_type === 'REQUIRED') return rows as unknown[];
    let nulls = 0;
    for (let i = 0; i < rows.length; i += 1) if (rows[i] === null || rows[i] === undefined) nulls += 1;
    if (this.statistics) this.nullCount += BigInt(nulls);
    if (nulls === 0) {
      const run = cleared(scratch.levels);
      run.appendVarInt(rows.length << 1);
      run.appendUint8(1);
      body.appendUint32(run.index);
      body.appendBytes(written(run));
      return rows as unknown[];
    }
    const levels = levelRoom('definition', rows.length);
    const present = new Array<unknown>(rows.length - nulls);
    let k = 0;
    for (let i = 0; i < rows.length; i += 1) {
      const value = rows[i];
      if (value === null || value === undefined) levels[i] = 0;
      else {
        levels[i] = 1;
        present[k++] = value;
      }
    }
    this.writeLevels(body, levels, 1);
    return present;
  }

  /**
   * A list of required strings (`string_list`: REQUIRED list, REPEATED
   * `list`, REQUIRED `element`): one slot per element, or one for an empty
   * list (definition level 0); the repetition level is 1 for every element but
   * a row's first. Writes both levels; returns the elements.
   */
  private listLevels(body: ByteWriter, rows: readonly unknown[]): unknown[] {
    let slots = 0;
    let empty = 0;
    for (let i = 0; i < rows.length; i += 1) {
      const length = (rows[i] as readonly unknown[]).length;
      slots += length || 1;
      if (length === 0) empty += 1;
    }
    const repetition = levelRoom('repetition', slots);
    const definition = levelRoom('definition', slots);
    const present = new Array<unknown>(slots - empty);
    let k = 0;
    let slot = 0;
    for (let i = 0; i < rows.length; i += 1) {
      const list = rows[i] as readonly unknown[];
      if (list.length === 0) {
        repetition[slot] = 0;
        definition[slot] = 0;
        slot += 1;
        continue;
      }
      for (let j = 0; j < list.length; j += 1) {
        repetition[slot] = j === 0 ? 0 : 1;
        definition[slot] = 1;
        slot += 1;
        present[k++] = list[j];
      }
    }
    this.listSlots = slots;
    this.writeLevels(body, repetition, 1);
    this.writeLevels(body, definition, 1);
    return present;
  }

  /** Version 1 levels: the RLE/bit-packed hybrid run, prefixed by its length in 4 bytes. */
  private writeLevels(body: ByteWriter, levels: number[] | Uint8Array, max: number): void {
    const run = cleared(scratch.levels);
    writeRleBitPackedHybrid(run, levels, bitWidth(max));
    body.appendUint32(run.index);
    body.appendBytes(written(run));
  }

  private writeValues(body: ByteWriter, present: unknown[]): Encoding {
    // The chunk's first page decides: mostly distinct values (ids, emails, names) are PLAIN from the start, with no dictionary to build or hold.
    if (this.dictionary && this.dictionaryValues.length === 0 && new Set(present).size > present.length / 2) this.dictionary = undefined;
    if (this.dictionary) {
      const indexes = indexRoom(present.length);
      let maxIndex = 0;
      for (let i = 0; i < present.length; i += 1) {
        const value = present[i] as string;
        let index = this.dictionary.get(value);
        if (index === undefined) {
          index = this.dictionaryValues.length;
          this.dictionary.set(value, index);
          this.dictionaryValues.push(value);
          this.dictionaryBytes += 4 + Buffer.byteLength(value);
          // Statistics from the distinct values only: every value of a dictionary page is one of them.
          if (this.statistics) this.observeString(value);
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
    switch (this.element.type) {
      case 'BYTE_ARRAY':
        if (this.statistics) for (let i = 0; i < present.length; i += 1) this.observeString(present[i] as string);
        writePlainStrings(body, present);
        break;
      case 'INT64':
        if (this.statistics) this.observeOrdered(present);
        writePlainInt64(body, present);
        break;
      case 'INT32':
        if (this.statistics) this.observeOrdered(present);
        writePlainInt32(body, present);
        break;
      case 'BOOLEAN':
        if (this.statistics) this.observeOrdered(present);
        writePlainBooleans(body, present);
        break;
      case 'FIXED_LEN_BYTE_ARRAY':
        if (this.statistics) this.observeOrdered(present);
        writePlainDecimals(body, present);
        break;
      default:
        throw new Error(`Parquet: no PLAIN writer for ${this.element.type}`);
    }
    this.plainPages += 1;
    return 'PLAIN';
  }

  /** Min/max of a string by UTF-8 byte order. */
  private observeString(value: string): void {
    if (this.min === undefined) {
      this.min = value;
      this.max = value;
    } else {
      if (lessUtf8(value, this.min as string)) this.min = value;
      if (lessUtf8(this.max as string, value)) this.max = value;
    }
  }

  /** Min/max of numbers, bigints or booleans (false < true), which `<` orders. */
  private observeOrdered(present: readonly unknown[]): void {
    let min = this.min as number | bigint | boolean | undefined;
    let max = this.max as number | bigint | boolean | undefined;
    for (let i = 0; i < present.length; i += 1) {
      const value = present[i] as number | bigint | boolean;
      if (min === undefined || value < min) min = value;
      if (max === undefined || value > max) max = value;
    }
    this.min = min;
    this.max = max;
  }

  /** The chunk's bytes when it starts at `fileOffset` (`parts`: the dictionary page; `pages`: the data pages, from the store as they are taken), and its metadata. The builder is empty afterwards. */
  write(fileOffset: number): { parts: Uint8Array[]; pages: Iterable<Uint8Array>; length: number; chunk: ColumnChunk; uncompressed: bigint } {
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
      const compressed = this.compress(raw);
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
    const pages = this.store.pieces(this.pages);
    offset += this.compressedBytes;
    const chunk: ColumnChunk = {
      file_offset: BigInt(fileOffset),
      meta_data: {
        type: this.element.type!,
        encodings: [...encodings],
        path_in_schema: this.path.slice(1).map((node) => node.element.name),
        codec: this.compress.codec ?? 'SNAPPY',
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
    return { parts, pages, length: offset - fileOffset, chunk, uncompressed: BigInt(uncompressed) };
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
