/**
 * A server whose PATCH `email` adds the address as a secondary one (emulator --patch-email add): the import is killed
 * after that PATCH landed and before the PATCH `emails` that makes the address the primary. `--resume` found the
 * contact holding the row's address (as a secondary one), read the row as done, and reported it `updated`, exit 0,
 * with the old primary kept for good (a re-run leaves an address the contact holds alone). Now the resume sends the
 * follow-up: the row's email ends the primary, as in a run that was not killed, and the undo file restores exactly.
 * The same against a server whose PATCH email keeps the replaced primary as a secondary (--patch-email demote): the
 * resume found the row's address primary and left the replaced one on the contact; the follow-up now drops it.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, spawnCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

for (const mode of ['add', 'demote'] as const) {
  test(`--patch-email ${mode}: killed between PATCH email and PATCH emails, then --resume: the row's email is the primary, the replaced one gone, and the undo restores exactly`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail: mode });
    const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
    const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const annBefore = structuredClone(ann);
    const bobBefore = structuredClone(bob);
    let hold = true;
    let reached: () => void = () => undefined;
    const followUp = new Promise<void>((resolve) => (reached = resolve));
    // The first follow-up is held for good: the child is killed while it waits.
    const proxy = await startFaultProxy(t, emulator, ({ method, body }) => {
      if (!hold || method !== 'PATCH' || !body.includes('"emails"')) return undefined;
      reached();
      return new Promise<undefined>(() => undefined);
    });
    const dir = tempDir(t);
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, `id,name,email\n${ann.id},Annie,ann.new@acme.example\n`);
    const env = envFor(proxy);
    const undo = join(dir, 'undo.csv');

    const killed = spawnCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env });
    await followUp;
    killed.child.kill('SIGKILL');
    await killed.result;
    if (mode === 'add') t.like(emulator.store.get(ann.id), { name: 'Annie', email: 'ann.old@acme.example' }, 'the kill left the address a secondary one');
    else {
      t.like(emulator.store.get(ann.id), { name: 'Annie', emails: ['ann.new@acme.example', 'ann.old@acme.example', 'ann.alt@acme.example'] }, 'the kill left the replaced primary a secondary one');
      t.deepEqual(emulator.store.get(ann.id)!.emails, ['ann.new@acme.example', 'ann.old@acme.example', 'ann.alt@acme.example'], 'exactly these addresses (t.like compares only a prefix of an array)');
    }
    hold = false;

    const resumed = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.like(statsOf(resumed), { total: 1, updated: 1, failed: 0 });
    t.like(emulator.store.get(ann.id), { name: 'Annie', email: 'ann.new@acme.example', emails: ['ann.new@acme.example', 'ann.alt@acme.example'] }, 'the row\'s email is the primary');
    t.deepEqual(emulator.store.get(ann.id)!.emails, ['ann.new@acme.example', 'ann.alt@acme.example'], 'exactly these addresses (t.like compares only a prefix of an array)');
    t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the other contact is untouched');

    const again = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--no-undo'], { env });
    t.is(again.code, 0, again.stderr);
    t.like(statsOf(again), { updated: 0, unchanged: 1 });

    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', join(dir, 'undo.errors.csv')], { env, cwd: dir });
    t.is(back.code, 0, back.stderr);
    t.like(emulator.store.get(ann.id), { name: annBefore.name, email: annBefore.email, emails: annBefore.emails }, 'the undo restores exactly');
    t.deepEqual(emulator.store.get(ann.id)!.emails, annBefore.emails, 'exactly these addresses (t.like compares only a prefix of an array)');
  });
}
