/**
 * Ctrl-C at the very start of a run that writes: while its first call (`GET /me`,
 * who the token belongs to) is unanswered. Every writing command ends as for a
 * Ctrl-C later on: its summary, exit 130, its lock released, and the run it names
 * to finish (`--resume`, or the same command when no journal was kept) completes.
 * The built CLI in child processes, held at `/me` by a proxy (never by time).
 */
import test from 'ava';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, contactsCsv, emailOf, envFor, notExactlyOnce, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];

for (const command of ['import', 'update', 'undo', 'apply'] as const) {
  test(`${command}: Ctrl-C while GET /me is unanswered prints the summary, exits 130 and releases the lock; the run it names finishes`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    // Every run goes through the proxy (a plan names its host); it holds GET /me only once `holding`.
    let holding = false;
    const proxy = await stallProxy(t, emulator, (method, path) => holding && method === 'GET' && path.startsWith('/me'));
    const env = envFor(proxy);
    const input = join(dir, 's.csv');
    let args: string[];
    if (command === 'import') {
      writeFileSync(input, contactsCsv(5, 'me'));
      args = ['import', input];
    } else {
      seedContacts(emulator.store, 8);
      writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
      if (command === 'update') args = ['update', input, '--set', 'portal_role=admin'];
      else if (command === 'undo') {
        const made = await runCli(['update', input, '--set', 'portal_role=admin', ...FAST], { env });
        t.is(made.code, 0, made.stderr);
        args = ['update', join(dir, 's.undo.csv'), '--undo', join(dir, 'back.undo.csv')];
      } else {
        const planned = await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', join(dir, 'p.json'), ...FAST], { env });
        t.is(planned.code, 0, planned.stderr);
        args = ['apply', join(dir, 'p.json'), '--yes'];
      }
    }
    holding = true;
    const writesBefore = emulator.stats().requests.patch + emulator.stats().requests.create;
    // Ctrl-C lets the call in flight finish: the held /me ends at --timeout, then the run stops.
    const first = spawnCli([...args, ...FAST, '--timeout', '3000'], { env });
    await Promise.race([proxy.reached, first.result]);
    first.child.kill('SIGINT');
    const stopped = await first.result;
    t.is(stopped.code, 130, stopped.stderr);
    t.regex(stopped.stderr, /: interrupted/, 'the summary is printed');
    t.notRegex(stopped.stderr, /\n\s+at /, 'no stack trace');
    t.is(emulator.stats().requests.patch + emulator.stats().requests.create, writesBefore, 'nothing was written');
    t.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.lock')), [], 'the lock is released');

    // update and apply begin their journal before GET /me (it is kept for --resume); import and an undo file begin theirs later.
    const resume = command === 'update' || command === 'apply';
    t.regex(stopped.stderr, resume ? /run the same command with --resume/ : /run the same command again/);
    if (!resume) t.notRegex(stopped.stderr, /--resume/);

    proxy.release();
    const finished = await runCli([...args, ...(resume ? ['--resume'] : []), ...FAST], { env });
    t.is(finished.code, 0, finished.stderr);
    t.deepEqual(readdirSync(dir).filter((f) => f.includes('journal')), [], 'the finished run removed its journal');
    if (command === 'import') t.deepEqual(notExactlyOnce(emulator, Array.from({ length: 5 }, (_, i) => emailOf('me', i))), []);
    else if (command !== 'undo') t.deepEqual([...new Set([...emulator.store.all()].map((c) => c.portal_role))], ['admin']);
  });
}
