/**
 * A server whose PATCH `email` adds the address as a secondary one (emulator --patch-email add), and that refuses
 * the follow-up PATCH `emails` marking it primary (400 or 422: a server that takes no `is_primary`, say). The first
 * PATCH was applied (the row's name, its address as a secondary one), so the row fails ROW_EMAIL_NOT_PRIMARY with
 * the server's words, and its undo row is written. Before, the refusal of the follow-up failed the row
 * ROW_API_REJECTED as though nothing had been written, and no undo row recorded the name it changed.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

for (const status of [400, 422] as const) {
  test(`the follow-up PATCH emails refused (${status}): ROW_EMAIL_NOT_PRIMARY, and the undo file restores what the first PATCH changed`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail: 'add' });
    const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
    const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const annBefore = structuredClone(ann);
    const bobBefore = structuredClone(bob);
    let refuse = true;
    const proxy = await startFaultProxy(t, emulator, ({ method, body }) => (refuse && method === 'PATCH' && body.includes('"emails"') ? `status=${status}` : undefined));
    const dir = tempDir(t);
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, `id,name,email\n${ann.id},Annie,ann.new@acme.example\n`);
    const env = envFor(proxy);
    const undo = join(dir, 'undo.csv');
    const errors = join(dir, 'errors.csv');

    const run = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo, '--errors', errors], { env });
    t.is(run.code, 3, run.stderr);
    t.like(statsOf(run), { total: 1, updated: 0, failed: 1 });
    t.is(proxy.injected.length, 1, 'the follow-up was sent once and refused');
    const report = readFileSync(errors, 'utf8');
    t.regex(report, /ROW_EMAIL_NOT_PRIMARY,email,/);
    t.regex(report, new RegExp(`${status}`), 'the server\'s refusal is named');
    const after = emulator.store.get(ann.id)!;
    t.is(after.name, 'Annie', 'the first PATCH was applied');
    t.is(after.email, 'ann.old@acme.example');
    t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the other contact is untouched');

    refuse = false;
    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', join(dir, 'undo.errors.csv')], { env, cwd: dir });
    t.is(back.code, 0, back.stderr);
    const restored = emulator.store.get(ann.id)!;
    t.is(restored.name, annBefore.name, 'the undo restores the name the first PATCH changed');
    t.deepEqual(restored.emails, annBefore.emails, 'and the addresses exactly: the one the run added is gone');
    t.deepEqual(emulator.store.get(bob.id), bobBefore);
  });
}

test('the follow-up PATCH emails met by a 401 (a token revoked mid-run): the run stops, and the undo file holds the row the first PATCH changed', async (t) => {
  const emulator = await startEmulator(t, { patchEmail: 'add' });
  const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
  const annBefore = structuredClone(ann);
  let refuse = true;
  const proxy = await startFaultProxy(t, emulator, ({ method, body }) => (refuse && method === 'PATCH' && body.includes('"emails"') ? 'status=401' : undefined));
  const dir = tempDir(t);
  const file = join(dir, 'contacts.csv');
  writeFileSync(file, `id,name,email\n${ann.id},Annie,ann.new@acme.example\n`);
  const env = envFor(proxy);
  const undo = join(dir, 'undo.csv');

  const run = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env });
  t.is(run.code, 1, run.stderr);
  t.is(statsOf<{ fatal?: { code: string } }>(run).fatal?.code, 'PYLON_AUTH');
  t.is(emulator.store.get(ann.id)!.name, 'Annie', 'the first PATCH was applied');
  t.regex(readFileSync(undo, 'utf8'), new RegExp(`${ann.id},ann\\.old@acme\\.example,Ann,`), 'its undo row is written');

  refuse = false;
  const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', join(dir, 'undo.errors.csv')], { env, cwd: dir });
  t.is(back.code, 0, back.stderr);
  const restored = emulator.store.get(ann.id)!;
  t.is(restored.name, annBefore.name);
  t.deepEqual(restored.emails, annBefore.emails);
});
