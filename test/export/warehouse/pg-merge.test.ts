import { client, withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { FULL_CONTACT, exportFrom } from '../helpers.js';
import type pg from 'pg';

const url = (table: string) => `${PG_URL}#${table}`;

/** Rows of `a` not in `b` plus rows of `b` not in `a`, over every column (bookkeeping included). */
async function difference(db: pg.Client, a: string, b: string): Promise<number> {
  const one = Number((await db.query(`SELECT count(*) AS n FROM (SELECT * FROM "${a}" EXCEPT ALL SELECT * FROM "${b}") d`)).rows[0].n);
  const two = Number((await db.query(`SELECT count(*) AS n FROM (SELECT * FROM "${b}" EXCEPT ALL SELECT * FROM "${a}") d`)).rows[0].n);
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

