/**
 * The PostgreSQL the load tests use: PYLON_TEST_PG_URL (set by .ci/run from
 * .ci/postgres.sh). Unset: the tests are registered as skipped, with the reason
 * in their title. Set but unreachable: they fail.
 */
import test from 'ava';
import pg from 'pg';

export const PG_URL = process.env.PYLON_TEST_PG_URL;

/** `test` when a database is configured, else `test.skip` (visible in the output as skipped). */
export const pgTest: typeof test = (PG_URL ? test : test.skip) as typeof test;
export const PG_SKIP_NOTE = PG_URL ? '' : ' [skipped: PYLON_TEST_PG_URL not set; run .ci/postgres.sh start]';

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
