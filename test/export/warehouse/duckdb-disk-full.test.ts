import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { mountTmpfs, tmpfsSkipNote, canMountTmpfs } from '../../helpers/tmpfs.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { selectList, valuesSha256 } from './table-check.js';

/**
 * A DuckDB database on a disk that fills between two nights (a real tmpfs): the second night's load fails, the table and
 * the files are as they were, the load log says why and which folder to free, and the next night (space freed) loads
 * every change. Before, a disk that filled while the staging file was flushed failed with a bare `ENOSPC: no space
 * left on device, write` (no file, no folder), and one that filled at COMMIT with DuckDB's words alone.
 */

const diskTest = canMountTmpfs ? test : test.skip;

async function fullNight(t: import('ava').ExecutionContext, free: number) {
  const disk = mountTmpfs(t, '16m')!;
  const file = join(disk, 'w.duckdb');
  const rows = async (sql: string) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>;
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  return withEmulator({ seed: 9, seedRandom: 300 }, async (emulator) => {
    const dir = await tempDir();
    const night = (runId: string) => exportFrom(emulator, { to: `duckdb:${file}`, runId, manifest: join(dir, `${runId}.json`) });
    t.like((await night('n1')).load, { inserted: 300 });
    const api = client(emulator);
    for (const contact of (await api.get('/contacts?limit=999')).body.data as Array<{ id: string }>) await api.patch(`/contacts/${contact.id}`, { name: `Changed ${contact.id.slice(0, 8)}` });
    const available = Number(spawnSync('df', ['-B1', '--output=avail', disk]).stdout.toString().trim().split('\n')[1]);
    writeFileSync(join(disk, 'filler'), Buffer.alloc(available - free));

    const failed = await night('n2');
    t.false(failed.complete);
    t.is(failed.stoppedAt?.code, 'LOAD_FAILED');
    const message = failed.stoppedAt!.message;
    t.deepEqual(await rows(`SELECT _run_id, count(*)::INTEGER AS n FROM contacts GROUP BY 1`), [{ _run_id: 'n1', n: 300 }], 'the table is as it was');
    t.deepEqual(readdirSync(disk).filter((f) => f.startsWith('.pylon-stage')), [], 'no staging file left');

    rmSync(join(disk, 'filler'));
    const next = await night('n3');
    t.true(next.complete, next.stoppedAt?.message);
    t.like(next.load, { updated: 300 });
    const manifest = await readManifest(join(dir, 'n3.json'));
    const columns = manifest.schema!.columns;
    t.is(valuesSha256(columns, await rows(`SELECT ${selectList(columns, 'duckdb')} FROM contacts WHERE _deleted_at IS NULL`)), manifest.values!.sha256, 'the table equals Pylon');
    return { message, log: await rows(`SELECT run_id, status, error FROM _pylon_loads ORDER BY started_at`), disk };
  });
}

diskTest(`duckdb: a disk that fills while the staging file is written names the file, the folder and the way on; the next night loads${tmpfsSkipNote}`, async (t) => {
  const { message, log, disk } = await fullNight(t, 20_000);
  t.regex(message, new RegExp(`cannot write the staging file ${disk}/\\.pylon-stage-[^ ]+\\.parquet: the disk holding ${disk} is full \\(ENOSPC: no space left on device, write\\); .*free space on that disk and run again`));
  t.deepEqual(log.map((r) => [r.run_id, r.status]), [['n1', 'committed'], ['n2', 'failed'], ['n3', 'committed']]);
});

diskTest(`duckdb: a disk that fills at COMMIT names the folder to free; the table is as it was and the next night loads${tmpfsSkipNote}`, async (t) => {
  const { message, log, disk } = await fullNight(t, 100_000);
  t.regex(message, /No space left on device/);
  t.regex(message, new RegExp(`the disk holding ${disk} is full; free space on it .* and run again`));
  t.deepEqual(log.map((r) => [r.run_id, r.status]), [['n1', 'committed'], ['n2', 'failed'], ['n3', 'committed']]);
});
