import { once } from 'node:events';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { columnDefinitions, formatDate, formatDecimal, formatTimestamp, postgresType, quoteIdent, type ColumnKind, type TypedColumn, type TypedRow, type TypedValue } from '../schema.js';
import { alterStatements, drained, stateSelect, stateTableDdl, stateUpsert, STATE_TABLE, tableRef, loadError, loadRecord, loadsTableDdl, type MergeInput, mergeStatements, planTable, type ColumnTypes, type LoaderInput, type MergeCounts, type TablePlan, type TableLoader } from './common.js';
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

const TYPES: ColumnTypes = { ddl: postgresType, reported: (kind) => FORMAT_TYPE[kind] };

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
  let merged: MergeInput | undefined;
  const close = async () => {
    if (closed) return;
    closed = true;
    await client.end().catch(() => {});
  };
  let plan: TablePlan | undefined;
  let storedState: Buffer | undefined;
  try {
    if (target.schema !== undefined && (await client.query(`SELECT to_regnamespace($1) AS oid`, [quoteIdent(target.schema)])).rows[0]?.oid == null) {
      throw loadError('LOAD_TABLE_CONFLICT', target, `schema ${target.schema} does not exist; create it first (CREATE SCHEMA ${quoteIdent(target.schema)}) and grant the loader CREATE and USAGE on it`);
    }
    const existing = await client.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
       WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [tableRef(target)],
    );
    plan = planTable(target, table, columns, new Map(existing.rows.map((r) => [r.name, r.type])), TYPES, input.allowSchemaChange);
    if ((await client.query(`SELECT to_regclass($1) AS oid`, [tableRef(target, STATE_TABLE)])).rows[0]?.oid != null) {
      const row = (await client.query<{ state: string }>(stateSelect(target))).rows[0];
      storedState = row ? Buffer.from(row.state, 'base64') : undefined;
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
  /** After a rollback: a `failed` row in the load log, when the load had reached its merge (best effort: the connection may be gone). */
  const recordFailure = async (message: string) => {
    if (!merged) return;
    await client.query(loadsTableDdl(target, 'text', 'bigint', 'timestamptz')).catch(() => {});
    await client.query(loadRecord(target, merged, 'timestamptz', { status: 'failed', error: message })).catch(() => {});
  };
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
        await drained(copy!);
        if (copyFailure) throw classify(copyFailure, target);
      }
    },
    async merge(merge): Promise<MergeCounts> {
      merged = merge;
      try {
        copy!.end();
        await once(copy!, 'finish');
        if (copyFailure) throw copyFailure;
        await client.query('ANALYZE ' + stage);
        await client.query('BEGIN');
        inTransaction = true;
        // Two loads into one database at once would race on CREATE TABLE IF NOT EXISTS of the shared
        // _pylon_loads/_pylon_state tables (PostgreSQL then fails one with a pg_type unique violation):
        // their transactions take turns instead.
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('pylon-contacts:load'))`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${tableRef(target)} (${columnDefinitions(columns, postgresType).join(', ')}, "_row_hash" text NOT NULL, "_run_id" text, "_extracted_at" timestamptz, "_deleted_at" timestamptz)`);
        for (const statement of alterStatements(tableRef(target), plan!, (t, c, type) => `ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${type} USING ${c}::${type}`)) await client.query(statement);
        const sql = mergeStatements(tableRef(target), stage, columns, merge, 'timestamptz', plan);
        const staged = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${stage}`)).rows[0]!.n);
        merge.onStep?.('staged', {});
        const updated = (await client.query(sql.update)).rowCount ?? 0;
        merge.onStep?.('updated', { updated });
        const inserted = (await client.query(sql.insert)).rowCount ?? 0;
        merge.onStep?.('inserted', { updated, inserted });
        const deleted = (await client.query(sql.remove)).rowCount ?? 0;
        merge.onStep?.('deleted', { updated, inserted, deleted });
        const counts: MergeCounts = { inserted, updated, unchanged: staged - inserted - updated, deleted, ...(plan!.changes.length > 0 ? { schemaChanges: plan!.changes } : {}) };
        await client.query(loadsTableDdl(target, 'text', 'bigint', 'timestamptz'));
        await client.query(loadRecord(target, merge, 'timestamptz', { status: 'committed', counts }));
        return counts;
      } catch (error) {
        throw error instanceof Error && (error as { code?: string }).code?.startsWith('LOAD_') ? error : classify(error, target);
      }
    },
    // Read when the loader opened: the connection is busy with COPY until the merge.
    readState: async () => storedState,
    async writeState(state: Buffer) {
      if (!inTransaction || !merged) throw loadError('LOAD_FAILED', target, 'the state is written inside the merge transaction: call merge() first');
      try {
        await client.query(stateTableDdl(target, 'text', 'timestamptz'));
        await client.query(stateUpsert(target, merged.runId, 'timestamptz'), [state.toString('base64')]);
      } catch (error) {
        throw classify(error, target);
      }
    },
    async commit() {
      try {
        await client.query('COMMIT');
        inTransaction = false;
      } catch (error) {
        inTransaction = false;
        const failure = classify(error, target);
        await recordFailure(failure.message);
        throw failure;
      } finally {
        await close();
      }
    },
    async abort() {
      if (closed) return;
      if (copy && !copy.writableFinished) copy.destroy();
      if (inTransaction) await client.query('ROLLBACK').catch(() => {});
      inTransaction = false;
      await recordFailure('the run stopped before the load committed; the table was left as it was');
      await close();
    },
  };
}
