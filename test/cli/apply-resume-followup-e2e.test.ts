/**
 * `apply` of a plan against a server whose PATCH `email` adds the address as a secondary one (emulator --patch-email
 * add), killed while the follow-up PATCH `emails` making it the primary is unanswered, then `--resume`d. The killed
 * PATCH had landed (the name changed, the address added), so the resumed run found only the email left to change and
 * wrote the undo row from that alone: the name was in no undo row (the undo left "Annie"), and the address the killed
 * PATCH added read as one the contact held before the run (`_held.email`), so the undo kept it. The resumed row's undo
 * row now holds the interrupted PATCH's changes too (from the journal), each from its value before the run; killed
 * twice, the same. The undo restores the contact exactly.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, spawnCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

const cases = [
  { email: 'ann.new@acme.example', kills: 1 },
  { email: 'ann.new@acme.example', kills: 2 },
  // An address the contact held before the run: the undo keeps it, as without the kill.
  { email: 'ann.alt@acme.example', kills: 1 },
  // A server whose PATCH email keeps the replaced primary as a secondary address (--patch-email demote): the killed PATCH
  // left the row's address the primary, so the resumed run found nothing left to change, counted the row updated and
  // sent no follow-up: the replaced primary stayed on the contact as a secondary address.
  { email: 'ann.new@acme.example', kills: 1, patchEmail: 'demote' },
  { email: 'ann.new@acme.example', kills: 2, patchEmail: 'demote' },
] as const;

for (const { email, kills, ...rest } of cases) {
  const patchEmail = 'patchEmail' in rest ? rest.patchEmail : 'add';
  test(`apply (--patch-email ${patchEmail}) killed ${kills === 1 ? 'once' : 'twice'} at the follow-up PATCH emails (${email}), then --resume: one undo row restores the contact exactly`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail });
    const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
    const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const annBefore = structuredClone(emulator.store.get(ann.id)!);
    const bobBefore = structuredClone(emulator.store.get(bob.id)!);
    let hold = true;
    let reached: () => void = () => undefined;
    const proxy = await startFaultProxy(t, emulator, ({ method, body }) => {
      if (method !== 'PATCH' || !body.includes('"emails"') || !hold) return undefined;
      reached();
      return new Promise<undefined>(() => undefined);
    });
    const dir = tempDir(t);
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, `id,name,email\n${ann.id},Annie,${email}\n`);
    const env = envFor(proxy);
    const plan = join(dir, 'plan.json');
    const planned = await runCli(['update', file, '--plan-out', plan, '--rate', FAST_RATE, '--json', '-q'], { env, cwd: dir });
    t.is(planned.code, 0, planned.stderr);
    const undo = join(dir, 'undo.csv');
    const args = ['apply', plan, '--json', '-q', '--rate', FAST_RATE, '--undo', undo];
    for (const resume of [[], ['--resume']].slice(0, kills)) {
      const followUp = new Promise<void>((resolve) => (reached = resolve));
      const killed = spawnCli([...args, ...resume], { env, cwd: dir });
      await Promise.race([followUp, killed.result]);
      killed.child.kill('SIGKILL');
      const ended = await killed.result;
      t.is(ended.code, null, `killed at the follow-up, not ended by itself: ${ended.stderr}`);
      t.like(emulator.store.get(ann.id), { name: 'Annie', email: patchEmail === 'add' ? 'ann.old@acme.example' : email }, 'the killed PATCH landed');
    }
    hold = false;
    const resumed = await runCli([...args, '--resume'], { env, cwd: dir });
    t.is(resumed.code, 0, resumed.stderr);
    t.like(statsOf(resumed), { total: 1, updated: 1, failed: 0 });
    t.like(emulator.store.get(ann.id), { name: 'Annie', email });
    if (patchEmail === 'demote') t.deepEqual(emulator.store.get(ann.id)!.emails, [email, 'ann.alt@acme.example'], 'the replaced primary is dropped');

    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo'], { env, cwd: dir });
    t.is(back.code, 0, back.stderr);
    const restored = emulator.store.get(ann.id)!;
    t.like(restored, { name: 'Ann', email: 'ann.old@acme.example' });
    t.deepEqual([...restored.emails!].sort(), [...annBefore.emails!].sort());
    t.deepEqual(emulator.store.get(bob.id), bobBefore);
  });
}
