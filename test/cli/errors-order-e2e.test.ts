/**
 * End-to-end: the error report lists the failed rows in the input's line order, as `--results` does, though writes run
 * side by side and end in another order (the emulator's jitter makes a later row's answer come first), and rows that fail
 * before any call (a bad email) are reported at once while earlier rows' writes are still out. A run stopped by Ctrl-C
 * still writes every failed row it reported, in order too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';

const ROWS = 60;

const linesOf = (path: string) => (parse(readFileSync(path), { columns: true }) as Array<Record<string, string>>).map((r) => Number(r._line));

/** Every row fails: even rows have no email (the server wants one on a create: a 400 after the call), odd rows a bad one (no call). */
function failingCsv(rows: number): string {
  const lines = ['email,name'];
  for (let i = 0; i < rows; i++) lines.push(i % 2 === 0 ? `,Person ${i}` : `not-an-email-${i},Person ${i}`);
  return lines.join('\n') + '\n';
}

test('the error report lists failed rows in line order after concurrent writes', async (t) => {
  const emulator = await startEmulator(t, { jitterMs: 40, createEmail: 'required' });
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, failingCsv(ROWS));
  const run = await runCli(['import', input, '--mode', 'create', '--json', '-q', '--rate', FAST_RATE, '--concurrency', '8'], { env: envFor(emulator) });
  t.is(run.code, 3, run.stderr);
  t.like(statsOf(run), { failed: ROWS });
  t.deepEqual(linesOf(join(dir, 'contacts.errors.csv')), Array.from({ length: ROWS }, (_, i) => i + 2));
});

test('the error report of a run stopped by Ctrl-C holds every row reported failed, in line order', async (t) => {
  const emulator = await startEmulator(t, { createEmail: 'required' });
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, failingCsv(ROWS));
  // Held at the 21st create (line 42): the rows before it have failed, 20 of them after their call.
  let creates = 0;
  const stall = await stallProxy(t, emulator, (method, path) => method === 'POST' && path.split('?')[0] === '/contacts' && ++creates === 21);
  const held = spawnCli(['import', input, '--mode', 'create', '--json', '-q', '--rate', FAST_RATE, '--concurrency', '1'], { env: envFor(stall) });
  await stall.reached;
  held.child.kill('SIGINT');
  stall.release({ drop: true });
  const run = await held.result;
  t.is(run.code, 130, run.stderr);
  const lines = linesOf(join(dir, 'contacts.errors.csv'));
  t.true(lines.length >= 40, `${lines.length} rows reported`);
  t.deepEqual(lines, [...lines].sort((a, b) => a - b));
  t.deepEqual(lines.slice(0, 40), Array.from({ length: 40 }, (_, i) => i + 2), 'every row before the held one is there');
});
