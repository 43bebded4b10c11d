import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { DECIMAL_PRECISION, DECIMAL_SCALE, type TypedColumn, type TypedRow, type TypedValue } from './schema.js';

/**
 * Parquet through hyparquet-writer (pure JavaScript, runs on Node 20): rows are
 * gathered into row groups of `rowGroupSize`, each encoded (snappy) and handed
 * on as bytes, so memory holds one row group, never the file. The footer
 * (schema, row-group offsets, statistics) comes from `end()`.
 */
export const DEFAULT_ROW_GROUP_SIZE = 5_000;

/**
 * Min/max statistics for every scalar column, strings included (readers prune
 * row groups on them, e.g. a name or email range); string bounds are cut to
 * STATISTICS_TRUNCATE bytes (the max rounded up), so a long value cannot bloat
 * the footer. Lists have none.
 */
const STATISTICS: ReadonlySet<TypedColumn['kind']> = new Set(['string', 'integer', 'decimal', 'boolean', 'date', 'timestamp']);
const STATISTICS_TRUNCATE = 64;

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

/** A ByteWriter whose bytes are taken out after each row group; `offset` keeps counting for the footer. */
class ChunkWriter extends ByteWriter {
  take(): Uint8Array {
    const bytes = new Uint8Array(this.buffer.slice(0, this.index));
    this.index = 0;
    return bytes;
  }
  override finish(): void {}
}

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
}

/** `statistics: false` for a file only this tool reads once (DuckDB's staging file): no min/max to compute. */
export function createParquetEncoder(columns: readonly TypedColumn[], options: { rowGroupSize?: number; statistics?: boolean } = {}): ParquetEncoder {
  const withStatistics = options.statistics ?? true;
  const rowGroupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  const writer = new ChunkWriter(1 << 20);
  const parquet = new ParquetWriter({ writer, schema: schemaElements(columns), codec: 'SNAPPY', statisticsTruncateLength: STATISTICS_TRUNCATE, createdBy: 'pylon-contacts (hyparquet-writer)' });
  let data: TypedValue[][] = columns.map(() => []);
  let count = 0;
  const writeGroup = () => {
    if (count === 0) return;
    // flush() is not defined on this writer, so write() is synchronous.
    void parquet.write({ columnData: columns.map((c, i) => ({ name: c.name, data: data[i]! as never, statistics: withStatistics && STATISTICS.has(c.kind) })), rowGroupSize: count });
    data = columns.map(() => []);
    count = 0;
  };
  return {
    start: () => writer.take(),
    page(rows) {
      for (const row of rows) {
        for (let i = 0; i < row.length; i += 1) data[i]!.push(row[i]!);
        count += 1;
        if (count >= rowGroupSize) writeGroup();
      }
      return writer.take();
    },
    end() {
      writeGroup();
      void parquet.finish();
      return writer.take();
    },
  };
}
