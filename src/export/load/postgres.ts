import { once } from 'node:events';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { columnDefinitions, formatDate, formatDecimal, formatTimestamp, postgresType, quoteIdent, type ColumnKind, type TypedColumn, type TypedRow, type TypedValue } from '../schema.js';
import { loadError, mergeStatements, tableConflicts, type LoaderInput, type MergeCounts, type TableLoader } from './common.js';
import type { LoadTarget } from './target.js';

type PgTarget = Extract<LoadTarget, { kind: 'postgresql' }>;

/** format_type() of each kind, as an existing table reports it. */
const FORMAT_TYPE: Record<ColumnKind, string> = {
  string: 'text',
  string_list: 'text[]',
  integer: 'bigint',
  decimal: 'numeric(38,9)',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp with time zone',
  id_list: 'jsonb',
};

const escapeCopy = (text: string) => text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
const arrayElement = (text: string) => `"${text.replace(/["\\]/g, (c) => '\\' + c)}"`;

/** One value in COPY's text format. */
function copyValue(kind: ColumnKind, value: TypedValue): string {
  if (value === null) return '\\N';
  switch (kind) {
    case 'string_list':
      return escapeCopy(`{${(value as string[]).map(arrayElement).join(',')}}`);
    case 'decimal':
      return formatDecimal(value as bigint);
    case 'boolean':
      return value ? 't' : 'f';
    case 'date':
      return formatDate(value as number);
    case 'timestamp':
      return formatTimestamp(value as bigint);
    case 'integer':
      return String(value);
    case 'id_list':
      return escapeCopy(JSON.stringify(value));
    default:
      return escapeCopy(value as string);
  }
}

function classify(error: unknown, target: PgTarget): Error {
  const e = error as { code?: string; message?: string };
  const message = e?.message ?? String(error);
  if (e?.code === '28P01' || e?.code === '28000') return loadError('LOAD_AUTH', target, `the database refused the login (${message})`);
  if (e?.code === '3D000') return loadError('LOAD_CONNECT', target, message);
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN'].includes(e?.code ?? '')) {
    return loadError('LOAD_CONNECT', target, `the database is unreachable (${e.code})`);
  }
  return loadError('LOAD_FAILED', target, message);
}

export async function openPostgresLoader(input: LoaderInput): Promise<TableLoader> {
  const target = input.target as PgTarget;
  const { columns } = input;
  const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 10_000 });
  // A dropped connection must fail the run, not the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw classify(error, target);
  }
  const table = target.table;
  const stage = `"_pylon_stage_${process.pid}"`;
  let copy: Writable | undefined;
  let copyFailure: Error | undefined;
  let inTransaction = false;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await client.end().catch(() => {});
  };
  let missing: string[] = [];
  try {
    const expected = new Map<string, string>(columns.map((c) => [c.name, FORMAT_TYPE[c.kind]]));
    for (const [name, type] of [['_row_hash', 'text'], ['_run_id', 'text'], ['_extracted_at', 'timestamp with time zone'], ['_deleted_at', 'timestamp with time zone']] as const) expected.set(name, type);
    const existing = await client.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
       WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [quoteIdent(table)],
    );
    if (existing.rows.length > 0) {
      const conflicts = tableConflicts(expected, new Map(existing.rows.map((r) => [r.name, r.type])), input.allowSchemaChange);
      if (conflicts.problems.length > 0) throw loadError('LOAD_TABLE_CONFLICT', target, `table ${table} does not match the export: ${conflicts.problems.join('; ')}`);
      missing = conflicts.missing;
    }
    await client.query(`CREATE TEMP TABLE ${stage} (${columnDefinitions(columns, postgresType).map((d) => d.replace(' PRIMARY KEY', '')).join(', ')}, "_row_hash" text NOT NULL)`);
    copy = client.query(copyFrom(`COPY ${stage} FROM STDIN`));
    copy.on('error', (error: Error) => {
      copyFailure = error;
    });
  } catch (error) {
    await close();
    throw error instanceof Error && 'code' in error && typeof (error as { code: unknown }).code === 'string' && (error as { code: string }).code.startsWith('LOAD_') ? error : classify(error, target);
  }
  const kinds = columns.map((c) => c.kind);
  return {
    display: target.display,
    async add(rows: readonly TypedRow[], hashes: readonly string[]) {
      if (copyFailure) throw classify(copyFailure, target);
      let text = '';
      for (let r = 0; r < rows.length; r += 1) {
        const row = rows[r]!;
        for (let i = 0; i < row.length; i += 1) text += copyValue(kinds[i]!, row[i]!) + '\t';
        text += hashes[r] + '\n';
      }
      if (text !== '' && !copy!.write(text)) {
        await Promise.race([once(copy!, 'drain'), once(copy!, 'error')]).catch(() => {});
        if (copyFailure) throw classify(copyFailure, target);
      }
    },
    async merge(merge): Promise<MergeCounts> {
      try {
        copy!.end();
        await once(copy!, 'finish');
        if (copyFailure) throw copyFailure;
        await client.query('ANALYZE ' + stage);
        await client.query('BEGIN');
        inTransaction = true;
        await client.query(`CREATE TABLE IF NOT EXISTS ${quoteIdent(table)} (${columnDefinitions(columns, postgresType).join(', ')}, "_row_hash" text NOT NULL, "_run_id" text, "_extracted_at" timestamptz, "_deleted_at" timestamptz)`);
        const byName = new Map(columns.map((c) => [c.name, c]));
        for (const name of missing) await client.query(`ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(name)} ${postgresType(byName.get(name)!.kind)}`);
        const sql = mergeStatements(table, stage, columns, merge, 'timestamptz');
        const staged = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${stage}`)).rows[0]!.n);
        const updated = (await client.query(sql.update)).rowCount ?? 0;
        const inserted = (await client.query(sql.insert)).rowCount ?? 0;
        const deleted = (await client.query(sql.remove)).rowCount ?? 0;
        return { inserted, updated, unchanged: staged - inserted - updated, deleted };
      } catch (error) {
        throw error instanceof Error && (error as { code?: string }).code?.startsWith('LOAD_') ? error : classify(error, target);
      }
    },
    async commit() {
      try {
        await client.query('COMMIT');
        inTransaction = false;
      } catch (error) {
        throw classify(error, target);
      } finally {
        await close();
      }
    },
    async abort() {
      if (closed) return;
      if (copy && !copy.writableFinished) copy.destroy();
      if (inTransaction) await client.query('ROLLBACK').catch(() => {});
      await close();
    },
  };
}
