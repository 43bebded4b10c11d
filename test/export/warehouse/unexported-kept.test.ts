/**
 * A contact Pylon still lists whose record the export cannot write (a value
 * that does not fit its column: a number field holding 2.5, as a lenient
 * server returns it) goes to the error report (exit 3) and is otherwise left
 * as the last committed night published it: not a deletion in the delta, the
 * change log or the table, and its state entry kept, so the night after it is
 * fixed loads it as an update. Real CLI child processes against the emulator,
 * into a DuckDB file (with a --state file) and a PostgreSQL table (state kept
 * in the database).
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { client } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';

type Row = { id: string; custom_seats: number | null; deleted: boolean; run: string };

async function scenario(t: ExecutionContext, to: string, extra: string[], rows: () => Promise<Row[]>) {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 12, validation: 'lenient' });
  const dir = tempDir(t, 'pylon-unexported-');
  const api = client({ url: emulator.url, token: TOKEN });
  const night = (runId: string) =>
    runCli(['export', 'c.csv', '--to', to, '--changes', `changes-${runId}.csv`, '--run-id', runId, '--rate', FAST_RATE, '--quiet', ...extra], { cwd: dir, env: envFor(emulator) });
  const changeLog = (runId: string) => readFileSync(join(dir, `changes-${runId}.csv`), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 2).join(' '));

  const first = await night('n1');
  t.is(first.code, 0, first.stderr);
  const ids = ((await api.get('/contacts?limit=999')).body.data as Array<{ id: string }>).map((c) => c.id);
  const [odd, gone] = [ids[2]!, ids[5]!];
  const before = (await rows()).find((r) => r.id === odd)!;
  t.like(before, { deleted: false, run: 'n1' });

  // Night 2: one contact gets a value its column cannot hold; another is really deleted.
  t.is((await api.patch(`/contacts/${odd}`, { custom_fields: [{ slug: 'seats', value: '2.5' }] })).status, 200);
  t.is((await api.delete(`/contacts/${gone}`)).status, 200);
  const second = await night('n2');
  t.is(second.code, 3, second.stderr);
  t.regex(readFileSync(join(dir, 'c.csv.errors.csv'), 'utf8'), new RegExp(`${odd}.*custom\\.seats = ""2\\.5"" is not an integer`));
  t.deepEqual(changeLog('n2'), [`delete ${gone}`], 'the unexportable contact is no delete in the change log');
  if (existsSync(join(dir, 'c.csv.deleted.csv'))) t.false(readFileSync(join(dir, 'c.csv.deleted.csv'), 'utf8').includes(odd), 'nor in the deleted ids');
  const night2 = await rows();
  t.deepEqual(night2.find((r) => r.id === odd), before, 'its row is left as night 1 loaded it (not marked deleted)');
  t.like(night2.find((r) => r.id === gone), { deleted: true, run: 'n2' }, 'a real deletion is still marked');
  t.is(night2.filter((r) => r.deleted).length, 1);

  // Night 3: the value is fixed in Pylon: the kept state entry makes it an update, not an insert.
  t.is((await api.patch(`/contacts/${odd}`, { custom_fields: [{ slug: 'seats', value: '3' }] })).status, 200);
  const third = await night('n3');
  t.is(third.code, 0, third.stderr);
  t.deepEqual(changeLog('n3'), [`update ${odd}`]);
  t.like((await rows()).find((r) => r.id === odd), { custom_seats: 3, deleted: false, run: 'n3' });
}

test('duckdb: a contact whose record cannot be exported stays in the table, the state and the change log as it was; the night it is fixed it is an update', async (t) => {
  const dir = tempDir(t, 'pylon-unexported-db-');
  const db = join(dir, 'w.duckdb');
  const rows = async (): Promise<Row[]> => {
    const instance = await DuckDBInstance.create(db);
    const connection = await instance.connect();
    try {
      const read = (await connection.runAndReadAll('SELECT id, custom_seats, _deleted_at IS NOT NULL AS deleted, _run_id AS run FROM contacts ORDER BY id')).getRowObjectsJS();
      return read.map((r) => ({ id: String(r.id), custom_seats: r.custom_seats === null ? null : Number(r.custom_seats), deleted: Boolean(r.deleted), run: String(r.run) }));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  await scenario(t, `duckdb:${db}`, ['--state', join(dir, 'c.state')], rows);
});

pgTest(`postgres: a contact whose record cannot be exported stays in the table and the kept state as it was; the night it is fixed it is an update${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('unexported');
  const rows = () =>
    withPg(async (db) =>
      (await db.query(`SELECT id, custom_seats::int AS custom_seats, _deleted_at IS NOT NULL AS deleted, _run_id AS run FROM "${table}" ORDER BY id`)).rows as Row[],
    );
  await scenario(t, `${PG_URL}#${table}`, [], rows);
});
