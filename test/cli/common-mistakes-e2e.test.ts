/**
 * A newcomer's usual slips, each refused with one sentence that says what to do next, a documented exit
 * code, no stack trace, and nothing sent to Pylon: a mistyped input or plan file, an input in a folder that does
 * not exist (named as the input, not as the undo file beside it), a semicolon CSV read with
 * `--delimiter ,`, a `--set portal_role=` that is no portal role, a `--set email=` with `--where` (one address for every selected contact), a wrong token against the emulator, an export into a folder not made yet, and a `--to`
 * database nothing listens on.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { closedPort, envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

test('each common mistake gets the fix in its message, a usage exit code, and no write to Pylon', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-mistakes-');
  const env = envFor(emulator);
  writeFileSync(join(dir, 'contacts.csv'), 'name,email\nAda,ada@example.com\n');
  writeFileSync(join(dir, 'plan.json'), '{}');
  writeFileSync(join(dir, 'semi.csv'), 'name;email\nAda Semi;ada.semi@example.com\n');
  const cases: Array<[string[], RegExp]> = [
    [['import', 'contact.csv'], /Input file not found: .*contact\.csv \(did you mean .*contacts\.csv\?\)/],
    [['import', 'zzz.csv'], /Input file not found: .*zzz\.csv \(no file of that name is in .*: check the name\)/],
    [['import', 'no/such/contacts.csv'], /Input file not found: .*no\/such\/contacts\.csv \(the folder .*no\/such does not exist either: check the path\)/],
    [['update', 'no/such/admins.csv', '--set', 'portal_role=admin'], /Input file not found: .*no\/such\/admins\.csv/],
    [['apply', 'plan.jsn'], /Plan file not found: .*plan\.jsn \(did you mean .*plan\.json\?\)/],
    [['import', 'semi.csv', '--delimiter', ','], /"name;email"\. The first line holds one cell only, with ; between its names: the file is probably delimited by ;, so pass --delimiter ';'\./],
    [['update', 'contacts.csv', '--set', 'portal_role=superadmin'], /Invalid option `--set`: expected portal_role set to no_access, member or admin \(a custom role: portal_role_id=<its id>; --lenient sends another value as written\), got "portal_role=superadmin"/],
    [['update', '--where', 'email~@example.com', '--set', 'portal_role=owner', '--dry-run'], /Invalid option `--set`: expected portal_role set to no_access, member or admin .*got "portal_role=owner"/],
    [['update', '--where', 'email~@example.com', '--set', 'email=one@example.com', '--dry-run'], /--set email cannot go with --where: every selected contact would get the same address, which only one contact can hold\. To change addresses, list them in a file \(id,email: one row per contact\)/],
    [['export', 'exports/today/contacts.csv'], /Cannot write exports\/today\/contacts\.csv \(the output file\): its folder does not exist\. Nothing was sent to Pylon; create the folder \(mkdir -p exports\/today\), or name a file in a folder that exists\./],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, { env, cwd: dir });
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message, args.join(' '));
    t.notRegex(run.stderr, /\n\s+at |--undo/, `${args.join(' ')}: no stack trace, and the input is named rather than an output`);
  }
  t.is(writes(emulator), 0);
  // A bad --set role was refused before any row: no error report asking to fix the rows.
  t.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.errors.csv')), []);

  // The semicolon file itself is fine: with the delimiter it names (or none, sniffed) it imports.
  const semi = await runCli(['import', 'semi.csv', '--delimiter', ';'], { env, cwd: dir });
  t.is(semi.code, 0, semi.stderr);
  t.is(emulator.store.findByEmail('ada.semi@example.com')?.name, 'Ada Semi');

  // A wrong token against the emulator: the fix is the token it printed, not one from Pylon's settings; never printed.
  const wrong = await runCli(['import', 'contacts.csv', '--dry-run'], { env: { ...env, PYLON_API_TOKEN: 'wrong-token-c4fe' }, cwd: dir });
  t.is(wrong.code, 1, wrong.stderr);
  t.regex(wrong.stderr, /PYLON_AUTH.*Check the API token \(PYLON_API_TOKEN or --token\); against the emulator, use the token it prints \(pylon-emulator-token unless its --token names another\)/);
  t.false(wrong.stderr.includes('wrong-token-c4fe'));

  // A database nothing listens on: the load fails (exit 1), saying what to check, and loads nothing.
  const url = `postgresql://etl@127.0.0.1:${await closedPort()}/warehouse#contacts`;
  const load = await runCli(['export', '--to', url], { env, cwd: dir });
  t.is(load.code, 1, load.stderr);
  t.regex(load.stderr, /LOAD_CONNECT.*the database is unreachable \(ECONNREFUSED\): nothing accepts connections there: is PostgreSQL running, and are the host and port in --to right\?/);
  t.notRegex(load.stderr, /\n\s+at /);
});
