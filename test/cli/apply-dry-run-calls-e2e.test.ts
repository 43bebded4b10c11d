/**
 * The dry run of an applied file (`update <undo file> --dry-run`, which reads and compares as `apply` does) says what
 * the real run would send: before, it planned no calls and printed no "the real run:" line, as import and update dry
 * runs do. Its planned calls equal the calls the real run then makes. Real CLI child processes against the emulator;
 * an undo file with contacts to revert, one changed since (drifted) and one reverted by hand already.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import type { ImportStats } from '../../src/import/run-import.js';

test('update <undo file> --dry-run plans the calls the real run makes', async (t) => {
  const emulator = await startEmulator(t);
  const people = Array.from({ length: 6 }, (_, i) => emulator.store.insert({ name: `P ${i}`, email: `p${i}@apply-calls.example`, portal_role: 'member' }));
  const dir = tempDir(t);
  const file = join(dir, 'admins.csv');
  writeFileSync(file, ['email', ...people.map((p) => p.email)].join('\n') + '\n');
  const undo = join(dir, 'admins.undo.csv');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const made = await runCli(['update', file, '--set', 'portal_role=admin', '--undo', undo, '--yes', '-q', '--rate', FAST_RATE], { env, cwd: dir });
  t.is(made.code, 0, made.stderr);
  // Since: one contact reverted by hand (nothing to send), one changed otherwise (drifted: nothing sent either).
  emulator.store.update(people[4]!.id, { portal_role: 'member' } as never);
  emulator.store.update(people[5]!.id, { portal_role: 'owner' } as never);

  const dry = await runCli(['update', undo, '--dry-run', '--json', '--rate', FAST_RATE], { env, cwd: dir });
  t.true(dry.code === 0 || dry.code === 3, dry.stderr);
  const planned = statsOf<ImportStats>(dry);
  t.like(planned, { updated: 4, unchanged: 1 });
  t.regex(dry.stderr, /the real run: .*patch 4.*; about .* at the configured rates/);

  const real = await runCli(['update', undo, '--yes', '--json', '--no-undo', '--rate', FAST_RATE], { env, cwd: dir });
  t.true(real.code === 0 || real.code === 3, real.stderr);
  const done = statsOf<ImportStats>(real);
  t.like(done, { updated: 4, unchanged: 1 });
  t.deepEqual(planned.plannedCalls, Object.fromEntries(Object.entries(done.calls).filter(([, n]) => n > 0)), "the estimate is the real run's calls");
  t.true((planned.etaSeconds ?? -1) >= 0);
});
