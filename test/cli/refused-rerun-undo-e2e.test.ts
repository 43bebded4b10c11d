/**
 * A plain re-run beside the journal of a run stopped with a PATCH unanswered is refused (exit 2), saying to use
 * --resume. It did not say where the stopped run's undo rows are: after a kill, in a hidden `.partial` beside the undo
 * file, which nothing named, so a user deleting the journal (or not resuming) had no way to know a change might need
 * undoing. The refusal now names the undo file, or the partial a kill left and the name --resume publishes it under;
 * --resume finishes and publishes it, and it restores the contact. For import, update and apply; Ctrl-C and kill -9.
 */
import test from 'ava';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const command of ['import', 'update', 'apply'] as const) {
  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    test(`${command}, ${signal} with the only PATCH unanswered: the refusal of a plain re-run names the undo file, and --resume publishes it`, async (t) => {
      const emulator = await startEmulator(t);
      seedContacts(emulator.store, 2);
      const before = structuredClone([...emulator.store.all()]);
      const contact = before[0]!;
      const dir = tempDir(t);
      const input = join(dir, 'one.csv');
      const undo = join(dir, 'one.undo.csv');
      const proxy = await stallProxy(t, emulator, (method) => method === 'PATCH');
      const env = envFor(proxy);
      let args: string[];
      if (command === 'import') {
        writeFileSync(input, `id,name\n${contact.id},Renamed\n`);
        args = ['import', input, '--undo', undo];
      } else {
        writeFileSync(input, `email\n${contact.email}\n`);
        if (command === 'update') args = ['update', input, '--set', 'name=Renamed', '--undo', undo];
        else {
          const planned = await runCli(['update', input, '--set', 'name=Renamed', '--plan-out', join(dir, 'p.json'), ...FAST], { env });
          t.is(planned.code, 0, planned.stderr);
          args = ['apply', join(dir, 'p.json'), '--yes', '--undo', undo];
        }
      }
      const run = spawnCli([...args, ...FAST, '--timeout', '1500'], { env });
      await Promise.race([proxy.reached, run.result]);
      run.child.kill(signal);
      await run.result;
      // The held PATCH reaches the server after all (a frozen server thawed): the contact was changed.
      proxy.release();
      while (emulator.store.get(contact.id)!.name !== 'Renamed') await new Promise((resolve) => setImmediate(resolve));

      const plain = await runCli([...args, ...FAST], { env });
      t.is(plain.code, 2, plain.stderr);
      t.regex(plain.stderr, /Use --resume \(the same command\) to finish it/);
      const partial = readdirSync(dir).find((f) => f.startsWith('.one.undo.csv.') && f.endsWith('.partial'));
      if (signal === 'SIGKILL') {
        t.truthy(partial, 'the kill left the undo file as a partial');
        t.regex(plain.stderr, new RegExp(`its rows are in ${escape(join(dir, partial!))}; --resume finishes it and publishes it as ${escape(undo)}\\.`));
      } else {
        t.true(existsSync(undo));
        t.regex(plain.stderr, new RegExp(`Its undo file is ${escape(undo)}\\.`));
      }

      const resumed = await runCli([...args, ...FAST, '--resume'], { env });
      t.is(resumed.code, 0, resumed.stderr);
      t.true(existsSync(undo), 'the undo file is published');
      t.deepEqual(readdirSync(dir).filter((f) => f.includes('.partial')), [], 'no partial is left');
      const back = await runCli(['update', undo, '--no-undo', ...FAST], { env, cwd: dir });
      t.is(back.code, 0, back.stderr);
      t.deepEqual([...emulator.store.all()], before, 'the undo file restores every contact');
    });
  }
}
