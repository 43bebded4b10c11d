/**
 * A server whose PATCH `email` adds the address as a secondary one (emulator --patch-email add): the import is killed
 * while the PATCH `emails` making it the primary is unanswered, then its `--resume` is killed at the same point (its
 * own follow-up, journaled with no change of its own). The second `--resume` read that entry as a PATCH that changed
 * nothing: it sent no call and counted the row `updated`, exit 0, with the old primary kept for good. Now it sends the
 * follow-up: the row's email ends the primary, once, and the undo file holds one row that restores the contact exactly.
 * Both for a row naming its contact by id and for one that found it by a secondary address (an `emails` column).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { envFor, FAST_RATE, runCli, spawnCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

for (const by of ['id', 'secondary email'] as const) {
  test(`killed twice at the follow-up PATCH emails (row by ${by}), then --resume: the row's email is the primary, one undo row restores exactly`, async (t) => {
    const emulator = await startEmulator(t, { patchEmail: 'add' });
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
    const env = envFor(proxy);
    const undo = join(dir, 'undo.csv');
    const args = ['import', file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo];

    for (const resume of [[], ['--resume']]) {
      const followUp = new Promise<void>((resolve) => (reached = resolve));
      const killed = spawnCli([...args, ...resume], { env });
      await followUp;
      killed.child.kill('SIGKILL');
      await killed.result;
      t.like(emulator.store.get(ann.id), { name: 'Annie', email: 'ann.old@acme.example' }, 'the kill left the address a secondary one');
    }
    t.is(followUps, 2);
    hold = false;

    const resumed = await runCli([...args, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.like(statsOf(resumed), { total: 1, updated: 1, failed: 0 });
    t.is(followUps, 3, 'the follow-up is sent once more');
    t.like(emulator.store.get(ann.id), { name: 'Annie', email: 'ann.new@acme.example', emails: ['ann.new@acme.example', 'ann.alt@acme.example'] }, 'the row\'s email is the primary');
    t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the other contact is untouched');
    const rows = parse(readFileSync(undo, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    t.deepEqual(rows.map((r) => [r.id, r.email, r.name]), [[ann.id, 'ann.old@acme.example', 'Ann']], 'one undo row, with the values before the run');

    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', join(dir, 'undo.errors.csv')], { env, cwd: dir });
    t.is(back.code, 0, back.stderr);
    t.deepEqual(emulator.store.get(ann.id), annBefore, 'the undo restores exactly');
  });
}
