/**
 * Inputs a newcomer gets wrong (issue 20): each gets a message that says what is wrong and
 * what to do, quoting long cells by their first characters only. The built CLI against the emulator.
 */
import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  t.regex(run.stderr, /Missing header\? The first line looks like data \("ada@example\.com" is an email address\), so the file seems to have no header line: add one naming the columns as its first line, e\.g\. email for a list of addresses, or name,email\./);
  t.is(emulator.store.size, 0);
});

test('update of a plain email list without a header line: the error says to add one (email), never an option update does not have', async (t) => {
  const emulator = await startEmulator(t);
  const file = join(tempDir(t), 'nohdr.csv');
  writeFileSync(file, 'sam@freelance.example\nalice@umbrella.example\n');
  const hint = /Missing header\? The first line looks like data \("sam@freelance\.example" is an email address\), so the file seems to have no header line: add one naming the columns as its first line, e.g\. email for a list of addresses/;
  const run = await runCli(['update', file, '--set', 'portal_role=admin', '--dry-run'], { env: envFor(emulator) });
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, hint);
  t.notRegex(run.stderr, /--ignore-unknown-columns/, 'skipping the column would lose the emails');
  // Skipping the "columns" anyway: still told what is wrong, and not to use --mode, which update does not have.
  const skipped = await runCli(['update', file, '--set', 'portal_role=admin', '--dry-run', '--ignore-unknown-columns'], { env: envFor(emulator) });
  t.is(skipped.code, 2, skipped.stderr);
  t.regex(skipped.stderr, /no email or id column/);
  t.regex(skipped.stderr, hint);
  t.notRegex(skipped.stderr, /--mode/);
  // A file with a header but no email or id column: update is told to add one, import also of --mode create.
  const names = join(tempDir(t), 'names.csv');
  writeFileSync(names, 'name\nSam\n');
  const update = await runCli(['update', names, '--set', 'portal_role=admin', '--dry-run'], { env: envFor(emulator) });
  t.is(update.code, 2, update.stderr);
  t.regex(update.stderr, /no email or id column, so rows cannot be matched to contacts\. Add one \(a header named email or id\)\./);
  t.notRegex(update.stderr, /--mode/);
  const upsert = await runCli(['import', names, '--dry-run'], { env: envFor(emulator) });
  t.is(upsert.code, 2, upsert.stderr);
  t.regex(upsert.stderr, /Add one, or use --mode create\./);
  t.is(emulator.stats().requests.patch + emulator.stats().requests.create, 0);
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

test('an error report imported again: its own error report has each _ column once, with the line of the original file', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'contacts.csv');
  writeFileSync(file, 'name,email\nAda,ada@example.com\nBad,not-an-email\n');
  const first = await runCli(['import', file], { env: envFor(emulator) });
  t.is(first.code, 3, first.stderr);
  const report = join(dir, 'contacts.errors.csv');
  const again = await runCli(['import', report], { env: envFor(emulator) });
  t.is(again.code, 3, again.stderr);
  const [header, row] = readFileSync(join(dir, 'contacts.errors.errors.csv'), 'utf8').trimEnd().split('\n');
  t.is(header, '\ufeffname,email,_line,_error_code,_error_field,_error_message,_http_status,_request_id', 'the report starts with a UTF-8 BOM');
  // _line is the row's line in contacts.csv (3), not in the report it was imported from (2): it survives every round of fix and re-import.
  t.regex(row!, /^Bad,not-an-email,3,/);
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

test('a directory named as an input: a usage error that says to name a file (exit 2), for every command and option that reads one', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const folder = join(dir, 'contacts');
  mkdirSync(folder);
  const contacts = join(dir, 'c.csv');
  writeFileSync(contacts, 'email\nada@example.com\n');
  const cases: Array<[string[], RegExp]> = [
    [['import', folder], /contacts is a directory: name a CSV, XLSX, JSON or NDJSON file/],
    [['import', folder, '--dry-run'], /contacts is a directory: name a CSV, XLSX, JSON or NDJSON file/],
    [['update', folder, '--set', 'portal_role=admin'], /contacts is a directory: name a CSV, XLSX, JSON or NDJSON file/],
    [['update', folder, '--set', 'portal_role=admin', '--plan-out', join(dir, 'plan.json')], /contacts is a directory: name a CSV, XLSX, JSON or NDJSON file/],
    [['update', folder, '--yes'], /contacts is a directory: name a CSV, XLSX, JSON or NDJSON file/],
    [['apply', folder, '--yes'], /contacts is a directory: name a plan file \(written by `update … --plan-out plan\.json`\)/],
    [['show', folder], /contacts is a directory: name a plan file/],
    [['import', contacts, '--map', folder, '--dry-run'], /The mapping file .*contacts is a directory: name a JSON mapping file/],
    [['export', join(dir, 'out.csv'), '--since', folder], /Invalid option `--since`: .*contacts is a directory: name the manifest of an earlier export/],
    [['emulator', '--seed', folder, '--port', '0'], /Seed file .*contacts is a directory: name a \.json or \.csv seed file/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, { env: envFor(emulator), cwd: dir });
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message, args.join(' '));
    t.notRegex(run.stderr, /unexpected error|EISDIR|    at /, args.join(' '));
  }
  t.is(emulator.stats().requests.patch + emulator.stats().requests.create, 0);
});

test('an empty or unreadable stdin is called stdin in messages, never the path of its scratch copy', async (t) => {
  const emulator = await startEmulator(t);
  const cases: Array<[string[], string, RegExp]> = [
    [['import', '-'], '', /^pylon-contacts: stdin is empty: expected a header line/m],
    [['import', '-', '--dry-run'], '', /^pylon-contacts: stdin is empty: expected a header line/m],
    [['update', '-', '--set', 'portal_role=admin'], '', /^pylon-contacts: stdin is empty: expected a header line/m],
    [['import', '-', '--dry-run', '--format', 'json'], '{bad', /^pylon-contacts: stdin is neither a JSON array nor NDJSON/m],
    [['import', '-', '--dry-run', '--format', 'xlsx'], 'email\nada@example.com\n', /^pylon-contacts: stdin is not an XLSX workbook/m],
  ];
  for (const [args, stdin, message] of cases) {
    const run = await runCli(args, { env: envFor(emulator), stdin });
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message, args.join(' '));
    t.notRegex(run.stderr, /pylon-contacts-stdin|stdin\.csv/, args.join(' '));
  }
});

test('update of a file with only an email (or id) column and no --set: refused before any lookup (exit 2), saying what to add', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const emails = join(dir, 'admins.csv');
  writeFileSync(emails, 'email\nada@example.com\n');
  const ids = join(dir, 'ids.csv');
  writeFileSync(ids, 'id\n5a0c1d2e-0001-4a00-8000-000000000001\n');
  for (const [args, key] of [[['update', emails], 'email'], [['update', emails, '--dry-run'], 'email'], [['update', ids, '--yes'], 'id'], [['import', emails, '--mode', 'update'], 'email']] as const) {
    const file = args[1];
    const before = emulator.stats().requests;
    const run = await runCli(args, { env: envFor(emulator) });
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.true(
      run.stderr.includes(`${file} has only an ${key} column, which finds each contact: there is nothing to change. Say what to set: the same value for every contact with \`update ${file} --set field=value\` (e.g. --set portal_role=admin), or columns holding the values to set (e.g. portal_role).`),
      run.stderr,
    );
    const after = emulator.stats().requests;
    t.is(after.list + after.search + after.patch, before.list + before.search + before.patch, 'no lookup, no write');
  }
  // With --set the same file is an update, and a file with a column to apply too.
  const set = await runCli(['update', emails, '--set', 'portal_role=admin', '--dry-run'], { env: envFor(emulator) });
  t.not(set.code, 2, set.stderr);
  const roles = join(dir, 'roles.csv');
  writeFileSync(roles, 'email,portal_role\nada@example.com,admin\n');
  const columns = await runCli(['update', roles, '--dry-run'], { env: envFor(emulator) });
  t.not(columns.code, 2, columns.stderr);
});

test('a header-only input on stdin gets the same note as a header-only file', async (t) => {
  const emulator = await startEmulator(t);
  for (const args of [['import', '-'], ['import', '-', '--dry-run']]) {
    const run = await runCli(args, { env: envFor(emulator), stdin: 'email,name\n' });
    t.is(run.code, 0, run.stderr);
    t.regex(run.stderr, /0 rows read/);
    t.regex(run.stderr, /note: stdin has a header line and no data rows, so there was nothing to do; check that this is the input you meant/, args.join(' '));
  }
  t.is(emulator.store.size, 0);
});
