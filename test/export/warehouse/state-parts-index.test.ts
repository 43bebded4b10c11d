/**
 * The PostgreSQL kept state's parts table is indexed on (table_name, part),
 * so reading the state (256 parts a query) does not scan every part of every
 * table; a database whose parts table has no index (an older version's) gets
 * it on its next load, in a schema too. Each part's row stays under the TOAST
 * threshold, so PostgreSQL neither compresses it nor moves it out of line.
 * Real CLI child processes, real PostgreSQL.
 */
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';

const indexes = (schema: string) =>
  withPg(async (db) => (await db.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = '_pylon_state_parts'`, [schema])).rows.map((r) => String(r.indexdef)));

pgTest(`postgres: the state parts table is indexed on (table_name, part); a parts table without the index gets it on the next load; the state still reads${PG_SKIP_NOTE}`, async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const dir = tempDir(t, 'pylon-parts-index-');
  const schema = uniqueTable('s');
  await withPg((db) => db.query(`CREATE SCHEMA "${schema}"`));
  const load = async (runId: string) => {
    const result = await runCli(['export', '--to', `${PG_URL}#${schema}.contacts`, '--run-id', runId, '--rate', FAST_RATE, '--json', '--quiet'], { cwd: dir, env: envFor(emulator) });
    t.is(result.code, 0, result.stderr);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as { load: { staged: string; unchanged: number } };
  };
  await load('i1');
  const made = await indexes(schema);
  t.is(made.length, 1, made.join('; '));
  t.regex(made[0]!, new RegExp(`CREATE INDEX "?_pylon_state_parts_by_part"? ON "?${schema}"?\\._pylon_state_parts USING btree \\(table_name, part\\)`));

  // An older version's database: the parts table without the index. The next load reads the state (staging only the changes) and adds the index.
  await withPg((db) => db.query(`DROP INDEX "${schema}"._pylon_state_parts_by_part`));
  t.deepEqual(await indexes(schema), []);
  t.like((await load('i2')).load, { staged: 'changes', unchanged: 20 });
  t.is((await indexes(schema)).length, 1);
  // And a load with the index in place reads the state as well, and leaves one index.
  t.like((await load('i3')).load, { staged: 'changes', unchanged: 20 });
  t.is((await indexes(schema)).length, 1);
  await withPg((db) => db.query(`DROP SCHEMA "${schema}" CASCADE`));
});

pgTest(`postgres: each state part is stored in its row as it is, neither compressed nor moved out to the TOAST table (a part's row stays under the TOAST threshold)${PG_SKIP_NOTE}`, async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 150 });
  const dir = tempDir(t, 'pylon-parts-toast-');
  const schema = uniqueTable('s');
  await withPg((db) => db.query(`CREATE SCHEMA "${schema}"`));
  // The longest table name PostgreSQL takes (63 bytes), as a state part's row holds it.
  const table = 't'.repeat(63);
  const load = async (runId: string) => {
    const result = await runCli(['export', '--to', `${PG_URL}#${schema}.${table}`, '--run-id', runId, '--rate', FAST_RATE, '--json', '--quiet'], { cwd: dir, env: envFor(emulator) });
    t.is(result.code, 0, result.stderr);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as { load: { staged: string; unchanged: number } };
  };
  await load('t1');
  const parts = await withPg(async (db) => (await db.query(`SELECT count(*)::int AS n, count(pg_column_compression(data))::int AS compressed FROM "${schema}"._pylon_state_parts`)).rows[0]);
  t.true(parts.n >= 3, `the state of 150 contacts spans several parts (${parts.n})`);
  t.is(parts.compressed, 0, 'no part is compressed');
  const toast = await withPg(async (db) => (await db.query(`SELECT pg_relation_size(reltoastrelid)::int AS bytes FROM pg_class WHERE oid = to_regclass($1)`, [`"${schema}"._pylon_state_parts`])).rows[0].bytes);
  t.is(toast, 0, 'nothing was moved out of line');
  // And the state reads back: the next night stages only the changes.
  t.like((await load('t2')).load, { staged: 'changes', unchanged: 150 });
  await withPg((db) => db.query(`DROP SCHEMA "${schema}" CASCADE`));
});
