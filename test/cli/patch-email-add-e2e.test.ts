/**
 * PATCH `email` on a contact that has other addresses: Pylon does not say whether it replaces the primary or adds
 * an address (pylon-api.md §10 q7; emulator --patch-email). Against a server that adds it, the row was reported
 * `updated` while the contact kept its old primary, and every re-run sent the same PATCH again. Under each
 * behaviour the row's email ends as the primary, the old primary is gone (one the server demoted to a secondary is
 * dropped), the contact's other secondary address is kept, the undo file
 * puts the old primary back and no other address (the run's new one neither), a re-run changes nothing, and the other contact is untouched.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PatchEmailMode } from '../../src/emulator/options.js';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

for (const mode of ['replace', 'demote', 'add'] as const satisfies readonly PatchEmailMode[]) {
  test(`--patch-email ${mode}: a row's new email becomes the primary, its undo restores the old one, a re-run changes nothing`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail: mode });
    const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
    const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const bobBefore = structuredClone(bob);
    const dir = tempDir(t);
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, `id,name,email\n${ann.id},Ann,ann.new@acme.example\n`);
    const env = envFor(emulator);
    const undo = join(dir, 'undo.csv');

    const run = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env });
    t.is(run.code, 0, run.stderr);
    t.like(statsOf(run), { updated: 1, failed: 0 });
    const after = emulator.store.get(ann.id)!;
    t.is(after.email, 'ann.new@acme.example', 'the row\'s email is the primary');
    t.true(after.emails!.includes('ann.alt@acme.example'), 'the other secondary address is kept');
    t.false(after.emails!.includes('ann.old@acme.example'), 'the old primary is replaced (a demoted one dropped)');
    t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the other contact is untouched');

    const again = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--no-undo'], { env });
    t.is(again.code, 0, again.stderr);
    t.like(statsOf(again), { updated: 0, unchanged: 1 });

    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--errors', join(dir, 'undo.errors.csv')], { env, cwd: dir });
    t.is(back.code, 0, back.stderr);
    const restored = emulator.store.get(ann.id)!;
    t.is(restored.email, 'ann.old@acme.example', 'the undo puts the old primary back');
    // Exactly the addresses it had: under demote the PATCH email back kept the run's address as a secondary one.
    t.deepEqual(restored.emails, ['ann.old@acme.example', 'ann.alt@acme.example'], 'the undo restores the addresses exactly');
    t.deepEqual(emulator.store.get(bob.id), bobBefore);
    const twice = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', join(dir, 'undo2.errors.csv')], { env, cwd: dir });
    t.is(twice.code, 0, twice.stderr);
    t.like(statsOf(twice), { updated: 0, unchanged: 1 }, 'the undo applied again changes nothing');
    t.deepEqual(emulator.store.get(ann.id)!.emails, ['ann.old@acme.example', 'ann.alt@acme.example']);
  });
}
