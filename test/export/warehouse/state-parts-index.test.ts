/**
 * The PostgreSQL kept state's parts table is indexed on (table_name, part),
 * so reading the state (256 parts a query) does not scan every part of every
 * table; a database whose parts table has no index (an older version's) gets
 * it on its next load, in a schema too. Real CLI child processes, real PostgreSQL.
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
