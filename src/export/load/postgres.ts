import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import pg from 'pg';
import type { PylonCliError } from '../../errors.js';
import { from as copyFrom } from 'pg-copy-streams';
import { ID_COLLATION, postgresType, quoteIdent, type ColumnKind, type TypedColumn } from '../schema.js';
import { copyRows } from './copy-text.js';
import { drained, loadError, tableRef, type ColumnTypes } from './common.js';
import type { Dialect, Session, Stage } from './dialect.js';
import type { LoadTarget } from './target.js';

type PgTarget = Extract<LoadTarget, { kind: 'postgresql' }>;

/** What the pgpass package matches a line of the password file on. */
type PgPassInfo = { host: string; port: number; database: string; user: string };
const require = createRequire(import.meta.url);
// The package pg itself reads the password file with (pg depends on it): no types of its own.
const pgpass = (): ((info: PgPassInfo, found: (password: string | undefined) => void) => void) => require('pgpass');

/**
 * The password ~/.pgpass (or the file PGPASSFILE names) holds for this connection, if any. pg 8.23
 * still reads the file itself when given no password, but then prints a DeprecationWarning (pg 9
 * will not read it); given this as its password function it reads nothing and prints nothing.
 */
function passwordFromFile(info: PgPassInfo): Promise<string | undefined> {
  return new Promise((resolve) => pgpass()(info, resolve));
}

/** COPY text is handed to the socket in pieces of about this many characters (fewer, larger writes). */
const COPY_CHUNK = 64 * 1024;

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

function classify(error: unknown, target: PgTarget): PylonCliError {
  const e = error as { code?: string; message?: string };
  const message = e?.message ?? String(error);
  if (e?.code === '28P01' || e?.code === '28000') return loadError('LOAD_AUTH', target, `the database refused the login (${message})`);
  if (e?.code === '3D000') return loadError('LOAD_CONNECT', target, message);
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN'].includes(e?.code ?? '')) {
    // What to check next, by what went wrong: the name, the server, or the way there.
    const next = e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? 'no host has that name: check the host in --to' : e.code === 'ECONNREFUSED' ? 'nothing accepts connections there: is PostgreSQL running, and are the host and port in --to right?' : 'check the host and port in --to, and that the server can be reached from here';
    return loadError('LOAD_CONNECT', target, `the database is unreachable (${e.code}): ${next}`);
  }
  if (e?.code === '42501') {
    // insufficient_privilege: the server names the schema or table, not what the role needs.
    const user = decodeURIComponent(new URL(target.url).username) || process.env.PGUSER || undefined;
    // A table named without its schema goes in the first schema of the search path (public, as a rule): the server's refusal names it.
    const named = target.schema ?? /^permission denied for schema (.+)$/.exec(message)?.[1];
    const schema = named ? `schema ${named}` : 'the schema the table goes in';
    return loadError(
      'LOAD_FAILED',
      target,
      `${message}: the role ${user ?? 'the load logs in as'} needs USAGE and CREATE on ${schema} (GRANT USAGE, CREATE ON SCHEMA ${named ? quoteIdent(named) : '<schema>'} TO ${user ? quoteIdent(user) : '<role>'};), TEMPORARY on the database, and to own the tables it changes (${target.table}, _pylon_loads, _pylon_state, _pylon_state_parts, _pylon_columns): see "A least-privilege PostgreSQL role" in docs/warehouse.md`,
    );
  }
  return loadError('LOAD_FAILED', target, message);
}

/** Whether a failed login failed for want of a password: the server refused it, or the driver had none to answer with. */
function asksForPassword(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '28P01' || /password/i.test(e?.message ?? '');
}

function noPasswordError(target: PgTarget, user: string | undefined): PylonCliError {
  return loadError('LOAD_AUTH', target, `the server asked for a password${user ? ` for ${user}` : ''} and none was given: set PGPASSWORD, ~/.pgpass or put it in the URL (user:password@host)`);
}

/** PostgreSQL: rows staged with COPY (text format) into a temporary table, a transaction-scoped advisory lock around the merge. */
export function postgresDialect(target: PgTarget, onText?: (text: string, bytes: Uint8Array) => void, onNul?: (id: string) => void): Dialect {
  /**
   * Why the connection went away, once it has: what any later failure is
   * reported as. A statement or COPY on the dead connection fails inside the
   * driver (`Cannot read properties of null (reading 'stream')`), which names
   * no cause.
   */
  let lost: Error | undefined;
  /** Set as this run closes the connection itself: its end is no loss. */
  let closing = false;
  const classifyHere = (error: unknown) => classify(lost ?? error, target);
  return {
    types: TYPES,
    text: 'text',
    bigint: 'bigint',
    timestamp: 'timestamptz',
    primaryKey: true,
    keyCollation: ID_COLLATION,
    merge: 'diff-update',
    classify: classifyHere,
    async connect() {
      const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 10_000 });
      // No password from the URL or PGPASSWORD (pg has resolved both by now): the password file's, through our
      // function. Passed in the config it would lose to the URL's empty password, so it is set on the client,
      // where pg looks when the server asks (a password function is pg's documented way; its types miss it here).
      if (client.password === null || client.password === undefined) (client as { password?: unknown }).password = passwordFromFile;
      // A dropped connection must fail the run, not the process; the run's next step reports it (classifyHere).
      client.on('error', (error: Error) => {
        lost ??= error;
      });
      client.on('end', () => {
        if (!closing) lost ??= new Error('Connection terminated unexpectedly');
      });
      try {
        await client.connect();
      } catch (error) {
        // pg looks for a password in the URL, then PGPASSWORD, then (through passwordFromFile) ~/.pgpass, and keeps
        // what it found on the client. With none, a server that asks for one fails the login with a driver error that names
        // no cause ("SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string") or an md5 refusal.
        const none = client.password === null || client.password === undefined || client.password === '';
        await client.end().catch(() => {});
        throw none && asksForPassword(error) ? noPasswordError(target, client.user) : classify(error, target);
      }
      return {
        client,
        run: async (sql, params) => (await client.query(sql, params as unknown[] | undefined)).rowCount ?? 0,
        rows: async (sql, params) => (await client.query(sql, params as unknown[] | undefined)).rows as Array<Record<string, unknown>>,
        close: () => {
          closing = true;
          return client.end().catch(() => {});
        },
      } satisfies PgSession;
    },
    async check(session) {
      if (target.schema !== undefined && (await session.rows(`SELECT to_regnamespace($1) AS oid`, [quoteIdent(target.schema)]))[0]?.oid == null) {
        throw loadError('LOAD_TABLE_CONFLICT', target, `schema ${target.schema} does not exist; create it first (CREATE SCHEMA ${quoteIdent(target.schema)}) and grant the loader CREATE and USAGE on it`);
      }
    },
    async existingColumns(session, _target, name) {
      const rows = await session.rows(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [tableRef(target, name)],
      );
      return new Map(rows.map((r) => [String(r.name), String(r.type)]));
    },
    async notNullColumns(session) {
      const rows = await session.rows(`SELECT a.attname AS name FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull`, [tableRef(target)]);
      return new Set(rows.map((r) => String(r.name)));
    },
    tableExists: async (session, _target, name) => (await session.rows(`SELECT to_regclass($1) AS oid`, [tableRef(target, name)]))[0]?.oid != null,
    openStage: async (session, table, columns) => copyStage((session as PgSession).client, `COPY ${quoteIdent(table)} FROM STDIN`, columns, classifyHere, onText, onNul),
    openDirect: async (session, table, columns) =>
      copyStage((session as PgSession).client, `COPY ${table} (${[...columns.map((c) => quoteIdent(c.name)), '"_row_hash"'].join(', ')}) FROM STDIN`, columns, classifyHere, onText, onNul),
    stateIndex: true,
    async copyStateParts(session, table, name, parts) {
      // COPY's text format: base64 and the table name (letters, digits, _) need no escaping.
      const copy: Writable = (session as PgSession).client.query(copyFrom(`COPY ${table} (table_name, part, data) FROM STDIN`));
      let failure: Error | undefined;
      copy.on('error', (error: Error) => {
        failure = error;
      });
      let count = 0;
      let text = '';
      for await (const part of parts) {
        text += `${name}\t${count}\t${part}\n`;
        count += 1;
        if (text.length >= COPY_CHUNK) {
          const more = copy.write(text);
          text = '';
          if (!more) await drained(copy);
          if (failure) break;
        }
      }
      if (!failure) copy.end(text);
      else copy.destroy();
      if (!failure) await once(copy, 'finish').catch((error: Error) => (failure = error));
      if (failure) throw failure;
      return count;
    },
    // Two loads into one database at once would race on CREATE TABLE IF NOT EXISTS of the shared
    // _pylon_loads/_pylon_state tables (PostgreSQL then fails one with a pg_type unique violation):
    // their transactions take turns instead.
    begin: () => [`SELECT pg_advisory_xact_lock(hashtext('pylon-contacts:load'))`],
    widen: (table, column, type) => `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${type} USING ${column}::${type}`,
    async viewsUsing(session, _target, columns) {
      // A view's (or a rule's) rewrite rule depends on each column it reads.
      const rows = await session.rows(
        `SELECT DISTINCT v.oid::regclass::text AS view, v.relkind AS kind, a.attname AS column FROM pg_depend d
         JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
         JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass($1)
           AND v.oid <> d.refobjid AND a.attname = ANY($2) ORDER BY 1, 3`,
        [tableRef(target), columns],
      );
      return rows.map((r) => ({ view: String(r.view), kind: r.kind === 'v' ? 'view' : r.kind === 'm' ? 'materialized view' : 'rule', column: String(r.column) }));
    },
  };
}

/**
 * Rows into a table with COPY (text format): each page's rows as one piece of
 * text, with backpressure. The staging table is not ANALYZEd: the merge joins
 * it to the table once, a full join on ids that the planner sizes from the
 * table's pages alone, and its later steps join the small diff table, which
 * is ANALYZEd (idDiffMergeStatements).
 */
function copyStage(
  client: pg.Client,
  sql: string,
  columns: readonly TypedColumn[],
  classify: (error: unknown) => PylonCliError,
  onText: ((text: string, bytes: Uint8Array) => void) | undefined,
  onNul: ((id: string) => void) | undefined,
): Stage {
  const copy: Writable = client.query(copyFrom(sql));
  let failure: Error | undefined;
  copy.on('error', (error: Error) => {
    // The first error is the cause: once the server refused a value (a NUL byte, say), ending the COPY fails inside the driver
    // (`Cannot read properties of null (reading 'stream')`), which names no cause and was all the run said.
    failure ??= error;
  });
  const encode = copyRows(columns, onNul);
  return {
    async add(rows, hashes) {
      if (failure) throw classify(failure);
      const text = encode(rows, hashes);
      // Encoded once: the bytes go to the socket and, with onText, to the values hash.
      const bytes = Buffer.from(text);
      onText?.(text, bytes);
      if (text !== '' && !copy.write(bytes)) {
        await drained(copy);
        if (failure) throw classify(failure);
      }
    },
    async finish() {
      try {
        copy.end();
        await once(copy, 'finish');
      } catch (error) {
        throw classify(withWhere(failure ?? error));
      }
      if (failure) throw classify(withWhere(failure));
    },
    abort() {
      if (!copy.writableFinished) copy.destroy();
    },
  };
}

/** A refusal with where the server met it (`COPY …, line 3, column name: "…"`): the row and column a value it could not store is in. */
function withWhere(error: unknown): unknown {
  const e = error as { message?: string; where?: string; code?: string };
  if (typeof e?.where !== 'string' || e.where === '' || typeof e.message !== 'string') return error;
  return Object.assign(new Error(`${e.message} (${e.where.replace(/\s*\n\s*/g, '; ')})`, { cause: error }), { code: e.code });
}

interface PgSession extends Session {
  client: pg.Client;
}
