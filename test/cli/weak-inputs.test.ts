/**
 * Inputs a newcomer gets wrong (issue 20): each gets a message that says what is wrong and
 * what to do, quoting long cells by their first characters only. The built CLI against the emulator.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

test('a header-only file: 0 rows read, and a note saying there was nothing to import', async (t) => {
  const emulator = await startEmulator(t);
  const file = join(tempDir(t), 'only-header.csv');
  writeFileSync(file, 'name,email\n');
  const run = await runCli(['import', file, '--dry-run'], { env: envFor(emulator) });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /0 rows read/);
  t.regex(run.stderr, /note: .*only-header\.csv has a header line and no data rows/);
});

test('a file whose first line is data: the unknown-columns error asks "Missing header?" and names the email it saw', async (t) => {
  const emulator = await startEmulator(t);
  const file = join(tempDir(t), 'no-header.csv');
  writeFileSync(file, 'Ada Lovelace,ada@example.com\nBob,bob@example.com\n');
  const run = await runCli(['import', file, '--dry-run'], { env: envFor(emulator) });
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /Missing header\? The first line looks like data \("ada@example\.com" is an email address\): add a header line/);
  t.is(emulator.store.size, 0);
});

test('a header with an unknown column gets no "Missing header?" hint when other columns are known', async (t) => {
  const emulator = await startEmulator(t);
  const file = join(tempDir(t), 'typo.csv');
  writeFileSync(file, 'name,emial\nAda,ada@example.com\n');
  const run = await runCli(['import', file, '--dry-run'], { env: envFor(emulator) });
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /"emial" \(did you mean email\?\)/);
  t.notRegex(run.stderr, /Missing header/);
});

test('a 10 MB header line: the error quotes its first characters and its length, not the whole line', async (t) => {
  t.timeout(240_000);
  const emulator = await startEmulator(t);
  const file = join(tempDir(t), 'long-header.csv');
  writeFileSync(file, 'b'.repeat(10_000_000) + '\nx\n');
  const run = await runCli(['import', file, '--dry-run'], { env: envFor(emulator), timeoutMs: 230_000 });
  t.is(run.code, 2, run.stderr.slice(0, 500));
  t.true(run.stderr.length < 2_000, `stderr is ${run.stderr.length} characters`);
  t.regex(run.stderr, new RegExp(`Unknown column in the header: "${'b'.repeat(60)}"… \\(10,000,000 characters\\)`));
});

test('an error report imported again: its own error report has each _ column once, with this run\'s line numbers', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'contacts.csv');
  writeFileSync(file, 'name,email\nAda,ada@example.com\nBad,not-an-email\n');
  const first = await runCli(['import', file], { env: envFor(emulator) });
  t.is(first.code, 3, first.stderr);
  const report = join(dir, 'contacts.errors.csv');
  const again = await runCli(['import', report], { env: envFor(emulator) });
  t.is(again.code, 3, again.stderr);
  const [header, row] = readFileSync(join(dir, 'contacts.errors.errors.csv'), 'utf8').trim().split('\n');
  t.is(header, 'name,email,_line,_error_code,_error_field,_error_message,_http_status,_request_id');
  t.regex(row!, /^Bad,not-an-email,2,/);
});

test('update --where on a field Pylon cannot filter: a usage error before any selection or write, with the nearest field', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Ada', email: 'ada@example.com' });
  const unknown = await runCli(['update', '--where', 'foo=bar', '--set', 'portal_role=admin', '--yes'], { env: envFor(emulator), cwd: tempDir(t) });
  t.is(unknown.code, 2, unknown.stderr);
  t.regex(unknown.stderr, /cannot filter on "foo": no such contact field or custom field in this organisation\. Filterable: id, email, account_id, name/);
  const typo = await runCli(['update', '--where', 'emial~@example.com', '--set', 'portal_role=admin', '--yes'], { env: envFor(emulator), cwd: tempDir(t) });
  t.is(typo.code, 2, typo.stderr);
  t.regex(typo.stderr, /did you mean email\?/);
  const role = await runCli(['update', '--where', 'portal_role=member', '--set', 'portal_role=admin', '--yes'], { env: envFor(emulator), cwd: tempDir(t) });
  t.is(role.code, 2, role.stderr);
  t.regex(role.stderr, /Pylon's search cannot filter on portal_role/);
  const { requests } = emulator.stats();
  t.is(requests.search ?? 0, 0, 'no selection was read');
  t.is(requests.patch ?? 0, 0);
});
