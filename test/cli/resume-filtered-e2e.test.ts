/**
 * Rows a preset's filters leave out (Salesforce's IsDeleted=true) are counted `filtered` by a
 * resumed run as by an uninterrupted one: the rows the stopped run had already filtered are
 * replayed from the journal on --resume, and still count.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir, startRevokingProxy } from '../helpers/cli.js';

const ROWS = 40;
/** Every fifth record is deleted (in the recycle bin), the first one included: 8 filtered. */
const csv = () =>
  'Id,FirstName,LastName,Email,IsDeleted\n' +
  Array.from({ length: ROWS }, (_, i) => `0035g00000Q${String(i).padStart(4, '0')},Ann,Row${i},ann${i}@sf.example,${i % 5 === 0 ? 'true' : 'false'}\n`).join('');

test('after a stop and --resume, filtered counts every row the filters left out, as an uninterrupted run does (stderr and --json)', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, csv());
  const args = (journal: string) => ['import', input, '--from', 'salesforce', '--rate', FAST_RATE, '--concurrency', '1', '--lookup-batch', '10', '--timeout', '3000', '--journal', journal, '--errors', join(dir, 'errors.csv'), '--json'];

  const whole = await startEmulator(t);
  const uninterrupted = await runCli(args(join(dir, 'whole.jsonl')), { env: { ...envFor(whole), XDG_STATE_HOME: join(dir, 'state-whole') }, cwd: dir });
  t.is(uninterrupted.code, 0, uninterrupted.stderr);
  t.like(statsOf(uninterrupted), { total: ROWS, created: 32, filtered: 8 });

  const emulator = await startEmulator(t);
  // A token revoked mid-run: the run stops with the first rows done (journaled).
  const proxy = await startRevokingProxy(t, emulator);
  const env = { ...envFor(proxy), XDG_STATE_HOME: join(dir, 'state') };
  const journal = join(dir, 'stopped.jsonl');
  const first = await runCli(args(journal), { env, cwd: dir });
  t.is(first.code, 1, first.stderr);
  t.true((statsOf(first).filtered ?? 0) > 0, 'the stopped run had filtered rows: the resumed run replays them');
  proxy.restore();
  const resumed = await runCli([...args(journal), '--resume'], { env, cwd: dir });
  t.is(resumed.code, 0, resumed.stderr);
  const stats = statsOf(resumed);
  t.like(stats, { total: ROWS, created: 32, filtered: 8 });
  t.regex(resumed.stderr, /filtered: 8 of the skipped rows/);
});
