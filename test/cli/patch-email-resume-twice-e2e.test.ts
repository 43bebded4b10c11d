/**
 * A server whose PATCH `email` adds the address as a secondary one (emulator --patch-email add): the import is killed
 * while the PATCH `emails` making it the primary is unanswered, then its `--resume` is killed at the same point (its
 * own follow-up, journaled with no change of its own). The second `--resume` read that entry as a PATCH that changed
 * nothing: it sent no call and counted the row `updated`, exit 0, with the old primary kept for good. Now it sends the
 * follow-up: the row's email ends the primary, once, and the undo file holds one row that restores the contact exactly.
 * Both for a row naming its contact by id and for one that found it by a secondary address (an `emails` column), and
 * for `update`, which reads the contact again before its PATCH: it read the follow-up (no change of its own) as
 * unchanged, sending nothing (exit 0, updated), and once a row by id compared its email with the primary, as drifted.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { envFor, FAST_RATE, runCli, spawnCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

const cases = [
  { command: 'import', by: 'id', kills: 2, patchEmail: 'add' },
  { command: 'import', by: 'secondary email', kills: 2, patchEmail: 'add' },
  // update re-reads the contact before its PATCH: the resumed follow-up (no change of its own) was read as unchanged,
  // and once the email was compared with the primary (a row by id), as drifted.
  { command: 'update', by: 'id', kills: 1, patchEmail: 'add' },
  { command: 'update', by: 'id', kills: 2, patchEmail: 'add' },
  // A server whose PATCH email keeps the replaced primary as a secondary address (emulator --patch-email demote): the first
  // --resume journaled its follow-up with no change of its own, so the second no longer knew which primary the row replaced,
  // found the row's email already the primary, and counted the row updated with the old address kept as a secondary one.
  { command: 'import', by: 'id', kills: 1, patchEmail: 'demote' },
  { command: 'import', by: 'id', kills: 2, patchEmail: 'demote' },
  { command: 'import', by: 'secondary email', kills: 2, patchEmail: 'demote' },
  { command: 'update', by: 'id', kills: 1, patchEmail: 'demote' },
  { command: 'update', by: 'id', kills: 2, patchEmail: 'demote' },
] as const;

for (const { command, by, kills, patchEmail } of cases) {
  test(`${command} (--patch-email ${patchEmail}): killed ${kills === 1 ? 'once' : 'twice'} at the follow-up PATCH emails (row by ${by}), then --resume: the row's email is the primary, one undo row restores exactly`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail });
    const ann = emulator.store.insert({ name: 'Ann', emails: ['ann.old@acme.example', 'ann.alt@acme.example'] });
    const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const annBefore = structuredClone(ann);
    const bobBefore = structuredClone(bob);
    let hold = true;
    let followUps = 0;
    let reached: () => void = () => undefined;
    // Every follow-up is held for good while `hold`: the child is killed while it waits.
    const proxy = await startFaultProxy(t, emulator, ({ method, body }) => {
      if (method !== 'PATCH' || !body.includes('"emails"')) return undefined;
      followUps++;
      if (!hold) return undefined;
      reached();
      return new Promise<undefined>(() => undefined);
    });
    const dir = tempDir(t);
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, by === 'id' ? `id,name,email\n${ann.id},Annie,ann.new@acme.example\n` : `name,email,emails\nAnnie,ann.new@acme.example,ann.old@acme.example\n`);
    const name = 'Annie';
    const env = envFor(proxy);
    const undo = join(dir, 'undo.csv');
    const args = [command, file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo];

    for (const resume of [[], ['--resume']].slice(0, kills)) {
      const followUp = new Promise<void>((resolve) => (reached = resolve));
      const killed = spawnCli([...args, ...resume], { env });
      // A run that ends without sending the follow-up fails the test below (rather than waiting for good).
      await Promise.race([followUp, killed.result]);
      killed.child.kill('SIGKILL');
      const ended = await killed.result;
      t.is(ended.code, null, `killed at the follow-up, not ended by itself: ${ended.stderr}`);
      if (patchEmail === 'add') t.like(emulator.store.get(ann.id), { name, email: 'ann.old@acme.example' }, 'the kill left the address a secondary one');
      else {
        t.like(emulator.store.get(ann.id), { name, email: 'ann.new@acme.example' }, 'the kill left the address the primary');
        t.true(emulator.store.get(ann.id)!.emails!.includes('ann.old@acme.example'), 'and the replaced one a secondary one');
      }
    }
    t.is(followUps, kills);
    hold = false;

    const resumed = await runCli([...args, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.like(statsOf(resumed), { total: 1, updated: 1, failed: 0 });
    t.is(followUps, kills + 1, 'the follow-up is sent once more');
    t.like(emulator.store.get(ann.id), { name, email: 'ann.new@acme.example', emails: ['ann.new@acme.example', 'ann.alt@acme.example'] }, 'the row\'s email is the primary');
    t.deepEqual(emulator.store.get(ann.id)!.emails, ['ann.new@acme.example', 'ann.alt@acme.example'], 'exactly these addresses (t.like compares only a prefix of an array)');
    t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the other contact is untouched');
    const rows = parse(readFileSync(undo, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    t.deepEqual(rows.map((r) => [r.id, r.email, r.name]), [[ann.id, 'ann.old@acme.example', 'Ann']], 'one undo row, with the values before the run');

    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', join(dir, 'undo.errors.csv')], { env, cwd: dir });
    t.is(back.code, 0, back.stderr);
    t.deepEqual(emulator.store.get(ann.id), annBefore, 'the undo restores exactly');
  });
}
