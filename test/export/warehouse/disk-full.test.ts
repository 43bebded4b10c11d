import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { withEmulator } from '../../helpers/with-emulator.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';

/** Every tmpfs mounted here, unmounted when the file's tests end. */
const mounted: string[] = [];

/** A 400 KiB tmpfs (each test its own): a real file system that fills. Needs root and mount rights (CI runs as root). */
function smallDisk(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'pylon-full-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', dir]).status === 0) {
    mounted.push(dir);
    return dir;
  }
  rmdirSync(dir);
  return undefined;
}

const disk = smallDisk();
const diskTest = disk ? test : test.skip;

test.after.always(() => {
  for (const dir of mounted) {
    spawnSync('umount', [dir]);
    rmdirSync(dir);
  }
});

diskTest(`a disk that fills: OUTPUT_WRITE naming the file, exit 1, the previous export and the loaded table untouched${disk ? '' : ' [skipped: needs root and mount]'}`, async (t) => {
  await withEmulator({ seed: 81, seedRandom: 200 }, async (emulator) => {
    const out = join(disk!, 'contacts.ndjson');
    const db = join(await tempDir(), 'w.duckdb');
    const first = await exportFrom(emulator, { output: out, typed: true, to: `duckdb:${db}` });
    t.true(first.complete);
    const before = { data: readFileSync(out), manifest: readFileSync(`${out}.manifest.json`) };

    emulator.store.clear();
    const big = 'x'.repeat(2000);
    for (let i = 0; i < 400; i += 1) emulator.store.insert({ name: `Person ${i} ${big}`, email: `p${i}@full.example` });
    const failed = await exportFrom(emulator, { output: out, typed: true, to: `duckdb:${db}` });
    t.false(failed.complete);
    t.is(failed.stoppedAt?.code, 'OUTPUT_WRITE');
    t.regex(failed.stoppedAt!.message, new RegExp(`${out.replaceAll('/', '\\/')}.*(ENOSPC|disk is full)`));
    t.deepEqual(readFileSync(out), before.data);
    t.deepEqual(readFileSync(`${out}.manifest.json`), before.manifest);
    t.false((await readdir(disk!)).some((f) => f.endsWith('.partial')), 'the partial file is gone');
    const connection = await (await DuckDBInstance.create(db)).connect();
    const count = (await connection.runAndReadAll('SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE email LIKE \'%@full.example\')::INTEGER AS full FROM contacts')).getRowObjects();
    connection.closeSync();
    t.deepEqual(count, [{ n: 200, full: 0 }]);
    // The partial file is removed first, so the failed run's record fits.
    t.like(await readManifest(`${out}.manifest.json.failed.json`), { complete: false, status: 'failed' });
  });
});

diskTest(`a disk that fills while the --state file is written: the message says the state file was left as it was and names the full folder${disk ? '' : ' [skipped: needs root and mount]'}`, async (t) => {
  const small = smallDisk();
  if (small === undefined) return t.fail('a second tmpfs could not be mounted');
  await withEmulator({ seed: 82, seedRandom: 300 }, async (emulator) => {
    const dir = await tempDir();
    const state = join(small, 'lk/contacts.state');
    const night = () => exportFrom(emulator, { output: join(dir, 'lake/contacts/dt={date}/contacts-{run_id}.parquet'), state });
    t.true((await night()).complete);
    const before = readFileSync(state);
    // Fill the disk but for less than a state's size: the next state's temporary copy cannot be written.
    writeFileSync(join(small, 'filler'), Buffer.alloc(400 * 1024 - 3 * 4096 - before.length));
    const failed = await night();
    t.false(failed.complete);
    t.is(failed.stoppedAt?.code, 'OUTPUT_WRITE');
    const folder = join(small, 'lk');
    t.is(
      failed.stoppedAt?.message,
      `Cannot write the state file ${state}: the disk holding ${folder} is full (ENOSPC: no space left on device, write). Only its temporary copy was being written, so the state file ${state} was left as it was; free space in ${folder} (or name a folder on another disk) and run again`,
    );
    t.deepEqual(readFileSync(state), before, 'the state is as the last committed run left it');
    t.deepEqual((await readdir(folder)).sort(), ['contacts.state'], 'no temporary copy is left behind');
  });
});
