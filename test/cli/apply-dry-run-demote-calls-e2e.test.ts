/**
 * The dry run of an undo file that restores emails (`update <undo file> --dry-run`) on a server whose PATCH `email`
 * keeps the replaced primary as a secondary address (`--patch-email demote`, or `add`, which keeps the primary; seen by the run that made the undo file):
 * the real run sends a second PATCH (`emails`, without the address the run set) for each such contact, and the dry run's
 * `plannedCalls` count it, as an import's dry run does from what the host was seen to do. Real CLI child processes
 * against the emulator; the stored contacts checked.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import type { ImportStats } from '../../src/import/run-import.js';

for (const patchEmail of ['demote', 'add'] as const) {
  test(`update <undo file> --dry-run under --patch-email ${patchEmail} plans the second PATCH the real run sends`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail });
    const people = Array.from({ length: 3 }, (_, i) => emulator.store.insert({ name: `P ${i}`, email: `old${i}@demote-calls.example` }));
    const dir = tempDir(t);
    const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl'), XDG_STATE_HOME: join(dir, 'state') };
    const file = join(dir, 'emails.csv');
    writeFileSync(file, ['id,email', ...people.map((p, i) => `${p.id},new${i}@demote-calls.example`)].join('\n') + '\n');
    const undo = join(dir, 'emails.undo.csv');
    const made = await runCli(['import', file, '--undo', undo, '-q', '--rate', FAST_RATE], { env, cwd: dir });
    t.is(made.code, 0, made.stderr);
    t.deepEqual(people.map((p) => [emulator.store.get(p.id)!.email, emulator.store.get(p.id)!.emails]), people.map((_, i) => [`new${i}@demote-calls.example`, [`new${i}@demote-calls.example`]]));

    const dry = await runCli(['update', undo, '--dry-run', '--json', '--rate', FAST_RATE], { env, cwd: dir });
    t.is(dry.code, 0, dry.stderr);
    const planned = statsOf<ImportStats>(dry);
    t.like(planned, { updated: 3 });

    const real = await runCli(['update', undo, '--yes', '--json', '--no-undo', '--rate', FAST_RATE], { env, cwd: dir });
    t.is(real.code, 0, real.stderr);
    const done = statsOf<ImportStats>(real);
    t.like(done, { updated: 3 });
    // The undo restored exactly the addresses of before: the set one dropped by the second PATCH.
    t.deepEqual(people.map((p) => [emulator.store.get(p.id)!.email, emulator.store.get(p.id)!.emails]), people.map((_, i) => [`old${i}@demote-calls.example`, [`old${i}@demote-calls.example`]]));
    t.deepEqual(planned.plannedCalls, Object.fromEntries(Object.entries(done.calls).filter(([, n]) => n > 0)), "the estimate is the real run's calls");
  });
}
