/**
 * An update by id that gives a contact with no email its first address, then its undo file. The undo row's email
 * cell was empty, which `update <undo file>` reads as "the email was not changed": the row was counted `skipped`,
 * exit 0, and the contact kept the address it never had, with nothing said. Now the cell holds the clear token, as a
 * name that was empty does (undo-no-name-e2e): the other fields are restored and the row fails ROW_CANNOT_CLEAR naming
 * the email (Pylon's API cannot take a contact's only address off), in the dry run too.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

for (const command of ['update', 'import'] as const) {
  test(`${command}: the undo of an email given to a contact that had none says it is left, and restores the rest`, async (t) => {
    const emulator = await startEmulator(t);
    const ann = emulator.store.insert({ name: 'Ann' });
    const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const bobBefore = structuredClone(emulator.store.get(bob.id));
    const dir = tempDir(t);
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, `id,name,email\n${ann.id},Annie,ann@acme.example\n`);
    const env = envFor(emulator);
    const undo = join(dir, 'undo.csv');
    const run = await runCli([command, file, '--json', '-q', '--rate', FAST_RATE, '--undo', undo], { env, cwd: dir });
    t.is(run.code, 0, run.stderr);
    t.like(emulator.store.get(ann.id), { name: 'Annie', email: 'ann@acme.example' });
    t.like(readCsv(undo)[0], { id: ann.id, email: '#N/A', name: 'Ann', '_set.email': 'ann@acme.example', '_set.name': 'Annie' });

    const errors = join(dir, 'undo.errors.csv');
    const dry = await runCli(['update', undo, '--dry-run', '--rate', FAST_RATE], { env, cwd: dir });
    t.is(dry.code, 3, dry.stderr);
    t.regex(dry.stderr, /Undo plan: 1 contact changes, 0 unchanged, 1 row fails\./);

    const back = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', errors], { env, cwd: dir });
    t.is(back.code, 3, back.stderr);
    t.like(statsOf(back), { total: 1, failed: 1, skipped: 0 });
    t.like(emulator.store.get(ann.id), { name: 'Ann', email: 'ann@acme.example' }, 'the name is back; the address stays');
    const report = readCsv(errors);
    t.is(report.length, 1);
    t.like(report[0], { id: ann.id, _line: '2', _error_code: 'ROW_CANNOT_CLEAR', _error_field: 'email' });
    t.regex(report[0]!._error_message!, /^Not restored: email held no value before the change/);
    t.deepEqual(emulator.store.get(bob.id), bobBefore);

    // Again: nothing else differs, nothing is sent, and the row still says why.
    const again = await runCli(['update', undo, '--json', '-q', '--rate', FAST_RATE, '--no-undo', '--errors', errors], { env, cwd: dir });
    t.is(again.code, 3, again.stderr);
    t.like(statsOf(again), { total: 1, failed: 1, updated: 0 });
  });
}
