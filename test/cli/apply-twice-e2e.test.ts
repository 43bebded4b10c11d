/**
 * A plan applied a second time changes nothing and writes no undo file (it wrote an empty
 * `roles.plan.undo-2.csv`, header only, beside the first run's): the summary says why there is none.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

test('a second apply of an applied plan writes no undo file and says so', async (t) => {
  const emulator = await startEmulator(t);
  for (let i = 0; i < 3; i++) emulator.store.insert({ name: `P ${i}`, email: `p${i}@example.com`, portal_role: 'member' });
  const dir = tempDir(t);
  const file = join(dir, 'admins.csv');
  writeFileSync(file, 'email\np0@example.com\np1@example.com\np2@example.com\n');
  const plan = join(dir, 'roles.plan');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const made = await runCli(['update', file, '--set', 'portal_role=admin', '--plan-out', plan, '-q', '--rate', FAST_RATE], { env });
  t.is(made.code, 0, made.stderr);

  const first = await runCli(['apply', plan, '--yes', '--json', '--rate', FAST_RATE], { env });
  t.is(first.code, 0, first.stderr);
  t.like(statsOf(first), { updated: 3, undoPath: join(dir, 'roles.plan.undo.csv') });
  t.true(existsSync(join(dir, 'roles.plan.undo.csv')));

  const second = await runCli(['apply', plan, '--yes', '--json', '--rate', FAST_RATE], { env });
  t.is(second.code, 0, second.stderr);
  const stats = statsOf(second);
  t.like(stats, { updated: 0, unchanged: 3, failed: 0 });
  t.is(stats.undoPath, undefined);
  t.deepEqual(readdirSync(dir).filter((name) => name.includes('undo')), ['roles.plan.undo.csv'], 'no second, empty undo file');
  t.regex(second.stderr, /undo file: none written, since no contact was changed/);
});
