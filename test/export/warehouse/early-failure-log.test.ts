/**
 * A load that fails after the table is opened but before its merge left no
 * row in `_pylon_loads`, while a refused open (LOAD_TABLE_CONFLICT) and a
 * failed merge did: the load log skipped those nights. Now each is logged
 * `failed` with the real cause: the run's SCHEMA_CHANGED against the table's
 * kept state (a text field turned number: the table's text column takes the
 * numbers, so the table itself raises no conflict), on both databases; and a
 * PostgreSQL connection lost while the rows are staged, logged on a new
 * connection since the load's own is gone.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, tempDir } from '../helpers.js';
import { duckRows } from './table-check.js';
import { relay } from './pg-relay.js';

type Rows = (sql: string) => Promise<Array<Record<string, unknown>>>;

async function schemaChangedNight(t: ExecutionContext, to: string, loads: Rows) {
  const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  customFields.find((f) => f.slug === 'seats')!.type = 'text';
  await withEmulator({ seed: 61, seedRandom: 12, customFields }, async (emulator) => {
    const dir = await tempDir();
    const first = await exportFrom(emulator, { to, manifest: join(dir, 'n1.json'), runId: 'n1' });
    t.like(first, { complete: true }, first.stoppedAt?.message);
    customFields.find((f) => f.slug === 'seats')!.type = 'number';
    const refused = await exportFrom(emulator, { to, manifest: join(dir, 'n2.json'), runId: 'n2' });
    t.false(refused.complete);
    t.is(refused.stoppedAt?.code, 'SCHEMA_CHANGED', refused.stoppedAt?.message);
    const log = await loads(`SELECT run_id, status, inserted, error, schema_hash FROM _pylon_loads ORDER BY finished_at, run_id`);
    t.deepEqual(log.map((r) => [r.run_id, r.status]), [['n1', 'committed'], ['n2', 'failed']], 'the refused night is in the load log');
    t.like(log[1], { inserted: null, error: refused.stoppedAt!.message, schema_hash: refused.schemaHash });
  });
}

pgTest(`postgres: a schema change refused after the load opened (SCHEMA_CHANGED) is logged failed in _pylon_loads${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('earlyschema');
  await schemaChangedNight(t, `${PG_URL}#${table}`, (sql) => withPg(async (c) => (await c.query(sql.replace('FROM _pylon_loads', `FROM _pylon_loads WHERE table_name = '${table}'`))).rows));
});

test('duckdb: a schema change refused after the load opened (SCHEMA_CHANGED) is logged failed in _pylon_loads', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  await schemaChangedNight(t, `duckdb:${file}`, (sql) => duckRows(file, sql));
});

pgTest(`postgres: a connection lost while the rows are staged is logged failed in _pylon_loads, on a new connection${PG_SKIP_NOTE}`, async (t) => {
  const proxy = await relay(new URL(PG_URL!));
  t.teardown(() => proxy.close());
  const url = new URL(PG_URL!);
  url.host = `127.0.0.1:${proxy.port}`;
  const table = uniqueTable('earlylost');
  const to = `${url.toString()}#${table}`;
  await withEmulator({ seed: 62, seedRandom: 500 }, async (emulator) => {
    const dir = await tempDir();
    // A --state file: every row is staged each night (not only the changes).
    const night = (runId: string, hooks = {}) => exportFrom(emulator, { output: join(dir, 'c.parquet'), state: join(dir, 'c.state'), to, runId, pageSize: 100 }, hooks);
    const first = await night('n1');
    t.like(first, { complete: true }, first.stoppedAt?.message);
    let pages = 0;
    const lost = await night('n2', { onProgress: () => {
      pages += 1;
      if (pages === 2) proxy.cut();
    } });
    t.false(lost.complete);
    t.regex(lost.stoppedAt!.code, /^LOAD_/);
    t.regex(lost.stoppedAt!.message, /Connection terminated unexpectedly|unreachable/);
    const log = await withPg(async (c) => (await c.query(`SELECT run_id, status, error FROM _pylon_loads WHERE table_name = $1 ORDER BY finished_at, run_id`, [table])).rows);
    t.deepEqual(log.map((r) => [r.run_id, r.status]), [['n1', 'committed'], ['n2', 'failed']], 'the night is in the load log');
    t.is(log[1].error, lost.stoppedAt!.message);
  });
});
