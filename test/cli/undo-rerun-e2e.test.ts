/**
 * A re-run beside an earlier run's undo file: the file is kept, and this run's
 * goes to a free name (`<input>.undo-2.csv`). That name is announced only once
 * the run has written it: a re-run that changes nothing writes none, and neither
 * its notes nor its summary name a file that does not exist.
 */
import test from 'ava';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];

for (const command of ['import', 'update'] as const) {
  test(`${command}: an identical re-run says "undo file: none written" and names no undo file it did not write; a re-run that changes contacts names its own`, async (t) => {
    const emulator = await startEmulator(t);
    seedContacts(emulator.store, 6);
    const dir = tempDir(t);
    const env = envFor(emulator);
    const input = join(dir, 'r.csv');
    const write = (role: string) =>
      writeFileSync(input, command === 'import' ? ['email,portal_role', ...[...emulator.store.all()].map((c) => `${c.email},${role}`)].join('\n') + '\n' : ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
    const run = (role: string) => runCli([...(command === 'import' ? ['import', input] : ['update', input, '--set', `portal_role=${role}`]), '--json', ...FAST], { env });
    write('admin');
    const first = await run('admin');
    t.is(first.code, 0, first.stderr);
    t.true(existsSync(join(dir, 'r.undo.csv')));

    const again = await run('admin');
    t.is(again.code, 0, again.stderr);
    t.regex(again.stderr, /undo file: none written, since no contact was changed/);
    t.notRegex(again.stderr, /undo-2/, 'no undo file of this run is named');
    for (const path of again.stderr.match(/\/\S+\.csv/g) ?? []) t.true(existsSync(path), `${path}, named in the output, exists`);
    t.deepEqual(readdirSync(dir).filter((f) => f.includes('undo')), ['r.undo.csv']);
    t.is(statsOf(again).undoPath, undefined, "--json names no undo file (r.undo.csv is the earlier run's)");

    write('no_access');
    const changed = await run('no_access');
    t.is(changed.code, 0, changed.stderr);
    const second = join(dir, 'r.undo-2.csv');
    t.true(existsSync(second));
    t.true(changed.stderr.includes(`this run's undo file is ${second}`), changed.stderr);
    t.true(changed.stderr.includes(`undo file: ${second} (`), changed.stderr);
    t.is(statsOf(changed).undoPath, second);
  });
}
