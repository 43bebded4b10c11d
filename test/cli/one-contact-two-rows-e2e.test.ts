/**
 * Two rows of one file naming two emails of one contact (its primary and a secondary): the
 * later row fails as a duplicate of the earlier one, naming its line, in the dry run, the plan
 * and the real run alike, so the contact is written once and a re-run writes nothing.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { SavedPlan } from '../../src/update/plan-file.js';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const FAST = ['--rate', FAST_RATE];
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

for (const lookup of ['list', 'search'] as const) {
  test(`--lookup ${lookup}: update rows naming a contact's primary and its secondary email: the second fails ROW_DUPLICATE_IN_FILE naming the first; one write, one undo row; a re-run writes nothing`, async (t) => {
    const emulator = await startEmulator(t);
    const fay = emulator.store.insert({ name: 'Fay', email: 'fay@x.example', emails: ['fay@x.example', 'fay.old@x.example'], portal_role: 'member' });
    emulator.store.insert({ name: 'Gus', email: 'gus@x.example', portal_role: 'member' });
    const dir = tempDir(t, 'pylon-one-contact-');
    const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
    const input = join(dir, 'roles.csv');
    writeFileSync(input, 'email,portal_role\nfay@x.example,admin\ngus@x.example,admin\nfay.old@x.example,no_access\n');
    const args = ['update', input, '--lookup', lookup, '--yes', '--json', ...FAST];
    const expectDuplicate = (errors: Array<Record<string, string>>) => {
      t.is(errors.length, 1);
      t.like(errors[0], { email: 'fay.old@x.example', _line: '4', _error_code: 'ROW_DUPLICATE_IN_FILE' });
      t.regex(errors[0]._error_message, new RegExp(`Duplicate of line 2 \\(same contact: ${fay.id}`));
    };

    const dry = await runCli([...args, '--dry-run'], { env });
    t.is(dry.code, 3, dry.stderr);
    t.like(statsOf(dry), { updated: 2, failed: 1 });
    expectDuplicate(readCsv(join(dir, 'roles.errors.csv')));

    const planPath = join(dir, 'plan.json');
    const planned = await runCli([...args, '--plan-out', planPath], { env });
    t.is(planned.code, 3, planned.stderr);
    const plan = JSON.parse(readFileSync(planPath, 'utf8')) as SavedPlan;
    t.deepEqual(plan.changes.filter((c) => c.id === fay.id).map((c) => c.changes), [[{ column: 'portal_role', from: 'member', to: 'admin' }]], 'the plan changes Fay once');

    const real = await runCli(args, { env });
    t.is(real.code, 3, real.stderr);
    t.like(statsOf(real), { updated: 2, failed: 1 });
    expectDuplicate(readCsv(join(dir, 'roles.errors.csv')));
    t.is(emulator.store.get(fay.id)?.portal_role, 'admin', "the first row's value");
    t.is(emulator.stats().requests.patch, 2, 'one PATCH per contact');
    // Undo rows are written as the PATCHes are answered, in any order (--concurrency 4): Gus's may come first on a busy machine.
    const undoRows = readCsv(join(dir, 'roles.undo.csv')).map((r) => [r.email, r.portal_role]);
    t.deepEqual(undoRows.sort(), [['fay@x.example', 'member'], ['gus@x.example', 'member']], 'one undo row per contact');

    emulator.resetStats();
    const again = await runCli(args, { env });
    t.is(again.code, 3, again.stderr);
    t.like(statsOf(again), { updated: 0, unchanged: 2, failed: 1 });
    t.is(emulator.stats().requests.patch, 0, 'an identical re-run writes nothing');
    t.is(emulator.store.get(fay.id)?.portal_role, 'admin');
  });
}
