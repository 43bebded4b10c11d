/**
 * Reads a loaded table back and hashes its values the way the manifest
 * describes (schema.ts ValuesDigest): the sum mod 2^256 of sha256 over each
 * row's JSON line, keys in schema order. Written separately from src/, from
 * the manifest's schema, so a mismatch in either shows.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ExportManifest } from '../../../src/export/manifest.js';
import { resolveFrom } from '../../../src/export/manifest.js';

type SchemaColumn = NonNullable<ExportManifest['schema']>['columns'][number];

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** SELECT list with every value as text (or a list), in a form both PostgreSQL and DuckDB accept. */
export function selectList(columns: readonly SchemaColumn[], dialect: 'postgres' | 'duckdb'): string {
  return columns
    .map((c) => {
      if (c.type === 'list<string>' || c.type.startsWith('list<struct<')) return q(c.name);
      if (c.type === 'timestamp') return dialect === 'postgres' ? `(extract(epoch from ${q(c.name)}) * 1000000)::bigint::text AS ${q(c.name)}` : `epoch_us(${q(c.name)})::VARCHAR AS ${q(c.name)}`;
      if (c.type === 'boolean' || c.type === 'string') return q(c.name);
      return `${q(c.name)}::${dialect === 'postgres' ? 'text' : 'VARCHAR'} AS ${q(c.name)}`;
    })
    .join(', ');
}

function jsonOf(type: string, value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (type) {
    case 'int64':
      return String(value);
    case 'decimal(38,9)':
      return String(value).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
    case 'boolean':
      return value ? 'true' : 'false';
    case 'date':
      return JSON.stringify(String(value));
    case 'timestamp': {
      const micros = BigInt(String(value));
      const ms = Number(micros / 1000n);
      return JSON.stringify(new Date(ms).toISOString().slice(0, 23) + String(micros % 1000n).padStart(3, '0') + 'Z');
    }
    case 'list<string>':
      return JSON.stringify(value);
    case 'list<struct<external_id:string,label:string>>':
    case 'list<struct<id:string,source:string>>': {
      // jsonb keeps its own key order and DuckDB returns structs as objects: rebuilt in the schema's field order.
      const fields = [...type.matchAll(/(\w+):string/g)].map((m) => m[1]!);
      return JSON.stringify((value as Array<Record<string, unknown>>).map((entry) => Object.fromEntries(fields.map((f) => [f, entry[f] ?? null]))));
    }
    default:
      return JSON.stringify(value);
  }
}

export function valuesSha256(columns: readonly SchemaColumn[], rows: ReadonlyArray<Record<string, unknown>>): string {
  let sum = 0n;
  for (const row of rows) {
    const line = '{' + columns.map((c) => `${JSON.stringify(c.name)}:${jsonOf(c.type, row[c.name])}`).join(',') + '}';
    sum = (sum + BigInt('0x' + createHash('sha256').update(line).digest('hex'))) % (1n << 256n);
  }
  return sum.toString(16).padStart(64, '0');
}

/** The ids of the run's state file (every contact the export read). */
export async function stateIds(manifestPath: string, manifest: ExportManifest): Promise<string[]> {
  const text = await readFile(resolveFrom(manifestPath, manifest.state!.path), 'utf8');
  // Format 1: a header line; formats 2 and 3 (a load's state, with its owner) also a meta line and an `end` line.
  const lines = text.trimEnd().split('\n');
  const body = lines[0] !== 'pylon-contacts-state 1' ? lines.slice(2).filter((line) => !line.startsWith('end ')) : lines.slice(1);
  return body.map((line) => line.slice(17)).sort();
}

/** The rows of one query on a DuckDB file (opened and closed around it, so the CLI can open the file next). */
export async function duckRows<T = Record<string, unknown>>(file: string, sql: string): Promise<T[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as T[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
