/**
 * What a newcomer meets through --help and through a mistyped command line (issue 20):
 * the built CLI in a child process; nothing here talks to Pylon.
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, envFor, runCli, startEmulator, tempDir, withoutCodeLine } from '../helpers/cli.js';
import { DUCKDB_SETTINGS } from '../../src/export/load/duckdb-settings.js';

const noServer = { env: { PYLON_API_TOKEN: 'tok-help-test', PYLON_BASE_URL: 'http://127.0.0.1:9' } };

test('root help: every format, the environment variables, an example per journey, a docs folder that exists', async (t) => {
  const run = await runCli(['--help']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /CSV, XLSX, JSON or NDJSON/);
  t.regex(run.stdout, /Parquet|database table/);
  for (const name of ['PYLON_API_TOKEN', 'PYLON_BASE_URL', 'PYLON_AUDIT_LOG']) t.regex(run.stdout, new RegExp(`^  ${name} `, 'm'), name);
  // Every variable on its own line, the descriptions starting in one column (a long name once pushed its own out of line).
  const environment = run.stdout.split('Environment:\n')[1]!.split('\n\n')[0]!.split('\n');
  t.deepEqual(environment.map((line) => /^  (\S+)/.exec(line)?.[1]), ['PYLON_API_TOKEN', 'PYLON_BASE_URL', 'PYLON_AUDIT_LOG', 'PYLON_DUCKDB_MEMORY_LIMIT', 'XDG_STATE_HOME', 'PYLON_CONTACTS_DEBUG']);
  t.is(new Set(environment.map((line) => /^  \S+ +/.exec(line)![0].length)).size, 1, environment.join('\n'));
  // The default DuckDB cap is the one the load sets (80MB, as docs/errors.md and docs/warehouse.md say).
  t.is(DUCKDB_SETTINGS.memory_limit, '80MB');
  t.regex(run.stdout, /^  PYLON_DUCKDB_MEMORY_LIMIT +DuckDB memory cap of a --to duckdb: load \(default 80MB\)$/m);
  for (const example of ['demo', 'import contacts.csv --dry-run', '--from hubspot', 'export contacts.parquet', '--plan-out', 'emulator --port']) t.true(run.stdout.includes(example), example);
  const docs = /^Docs: (\S+)/m.exec(run.stdout);
  t.truthy(docs, 'a Docs: line');
  t.is(docs![1], join(REPO, 'docs') + '/');
  t.true(existsSync(join(docs![1], 'import.md')), 'the docs folder it names holds the pages');
  // It lists every page of that folder, and only those.
  const listed = /Docs: \S+ \(([^)]*)\)/m.exec(run.stdout.replace(/\n(?=\S)/g, ' '))?.[1]?.split(', ');
  t.deepEqual([...(listed ?? [])].sort(), readdirSync(docs![1]).filter((name) => name.endsWith('.md')).sort());
  t.notRegex(run.stdout, /README\.md/);
});

test('import --help groups its options: Connection, Input, Mapping, Outputs, Safety', async (t) => {
  const run = await runCli(['import', '--help']);
  t.is(run.code, 0, run.stderr);
  const headings = run.stdout.split('\n').filter((line) => /^[A-Z][a-z]+:$/.test(line));
  t.deepEqual(headings, ['Positionals:', 'Connection:', 'Input:', 'Mapping:', 'Outputs:', 'Safety:', 'Options:', 'Examples:']);
  const section = (title: string) => run.stdout.split(`\n${title}\n`)[1]!.split('\n\n')[0]!;
  t.regex(section('Connection:'), /--base-url[\s\S]*--token[\s\S]*--timeout/);
  t.regex(section('Safety:'), /--dry-run[\s\S]*--resume/);
  t.regex(section('Mapping:'), /--from[\s\S]*--default-country/);
  // Each choice of --on-duplicate is said (error was "or none", not which word keeps none).
  t.regex(section('Input:'), /--on-duplicate\s+Rows with the same email in the file: keep the first or the last[\s\S]*or fail them all \(error\)/);
});

test('a flag that needs a value, given without one, is a usage error that names it, before any call', async (t) => {
  for (const args of [['import', 'x.csv', '--concurrency'], ['import', 'x.csv', '--default-country', '--dry-run'], ['export', 'out.csv', '--page-size']]) {
    const run = await runCli(args, noServer);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    const flag = args.find((a) => a.startsWith('--') && a !== '--dry-run')!;
    t.true(run.stderr.includes(`${flag} needs a value`), run.stderr);
    t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('an unknown flag gets the nearest known one; a far-off one gets no guess', async (t) => {
  const typo = await runCli(['import', 'x.csv', '--dryrun', '--concurency', '3'], noServer);
  t.is(typo.code, 2);
  t.regex(typo.stderr, /--dryrun \(did you mean --dry-run\?\)/);
  t.regex(typo.stderr, /--concurency \(did you mean --concurrency\?\)/);
  // Two letters swapped is one slip, as near as one letter off: --fromat is --format, not --from.
  const swapped = await runCli(['export', 'out.csv', '--fromat', 'csv'], noServer);
  t.is(swapped.code, 2);
  t.regex(swapped.stderr, /--fromat \(did you mean --format\?\)/);
  const far = await runCli(['export', '--zzzzzz'], noServer);
  t.is(far.code, 2);
  t.regex(far.stderr, /Unknown option: --zzzzzz\./);
  t.notRegex(far.stderr, /did you mean/);
});

test('export --help says what the root help says: files in CSV, NDJSON or Parquet, or a database table', async (t) => {
  const run = await runCli(['export', '--help']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout.replace(/\s+/g, ' '), /Write every contact \(or a --filter subset\) to CSV, NDJSON, Parquet or a database table/);
});

test('export --help groups its options by what they decide: Connection, Selection, Format, Outputs, Safety', async (t) => {
  const run = await runCli(['export', '--help']);
  t.is(run.code, 0, run.stderr);
  const headings = run.stdout.split('\n').filter((line) => /^[A-Z][a-z]+:$/.test(line));
  t.deepEqual(headings, ['Positionals:', 'Connection:', 'Selection:', 'Format:', 'Outputs:', 'Safety:', 'Options:', 'Examples:']);
  const section = (title: string) => run.stdout.split(`\n${title}\n`)[1]!.split('\n\n')[0]!;
  t.regex(section('Selection:'), /--filter[\s\S]*--columns[\s\S]*--since[\s\S]*--state/);
  t.regex(section('Format:'), /--format[\s\S]*--typed[\s\S]*--gzip/);
  t.notRegex(section('Options:'), /--since|--state|--page-size|--max-pages/);
  t.false(run.stdout.includes('Input:'), 'export reads no input');
});

test('apply --help and show --help say the same about where a plan comes from (update or import --plan-out)', async (t) => {
  for (const command of ['apply', 'show']) {
    const run = await runCli([command, '--help']);
    t.is(run.code, 0, run.stderr);
    t.regex(run.stdout, /plan  The plan file \(JSON\) written by update or import --plan-out/, command);
  }
});

test('a command run without its file says which file to name, with an example (exit 2)', async (t) => {
  const cases: Array<[string, string]> = [
    ['import', 'Name the file to import (CSV, XLSX, JSON or NDJSON; - for stdin), e.g. pylon-contacts import contacts.csv --dry-run.'],
    ['update', 'Name the file of contacts to update (CSV, XLSX, JSON or NDJSON; - for stdin), or select them with --where, e.g. pylon-contacts update admins.csv --set portal_role=admin --dry-run.'],
    ['apply', 'Name the plan to apply, e.g. pylon-contacts apply plan.json (make one with pylon-contacts update admins.csv --set portal_role=admin --plan-out plan.json).'],
    ['show', 'Name the plan to show, e.g. pylon-contacts show plan.json (make one with pylon-contacts update admins.csv --set portal_role=admin --plan-out plan.json).'],
  ];
  for (const [command, message] of cases) {
    const run = await runCli([command], noServer);
    t.is(run.code, 2, `${command}: ${run.stderr}`);
    t.true(run.stderr.startsWith(`pylon-contacts: ${message}`), run.stderr);
    t.notRegex(run.stderr, /non-option arguments/);
  }
});

test('the words help and version: `help <command>` prints its help, `version` the version, as the flags do', async (t) => {
  const version = await runCli(['version']);
  t.is(version.code, 0, version.stderr);
  t.is(version.stdout, (await runCli(['--version'])).stdout);
  t.regex(version.stdout, /^\d+\.\d+\.\d+/);
  for (const command of ['import', 'export', 'apply']) {
    const run = await runCli(['help', command]);
    t.is(run.code, 0, `help ${command}: ${run.stderr}`);
    t.is(run.stdout, (await runCli([command, '--help'])).stdout, command);
  }
  const unknown = await runCli(['help', 'frobnicate']);
  t.is(unknown.code, 2);
  t.true(unknown.stderr.startsWith('pylon-contacts: Unknown command frobnicate. Commands: import, export, update, apply, show, emulator, demo.'), unknown.stderr);
});

test('a word that names no command is an unknown command, not an unknown option; a near miss gets the command it resembles', async (t) => {
  for (const args of [['frobnicate'], ['frobnicate', 'file.csv']]) {
    const run = await runCli(args, noServer);
    t.is(run.code, 2, run.stderr);
    t.true(run.stderr.startsWith('pylon-contacts: Unknown command frobnicate. Commands: import, export, update, apply, show, emulator, demo.\n'), run.stderr);
    t.notRegex(run.stderr, /Unknown option|--frobnicate|file\.csv/);
  }
  const typo = await runCli(['imprt', 'x.csv'], noServer);
  t.is(typo.code, 2);
  t.true(typo.stderr.startsWith('pylon-contacts: Unknown command imprt. Did you mean import?\n'), typo.stderr);
});

test('an unknown dashed option is listed once, as typed (not again in camelCase); apply --dry-run points to show', async (t) => {
  const typo = await runCli(['import', 'x.csv', '--dry-runn'], noServer);
  t.is(typo.code, 2);
  t.true(typo.stderr.startsWith('pylon-contacts: Unknown option: --dry-runn (did you mean --dry-run?).\n'), typo.stderr);
  t.notRegex(typo.stderr, /dryRunn/);
  const apply = await runCli(['apply', 'plan.json', '--dry-run'], noServer);
  t.is(apply.code, 2);
  t.true(apply.stderr.startsWith('pylon-contacts: Unknown option: --dry-run (apply has no dry run: the plan is the preview; pylon-contacts show <plan> prints what apply will do).\n'), apply.stderr);
  t.notRegex(apply.stderr, /dryRun/);
});

test('a number option given text says what was typed, not NaN; a value outside the choices gets the same message grammar', async (t) => {
  const cases: Array<[string[], string]> = [
    [['import', 'x.csv', '--concurrency', 'abc'], 'Invalid option `--concurrency`: expected an integer from 1 to 64, got "abc"'],
    [['import', 'x.csv', '--timeout=abc'], 'Invalid option `--timeout`: expected an integer from 100 to 600000, got "abc"'],
    [['import', 'x.csv', '--lookup-batch', 'abc'], 'Invalid option `--lookup-batch`: expected an integer from 1 to 999, got "abc"'],
    [['export', 'out.csv', '--page-size', 'abc'], 'Invalid option `--page-size`: expected an integer from 1 to 999, got "abc"'],
    [['emulator', '--port', 'abc'], 'Invalid option `--port`: expected an integer from 0 to 65535, got "abc"'],
    [['emulator', '--seed-random', 'abc'], 'Invalid option `--seed-random`: expected an integer from 0 to 10000000, got "abc"'],
    [['import', 'x.csv', '--region', 'xx'], 'Invalid option `--region`: expected one of us, eu, got "xx"'],
    [['import', 'x.csv', '--mode', 'merge'], 'Invalid option `--mode`: expected one of upsert, create, update, got "merge"'],
    [['export', 'out.csv', '--format', 'xml'], 'Invalid option `--format`: expected one of csv, ndjson, parquet, got "xml"'],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, noServer);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.is(withoutCodeLine(run.stderr), `pylon-contacts: ${message}\n`, args.join(' '));
  }
});

test('--base-url and --region naming different hosts is a usage error before any call, saying which to drop', async (t) => {
  // --base-url used to win silently: the run went to the emulator (or a proxy) while the command line said --region eu.
  const run = await runCli(['import', 'x.csv', '--base-url', 'http://127.0.0.1:9', '--region', 'eu'], noServer);
  t.is(run.code, 2, run.stderr);
  t.is(
    withoutCodeLine(run.stderr),
    'pylon-contacts: --region eu (https://api.eu.usepylon.com) and --base-url (http://127.0.0.1:9) name different hosts: give one of them (drop --base-url, or drop --region).\n',
  );
  t.is(run.stdout, '');
});

test('update --help does not offer --idempotency-key (update never creates a contact); import --help does', async (t) => {
  const update = await runCli(['update', '--help']);
  t.is(update.code, 0, update.stderr);
  t.notRegex(update.stdout, /idempotency/);
  const importHelp = await runCli(['import', '--help']);
  t.regex(importHelp.stdout, /--idempotency-key/);
});

test('export --resume says an export is simply run again; --columns with a typo gets the nearest column', async (t) => {
  const resume = await runCli(['export', 'out.csv', '--resume'], noServer);
  t.is(resume.code, 2);
  t.regex(resume.stderr, /--resume \(an export has nothing to resume: run it again; a run that stops publishes no partial output/);
  const emulator = await startEmulator(t);
  const typo = await runCli(['export', join(tempDir(t), 'out.csv'), '--columns', 'id,emial'], { env: envFor(emulator) });
  t.is(typo.code, 2, typo.stderr);
  t.regex(typo.stderr, /unknown column "emial" \(did you mean email\?\)/);
});
