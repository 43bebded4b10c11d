/**
 * A row that failed ROW_EMAIL_NOT_PRIMARY (emulator --patch-email add, the follow-up PATCH emails refused) left its
 * address on the contact as a secondary one. Its error report imported again (or the id,email file given to update
 * again) was read as done: the contact holds the address, so the row was `unchanged`, exit 0, with the old primary
 * kept for good. A row naming its contact by id now compares its email with the primary: the re-run sends it again,
 * fails honestly while the server still refuses, and makes it the primary once the server takes it.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

for (const command of ['import', 'update'] as const) {
  test(`${command}: the row that failed ROW_EMAIL_NOT_PRIMARY, run again, fails again while refused and ends with its email the primary`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail: 'add' });
    const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
    const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const bobBefore = structuredClone(bob);
    let refuse = true;
    const proxy = await startFaultProxy(t, emulator, ({ method, body }) => (refuse && method === 'PATCH' && body.includes('"emails"') ? 'status=400' : undefined));
    const dir = tempDir(t);
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, command === 'import' ? `id,name,email\n${ann.id},Annie,ann.new@acme.example\n` : `id,email\n${ann.id},ann.new@acme.example\n`);
    const env = envFor(proxy);
    const errors = join(dir, 'errors.csv');
    const run = await runCli([command, file, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', errors], { env });
    t.is(run.code, 3, run.stderr);
    t.regex(readFileSync(errors, 'utf8'), /ROW_EMAIL_NOT_PRIMARY/);
    t.like(emulator.store.get(ann.id), { email: 'ann.old@acme.example' });
    t.true(emulator.store.get(ann.id)!.emails!.includes('ann.new@acme.example'), 'the address is a secondary one');

    // The report fed back, the server still refusing: the row is tried again and fails, not `unchanged`.
    const errorsAgain = join(dir, 'errors.again.csv');
    const again = await runCli([command, errors, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', errorsAgain], { env, cwd: dir });
    t.is(again.code, 3, again.stderr);
    t.like(statsOf(again), { total: 1, unchanged: 0, updated: 0, failed: 1 });
    t.regex(readFileSync(errorsAgain, 'utf8'), /ROW_EMAIL_NOT_PRIMARY,email,/);

    // The server takes it now: the row's email is the primary, the old primary dropped as a replacing PATCH drops it.
    refuse = false;
    const undo = join(dir, 'undo.csv');
    const third = await runCli([command, errorsAgain, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env, cwd: dir });
    t.is(third.code, 0, third.stderr);
    t.like(statsOf(third), { total: 1, unchanged: 0, updated: 1, failed: 0 });
    t.like(emulator.store.get(ann.id), { email: 'ann.new@acme.example', emails: ['ann.new@acme.example', 'ann.alt@acme.example'] });
    t.deepEqual(emulator.store.get(ann.id)!.emails, ['ann.new@acme.example', 'ann.alt@acme.example'], 'exactly these addresses (t.like compares only a prefix of an array)');
    t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the other contact is untouched');

    // Its undo puts the contact back as this run found it: the old primary, and the row's address as the secondary one
    // the first run left (held before this run: `_held.email`); the first run's own undo row would take that off.
    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo'], { env, cwd: dir });
    t.is(back.code, 0, back.stderr);
    t.is(emulator.store.get(ann.id)!.email, 'ann.old@acme.example');
    t.deepEqual([...emulator.store.get(ann.id)!.emails!].sort(), ['ann.alt@acme.example', 'ann.new@acme.example', 'ann.old@acme.example']);
  });
}
