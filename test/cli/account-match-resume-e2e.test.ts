/**
 * The account-match summary of a resumed run equals an uninterrupted run's: a
 * row replayed from the journal counts as it did in the run that did it, so the
 * rows that failed as in-file duplicates are not counted as matched.
 */
import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, tempDir } from '../helpers/cli.js';

const ROWS = 12;

test('import --account-match stopped by a fatal error, then --resume: the account summary counts the rows an uninterrupted run counts, not the in-file duplicates', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-account-resume-');
  const input = join(dir, 'acc.csv');
  const rows = Array.from({ length: ROWS }, (_, i) => `B${i},b${i}@acc.example,Acme Inc`);
  // Two rows repeating an email in another case: in-file duplicates, failed before any call.
  rows.splice(3, 0, 'B1 dup,B1@ACC.example,Acme Inc');
  rows.splice(6, 0, 'B4 dup,B4@Acc.Example,Acme Inc');
  writeFileSync(input, ['name,email,company', ...rows].join('\n') + '\n');
  const args = ['import', input, '--account-match', 'name', '--account-column', 'company', '--rate', FAST_RATE, '--concurrency', '1', '--timeout', '3000'];
  const summaryOf = (stderr: string) => /accounts: \d+ rows? matched.*/.exec(stderr)?.[0];

  const dry = await runCli([...args, '--dry-run'], { env: envFor(emulator) });
  t.is(dry.code, 3, dry.stderr); // the two duplicates fail
  t.is(summaryOf(dry.stderr), `accounts: ${ROWS} rows matched an account, 0 matched none, 0 at free-mail domains (not associated), 0 ambiguous (failed)`);

  // From the fifth create on, every create meets a 401 until the resume: the run stops (exit 1) and keeps its journal, with the
  // duplicates' failures in it. Not the fifth alone: a 401 that came back after --timeout on a busy machine would be a lost answer
  // (the create uncertain, not resent) and the run would go on past it.
  let creates = 0;
  let revoked = true;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => (revoked && method === 'POST' && path === '/contacts' && ++creates >= 5 ? 'status=401' : undefined));
  const first = await runCli(args, { env: envFor(proxy) });
  revoked = false;
  t.is(first.code, 1, first.stderr);
  t.true(proxy.injected.includes('status=401'));
  t.true(existsSync(join(dir, '.acc.journal.jsonl')), 'the journal stays for --resume');

  const resumed = await runCli([...args, '--resume'], { env: envFor(proxy) }); // the same host, the token "fixed"
  t.is(resumed.code, 3, resumed.stderr); // the two duplicates failed
  t.regex(resumed.stderr, /failed 2\b/);
  t.is(summaryOf(resumed.stderr), summaryOf(dry.stderr), resumed.stderr);
});
