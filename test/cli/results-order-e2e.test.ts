/**
 * End-to-end: `--results` lists the rows in the input's line order, though writes run side by side
 * and end in another order (the emulator's jitter makes a later row's answer come first).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, contactsCsv, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

const ROWS = 80;

const linesOf = (path: string) => (parse(readFileSync(path), { columns: true }) as Array<Record<string, string>>).map((r) => Number(r._line));
const inOrder = Array.from({ length: ROWS }, (_, i) => i + 2);

test('import --results and update --results list the rows in line order after concurrent writes', async (t) => {
  const emulator = await startEmulator(t, { jitterMs: 40 });
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, contactsCsv(ROWS));
  const env = envFor(emulator);
  const imported = await runCli(['import', input, '--json', '-q', '--rate', FAST_RATE, '--concurrency', '8', '--results', join(dir, 'import.csv')], { env });
  t.is(imported.code, 0, imported.stderr);
  t.deepEqual(linesOf(join(dir, 'import.csv')), inOrder);

  writeFileSync(input, contactsCsv(ROWS).replaceAll('Person ', 'Renamed '));
  const updated = await runCli(['update', input, '--json', '-q', '--yes', '--rate', FAST_RATE, '--concurrency', '8', '--results', join(dir, 'update.csv')], { env });
  t.is(updated.code, 0, updated.stderr);
  t.deepEqual(linesOf(join(dir, 'update.csv')), inOrder);
});
