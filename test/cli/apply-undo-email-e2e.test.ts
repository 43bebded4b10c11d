/**
 * The undo file `apply` writes (a plan applied, or an undo file applied: its own undo file) records an email the
 * run changed as a change (`_set.email`), as import's and update's do: the contact is found by its id, so its email
 * is a field like another. Before, `apply` wrote it as the row's email only (no `_set.email`): undoing an undo left
 * the restored address in place, and a plan's undo file restored the email with no check that it was still the one
 * the run set (read as an ordinary update file).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

test('undoing an undo puts the email back, and a plan\'s undo file checks the email it restores', async (t) => {
  const emulator = await startEmulator(t);
  const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
  const cat = emulator.store.insert({ name: 'Cat', email: 'cat@acme.example' });
  const catBefore = structuredClone(cat);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const run = (args: string[]) => runCli([...args, '--json', '-q', '--rate', FAST_RATE], { env, cwd: dir });
  const emailsOf = (id: string) => ({ email: emulator.store.get(id)!.email, emails: emulator.store.get(id)!.emails });

  writeFileSync(join(dir, 'u.csv'), `id,email,name\n${bob.id},bob2@acme.example,Bobby\n`);
  const first = await run(['update', 'u.csv']);
  t.is(first.code, 0, first.stderr);
  t.deepEqual(emailsOf(bob.id), { email: 'bob2@acme.example', emails: ['bob2@acme.example'] });

  const undo = await run(['update', 'u.undo.csv']);
  t.is(undo.code, 0, undo.stderr);
  t.like(emulator.store.get(bob.id), { name: 'Bob', email: 'bob@acme.example', emails: ['bob@acme.example'] });
  t.deepEqual(emulator.store.get(bob.id)!.emails, ['bob@acme.example'], 'exactly these addresses (t.like compares only a prefix of an array)');
  t.regex(readFileSync(join(dir, 'u.undo.undo.csv'), 'utf8').split('\n')[0]!, /_set\.email/, 'the undo run records the email it changed');

  const redo = await run(['update', 'u.undo.undo.csv']);
  t.is(redo.code, 0, redo.stderr);
  t.like(statsOf(redo), { updated: 1, failed: 0 });
  t.like(emulator.store.get(bob.id), { name: 'Bobby', email: 'bob2@acme.example', emails: ['bob2@acme.example'] }, 'undoing the undo puts the email back too');
  t.deepEqual(emulator.store.get(bob.id)!.emails, ['bob2@acme.example'], 'exactly these addresses (t.like compares only a prefix of an array)');

  // A plan changing an email, applied: its undo file restores it only where the run's address is still there.
  writeFileSync(join(dir, 'p.csv'), `id,email\n${bob.id},bob3@acme.example\n`);
  t.is((await run(['update', 'p.csv', '--plan-out', 'p.json'])).code, 0);
  const applied = await run(['apply', 'p.json', '--undo', 'p.undo.csv']);
  t.is(applied.code, 0, applied.stderr);
  t.regex(readFileSync(join(dir, 'p.undo.csv'), 'utf8').split('\n')[0]!, /_set\.email/);
  emulator.store.update(bob.id, { email: 'bob4@acme.example' });
  const drifted = await run(['update', 'p.undo.csv', '--errors', 'p.undo.errors.csv']);
  t.is(drifted.code, 3, drifted.stderr);
  t.regex(readFileSync(join(dir, 'p.undo.errors.csv'), 'utf8'), /ROW_DRIFTED/);
  t.is(emulator.store.get(bob.id)!.email, 'bob4@acme.example', 'an email changed since is left as it is');
  t.deepEqual(emulator.store.get(cat.id), catBefore, 'the other contact is untouched');
});
