/**
 * A second night stages only the new and changed rows when its baseline is
 * the table's own kept state (TableLoader.stageChangesOnly). Each night loads
 * two tables from one emulator with real CLI child processes: table A keeps
 * its state in the database (the changes-only path), table B reads a --state
 * file (every row staged: today's full merge). After each night both tables
 * hold the same rows, every column compared (the `_extracted_at` and
 * `_deleted_at` timestamps as the night whose start they are, since the two
 * runs of a night start a moment apart), and the loads the same counts. Rows
 * deleted or inserted in A by hand make the next night stage every row of A,
 * which heals it; the night after that stages only changes again.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Emulator } from '../../../src/emulator/index.js';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { client } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { FULL_CONTACT } from '../helpers.js';

interface Load {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  staged: 'changes' | 'all';
}

/** One table as read back: every column but the two timestamps as JSON, and those in epoch milliseconds. */
type RawRow = { id: string; json: string; extracted: number | null; deleted: number | null };

interface Database {
  /** `--to` of table A or B. */
  to(which: 'A' | 'B'): string;
  rows(which: 'A' | 'B'): Promise<RawRow[]>;
  /** Runs statements on table A (`{A}` stands for its quoted name). */
  onA(statements: string[]): Promise<void>;
}

/** The table's rows, each timestamp replaced by the night it is the start of (or `?` when it is no night's start). */
function byNight(rows: RawRow[], nights: Map<number, string>): Array<Record<string, unknown>> {
  const night = (ms: number | null) => (ms === null ? null : (nights.get(ms) ?? `? ${ms}`));
  return rows.map((row) => ({ id: row.id, row: JSON.parse(row.json) as unknown, extracted: night(row.extracted), deleted: night(row.deleted) }));
}

async function scenario(t: ExecutionContext, db: Database) {
  const emulator: Emulator = await startEmulator(t, { seedRandom: 80 });
  emulator.store.insert(FULL_CONTACT);
  const api = client({ url: emulator.url, token: TOKEN });
  const dir = tempDir(t, 'pylon-changes-only-');
  /** Start (epoch ms) of each run → the night's name, for both tables. */
  const nights = new Map<number, string>();
  const load = async (which: 'A' | 'B', runId: string, extra: string[]): Promise<Load> => {
    const state = which === 'B' ? ['--state', join(dir, 'b.state')] : [];
    const result = await runCli(['export', '--to', db.to(which), ...state, '--run-id', runId, '--page-size', '25', '--rate', FAST_RATE, '--quiet', '--json', ...extra], { cwd: dir, env: envFor(emulator) });
    t.is(result.code, 0, result.stderr);
    const stats = JSON.parse(result.stdout.trim().split('\n').pop()!) as { startedAt: string; load: Load & { mergeMs: number } };
    nights.set(Date.parse(stats.startedAt), runId);
    const { inserted, updated, unchanged, deleted, staged } = stats.load;
    return { inserted, updated, unchanged, deleted, staged };
  };
  const night = async (runId: string, extra: string[] = []) => ({ a: await load('A', runId, extra), b: await load('B', runId, extra) });
  const tables = async () => ({ a: byNight(await db.rows('A'), nights), b: byNight(await db.rows('B'), nights) });
  const same = async (message: string, except: string[] = []) => {
    const { a, b } = await tables();
    const keep = (rows: Array<Record<string, unknown>>) => rows.filter((r) => !except.includes(r.id as string));
    t.deepEqual(keep(a), keep(b), message);
    t.false(JSON.stringify(a).includes('"? '), 'every timestamp of A is a night\'s start');
    return { a, b };
  };
  const counts = ({ inserted, updated, unchanged, deleted }: Load) => ({ inserted, updated, unchanged, deleted });

  const first = await night('n1');
  t.deepEqual(first.a, { inserted: 81, updated: 0, unchanged: 0, deleted: 0, staged: 'all' });
  t.deepEqual(first.b, first.a);
  await same('night 1: the same table');

  // Night 2: 3 renamed, 2 deleted in Pylon, 1 new.
  const ids = ((await api.get('/contacts?limit=999')).body.data as Array<{ id: string }>).map((c) => c.id).sort();
  for (const id of ids.slice(3, 6)) t.is((await api.patch(`/contacts/${id}`, { name: `Renamed ${id.slice(0, 6)}` })).status, 200);
  const comesBack = (await api.get(`/contacts/${ids[40]}`)).body.data;
  for (const id of [ids[40]!, ids[41]!]) t.is((await api.delete(`/contacts/${id}`)).status, 200);
  t.is((await api.post('/contacts', { name: 'New Person', email: 'new.person@changes-only.example' })).status, 200);
  const second = await night('n2');
  t.deepEqual(second.a, { inserted: 1, updated: 3, unchanged: 76, deleted: 2, staged: 'changes' }, 'A staged only the changes');
  t.deepEqual(second.b, { ...second.a, staged: 'all' }, 'B staged every row and counted the same');
  const afterTwo = await same('night 2: the same table, bookkeeping included');
  t.deepEqual(afterTwo.a.filter((r) => r.deleted !== null).map((r) => [r.id, r.deleted, r.extracted]).sort(), [[ids[40], 'n2', 'n2'], [ids[41], 'n2', 'n2']]);

  // Night 3: a soft-deleted contact comes back (its row is updated, not inserted again); one more rename.
  emulator.store.insert(comesBack);
  t.is((await api.patch(`/contacts/${ids[7]}`, { name: 'Renamed again' })).status, 200);
  const third = await night('n3');
  t.deepEqual(third.a, { inserted: 0, updated: 2, unchanged: 79, deleted: 0, staged: 'changes' });
  t.deepEqual(counts(third.b), counts(third.a));
  const afterThree = await same('night 3: the same table');
  t.like(afterThree.a.find((r) => r.id === ids[40]), { extracted: 'n3', deleted: null });

  // Night 4, --hard-delete: one more contact deleted in Pylon; the row still marked deleted since night 2 goes too, as in the full merge.
  t.is((await api.delete(`/contacts/${ids[50]}`)).status, 200);
  const fourth = await night('n4', ['--hard-delete']);
  t.deepEqual(fourth.a, { inserted: 0, updated: 0, unchanged: 80, deleted: 2, staged: 'changes' });
  t.deepEqual(counts(fourth.b), counts(fourth.a));
  const afterFour = await same('night 4: the same table');
  t.is(afterFour.a.length, 80);
  t.false(afterFour.a.some((r) => r.id === ids[41] || r.id === ids[50]));

  // Night 5: a row deleted from A by hand: A no longer matches its kept state, so every row is staged and the row comes back.
  const handDeleted = ids[60]!;
  await db.onA([`DELETE FROM {A} WHERE id = '${handDeleted}'`]);
  const fifth = await night('n5');
  t.deepEqual(fifth.a, { inserted: 1, updated: 0, unchanged: 79, deleted: 0, staged: 'all' }, 'A staged every row and healed');
  t.deepEqual(fifth.b, { inserted: 0, updated: 0, unchanged: 80, deleted: 0, staged: 'all' });
  const afterFive = await same('night 5: the same table but the healed row', [handDeleted]);
  const healed = afterFive.a.find((r) => r.id === handDeleted)!;
  const original = afterFive.b.find((r) => r.id === handDeleted)!;
  t.deepEqual({ ...(healed.row as object), _run_id: undefined }, { ...(original.row as object), _run_id: undefined }, 'the healed row holds the contact\'s values again');
  t.like(healed, { extracted: 'n5', deleted: null });

  // Night 6: a row inserted into A by hand: every row is staged again, and the row Pylon does not have is marked deleted.
  await db.onA([`CREATE TEMP TABLE hand AS SELECT * FROM {A} WHERE id = '${ids[61]}'`, `UPDATE hand SET id = 'hand-made'`, 'INSERT INTO {A} SELECT * FROM hand']);
  const sixth = await night('n6');
  t.deepEqual(sixth.a, { inserted: 0, updated: 0, unchanged: 80, deleted: 1, staged: 'all' });
  t.deepEqual(sixth.b, { inserted: 0, updated: 0, unchanged: 80, deleted: 0, staged: 'all' });
  const afterSix = await same('night 6: the same table but the healed row and the hand-made one', [handDeleted, 'hand-made']);
  t.like(afterSix.a.find((r) => r.id === 'hand-made'), { deleted: 'n6', extracted: 'n6' });

  // Night 7: A matches its kept state again: only the changes are staged.
  t.is((await api.patch(`/contacts/${ids[9]}`, { name: 'Renamed on night 7' })).status, 200);
  const seventh = await night('n7');
  t.deepEqual(seventh.a, { inserted: 0, updated: 1, unchanged: 79, deleted: 0, staged: 'changes' });
  t.deepEqual(counts(seventh.b), counts(seventh.a));
  await same('night 7: the same table but the two rows changed by hand', [handDeleted, 'hand-made']);
}

test('duckdb: nights that stage only the changes leave the table a full merge leaves, with the same counts; rows changed by hand heal the next night', async (t) => {
  const dir = tempDir(t, 'pylon-changes-only-db-');
  const file = (which: 'A' | 'B') => join(dir, `${which.toLowerCase()}.duckdb`);
  const withDuck = async <T>(which: 'A' | 'B', fn: (run: (sql: string) => Promise<Array<Record<string, unknown>>>) => Promise<T>): Promise<T> => {
    const instance = await DuckDBInstance.create(file(which));
    const connection = await instance.connect();
    try {
      return await fn(async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  await scenario(t, {
    to: (which) => `duckdb:${file(which)}`,
    rows: (which) =>
      withDuck(which, async (run) =>
        (await run(`SELECT * EXCLUDE (_extracted_at, _deleted_at), epoch_ms(_extracted_at) AS _x, epoch_ms(_deleted_at) AS _d FROM contacts ORDER BY id`)).map(({ _x, _d, ...row }) => ({
          id: String(row.id),
          json: JSON.stringify(row),
          extracted: _x === null ? null : Number(_x),
          deleted: _d === null ? null : Number(_d),
        })),
      ),
    onA: (statements) =>
      withDuck('A', async (run) => {
        for (const sql of statements) await run(sql.replaceAll('{A}', 'contacts'));
      }),
  });
});

pgTest(`postgres: nights that stage only the changes leave the table a full merge leaves, with the same counts; rows changed by hand heal the next night${PG_SKIP_NOTE}`, async (t) => {
  const names = { A: uniqueTable('changes_a'), B: uniqueTable('changes_b') };
  await scenario(t, {
    to: (which) => `${PG_URL}#${names[which]}`,
    rows: (which) =>
      withPg(async (db) =>
        (
          await db.query(
            `SELECT id, (row_to_json(t)::jsonb - '_extracted_at' - '_deleted_at')::text AS j, (extract(epoch from _extracted_at) * 1000)::bigint::text AS x, (extract(epoch from _deleted_at) * 1000)::bigint::text AS d FROM "${names[which]}" t ORDER BY id`,
          )
        ).rows.map((r) => ({ id: String(r.id), json: String(r.j), extracted: r.x === null ? null : Number(r.x), deleted: r.d === null ? null : Number(r.d) })),
      ),
    onA: (statements) =>
      withPg(async (db) => {
        for (const sql of statements) await db.query(sql.replaceAll('{A}', `"${names.A}"`));
        await db.query('DROP TABLE IF EXISTS hand');
      }),
  });
});
