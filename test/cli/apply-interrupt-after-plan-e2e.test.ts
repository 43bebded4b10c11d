/**
 * Ctrl-C just after `apply` prints the plan ("N contacts change"), before its first read or write: the run
 * ends as `update` does at that point (RUN_ABORTED as an interruption: the summary and --json's stats,
 * exit 130, the hint to finish it with --resume), never as an unexpected error, and `--resume` finishes it.
 * The built CLI in a child process, held at GET /me by a proxy and let go once it has the SIGINT (never by time).
 */
import test from 'ava';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];

test('apply: Ctrl-C as the plan is printed ends interrupted (exit 130, --json stats, --resume), and --resume finishes it', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 12);
  const dir = tempDir(t);
  const input = join(dir, 's.csv');
  writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
  let holding = false;
  const proxy = await stallProxy(t, emulator, (method, path) => holding && method === 'GET' && path.startsWith('/me'));
  const env = envFor(proxy);
  const plan = join(dir, 'p.json');
  const planned = await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', plan, ...FAST], { env });
  t.is(planned.code, 0, planned.stderr);

  holding = true;
  const run = spawnCli(['apply', plan, '--yes', '--json', ...FAST, '--timeout', '5000'], { env });
  await Promise.race([proxy.reached, run.result]);
  // GET /me answers once the run has the SIGINT: the run goes on to print the plan with its signal already aborted.
  let stderr = '';
  const heard = new Promise<void>((resolve) =>
    run.child.stderr!.on('data', (d: string) => {
      stderr += d;
      if (/SIGINT/.test(stderr)) resolve();
    }),
  );
  run.child.kill('SIGINT');
  await Promise.race([heard, run.result]);
  proxy.release();
  const stopped = await run.result;
  t.is(stopped.code, 130, stopped.stderr);
  t.notRegex(stopped.stderr, /unexpected error|This is a bug/);
  t.notRegex(stopped.stderr, /\n\s+at /, 'no stack trace');
  t.regex(stopped.stderr, /contacts change/, 'the plan was printed');
  t.regex(stopped.stderr, /: interrupted/, 'the summary is printed');
  t.regex(stopped.stderr, /run the same command with --resume/);
  const stats = JSON.parse(stopped.stdout) as { interrupted: boolean; updated: number };
  t.true(stats.interrupted);
  t.is(emulator.stats().requests.patch, 0, 'nothing was written');

  const finished = await runCli(['apply', plan, '--yes', '--resume', ...FAST], { env });
  t.is(finished.code, 0, finished.stderr);
  t.deepEqual([...new Set([...emulator.store.all()].map((c) => c.portal_role))], ['admin']);
  t.deepEqual(readdirSync(dir).filter((f) => f.includes('journal')), [], 'the finished run removed its journal');
});
