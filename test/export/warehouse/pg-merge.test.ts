import { client, withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { FULL_CONTACT, exportFrom } from '../helpers.js';
import type pg from 'pg';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../../helpers/cli.js';
import type { ExportStats } from '../../../src/export/run-export.js';

const url = (table: string) => `${PG_URL}#${table}`;

/** Rows of `a` not in `b` plus rows of `b` not in `a`, over every column (bookkeeping included). */
async function difference(db: pg.Client, a: string, b: string): Promise<number> {
  const one = Number((await db.query(`SELECT count(*) AS n FROM (SELECT * FROM "${a}" EXCEPT ALL SELECT * FROM "${b}") d`)).rows[0].n);
  const two = Number((await db.query(`SELECT count(*) AS n FROM (SELECT * FROM "${b}" EXCEPT ALL SELECT * FROM "${a}") d`)).rows[0].n);
  return one + two;
}

/**
 * As difference, for two loads that ran at different times (CLI runs each take their own start): every column but the
 * two timestamps, which are compared as set or not (`_extracted_at` moves with `_run_id`, which is compared).
 */
async function differenceApartFromTimes(db: pg.Client, a: string, b: string): Promise<number> {
  const names = (await db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND column_name NOT IN ('_extracted_at', '_deleted_at') ORDER BY ordinal_position`, [a])).rows.map((r) => `"${r.column_name}"`);
  const list = `${names.join(', ')}, _extracted_at IS NULL AS no_extracted_at, _deleted_at IS NULL AS live`;
  const one = Number((await db.query(`SELECT count(*) AS n FROM (SELECT ${list} FROM "${a}" EXCEPT ALL SELECT ${list} FROM "${b}") d`)).rows[0].n);
  const two = Number((await db.query(`SELECT count(*) AS n FROM (SELECT ${list} FROM "${b}" EXCEPT ALL SELECT ${list} FROM "${a}") d`)).rows[0].n);
  return one + two;
}

const hasKey = async (db: pg.Client, table: string) =>
  Number((await db.query(`SELECT count(*) AS n FROM pg_index WHERE indrelid = to_regclass($1) AND indisunique`, [`"${table}"`])).rows[0].n) > 0;

pgTest(`postgres merge (one diff of ids and hashes): a table with its primary key and a copy whose key was dropped by hand end each night identical, with the same exact counts (update, insert, mark deleted, come back, hard delete)${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 19, seedRandom: 200 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    const api = client(emulator);
    const keyed = uniqueTable('keyed');
    const bare = uniqueTable('bare');
    const night = async (options: { runId: string; now: Date; hardDelete?: boolean }) => {
      const a = await exportFrom(emulator, { to: url(keyed), pageSize: 40, ...options });
      const b = await exportFrom(emulator, { to: url(bare), pageSize: 40, ...options });
      return [a.load && { ...a.load, target: undefined, table: undefined, mergeMs: 0 }, b.load && { ...b.load, target: undefined, table: undefined, mergeMs: 0 }];
    };

    const first = await night({ runId: 'n1', now: new Date('2026-12-01T02:00:00Z') });
    t.deepEqual(first[0], { target: undefined, table: undefined, inserted: 201, updated: 0, unchanged: 0, deleted: 0, mergeMs: 0, staged: 'all' });
    t.deepEqual(first[1], first[0]);
    await withPg(async (db) => {
      await db.query(`ALTER TABLE "${bare}" DROP CONSTRAINT "${bare}_pkey"`);
      t.true(await hasKey(db, keyed));
      t.false(await hasKey(db, bare), 'the copy has no unique index on id left');
      t.is(await difference(db, keyed, bare), 0);
    });

    // 3 renamed, 2 deleted, 1 new.
    const ids = (await api.get('/contacts?limit=999')).body.data.map((c: { id: string }) => c.id) as string[];
    for (const id of ids.slice(5, 8)) await api.patch(`/contacts/${id}`, { name: `Renamed ${id.slice(0, 6)}` });
    const comesBack = (await api.get(`/contacts/${ids[30]}`)).body.data;
    for (const id of ids.slice(30, 32)) await api.delete(`/contacts/${id}`);
    await api.post('/contacts', { name: 'New Person', email: 'new.person@merge.example' });
    const second = await night({ runId: 'n2', now: new Date('2026-12-02T02:00:00Z') });
    t.deepEqual(second[0], { target: undefined, table: undefined, inserted: 1, updated: 3, unchanged: 196, deleted: 2, mergeMs: 0, staged: 'changes' });
    t.deepEqual(second[1], second[0]);
    await withPg(async (db) => {
      t.is(await difference(db, keyed, bare), 0, 'both tables hold the same rows, bookkeeping columns included');
      const written = (await db.query(`SELECT count(*) FILTER (WHERE _run_id = 'n2' AND _deleted_at IS NULL) AS live, count(*) FILTER (WHERE _deleted_at IS NOT NULL) AS gone, count(*) AS n FROM "${keyed}"`)).rows[0];
      t.deepEqual({ live: Number(written.live), gone: Number(written.gone), n: Number(written.n) }, { live: 4, gone: 2, n: 202 });
    });

    // A deleted contact comes back (the row marked deleted is updated, not inserted again); nothing else changed.
    emulator.store.insert(comesBack);
    const third = await night({ runId: 'n3', now: new Date('2026-12-03T02:00:00Z') });
    t.deepEqual(third[0], { target: undefined, table: undefined, inserted: 0, updated: 1, unchanged: 200, deleted: 0, mergeMs: 0, staged: 'changes' });
    t.deepEqual(third[1], third[0]);
    await withPg(async (db) => {
      t.is(await difference(db, keyed, bare), 0);
      t.deepEqual((await db.query(`SELECT _run_id, _deleted_at FROM "${bare}" WHERE id = $1`, [ids[30]])).rows, [{ _run_id: 'n3', _deleted_at: null }]);
    });

    // --hard-delete removes the one still gone.
    const fourth = await night({ runId: 'n4', now: new Date('2026-12-04T02:00:00Z'), hardDelete: true });
    t.deepEqual(fourth[0], { target: undefined, table: undefined, inserted: 0, updated: 0, unchanged: 201, deleted: 1, mergeMs: 0, staged: 'changes' });
    t.deepEqual(fourth[1], fourth[0]);
    await withPg(async (db) => {
      t.is(await difference(db, keyed, bare), 0);
      t.is(Number((await db.query(`SELECT count(*) AS n FROM "${bare}"`)).rows[0].n), 201);
      t.false(await hasKey(db, bare), 'the merge did not add a key to a table without one');
    });
  });
});


pgTest(`postgres full diff merge (changes-only refused: a row deleted by hand each night) into a copy whose key was dropped by hand: over four nights (update, delete, insert, come back, hard delete) it equals the keyed table row by row, counts included${PG_SKIP_NOTE}`, async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 60 });
  const api = client(emulator);
  const dir = tempDir(t, 'pylon-pg-full-diff-');
  const keyed = uniqueTable('fullkeyed');
  const bare = uniqueTable('fullbare');
  const load = async (table: string, runId: string, extra: string[]) => {
    const result = await runCli(['export', '--to', url(table), '--run-id', runId, '--page-size', '25', '--rate', FAST_RATE, '--json', ...extra], { cwd: dir, env: envFor(emulator) });
    t.is(result.code, 0, result.stderr);
    return { ...statsOf<ExportStats>(result).load!, target: undefined, table: undefined, mergeMs: 0 };
  };
  const ids = async () => ((await api.get('/contacts?limit=999')).body.data as Array<{ id: string }>).map((c) => c.id);
  /** Deletes one live row by hand from both tables (the same id), so the count check refuses the changes-only shortcut; then both load. */
  const night = async (runId: string, extra: string[] = []) => {
    await withPg(async (db) => {
      const victim = (await db.query(`SELECT id FROM "${keyed}" WHERE _deleted_at IS NULL ORDER BY id LIMIT 1`)).rows[0].id;
      for (const table of [keyed, bare]) t.is((await db.query(`DELETE FROM "${table}" WHERE id = $1`, [victim])).rowCount, 1);
    });
    const [a, b] = [await load(keyed, runId, extra), await load(bare, runId, extra)];
    t.is(a.staged, 'all', `${runId}: every row staged (the full diff merge)`);
    t.deepEqual(b, a, `${runId}: the same counts`);
    await withPg(async (db) => {
      t.is(await differenceApartFromTimes(db, keyed, bare), 0, `${runId}: both tables hold the same rows, bookkeeping columns included`);
      t.false(await hasKey(db, bare), `${runId}: the merge did not add a key`);
    });
    return a;
  };

  t.like(await load(keyed, 'f1', []), { inserted: 60 });
  t.like(await load(bare, 'f1', []), { inserted: 60 });
  await withPg((db) => db.query(`ALTER TABLE "${bare}" DROP CONSTRAINT "${bare}_pkey"`));

  // 2 renamed, 2 deleted, 1 new; the hand-deleted row comes back as an insert.
  const all = await ids();
  for (const id of all.slice(3, 5)) await api.patch(`/contacts/${id}`, { name: `Renamed ${id.slice(0, 6)}` });
  const comesBack = (await api.get(`/contacts/${all[20]}`)).body.data;
  for (const id of all.slice(20, 22)) await api.delete(`/contacts/${id}`);
  await api.post('/contacts', { name: 'Night Two', email: 'night.two@full-diff.example' });
  t.like(await night('f2'), { inserted: 2, updated: 2, deleted: 2 });

  // A deleted contact comes back (its row marked deleted is updated), one more renamed.
  emulator.store.insert(comesBack);
  await api.patch(`/contacts/${all[7]}`, { name: 'Renamed On Night Three' });
  t.like(await night('f3'), { inserted: 1, updated: 2, deleted: 0 });

  // --hard-delete removes the contact still gone and the row deleted by hand comes back.
  t.like(await night('f4', ['--hard-delete']), { inserted: 1, updated: 0, deleted: 1 });
  await withPg(async (db) => t.is(Number((await db.query(`SELECT count(*) AS n FROM "${bare}"`)).rows[0].n), 60));
});
