/**
 * A server whose search matches emails case-sensitively (`--email-match
 * sensitive`): `update --where 'email…'` and `export --filter 'email…'` select
 * only addresses written in the filter's case. Each says so before it selects,
 * and how to match whatever the case; a filter not on email, or an
 * insensitive server, says nothing.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '2'];
const WARNING = /tests email, and Pylon's search matches emails case-sensitively here: the selection holds only addresses written in the case the filter gives \(email=ann@acme\.example misses Ann@Acme\.example\)/;

for (const emailMatch of ['sensitive', 'insensitive'] as const) {
  test(`--email-match ${emailMatch}: update --where and export --filter on email ${emailMatch === 'sensitive' ? 'warn that the selection may miss differently-cased addresses' : 'say nothing about case'}`, async (t) => {
    const emulator = await startEmulator(t, { emailMatch });
    emulator.store.insert({ name: 'Ann', email: 'Ann@Acme.example' });
    emulator.store.insert({ name: 'Bob', email: 'bob@acme.example' });
    const dir = tempDir(t);
    const env = envFor(emulator);

    const where = await runCli(['update', '--where', 'email=ann@acme.example', '--set', 'portal_role=admin', ...FAST], { env, cwd: dir });
    t.is(where.code, 0, where.stderr);
    const out = join(dir, 'out.csv');
    const exported = await runCli(['export', out, '--filter', 'email~@acme.example', ...FAST], { env, cwd: dir });
    t.is(exported.code, 0, exported.stderr);
    const byName = await runCli(['export', join(dir, 'names.csv'), '--filter', 'name=Ann', ...FAST], { env, cwd: dir });
    t.is(byName.code, 0, byName.stderr);
    t.notRegex(byName.stderr, /case-sensitively/, 'a filter not on email says nothing');
    if (emailMatch === 'insensitive') {
      t.notRegex(where.stderr + exported.stderr, /case-sensitively/);
      return;
    }
    t.regex(where.stderr, new RegExp(`--where ${WARNING.source}`));
    t.regex(where.stderr, /list them in a file instead: `update <file> --set …` reads the contact list/);
    t.regex(exported.stderr, new RegExp(`--filter ${WARNING.source}`));
    t.regex(exported.stderr, /export without --filter and select from the file/);
    t.false(readFileSync(out, 'utf8').includes('Ann@Acme.example'), 'the export misses it, as the warning says');
  });
}

test('the probe finds a contact with an email past a first page of contacts without one (one search), and says when it cannot tell', async (t) => {
  // The probe read the first 100 contacts only: contacts without an email there (made from a chat) left it nothing
  // to test, and it said nothing, so the case-sensitive selection below missed Ann@Acme.example without a word.
  const emulator = await startEmulator(t, { emailMatch: 'sensitive' });
  for (let i = 0; i < 100; i += 1) emulator.store.insert({ name: `Chat ${i}` });
  emulator.store.insert({ name: 'Ann', email: 'Ann@Acme.example' });
  const dir = tempDir(t);
  const env = envFor(emulator);
  const where = await runCli(['update', '--where', 'email=ann@acme.example', '--set', 'portal_role=admin', ...FAST], { env, cwd: dir });
  t.is(where.code, 0, where.stderr);
  t.regex(where.stderr, new RegExp(`--where ${WARNING.source}`));
  const exported = await runCli(['export', join(dir, 'out.csv'), '--filter', 'email~@acme.example', ...FAST], { env, cwd: dir });
  t.is(exported.code, 0, exported.stderr);
  t.regex(exported.stderr, new RegExp(`--filter ${WARNING.source}`));
  const file = join(dir, 'in.csv');
  writeFileSync(file, 'name,email\nAnn,ann@acme.example\n');
  const lookup = await runCli(['import', file, '--lookup', 'search', '--dry-run', ...FAST], { env, cwd: dir });
  t.is(lookup.code, 2, lookup.stderr);
  t.regex(lookup.stderr, /--lookup search cannot find every contact here: Pylon's search matches emails case-sensitively here/);

  // No contact has an email at all: the filter's note says the case rule could not be told, rather than nothing.
  const none = await startEmulator(t, { emailMatch: 'sensitive' });
  for (let i = 0; i < 3; i += 1) none.store.insert({ name: `Chat ${i}` });
  const unknown = await runCli(['export', join(dir, 'none.csv'), '--filter', 'email~@acme.example', ...FAST], { env: envFor(none), cwd: dir });
  t.is(unknown.code, 0, unknown.stderr);
  t.regex(unknown.stderr, /--filter tests email, and it could not be told whether Pylon's search matches emails whatever their case here \(no contact with an email was found to test it on\): if the selection misses addresses written in another case, to select addresses whatever their case, export without --filter and select from the file\./);
});
