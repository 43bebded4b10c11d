/**
 * The undo of a run whose PATCH email kept an address (emulator --patch-email demote: the old primary kept as a
 * secondary one; add: the row's address added beside the primary) sends the old primary, then a PATCH `emails`
 * without the run's address. That PATCH refused, the undo reported the row `updated`, exit 0, though the contact still
 * held the run's address. Now the row fails ROW_API_REJECTED naming the address left and the server's answer, the
 * other values restored; the same undo file run again (the PATCH taken) leaves the contact exactly as before the run.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

for (const patchEmail of ['demote', 'add'] as const) {
  test(`--patch-email ${patchEmail}: the undo's PATCH emails dropping the run's address refused: the row fails, and the undo run again restores exactly`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail });
    const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
    const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const annBefore = structuredClone(ann);
    const bobBefore = structuredClone(bob);
    // add: the run's own follow-up is refused too (ROW_EMAIL_NOT_PRIMARY), so the contact keeps the address as a secondary one.
    let refuse = patchEmail === 'add';
    const proxy = await startFaultProxy(t, emulator, ({ method, body }) => (refuse && method === 'PATCH' && body.includes('"emails"') ? 'status=400' : undefined));
    const dir = tempDir(t);
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, `id,name,email\n${ann.id},Annie,ann.new@acme.example\n`);
    const env = envFor(proxy);
    const undo = join(dir, 'undo.csv');

    const run = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo, '--errors', join(dir, 'errors.csv')], { env });
    t.is(run.code, patchEmail === 'add' ? 3 : 0, run.stderr);
    t.true(emulator.store.get(ann.id)!.emails!.includes('ann.new@acme.example'));

    refuse = true;
    const undoErrors = join(dir, 'undo.errors.csv');
    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', undoErrors], { env, cwd: dir });
    t.is(back.code, 3, back.stderr);
    t.like(statsOf(back), { total: 1, updated: 0, failed: 1 });
    const report = readFileSync(undoErrors, 'utf8');
    t.regex(report, /ROW_API_REJECTED,email,/);
    t.regex(report, /still holds ann\.new@acme\.example/);
    t.regex(report, /,400,/, 'the refusal\'s status is in the report');
    const left = emulator.store.get(ann.id)!;
    t.like(left, { name: 'Ann', email: 'ann.old@acme.example' }, 'the other values are restored');
    t.true(left.emails!.includes('ann.new@acme.example'), 'the address the report names is on the contact');

    refuse = false;
    const again = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', join(dir, 'again.errors.csv')], { env, cwd: dir });
    t.is(again.code, 0, again.stderr);
    t.like(statsOf(again), { total: 1, updated: 1, failed: 0 });
    t.deepEqual(emulator.store.get(ann.id), annBefore, 'the contact is exactly as before the run');
    t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the other contact is untouched');
  });
}
