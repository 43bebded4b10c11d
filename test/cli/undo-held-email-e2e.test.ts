/**
 * A row naming its contact by id whose email the contact already holds as a secondary address (in another case
 * here) makes that address the primary (7d52268: compared with the primary only). Its undo row used to drop the
 * address as one the run set (or, under `--patch-email replace`, PATCH email took it off with the primary it
 * replaced), so `update <undo file>` left the contact without an address it had before the run. The undo row now
 * records the address as held (`_held.email`, spelt as the contact held it), and the undo keeps it.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

for (const patchEmail of ['replace', 'demote', 'add'] as const) {
  for (const command of ['import', 'update'] as const) {
    test(`${command}, --patch-email ${patchEmail}: the undo of a row that made a secondary address the primary keeps that address`, async (t) => {
      const emulator = await startEmulator(t, { patchEmail });
      const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
      const bob = emulator.store.insert({ name: 'Bob', emails: ['bob@acme.example', 'bob.alt@acme.example'] });
      const annBefore = structuredClone(emulator.store.get(ann.id)!);
      const bobBefore = structuredClone(emulator.store.get(bob.id)!);
      const dir = tempDir(t);
      const file = join(dir, 'contacts.csv');
      writeFileSync(file, `id,email\n${ann.id},ANN.ALT@acme.example\n`);
      const env = envFor(emulator);
      const dry = await runCli([command, file, '--json', '-q', '--rate', FAST_RATE, '--dry-run'], { env, cwd: dir });
      t.is(dry.code, 0, dry.stderr);
      t.like(statsOf(dry), { updated: 1, unchanged: 0, failed: 0 });
      const undo = join(dir, 'undo.csv');
      const run = await runCli([command, file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env, cwd: dir });
      t.is(run.code, 0, run.stderr);
      t.like(statsOf(run), { updated: 1, unchanged: 0, failed: 0 });
      t.is(emulator.store.get(ann.id)!.email, 'ANN.ALT@acme.example');
      t.regex(readFileSync(undo, 'utf8'), /^id,email,_set\.email,_held\.email,_organization\n[^\n]*,ann\.old@acme\.example,ANN\.ALT@acme\.example,ann\.alt@acme\.example,/);
      const again = await runCli([command, file, '--json', '-q', '--rate', FAST_RATE, '--no-undo'], { env, cwd: dir });
      t.like(statsOf(again), { updated: 0, unchanged: 1 });

      const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo'], { env, cwd: dir });
      t.is(back.code, 0, back.stderr);
      t.like(statsOf(back), { updated: 1, failed: 0 });
      const restored = emulator.store.get(ann.id)!;
      t.is(restored.email, annBefore.email);
      t.deepEqual([...restored.emails!].sort(), [...annBefore.emails!].sort(), 'every address of before the run, spelt as it was');
      t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the other contact is untouched');

      // The undo run again writes nothing.
      const twice = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo'], { env, cwd: dir });
      t.is(twice.code, 0, twice.stderr);
      t.like(statsOf(twice), { updated: 0, unchanged: 1 });
      t.deepEqual([...emulator.store.get(ann.id)!.emails!].sort(), [...annBefore.emails!].sort());
    });
  }
}

test('--patch-email replace: the undo\'s PATCH emails putting the held address back refused: the row fails naming it, and the undo run again puts it back', async (t) => {
  const emulator = await startEmulator(t, { patchEmail: 'replace' });
  const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
  const annBefore = structuredClone(emulator.store.get(ann.id)!);
  let refuse = false;
  const proxy = await startFaultProxy(t, emulator, ({ method, body }) => (refuse && method === 'PATCH' && body.includes('"emails"') ? 'status=400' : undefined));
  const dir = tempDir(t);
  const file = join(dir, 'contacts.csv');
  writeFileSync(file, `id,name,email\n${ann.id},Annie,ann.alt@acme.example\n`);
  const env = envFor(proxy);
  const undo = join(dir, 'undo.csv');
  const run = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env, cwd: dir });
  t.is(run.code, 0, run.stderr);

  refuse = true;
  const undoErrors = join(dir, 'undo.errors.csv');
  const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', undoErrors], { env, cwd: dir });
  t.is(back.code, 3, back.stderr);
  t.like(statsOf(back), { total: 1, updated: 0, failed: 1 });
  const report = readFileSync(undoErrors, 'utf8');
  t.regex(report, /ROW_API_REJECTED,email,/);
  t.regex(report, /no longer holds ann\.alt@acme\.example/);
  t.like(emulator.store.get(ann.id), { name: 'Ann', email: 'ann.old@acme.example' }, 'the other values are restored');

  refuse = false;
  const again = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo'], { env, cwd: dir });
  t.is(again.code, 0, again.stderr);
  t.like(statsOf(again), { total: 1, updated: 1, failed: 0 });
  t.is(emulator.store.get(ann.id)!.email, annBefore.email);
  t.deepEqual([...emulator.store.get(ann.id)!.emails!].sort(), [...annBefore.emails!].sort());
  const third = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo'], { env, cwd: dir });
  t.like(statsOf(third), { updated: 0, unchanged: 1 });
});
