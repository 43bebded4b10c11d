/**
 * A Salesforce Data Loader export (ALL CAPS headers, every cell quoted, LF) in which record E changed its email and
 * record K took E's old address, imported against a server whose PATCH `email` keeps the replaced primary as a
 * secondary address (--patch-email demote; Pylon does not say: pylon-api.md §10 q7). E's contact kept the old
 * address, so K's row, failed ROW_EMAIL_OF_OTHER_RECORD and imported again from the error report as its message
 * says, found E's contact by that address and took it over: E's Salesforce id replaced by K's, E's name by K's.
 * The replaced primary is now dropped as a replacing PATCH `email` drops it, and K's row creates K's contact.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import type { ImportStats } from '../../src/import/run-import.js';
import { readCsv } from '../helpers/corpus.js';

const E = '0035g00000AbCdEAAV';
const K = '0035g00000AbCdKAAV';

test('--patch-email demote: a Salesforce record whose email changed keeps its contact, and the record that took its old address gets its own contact once its row is imported again', async (t) => {
  const emulator = await startEmulator(t, { patchEmail: 'demote', duplicateEmail: 'reject-plain', duplicateStatus: 409 });
  const e = emulator.store.insert({ name: 'Erin Old', email: 'erin@acme.example', external_ids: [{ external_id: E, label: 'salesforce' }], phone_numbers: ['14155550100'] });
  const other = emulator.store.insert({ name: 'Other', email: 'other@acme.example' });
  const otherBefore = structuredClone(other);
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  const q = (cells: string[]) => cells.map((c) => `"${c}"`).join(',');
  writeFileSync(
    input,
    [
      q(['ID', 'FIRSTNAME', 'LASTNAME', 'EMAIL', 'PHONE', 'MOBILEPHONE', 'MAILINGCOUNTRY', 'ACCOUNT.NAME', 'ISDELETED']),
      q([E, 'Erin', 'New', 'erin.new@acme.example', '(415) 555-0100', '', 'USA', '', 'false']),
      q([K, 'Kim', 'Taker', 'Erin@Acme.example', '', '', '', '', 'false']),
    ].join('\n') + '\n',
  );
  const env = envFor(emulator);
  const errors = join(dir, 'errors.csv');
  const args = ['--from', 'salesforce', '--rate', FAST_RATE, '--json'];
  const counts = (s: ImportStats) => ({ created: s.created, updated: s.updated, unchanged: s.unchanged, skipped: s.skipped, failed: s.failed });

  const dry = await runCli(['import', input, ...args, '--dry-run', '--errors', join(dir, 'dry-errors.csv')], { env, cwd: dir });
  t.is(dry.code, 3, dry.stderr);
  const run = await runCli(['import', input, ...args, '--errors', errors, '--no-undo'], { env, cwd: dir });
  t.is(run.code, 3, run.stderr);
  t.deepEqual(counts(statsOf(run)), { created: 0, updated: 1, unchanged: 0, skipped: 0, failed: 1 });
  t.deepEqual(counts(statsOf(dry)), counts(statsOf(run)));
  const afterRun = emulator.store.get(e.id)!;
  t.is(afterRun.name, 'Erin New');
  t.deepEqual(afterRun.emails, ['erin.new@acme.example'], 'the replaced primary is gone, as a replacing PATCH email leaves it');
  t.deepEqual(afterRun.external_ids, [{ external_id: E, label: 'salesforce' }]);
  const reported = readCsv(errors);
  t.is(reported.length, 1);
  t.like(reported[0], { ID: K, EMAIL: 'Erin@Acme.example', _line: '3', _error_code: 'ROW_EMAIL_OF_OTHER_RECORD' });

  // The error report imported again, unchanged, as the message says once line 2's email is in Pylon.
  const again = await runCli(['import', errors, ...args, '--errors', join(dir, 'errors2.csv'), '--no-undo'], { env, cwd: dir });
  t.is(again.code, 0, again.stderr);
  t.deepEqual(counts(statsOf(again)), { created: 1, updated: 0, unchanged: 0, skipped: 0, failed: 0 });
  t.deepEqual(emulator.store.get(e.id), afterRun, "E's contact is not touched by K's row");
  const kim = [...emulator.store.all()].filter((c) => (c.emails ?? []).some((a) => a.toLowerCase() === 'erin@acme.example'));
  t.is(kim.length, 1);
  t.like(kim[0], { name: 'Kim Taker', email: 'Erin@Acme.example', external_ids: [{ external_id: K, label: 'salesforce' }] });
  t.deepEqual(emulator.store.get(other.id), otherBefore);
  t.is(emulator.store.size, 3);

  // The whole file again writes nothing.
  const third = await runCli(['import', input, ...args, '--errors', join(dir, 'errors3.csv'), '--no-undo'], { env, cwd: dir });
  t.is(third.code, 0, third.stderr);
  t.deepEqual(counts(statsOf(third)), { created: 0, updated: 0, unchanged: 2, skipped: 0, failed: 0 });
});

for (const how of ['update', 'apply'] as const) {
  test(`--patch-email demote: ${how === 'update' ? 'update <file>' : 'apply <plan> of an import'} giving a contact a new email leaves it without the replaced primary, and its undo puts that one back`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail: 'demote' });
    const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'], external_ids: [{ external_id: '0035g00000AbCdEAAV', label: 'salesforce' }] });
    const dir = tempDir(t);
    const env = envFor(emulator);
    const undo = join(dir, 'undo.csv');
    let run;
    if (how === 'update') {
      const file = join(dir, 'emails.csv');
      writeFileSync(file, `id,email\r\n${ann.id},ann.new@acme.example\r\n`);
      run = await runCli(['update', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env, cwd: dir });
    } else {
      const file = join(dir, 'sf.csv');
      writeFileSync(file, `"ID","FIRSTNAME","LASTNAME","EMAIL"\n"${E}","Ann","","ann.new@acme.example"\n`);
      const plan = join(dir, 'plan.json');
      const planned = await runCli(['import', file, '--from', 'salesforce', '--plan-out', plan, '-q', '--rate', FAST_RATE], { env, cwd: dir });
      t.is(planned.code, 0, planned.stderr);
      run = await runCli(['apply', plan, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env, cwd: dir });
    }
    t.is(run.code, 0, run.stderr);
    t.like(statsOf(run), { updated: 1, failed: 0 });
    t.deepEqual(emulator.store.get(ann.id)!.emails, ['ann.new@acme.example', 'ann.alt@acme.example'], 'the replaced primary is gone, the other address kept');
    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', join(dir, 'undo.errors.csv')], { env, cwd: dir });
    t.is(back.code, 0, back.stderr);
    t.deepEqual(emulator.store.get(ann.id)!.emails, ['ann.old@acme.example', 'ann.alt@acme.example'], 'the undo restores the addresses exactly');
  });
}

// A new email the contact already held as a secondary address (`held` in the plan): apply kept the replaced primary as a
// secondary one (it read the plan's `held`, meant for an undo row, as an address to keep instead of the one to drop), where
// update and import of the same file drop it. Both now leave the same addresses, and the undo puts them back exactly.
for (const how of ['update', 'apply'] as const) {
  test(`--patch-email demote: ${how === 'update' ? 'update <file>' : 'apply <plan>'} making a secondary address the primary drops the replaced primary as update does, and its undo puts it back`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail: 'demote' });
    const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
    const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const bobBefore = structuredClone(bob);
    const dir = tempDir(t);
    const env = envFor(emulator);
    const undo = join(dir, 'undo.csv');
    const file = join(dir, 'emails.csv');
    writeFileSync(file, `id,name,email\n${ann.id},Annie,ann.alt@acme.example\n`);
    let run;
    if (how === 'update') run = await runCli(['update', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env, cwd: dir });
    else {
      const plan = join(dir, 'plan.json');
      const planned = await runCli(['update', file, '--plan-out', plan, '-q', '--rate', FAST_RATE], { env, cwd: dir });
      t.is(planned.code, 0, planned.stderr);
      run = await runCli(['apply', plan, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env, cwd: dir });
    }
    t.is(run.code, 0, run.stderr);
    t.like(statsOf(run), { updated: 1, failed: 0 });
    t.deepEqual([emulator.store.get(ann.id)!.email, emulator.store.get(ann.id)!.emails], ['ann.alt@acme.example', ['ann.alt@acme.example']], 'the replaced primary is gone');
    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', join(dir, 'undo.errors.csv')], { env, cwd: dir });
    t.is(back.code, 0, back.stderr);
    t.like(emulator.store.get(ann.id), { email: 'ann.old@acme.example' });
    t.deepEqual([...emulator.store.get(ann.id)!.emails!].sort(), ['ann.alt@acme.example', 'ann.old@acme.example'], 'the undo restores the addresses exactly');
    t.deepEqual(emulator.store.get(bob.id), bobBefore);
  });
}
