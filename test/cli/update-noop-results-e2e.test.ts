/**
 * `update --results` writes its results file when there is nothing to change too: one row per input row with its
 * outcome (`unchanged`, or `failed`), as any other run's, and nothing else is left beside it (the plan's staging file).
 */
import test from 'ava';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>;

test('update --results with nothing to change writes the results file: one row per input row, unchanged (or failed)', async (t) => {
  const emulator = await startEmulator(t);
  const a = emulator.store.insert({ name: 'A', email: 'a@x.example', portal_role: 'admin' });
  const b = emulator.store.insert({ name: 'B', email: 'b@x.example', portal_role: 'admin' });
  const dir = tempDir(t, 'pylon-noop-results-');
  const input = join(dir, 'roles.csv');
  writeFileSync(input, 'email,portal_role\na@x.example,admin\nb@x.example,admin\nnobody@x.example,admin\n');
  const results = join(dir, 'out.csv');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };

  const run = await runCli(['update', input, '--results', results, '--yes', '--json', '--rate', FAST_RATE], { env });
  t.is(run.code, 3, run.stderr);
  t.like(statsOf(run), { updated: 0, unchanged: 2, failed: 1, resultsPath: results });
  t.regex(run.stderr, new RegExp(`results: ${results.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  const rows = readCsv(results);
  t.deepEqual(rows.map((r) => [r._line, r._action, r._contact_id]).sort(), [['2', 'unchanged', a.id], ['3', 'unchanged', b.id], ['4', 'failed', '']]);
  t.false('_changes' in rows[0]!, "a real run's columns, not the dry run's");
  t.is(emulator.stats().requests.patch, 0);
  t.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no staging file is left');

  // A run with changes writes its own results, and leaves no staging file either.
  writeFileSync(input, 'email,portal_role\na@x.example,member\nb@x.example,admin\n');
  const changing = await runCli(['update', input, '--results', results, '--yes', '--json', '--rate', FAST_RATE], { env });
  t.is(changing.code, 0, changing.stderr);
  t.deepEqual(readCsv(results).map((r) => [r._line, r._action]).sort(), [['2', 'updated'], ['3', 'unchanged']], 'rows in the order their outcomes came');
  t.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no staging file is left');
});
