import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';

/**
 * A loader role that may use a schema but not create in it: the run stops before the first page with the server's
 * refusal and what the role needs (the grant to run, and where the least-privilege role is described); before, it said
 * only `permission denied for schema …`. Once the grant is given, the next run loads.
 */
pgTest(`postgres: a role that cannot create in the target schema is told the grant it needs, before the first page; with it the next night loads${PG_SKIP_NOTE}`, async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 10 });
  const dir = tempDir(t, 'pylon-privileges-');
  const role = uniqueTable('loader');
  const schema = uniqueTable('locked');
  await withPg((db) => db.query(`CREATE ROLE "${role}" LOGIN PASSWORD 'loader-pw'; CREATE SCHEMA "${schema}"; GRANT USAGE ON SCHEMA "${schema}" TO "${role}"; GRANT CONNECT, TEMPORARY ON DATABASE "${new URL(PG_URL!).pathname.slice(1)}" TO "${role}"`));
  t.teardown(() => withPg((db) => db.query(`DROP SCHEMA "${schema}" CASCADE; REVOKE ALL ON DATABASE "${new URL(PG_URL!).pathname.slice(1)}" FROM "${role}"; DROP OWNED BY "${role}"; DROP ROLE "${role}"`)));
  const url = new URL(PG_URL!);
  url.username = role;
  url.password = 'loader-pw';
  const to = `${url.toString()}#${schema}.contacts`;
  const night = (runId: string) => runCli(['export', `${runId}.csv`, '--to', to, '--run-id', runId, '--rate', FAST_RATE, '--quiet'], { cwd: dir, env: envFor(emulator) });

  const listed = emulator.stats().requests.list ?? 0;
  const refused = await night('n1');
  t.is(refused.code, 1, refused.stderr);
  t.regex(refused.stderr, /LOAD_FAILED/);
  t.true(
    refused.stderr.includes(`permission denied for schema ${schema}: the role ${role} needs USAGE and CREATE on schema ${schema} (GRANT USAGE, CREATE ON SCHEMA "${schema}" TO "${role}";), TEMPORARY on the database, and to own the tables it changes`),
    refused.stderr,
  );
  t.regex(refused.stderr, /see "A least-privilege PostgreSQL role" in docs\/warehouse\.md/);
  t.false(refused.stderr.includes('loader-pw'), 'no password');
  t.notRegex(refused.stderr, /\n\s+at /, 'no stack trace');
  t.is(emulator.stats().requests.list ?? 0, listed, 'stopped before the first page');
  t.false(existsSync(join(dir, 'n1.csv')));

  await withPg((db) => db.query(`GRANT CREATE ON SCHEMA "${schema}" TO "${role}"`));
  const loaded = await night('n2');
  t.is(loaded.code, 0, loaded.stderr);
  await withPg(async (db) => t.is(Number((await db.query(`SELECT count(*) AS n FROM "${schema}".contacts WHERE _deleted_at IS NULL`)).rows[0].n), 10));
});

/**
 * The usual URL names no schema (`#contacts`): the table goes in public, where PostgreSQL 15 and later let only its
 * owner create. The refusal's GRANT names the schema the server named; before, it said `ON SCHEMA <schema>`, a
 * statement that could not be run as given.
 */
pgTest(`postgres: a table named without its schema, a role that cannot create in public: the GRANT names public and runs as given${PG_SKIP_NOTE}`, async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 10 });
  const dir = tempDir(t, 'pylon-privileges-');
  const role = uniqueTable('loader');
  const table = uniqueTable('nopublic');
  const database = new URL(PG_URL!).pathname.slice(1);
  // Whether public lets everyone create (PostgreSQL before 15): taken away for this test, given back after.
  const publicCreate = await withPg(async (db) => (await db.query(`SELECT has_schema_privilege('public', 'public', 'CREATE') AS c`)).rows[0].c as boolean);
  await withPg((db) => db.query(`CREATE ROLE "${role}" LOGIN PASSWORD 'loader-pw'; REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO "${role}"; GRANT CONNECT, TEMPORARY ON DATABASE "${database}" TO "${role}"`));
  t.teardown(() =>
    withPg((db) =>
      db.query(`DROP TABLE IF EXISTS public."${table}"; REVOKE ALL ON DATABASE "${database}" FROM "${role}"; REVOKE ALL ON SCHEMA public FROM "${role}"; DROP OWNED BY "${role}"; DROP ROLE "${role}"${publicCreate ? '; GRANT CREATE ON SCHEMA public TO PUBLIC' : ''}`),
    ),
  );
  const url = new URL(PG_URL!);
  url.username = role;
  url.password = 'loader-pw';
  const night = (runId: string) => runCli(['export', `${runId}.csv`, '--to', `${url.toString()}#${table}`, '--run-id', runId, '--rate', FAST_RATE, '--quiet'], { cwd: dir, env: envFor(emulator) });

  const listed = emulator.stats().requests.list ?? 0;
  const refused = await night('n1');
  t.is(refused.code, 1, refused.stderr);
  t.regex(refused.stderr, /LOAD_FAILED/);
  const grant = `GRANT USAGE, CREATE ON SCHEMA "public" TO "${role}";`;
  t.true(refused.stderr.includes(`permission denied for schema public: the role ${role} needs USAGE and CREATE on schema public (${grant})`), refused.stderr);
  t.false(refused.stderr.includes('loader-pw'), 'no password');
  t.notRegex(refused.stderr, /\n\s+at /, 'no stack trace');
  t.is(emulator.stats().requests.list ?? 0, listed, 'stopped before the first page');
  t.false(existsSync(join(dir, 'n1.csv')));

  // The statement as the message gives it, run by the schema's owner: the next night loads.
  await withPg((db) => db.query(grant));
  const loaded = await night('n2');
  t.is(loaded.code, 0, loaded.stderr);
  await withPg(async (db) => t.is(Number((await db.query(`SELECT count(*) AS n FROM public."${table}" WHERE _deleted_at IS NULL`)).rows[0].n), 10));
});
