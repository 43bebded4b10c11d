/**
 * Ctrl-C pressed twice while a run that writes is stopping: the second press does not cut the stop short. The run
 * (held at a known point: a PATCH a stall proxy holds until the short --timeout ends it) still writes its journal, its
 * summary and its audit record (outcome `interrupted`), and exits 130; `--resume` then finishes it.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';

const ARGS = ['--rate', FAST_RATE, '--concurrency', '1', '--timeout', '3000'];

for (const command of ['import', 'update'] as const) {
  test(`${command}: two SIGINTs in a row while the run is held at a PATCH: the journal, the summary and the audit record (interrupted) are written, exit 130`, async (t) => {
    const emulator = await startEmulator(t);
    const contacts = [0, 1, 2].map((i) => emulator.store.insert({ name: `P ${i}`, email: `p${i}@x.example`, portal_role: 'member' }));
    const dir = tempDir(t, 'pylon-interrupt-twice-');
    const input = join(dir, 'rows.csv');
    writeFileSync(input, `email,portal_role\n${contacts.map((c) => `${c.email},admin`).join('\n')}\n`);
    const audit = join(dir, 'audit.jsonl');
    const stall = await stallProxy(t, emulator, (method) => method === 'PATCH');
    const env = { ...envFor(stall), PYLON_AUDIT_LOG: audit };
    const extra = command === 'update' ? ['--yes'] : [];

    const run = spawnCli([command, input, ...ARGS, ...extra], { env });
    await Promise.race([stall.reached, run.result]);
    // The second press comes once the first is being handled (its message is out), as a user's would.
    const handled = new Promise<void>((resolve) => {
      let seen = '';
      run.child.stderr!.on('data', (d: string) => {
        seen += d;
        if (/SIGINT: finishing requests in flight/.test(seen)) resolve();
      });
    });
    run.child.kill('SIGINT');
    await Promise.race([handled, run.result]);
    run.child.kill('SIGINT');
    const stopped = await run.result;
    t.is(stopped.code, 130, stopped.stderr);
    t.regex(stopped.stderr, /not processed: \d+ rows? — run the same command with --resume to finish/, 'the summary is printed');
    t.true(existsSync(audit), 'the audit log is written');
    const records = readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { outcome: string; exitCode?: number });
    t.is(records.length, 1);
    t.is(records[0]!.outcome, 'interrupted');

    stall.release();
    const resumed = await runCli([command, input, ...ARGS, ...extra, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.deepEqual([...emulator.store.all()].map((c) => c.portal_role), ['admin', 'admin', 'admin']);
  });
}
