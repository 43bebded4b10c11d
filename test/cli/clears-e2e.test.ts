/**
 * Clearing avatar_url, portal_role_id and primary_phone_number with `""` under
 * every `--empty-string` behaviour of the emulator, through the built CLI: a
 * server that refuses or ignores `""` fails the row ROW_CANNOT_CLEAR once, and
 * what it showed is remembered in the state folder, so a second run of the same
 * file sends nothing for that clear and its dry run counts what it does.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'csv-parse/sync';
import type { ImportStats } from '../../src/import/run-import.js';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir, type CliResult } from '../helpers/cli.js';

const readCsv = (path: string) => (existsSync(path) ? (parse(readFileSync(path), { columns: true, bom: true }) as Array<Record<string, string>>) : []);

function summary(result: CliResult): ImportStats & { plannedCalls?: { patch?: number } } {
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`no JSON summary (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

const counts = (s: ImportStats) => ({ created: s.created, updated: s.updated, unchanged: s.unchanged, skipped: s.skipped, failed: s.failed });

for (const mode of ['clears', 'rejected', 'ignored'] as const) {
  test(`--empty-string ${mode}: a clear the server does not take fails once, then is neither sent again nor counted as an update`, async (t) => {
    const em = await startEmulator(t, { emptyString: mode });
    const cy = em.store.insert({ name: 'Cy', email: 'cy@acme.example', avatar_url: 'https://cdn.example/cy.png' });
    const dee = em.store.insert({ name: 'Dee', email: 'dee@acme.example', avatar_url: 'https://cdn.example/dee.png', portal_role_id: 'role-1' });
    const dir = tempDir(t, 'pylon-clears-');
    const input = join(dir, 'in.csv');
    // Cy: a new name and a clear; Dee: only clears.
    writeFileSync(input, 'name,email,avatar_url,portal_role_id\nCy New,cy@acme.example,#N/A,\nDee,dee@acme.example,#N/A,#N/A\n');
    const env = { ...envFor(em), XDG_STATE_HOME: join(dir, 'state') };
    const run = async (...extra: string[]) => summary(await runCli(['import', input, '--clear-token', '#N/A', '--json', '-q', '--rate', FAST_RATE, ...extra], { env, cwd: dir }));
    const patches = () => em.stats().requests.patch ?? 0;

    const dry1 = await run('--dry-run');
    t.deepEqual(counts(dry1), { created: 0, updated: 2, unchanged: 0, skipped: 0, failed: 0 }, 'nothing is known of this server yet');
    const real1 = await run();
    t.is(em.store.get(cy.id)?.name, 'Cy New', "the row's other change is applied");
    if (mode === 'clears') {
      t.deepEqual(counts(real1), counts(dry1));
      t.is(em.store.get(cy.id)?.avatar_url, undefined);
      t.is(em.store.get(dee.id)?.portal_role_id, undefined);
    } else {
      t.deepEqual(counts(real1), { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 2 });
      t.is(em.store.get(cy.id)?.avatar_url, 'https://cdn.example/cy.png');
      const errors = readCsv(join(dir, 'in.errors.csv'));
      t.deepEqual(errors.map((e) => [e._line, e._error_code, e._error_field]).sort(), [['2', 'ROW_CANNOT_CLEAR', 'avatar_url'], ['3', 'ROW_CANNOT_CLEAR', 'avatar_url']]);
      t.regex(errors.find((e) => e._line === '2')!._error_message, mode === 'rejected' ? /^Not cleared: avatar_url \(Pylon refused ""/ : /^Not cleared: avatar_url \(Pylon answered 200 but kept/);
    }

    // The same file again: its dry run counts what the real run then does, and the real run sends nothing.
    const dry2 = await run('--dry-run');
    const before = patches();
    const real2 = await run();
    t.is(patches() - before, 0, 'no PATCH is sent again');
    t.is(real2.calls.patch, 0);
    t.is(dry2.plannedCalls?.patch, 0);
    t.deepEqual(counts(dry2), counts(real2), 'the dry run counts what the real run does');
    if (mode === 'clears') {
      t.deepEqual(counts(real2), { created: 0, updated: 0, unchanged: 2, skipped: 0, failed: 0 });
      return;
    }
    t.deepEqual(counts(real2), { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 2 });
    const errors = readCsv(join(dir, 'in.errors.csv'));
    const dee2 = errors.find((e) => e._line === '3')!;
    t.is(dee2._error_code, 'ROW_CANNOT_CLEAR');
    t.regex(dee2._error_message, /^Not cleared: avatar_url \(Pylon .+ so "" was not sent again.+\); portal_role_id \(.+\)\. Nothing else in the row differs, so nothing was sent/);
    t.false(readFileSync(join(dir, 'state', 'pylon-contacts', 'servers.json'), 'utf8').includes(TOKEN));
  });
}

test('--empty-string ignored: a row with other changes is planned as a PATCH without the clear, and fails on it after', async (t) => {
  const em = await startEmulator(t, { emptyString: 'ignored' });
  em.store.insert({ name: 'Ann', email: 'ann@acme.example', avatar_url: 'https://cdn.example/ann.png' });
  const cy = em.store.insert({ name: 'Cy', email: 'cy@acme.example', avatar_url: 'https://cdn.example/cy.png' });
  const dir = tempDir(t, 'pylon-clears-');
  const env = { ...envFor(em), XDG_STATE_HOME: join(dir, 'state') };
  const flags = ['--clear-token', '#N/A', '--json', '-q', '--rate', FAST_RATE];
  // A first run learns that "" does not clear avatar_url here.
  writeFileSync(join(dir, 'a.csv'), 'email,avatar_url\nann@acme.example,#N/A\n');
  t.is((await runCli(['import', join(dir, 'a.csv'), ...flags], { env, cwd: dir })).code, 3);
  const input = join(dir, 'in.csv');
  writeFileSync(input, 'name,email,avatar_url\nCy New,cy@acme.example,#N/A\n');
  const dry = summary(await runCli(['import', input, '--dry-run', ...flags], { env, cwd: dir }));
  const before = em.stats().requests.patch ?? 0;
  const real = summary(await runCli(['import', input, ...flags], { env, cwd: dir }));
  t.deepEqual(counts(dry), counts(real));
  t.deepEqual(counts(real), { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 1 });
  t.is(dry.plannedCalls?.patch, 1);
  t.is((em.stats().requests.patch ?? 0) - before, 1, 'the new name is sent, once');
  t.is(em.store.get(cy.id)?.name, 'Cy New');
  const [error] = readCsv(join(dir, 'in.errors.csv'));
  t.regex(error!._error_message, /^Not cleared: avatar_url \(Pylon answered 200 but kept the value.+\)\. The row's other changes were applied/);
});
