/**
 * A server (or proxy) that answers a successful write without the contact: a
 * PATCH answered 204 or 200 `{}` (`--patch-answer`), a create answered the same
 * way (`--create-answer`). Any 2xx is a write that happened: the row is
 * updated (or created, once), its undo row is kept, and the contact is read
 * back where the CLI needs it.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '2'];

for (const answer of ['empty', 'no-content'] as const) {
  test(`--patch-answer ${answer}: import, update, apply and the undo each report their rows updated, exit 0, and keep the undo rows`, async (t) => {
    const emulator = await startEmulator(t, { patchAnswer: answer });
    seedContacts(emulator.store, 4);
    const dir = tempDir(t);
    const env = envFor(emulator);
    const contacts = [...emulator.store.all()];
    const roleOf = (email: string | undefined) => [...emulator.store.all()].find((c) => c.email === email)?.portal_role;

    const input = join(dir, 'roles.csv');
    writeFileSync(input, ['email,portal_role', ...contacts.map((c) => `${c.email},${c.portal_role === 'admin' ? 'member' : 'admin'}`)].join('\n') + '\n');
    const imported = await runCli(['import', input, ...FAST], { env });
    t.is(imported.code, 0, imported.stderr);
    t.notRegex(imported.stderr, /ROW_API_REJECTED|unexpected body/);
    t.is(readCsv(join(dir, 'roles.undo.csv')).length, 4, 'an undo row for each contact changed');
    for (const c of contacts) t.is(roleOf(c.email), c.portal_role === 'admin' ? 'member' : 'admin');

    const undone = await runCli(['update', join(dir, 'roles.undo.csv'), ...FAST], { env });
    t.is(undone.code, 0, undone.stderr);
    for (const c of contacts) t.is(roleOf(c.email), c.portal_role, 'the undo restored it');

    const list = join(dir, 'list.csv');
    writeFileSync(list, ['email', ...contacts.map((c) => c.email)].join('\n') + '\n');
    const updated = await runCli(['update', list, '--set', 'portal_role=no_access', ...FAST], { env });
    t.is(updated.code, 0, updated.stderr);
    t.true(existsSync(join(dir, 'list.undo.csv')));
    for (const c of contacts) t.is(roleOf(c.email), 'no_access');

    const plan = join(dir, 'plan.json');
    const planned = await runCli(['update', list, '--set', 'portal_role=admin', '--plan-out', plan, ...FAST], { env });
    t.is(planned.code, 0, planned.stderr);
    const applied = await runCli(['apply', plan, ...FAST], { env });
    t.is(applied.code, 0, applied.stderr);
    t.is(readCsv(join(dir, 'plan.undo.csv')).length, 4);
    for (const c of contacts) t.is(roleOf(c.email), 'admin');
    t.false(readFileSync(join(dir, 'plan.undo.csv'), 'utf8').includes('ROW_API_REJECTED'));
  });
}

for (const answer of ['empty', 'no-content'] as const) {
  test(`--create-answer ${answer}: each new row is created once and reported created (found by its email), exit 0`, async (t) => {
    const emulator = await startEmulator(t, { createAnswer: answer });
    const dir = tempDir(t);
    const input = join(dir, 'new.csv');
    writeFileSync(input, 'email,name\nnew1@x.example,New One\nnew2@x.example,New Two\n');
    const res = await runCli(['import', input, '--results', join(dir, 'results.csv'), ...FAST], { env: envFor(emulator) });
    t.is(res.code, 0, res.stderr);
    t.regex(res.stderr, new RegExp(`Pylon answered ${answer === 'empty' ? 200 : 204} to the create without the created contact`));
    t.regex(res.stderr, /created 2, updated 0/);
    const all = [...emulator.store.all()];
    t.deepEqual(all.map((c) => c.email).sort(), ['new1@x.example', 'new2@x.example'], 'each created exactly once');
    const results = readCsv(join(dir, 'results.csv'));
    t.deepEqual(results.map((r) => r._contact_id).sort(), all.map((c) => c.id).sort(), 'the results file names the created ids');
  });
}
