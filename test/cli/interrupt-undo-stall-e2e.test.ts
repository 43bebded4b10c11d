/**
 * An undo row before each change: Ctrl-C while PATCHes are unanswered (the server stalls) must
 * not leave changes the undo file cannot put back. A PATCH whose answer never came may have been
 * applied, so its undo row is in the file when the run stops (a row for a change that did not
 * happen is harmless: undo finds the value already there). The built CLI in child processes,
 * held at the PATCHes after the first few by a proxy (never by time), for import, update and apply.
 */
import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
const COUNT = 30;
/** PATCHes answered before the proxy starts holding them. */
const ANSWERED = 6;

for (const command of ['import', 'update', 'apply'] as const) {
  test(`${command}: Ctrl-C with PATCHes unanswered leaves an undo file that restores every contact changed`, async (t) => {
    const emulator = await startEmulator(t);
    seedContacts(emulator.store, COUNT);
    const before = new Map([...emulator.store.all()].map((c) => [c.id, c.name]));
    const dir = tempDir(t);
    const input = join(dir, 'k.csv');
    const undo = join(dir, 'k.undo.csv');
    // Every PATCH after the first ANSWERED is held; a plan names its host, so every run goes through the proxy.
    let patches = 0;
    let holding = false;
    const proxy = await stallProxy(t, emulator, (method) => holding && method === 'PATCH' && ++patches > ANSWERED);
    const env = envFor(proxy);
    const contacts = [...emulator.store.all()];
    let args: string[];
    if (command === 'import') {
      writeFileSync(input, ['id,name', ...contacts.map((c) => `${c.id},Renamed ${c.id}`)].join('\n') + '\n');
      args = ['import', input, '--undo', undo];
    } else {
      writeFileSync(input, ['email', ...contacts.map((c) => c.email)].join('\n') + '\n');
      if (command === 'update') args = ['update', input, '--set', 'name=Renamed', '--undo', undo];
      else {
        const planned = await runCli(['update', input, '--set', 'name=Renamed', '--plan-out', join(dir, 'p.json'), ...FAST], { env });
        t.is(planned.code, 0, planned.stderr);
        args = ['apply', join(dir, 'p.json'), '--yes', '--undo', undo];
      }
    }
    holding = true;
    const run = spawnCli([...args, ...FAST, '--timeout', '1500'], { env });
    await Promise.race([proxy.reached, run.result]);
    run.child.kill('SIGINT');
    const stopped = await run.result;
    t.is(stopped.code, 130, stopped.stderr);
    // The held PATCHes reach the server after all (as a frozen server thawed applies what it had read).
    const sent = emulator.stats().requests.patch;
    proxy.release();
    const held = patches - ANSWERED;
    t.true(held > 0, 'some PATCHes were held');
    while (emulator.stats().requests.patch < sent + held) await new Promise((resolve) => setImmediate(resolve));
    const changed = [...emulator.store.all()].filter((c) => c.name !== before.get(c.id)).map((c) => c.id);
    t.true(changed.length > ANSWERED, `more contacts changed (${changed.length}) than PATCHes answered`);
    t.true(existsSync(undo), stopped.stderr);

    const back = await runCli(['update', undo, '--undo', join(dir, 'again.undo.csv'), ...FAST], { env });
    t.is(back.code, 0, back.stderr);
    const still = [...emulator.store.all()].filter((c) => c.name !== before.get(c.id)).map((c) => c.id);
    t.deepEqual(still, [], 'the undo file restored every contact the run changed');
  });
}

for (const command of ['import', 'update'] as const) {
  test(`${command}: Ctrl-C with the only PATCH unanswered: the summary names the undo file that holds its row (no contact counted updated)`, async (t) => {
    const emulator = await startEmulator(t);
    seedContacts(emulator.store, 2);
    const dir = tempDir(t);
    const input = join(dir, 'one.csv');
    const undo = join(dir, 'one.undo.csv');
    const contact = [...emulator.store.all()][0]!;
    const proxy = await stallProxy(t, emulator, (method) => method === 'PATCH');
    const env = envFor(proxy);
    if (command === 'import') writeFileSync(input, `id,name\n${contact.id},Renamed\n`);
    else writeFileSync(input, `email\n${contact.email}\n`);
    const args = command === 'import' ? ['import', input, '--undo', undo] : ['update', input, '--set', 'name=Renamed', '--undo', undo];
    const run = spawnCli([...args, ...FAST, '--timeout', '1500'], { env });
    await Promise.race([proxy.reached, run.result]);
    run.child.kill('SIGINT');
    const stopped = await run.result;
    t.is(stopped.code, 130, stopped.stderr);
    t.regex(stopped.stderr, /created 0, updated 0/);
    t.true(existsSync(undo), 'the unanswered PATCH has its undo row');
    t.true(stopped.stderr.includes(`undo file: ${undo}`), stopped.stderr);
    proxy.release();
  });
}
