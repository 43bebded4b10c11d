import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';

/**
 * Where `export --to` loads: an embedded DuckDB file or a PostgreSQL database, and the table. `display` is the target as typed
 * (password hidden), for messages and manifests; `key` names the table whatever the spelling (the DuckDB file's absolute path, the
 * PostgreSQL host, port and database): a run's journal keeps it, so the next run of the pipeline knows a killed run's load as its own
 * from another folder, or with the password given another way.
 */
export type LoadTarget =
  | { kind: 'duckdb'; path: string; table: string; schema: string | undefined; name: string; display: string; key: string; /** The file as messages name it: as typed from the process's folder, else absolute (options.ts anchorPath). */ shownPath: string }
  | { kind: 'postgresql'; url: string; table: string; schema: string | undefined; name: string; display: string; key: string; password: string | undefined };

/** `raw.contacts` → schema `raw`, name `contacts`; `contacts` → no schema (the database's default). `table` keeps the text as given. */
interface TableName {
  table: string;
  schema: string | undefined;
  name: string;
}

export const DEFAULT_TABLE = 'contacts';
const TABLE_RE = /^(?:([A-Za-z_][A-Za-z0-9_]{0,62})\.)?([A-Za-z_][A-Za-z0-9_]{0,62})$/;

function badTarget(expected: string, got: string, hint = ''): ConfigError {
  return new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`--to\`: expected ${expected}, got ${JSON.stringify(got)}${hint}`, { option: '--to' });
}

/** A URL with its password replaced by `***` (for messages, logs and manifests), whatever its scheme. */
export function redactUrl(url: string): string {
  return url.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@/\s]*@/gi, '$1***@');
}

function splitTable(value: string, shown: string): [string, TableName] {
  const hash = value.lastIndexOf('#');
  if (hash === -1) return [value, { table: DEFAULT_TABLE, schema: undefined, name: DEFAULT_TABLE }];
  const table = value.slice(hash + 1);
  const match = TABLE_RE.exec(table);
  if (!match) throw badTarget(`a table name after # ([schema.]table: letters, digits and _, at most 63 each, not starting with a digit; default ${DEFAULT_TABLE})`, shown);
  return [value.slice(0, hash), { table, schema: match[1], name: match[2]! }];
}

/**
 * Parses `duckdb:<path>[#table]` or `postgresql://user:pass@host:port/db[#table]`.
 * A relative DuckDB path resolves from `cwd` (the CLI context's folder); the
 * display keeps it as typed. The password never reaches a message.
 */
export function parseLoadTarget(value: string, cwd: string = process.cwd()): LoadTarget {
  if (/^duckdb:/i.test(value)) {
    const [path, table] = splitTable(value.slice('duckdb:'.length), value);
    if (path === '') throw badTarget('duckdb:<file>[#table]', value);
    const shownPath = isAbsolute(path) || resolve(cwd) === process.cwd() ? path : resolve(cwd, path);
    return { kind: 'duckdb', path: resolve(cwd, path), ...table, display: `duckdb:${path}#${table.table}`, key: `duckdb:${resolve(cwd, path)}#${table.table}`, shownPath };
  }
  if (/^postgres(ql)?:\/\//i.test(value)) {
    const shown = redactUrl(value);
    const [url, table] = splitTable(value, shown);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badTarget('postgresql://user:password@host:port/database[#table]', shown);
    }
    if (parsed.pathname === '' || parsed.pathname === '/') throw badTarget('a database name in the URL (postgresql://host/database)', shown);
    const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
    // The database, not how the URL spells it (the user, a password in it or in PGPASSWORD, postgres:// or postgresql://, the options).
    const key = `postgresql://${parsed.hostname.toLowerCase()}:${parsed.port || '5432'}${decodeURIComponent(parsed.pathname)}#${table.table}`;
    return { kind: 'postgresql', url, ...table, password, display: `${redactUrl(url)}#${table.table}`, key };
  }
  // Not a URL redactUrl knows (`postgres//u:pw@host`): any user:password@ in it is hidden all the same.
  const shown = redactUrl(value).replace(/([^:/@\s]+:)[^@/\s]*@/g, '$1***@');
  throw badTarget('duckdb:<file>[#table] or postgresql://…[#table]', shown, fixOf(shown));
}

/** The spelling meant, when a usual slip is plain: a DuckDB file without `duckdb:`, `postgres` without its `://`. */
function fixOf(value: string): string {
  if (/\.(duckdb|ddb|db)(#|$)/i.test(value) && !value.includes('://')) return ` (did you mean duckdb:${value}?)`;
  const scheme = /^(postgres(?:ql)?):?\/*(?=[^/])/i.exec(value);
  if (scheme && !value.startsWith(`${scheme[1]}://`)) return ` (did you mean postgresql://${value.slice(scheme[0].length)}?)`;
  return '; e.g. duckdb:warehouse.duckdb or postgresql://etl@db.example.com/warehouse#contacts';
}
