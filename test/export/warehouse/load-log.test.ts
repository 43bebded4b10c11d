import test from 'ava';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { selectList, valuesSha256 } from './table-check.js';

pgTest(`postgres: _pylon_loads logs each load; a soft delete moves _extracted_at; a COMMIT that fails leaves the table as it was and is logged; the next night heals${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 91, seedRandom: 25 }, async (emulator) => {
    const api = client(emulator);
    const dir = await tempDir();
    const table = uniqueTable('loadlog');
    const to = `${PG_URL}#${table}`;
    const manifestPath = join(dir, 'm.json');
    const ids = (await api.get('/contacts?limit=999')).body.data.map((c: { id: string }) => c.id) as string[];

    const first = await exportFrom(emulator, { to, manifest: manifestPath, runId: 'night-1', now: new Date('2026-12-01T02:00:00Z') });
    t.like(first, { complete: true });
    const log = async () =>
      withPg(async (db) => (await db.query(`SELECT run_id, status, inserted::int, updated::int, unchanged::int, deleted::int, values_sha256, schema_hash, error FROM _pylon_loads WHERE table_name = $1 ORDER BY finished_at, run_id`, [table])).rows);
    const m1 = await readManifest(manifestPath);
    t.deepEqual(await log(), [{ run_id: 'night-1', status: 'committed', inserted: 25, updated: 0, unchanged: 0, deleted: 0, values_sha256: m1.values!.sha256, schema_hash: m1.schema!.hash, error: null }]);

    // Night 2: one contact deleted; its _extracted_at moves to this run with _deleted_at.
    await api.delete(`/contacts/${ids[3]}`);
    const second = await exportFrom(emulator, { to, manifest: manifestPath, runId: 'night-2', now: new Date('2026-12-02T02:00:00Z') });
    t.like(second.load, { deleted: 1 });
    await withPg(async (db) => {
      const row = (await db.query(`SELECT _extracted_at = _deleted_at AS same, _extracted_at = '2026-12-02T02:00:00Z'::timestamptz AS at_run, _run_id FROM "${table}" WHERE id = $1`, [ids[3]])).rows[0];
      t.deepEqual(row, { same: true, at_run: true, _run_id: 'night-2' });
    });

    // Night 3: a trigger that raises at COMMIT (deferred) makes the COMMIT fail.
    await withPg((db) =>
      db.query(`CREATE FUNCTION "${table}_refuse"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit: %', NEW.name; END $$;
        CREATE CONSTRAINT TRIGGER refuse AFTER UPDATE ON "${table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.name = 'Refused At Commit') EXECUTE FUNCTION "${table}_refuse"()`),
    );
    const before = await withPg(async (db) => (await db.query(`SELECT * FROM "${table}" ORDER BY id`)).rows);
    await api.patch(`/contacts/${ids[0]}`, { name: 'Refused At Commit' });
    await api.patch(`/contacts/${ids[1]}`, { name: 'Another Change' });
    const failed = await exportFrom(emulator, { to, manifest: manifestPath, runId: 'night-3' });
    t.false(failed.complete);
    t.is(failed.stoppedAt?.code, 'LOAD_FAILED');
    t.regex(failed.stoppedAt!.message, /^Cannot load into postgresql:\/\/[^@]*:\*\*\*@.*: refused at commit: Refused At Commit/);
    t.deepEqual(await withPg(async (db) => (await db.query(`SELECT * FROM "${table}" ORDER BY id`)).rows), before, 'the table is as it was');
    const afterFailure = await log();
    t.like(afterFailure[2], { run_id: 'night-3', status: 'failed', inserted: null });
    t.regex(String(afterFailure[2]!.error), /refused at commit/);
    t.false(JSON.stringify(afterFailure).includes('pylon-test-password'));

    // Night 4: the trigger is gone; the load catches up with both changes.
    await withPg((db) => db.query(`DROP TRIGGER refuse ON "${table}"`));
    const healed = await exportFrom(emulator, { to, manifest: manifestPath, runId: 'night-4' });
    t.like(healed, { complete: true });
    t.like(healed.load, { updated: 2, inserted: 0, deleted: 0 });
    const m4 = await readManifest(manifestPath);
    await withPg(async (db) => {
      const live = (await db.query(`SELECT ${selectList(m4.schema!.columns, 'postgres')} FROM "${table}" WHERE _deleted_at IS NULL`)).rows;
      t.is(valuesSha256(m4.schema!.columns, live), m4.values!.sha256, 'the table equals Pylon again');
    });
    t.deepEqual((await log()).map((r) => [r.run_id, r.status]), [['night-1', 'committed'], ['night-2', 'committed'], ['night-3', 'failed'], ['night-4', 'committed']]);
  });
});

test('duckdb: _pylon_loads logs each committed load with its counts and digests', async (t) => {
  await withEmulator({ seed: 92, seedRandom: 12 }, async (emulator) => {
    const dir = await tempDir();
    const db = join(dir, 'w.duckdb');
    const manifestPath = join(dir, 'm.json');
    await exportFrom(emulator, { to: `duckdb:${db}`, manifest: manifestPath, runId: 'd-1' });
    await client(emulator).delete(`/contacts/${(await client(emulator).get('/contacts?limit=5')).body.data[0].id}`);
    const steps: unknown[] = [];
    const second = await exportFrom(emulator, { to: `duckdb:${db}`, manifest: manifestPath, runId: 'd-2' }, { onMergeStep: (step, counts) => steps.push([step, counts]) });
    t.deepEqual(steps, [['staged', {}], ['updated', { updated: 0 }], ['inserted', { updated: 0, inserted: 0 }], ['deleted', { updated: 0, inserted: 0, deleted: 1 }]], 'the merge reports each statement as it finishes');
    t.like(second.load, { updated: 0, inserted: 0, deleted: 1 });
    const manifest = await readManifest(manifestPath);
    const instance = await DuckDBInstance.create(db);
    const connection = await instance.connect();
    try {
      const rows = (await connection.runAndReadAll(`SELECT run_id, status, inserted, deleted, values_sha256, schema_hash FROM _pylon_loads ORDER BY finished_at`)).getRowObjectsJS();
      t.deepEqual(rows, [
        { run_id: 'd-1', status: 'committed', inserted: 12n, deleted: 0n, values_sha256: rows[0]!.values_sha256, schema_hash: manifest.schema!.hash },
        { run_id: 'd-2', status: 'committed', inserted: 0n, deleted: 1n, values_sha256: manifest.values!.sha256, schema_hash: manifest.schema!.hash },
      ]);
      t.regex(String(rows[0]!.values_sha256), /^[0-9a-f]{64}$/);
      const moved = (await connection.runAndReadAll(`SELECT count(*) AS n FROM contacts WHERE _deleted_at IS NOT NULL AND _extracted_at = _deleted_at AND _run_id = 'd-2'`)).getRowObjectsJS();
      t.deepEqual(moved, [{ n: 1n }], 'the soft delete moved _extracted_at');
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
