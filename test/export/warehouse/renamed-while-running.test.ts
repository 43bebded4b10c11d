import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, statsOf, tempDir } from '../../helpers/cli.js';
import { stallProxy } from '../../helpers/stall-proxy.js';
import { readManifest } from '../helpers.js';
import { join } from 'node:path';
import { selectList, valuesSha256 } from './table-check.js';
import type { ExportStats } from '../../../src/export/run-export.js';

/**
 * A PostgreSQL table renamed by hand (a swap, a backup) while a night waits on Pylon, on a night whose plan alters the
 * table (a custom field new in Pylon: a column to add). The merge finds no table under the name and creates one with
 * the export's columns; before, it then ran the plan made against the old table on it and failed with the server's
 * `column "custom_region" of relation "…" already exists`. Now the new table gets every contact, the renamed one is
 * left as it was, and the next night stages only changes.
 */
pgTest(`postgres: a table renamed while a night that adds a column waits on Pylon: the load creates the table afresh with every contact, the renamed one untouched${PG_SKIP_NOTE}`, async (t) => {
  const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  const emulator = await startEmulator(t, { seedRandom: 60, customFields });
  const dir = tempDir(t, 'pylon-renamed-');
  const table = uniqueTable('renamed');
  // Every night through one proxy; it holds the second list request once armed.
  let armed = false;
  let lists = 0;
  const stall = await stallProxy(t, emulator, (method, path) => {
    if (!armed || method !== 'GET' || !path.startsWith('/contacts')) return false;
    lists += 1;
    if (lists < 2) return false;
    armed = false;
    return true;
  });
  const args = (runId: string) => ['export', `${runId}.csv`, '--to', `${PG_URL}#${table}`, '--run-id', runId, '--page-size', '20', '--rate', FAST_RATE, '--quiet', '--json'];
  const env = envFor(stall);
  const first = await runCli(args('n1'), { cwd: dir, env });
  t.is(first.code, 0, first.stderr);

  customFields.push({ ...customFields[0]!, id: 'cf-region', slug: 'region', label: 'Region', type: 'text', select_metadata: undefined });
  armed = true;
  const night = spawnCli(args('n2'), { cwd: dir, env });
  await Promise.race([stall.reached, night.result]);
  t.is(night.child.exitCode, null, 'the night waits at its second page');
  await withPg((db) => db.query(`ALTER TABLE "${table}" RENAME TO "${table}_old"`));
  stall.release();
  const second = await night.result;
  t.is(second.code, 0, second.stderr);
  t.like(statsOf<ExportStats>(second).load, { inserted: 60, updated: 0, deleted: 0, staged: 'all' });
  const manifest = await readManifest(join(dir, 'n2.csv.manifest.json'));
  const columns = manifest.schema!.columns;
  await withPg(async (db) => {
    t.is(valuesSha256(columns, (await db.query(`SELECT ${selectList(columns, 'postgres')} FROM "${table}" WHERE _deleted_at IS NULL`)).rows), manifest.values!.sha256, 'the new table equals Pylon');
    t.deepEqual((await db.query(`SELECT _run_id, count(*)::int AS n FROM "${table}_old" GROUP BY 1`)).rows, [{ _run_id: 'n1', n: 60 }], 'the renamed table is as it was');
    t.is((await db.query(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'custom_region'`, [`"${table}_old"`])).rows[0].n, 0);
  });
  const third = await runCli(args('n3'), { cwd: dir, env });
  t.is(third.code, 0, third.stderr);
  t.like(statsOf<ExportStats>(third).load, { inserted: 0, updated: 0, unchanged: 60, staged: 'changes' });
});
