/**
 * The audit log's disk fills while a run writes: the record is appended when the
 * run ends, so the run stops before its next write (OUTPUT_WRITE, exit 1, naming
 * the audit log) instead of writing on with no record; the writes done stay in
 * its journal and undo file, and --resume finishes once there is room. A real
 * full disk (a tmpfs); the run is held at a PATCH by a proxy while the disk fills.
 */
import test from 'ava';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, contactsCsv, emailOf, envFor, notExactlyOnce, runCli, spawnCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';
import { canMountTmpfs, mountTmpfs, tmpfsSkipNote } from '../helpers/tmpfs.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '1', '--timeout', '3000'];

for (const command of ['import', 'update', 'apply'] as const) {
  (canMountTmpfs ? test : test.skip)(`${command}: the audit log's disk fills mid-run: the run stops before its next write, naming the audit log; --resume finishes once there is room${tmpfsSkipNote}`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const disk = mountTmpfs(t, '256k')!;
    const audit = join(disk, 'audit.jsonl');
    const input = join(dir, 'u.csv');
    // Every run goes through the proxy (a plan names its host); it holds the first write once `holding`.
    let holding = false;
    const proxy = await stallProxy(t, emulator, (method, path) => holding && (method === 'PATCH' || (method === 'POST' && path === '/contacts')));
    const env = envFor(proxy);
    const writes = () => emulator.stats().requests.patch + emulator.stats().requests.create;
    let args: string[];
    let changing: number;
    if (command === 'import') {
      writeFileSync(input, contactsCsv(12, 'aud'));
      changing = 12;
      args = ['import', input];
    } else {
      seedContacts(emulator.store, 12);
      changing = [...emulator.store.all()].filter((c) => c.portal_role !== 'admin').length;
      writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
      args = ['update', input, '--set', 'portal_role=admin'];
      if (command === 'apply') {
        const planned = await runCli([...args, '--plan-out', join(dir, 'u.json'), ...FAST], { env });
        t.is(planned.code, 0, planned.stderr);
        args = ['apply', join(dir, 'u.json'), '--yes'];
      }
    }
    args = [...args, '--audit-log', audit, ...FAST];

    // The first write is held at the proxy; the disk fills meanwhile.
    holding = true;
    const run = spawnCli([...args, '--json'], { env });
    await Promise.race([proxy.reached, run.result]);
    const filler = join(disk, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(256 * 1024));
    } catch {
      // ENOSPC: the disk is full, as meant.
    }
    proxy.release();
    const stopped = await run.result;
    t.is(stopped.code, 1, stopped.stderr);
    t.is(writes(), 1, 'only the write sent before the disk filled went out');
    t.like(statsOf(stopped).fatal, { code: 'OUTPUT_WRITE' });
    t.true(stopped.stderr.includes(`Cannot append to the audit log ${audit}: its disk is full`), stopped.stderr);
    t.regex(stopped.stderr, /run the same command with --resume/);
    t.notRegex(stopped.stderr, /\n\s+at /, 'no stack trace');

    rmSync(filler);
    const resumed = await runCli([...args, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.is(writes(), changing, 'each contact written once');
    if (command === 'import') t.deepEqual(notExactlyOnce(emulator, Array.from({ length: 12 }, (_, i) => emailOf('aud', i))), []);
    else {
      t.deepEqual([...new Set([...emulator.store.all()].map((c) => c.portal_role))], ['admin']);
      const undo = parse(readFileSync(join(dir, 'u.undo.csv'), 'utf8'), { columns: true, bom: true }) as unknown[];
      t.is(undo.length, changing, "the undo file holds the stopped run's change too");
    }
    const records = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { outcome: string });
    t.is(records.at(-1)!.outcome, 'complete', 'the resumed run is recorded');
  });
}
