/**
 * Options typed before the command word (`pylon-contacts --dry-run import contacts.csv`) work as
 * if typed after it. Before, yargs read the command word as the first option's value and the run
 * stopped with "Unknown options: --dry-run, --contacts.csv." (the file shown as an option).
 * The built CLI in a child process.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { contactsCsv, envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

test('--dry-run before import plans like --dry-run after it, and writes nothing', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'contacts.csv');
  writeFileSync(file, contactsCsv(3));
  const env = envFor(emulator);
  const before = await runCli(['--dry-run', '--json', 'import', file, '-q'], { env, cwd: dir });
  t.is(before.code, 0, before.stderr);
  t.like(JSON.parse(before.stdout), { dryRun: true, total: 3, created: 3, fatal: undefined });
  const after = await runCli(['import', file, '-q', '--dry-run', '--json'], { env, cwd: dir });
  t.is(after.code, 0, after.stderr);
  t.like(JSON.parse(after.stdout), { dryRun: true, total: 3, created: 3 });
  t.is(writes(emulator), 0, 'a dry run writes nothing');
});

test('options before the command: an option with a value keeps it, a bad option is named, --help shows the command', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const out = join(dir, 'out.csv');
  const exported = await runCli(['--page-size', '2', 'export', out, '--json', '-q'], { env, cwd: dir });
  t.is(exported.code, 0, exported.stderr);
  t.like(JSON.parse(exported.stdout), { complete: true });
  const bad = await runCli(['--dry-run', '--bogus', 'import', join(dir, 'in.csv')], { env, cwd: dir });
  t.is(bad.code, 2);
  t.is(bad.stderr, 'pylon-contacts: Unknown option: --bogus.\nRun with --help for usage.\npylon-contacts: error CONFIG_INVALID_OPTION (exit 2; see docs/errors.md)\n');
  const help = await runCli(['--help', 'export'], { env, cwd: dir });
  t.is(help.code, 0, help.stderr);
  t.regex(help.stdout, /^pylon-contacts export/);
  const none = await runCli(['--dry-run'], { env, cwd: dir });
  t.is(none.code, 2);
  t.regex(none.stderr, /^pylon-contacts: Name a command: import, export/);
});

test('before the command, an option whose value is a command name keeps it as its value', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const file = join(dir, 'contacts.csv');
  writeFileSync(file, 'name,email,crm id\nAda,ada@o.example,c-1\n');
  const imported = await runCli(['--external-id-column', 'crm id', '--external-id-label', 'update', 'import', file, '--json', '-q'], { env, cwd: dir });
  t.is(imported.code, 0, imported.stderr);
  t.like(JSON.parse(imported.stdout), { created: 1 });
  t.deepEqual(emulator.store.findByEmail('ada@o.example')?.external_ids, [{ external_id: 'c-1', label: 'update' }]);
  // --columns export: the value is read as a column (and refused as one), not as the command word.
  const exported = await runCli(['--columns', 'export', 'export', join(dir, 'out.csv')], { env, cwd: dir });
  t.is(exported.code, 2);
  t.regex(exported.stderr, /^pylon-contacts: Invalid option `--columns`: unknown column "export"/);
});

test('help works wherever --json sits: --json help import, help --json import and help import --json show the import help; --json help the root help', async (t) => {
  const dir = tempDir(t);
  for (const args of [['--json', 'help', 'import'], ['help', '--json', 'import'], ['help', 'import', '--json']]) {
    const run = await runCli(args, { cwd: dir });
    t.is(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stdout, /^pylon-contacts import <file>/, args.join(' '));
  }
  const root = await runCli(['--json', 'help'], { cwd: dir });
  t.is(root.code, 0, root.stderr);
  t.regex(root.stdout, /^pylon-contacts <command> \[options\]/);
  const unknown = await runCli(['--json', 'help', 'bogus'], { cwd: dir });
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /Unknown command bogus/);
});
