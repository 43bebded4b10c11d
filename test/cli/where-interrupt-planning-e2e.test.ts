/**
 * `update --where` stopped while it reads its selection (before its journal is begun) keeps nothing: its
 * summary says to run the same command again, and that works; a `--resume` of it is refused with a message
 * saying the same (never a dead end). `update FILE` stopped at the same point keeps its journal (begun before
 * its first call): its summary says --resume, and that works. The hints are true for what each run kept.
 * The built CLI in child processes, held at the selection's search by a proxy and let go once it has the SIGINT.
 */
import test from 'ava';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];

for (const command of ['where', 'file'] as const) {
  test(`update ${command === 'where' ? '--where' : 'FILE'}: Ctrl-C while planning names the next step, and that step finishes the run`, async (t) => {
    const emulator = await startEmulator(t);
    seedContacts(emulator.store, 1200);
    const dir = tempDir(t);
    const input = join(dir, 's.csv');
    writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
    // --where reads its selection by search (999 a page), a file its contact list: the first such call is held.
    const proxy = await stallProxy(t, emulator, (method, path) => (command === 'where' ? method === 'POST' && path.startsWith('/contacts/search') : method === 'GET' && path.startsWith('/contacts')));
    const env = envFor(proxy);
    const args = [
      'update',
      ...(command === 'where' ? ['--where', 'email~@', '--journal', join(dir, 'w.journal.jsonl')] : [input, '--lookup', 'list']),
      '--set',
      'portal_role=admin',
      '--undo',
      join(dir, 'u.csv'),
      ...FAST,
    ];
    const run = spawnCli([...args, '--timeout', '5000'], { env });
    let stderr = '';
    const heard = new Promise<void>((resolve) =>
      run.child.stderr!.on('data', (d: string) => {
        stderr += d;
        if (/SIGINT/.test(stderr)) resolve();
      }),
    );
    await Promise.race([proxy.reached, run.result]);
    run.child.kill('SIGINT');
    await Promise.race([heard, run.result]);
    proxy.release();
    const stopped = await run.result;
    t.is(stopped.code, 130, stopped.stderr);
    t.regex(stopped.stderr, /interrupted while planning/);
    t.is(emulator.stats().requests.patch, 0, 'nothing was written');
    const resume = /run the same command with --resume/.test(stopped.stderr);
    t.is(resume, command === 'file', stopped.stderr);
    if (!resume) {
      t.regex(stopped.stderr, /run the same command again/);
      // --resume of a run that kept nothing says what to do instead. The held search is the email-case probe's or the
      // selection's, whichever comes first: stopped at the probe the run began nothing, and the refusal is the one for
      // no journal at all ("…the same command without --resume is safe"); at the selection, the one for a half-read
      // selection ("run the same command without --resume"). Both name the step that finishes the run.
      const refused = await runCli([...args, '--resume'], { env });
      t.is(refused.code, 2, refused.stderr);
      t.regex(refused.stderr, /the same command without --resume/);
      t.deepEqual(readdirSync(dir).filter((f) => f.startsWith('w.journal')), [], 'the stopped run kept nothing (no half selection)');
    }
    const finished = await runCli([...args, ...(resume ? ['--resume'] : [])], { env });
    t.is(finished.code, 0, finished.stderr);
    t.deepEqual([...new Set([...emulator.store.all()].map((c) => c.portal_role))], ['admin']);
  });
}
