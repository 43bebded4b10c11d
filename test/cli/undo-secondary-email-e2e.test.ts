/**
 * A row matched through one of its secondary emails (an `emails` column, Front's `email2…`) with
 * no id or external id updates the contact Pylon holds under that address, and its email becomes
 * the row's: the undo file records that change (`_set.email`) as any other, so `update <undo file>`
 * puts the contact's original address back, or reports ROW_DRIFTED when it was changed since.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';

const CASES = [
  { name: 'a plain CSV with an emails column', from: [] as string[], lines: ['name,email,emails', 'Plain Alias,plainalias@shop.example,old@keep.example'] },
  { name: '--from front with email2', from: ['--from', 'front'], lines: ['name,email,email2,phone,accountName', 'Front Alias,fralias@shop.example,old@keep.example,,'] },
];

for (const c of CASES) {
  test(`${c.name}: the undo file restores the email a secondary-email match replaced`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const env = envFor(emulator);
    const contact = emulator.store.insert({ name: 'Old Name', email: 'old@keep.example' });
    const input = join(dir, 'people.csv');
    writeFileSync(input, [...c.lines, ''].join('\n'));
    const undo = join(dir, 'people.undo.csv');

    const imported = await runCli(['import', input, ...c.from, '--rate', FAST_RATE, '--json'], { env, cwd: dir });
    t.is(imported.code, 0, imported.stderr);
    t.like(JSON.parse(imported.stdout), { created: 0, updated: 1 });
    const changed = emulator.store.get(contact.id)!;
    t.not(changed.email, 'old@keep.example', 'the import made the row email the primary one');
    const rows = readCsv(undo);
    t.is(rows.length, 1);
    t.like(rows[0], { id: contact.id, email: 'old@keep.example', name: 'Old Name', '_set.email': changed.email, '_set.name': changed.name });

    const undone = await runCli(['update', undo, '--rate', FAST_RATE, '--json'], { env, cwd: dir });
    t.is(undone.code, 0, undone.stderr);
    t.like(emulator.store.get(contact.id), { name: 'Old Name', email: 'old@keep.example' });
  });
}

test('an email changed since the import is left as it is (ROW_DRIFTED), as other fields are', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const contact = emulator.store.insert({ name: 'Old Name', email: 'old@keep.example' });
  const input = join(dir, 'people.csv');
  writeFileSync(input, 'name,email,emails\nOld Name,new@shop.example,old@keep.example\n');
  const imported = await runCli(['import', input, '--rate', FAST_RATE, '--json'], { env, cwd: dir });
  t.is(imported.code, 0, imported.stderr);
  t.is(emulator.store.get(contact.id)!.email, 'new@shop.example');
  const patched = await fetch(`${emulator.url}/contacts/${contact.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${env.PYLON_API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: 'later@shop.example' }) });
  t.is(patched.status, 200);

  const errors = join(dir, 'undo.errors.csv');
  const undone = await runCli(['update', join(dir, 'people.undo.csv'), '--errors', errors, '--rate', FAST_RATE, '--json'], { env, cwd: dir });
  t.is(undone.code, 3, undone.stderr);
  t.is(emulator.store.get(contact.id)!.email, 'later@shop.example', 'the later change stays');
  t.deepEqual(readCsv(errors).map((e) => [e._error_code, e._error_field]), [['ROW_DRIFTED', 'email']]);
});
