/**
 * An option given twice and an argument too many are usage errors (exit 2) that say what was
 * wrong, in every command, before any call or file: a path option given twice crashed with
 * "path.replace is not a function", `--columns` twice was joined silently, and an extra file
 * was reported as an unknown option `--b.csv`. The built CLI in a child process.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, withoutCodeLine } from '../helpers/cli.js';

// Nothing listens on port 9: a run that got past the usage checks fails to connect (exit 1).
// It runs in a folder of its own, so whatever such a run writes goes there.
const cwd = mkdtempSync(join(tmpdir(), 'pylon-repeats-cwd-'));
test.after.always(() => rmSync(cwd, { recursive: true, force: true }));
const noServer = { cwd, env: { PYLON_API_TOKEN: 'tok-SECRET-repeats', PYLON_BASE_URL: 'http://127.0.0.1:9' } };

test('a single-valued option given twice is a usage error naming it, in every command, and nothing is written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-repeats-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const at = (name: string) => join(dir, name);
  const cases: Array<[args: string[], flag: string, times: string]> = [
    [['export', at('x.csv'), '--changes', at('a.csv'), '--changes', at('b.csv')], '--changes', 'twice'],
    [['export', at('x.csv'), '--manifest', at('a.json'), '--manifest', at('b.json')], '--manifest', 'twice'],
    [['export', at('x.csv'), '--errors', at('a.csv'), '--errors', at('b.csv')], '--errors', 'twice'],
    [['export', at('x.csv'), '--state', at('a.state'), '--state', at('b.state')], '--state', 'twice'],
    [['export', '--to', `duckdb:${at('a.duckdb')}`, '--to', `duckdb:${at('b.duckdb')}`], '--to', 'twice'],
    [['export', at('x.csv'), '--format', 'csv', '--format', 'csv'], '--format', 'twice'],
    [['export', at('x.csv'), '--page-size', '5', '--page-size', '6', '--page-size', '7'], '--page-size', '3 times'],
    [['export', at('x.csv'), '--pageSize', '5', '--page-size', '6'], '--page-size', 'twice'],
    [['export', at('x.csv'), '--token', 'tok-SECRET-one', '--token', 'tok-SECRET-two'], '--token', 'twice'],
    [['import', at('in.csv'), '--results', at('a.csv'), '--results', at('b.csv')], '--results', 'twice'],
    [['update', at('in.csv'), '--set', 'portal_role=admin', '--undo', at('a.csv'), '--undo', at('b.csv')], '--undo', 'twice'],
    [['import', at('in.csv'), '--no-undo', '--no-undo'], '--no-undo', 'twice'],
    [['apply', at('plan.json'), '--errors', at('a.csv'), '--errors', at('b.csv')], '--errors', 'twice'],
    [['show', at('plan.json'), '--read-batch', '5', '--read-batch', '6'], '--read-batch', 'twice'],
    [['emulator', '--port', '0', '--port', '0'], '--port', 'twice'],
    [['demo', '--out', at('a'), '--out', at('b')], '--out', 'twice'],
  ];
  for (const [args, flag, times] of cases) {
    const run = await runCli(args, noServer);
    const label = args.join(' ');
    t.is(run.code, 2, `${label}: ${run.stderr}`);
    t.true(run.stderr.startsWith(`pylon-contacts: ${flag} was given ${times}: give it once`), `${label}: ${run.stderr}`);
    t.notRegex(run.stderr, /unexpected error|internal error|\n\s+at /, label);
    t.notRegex(run.stderr, /tok-SECRET/, label);
  }
  t.deepEqual(['x.csv', 'a.csv', 'b.csv', 'a.json', 'a.duckdb', 'a', 'b'].filter((name) => existsSync(at(name))), [], 'nothing was written');
});

test('--undo with --no-undo, in either order, is a contradiction, not a repeat', async (t) => {
  for (const command of [['import', 'in.csv'], ['update', 'in.csv', '--set', 'portal_role=admin'], ['apply', 'plan.json']]) {
    for (const flags of [['--undo', 'x.undo.csv', '--no-undo'], ['--no-undo', '--undo', 'x.undo.csv']]) {
      const run = await runCli([...command, ...flags], noServer);
      const label = [...command, ...flags].join(' ');
      t.is(run.code, 2, `${label}: ${run.stderr}`);
      t.true(run.stderr.startsWith('pylon-contacts: --undo and --no-undo contradict each other: give one.\n'), `${label}: ${run.stderr}`);
    }
  }
  t.false(existsSync(join(cwd, 'x.undo.csv')));
});

test('a list option given twice is refused too, with the one-value way to write it', async (t) => {
  const run = await runCli(['export', 'x.csv', '--columns', 'id', '--columns', 'email'], noServer);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /^pylon-contacts: --columns was given twice: give it once \(a list goes in one value: --columns id,email,name\)\./);
});

test('repeatable options and switches still repeat: --set twice reaches the run, --json --no-json is the last one', async (t) => {
  const update = await runCli(['update', '--where', 'email~@acme.com', '--set', 'portal_role=admin', '--set', 'custom.tier=gold', '--dry-run'], noServer);
  t.is(update.code, 1, update.stderr);
  t.regex(update.stderr, /could not connect/);
  const json = await runCli(['export', '-', '--json', '--no-json', '--quiet', '-q'], noServer);
  t.is(json.code, 1, json.stderr);
  t.regex(json.stderr, /could not connect/);
  t.is(json.stdout, '', 'no JSON summary: the last switch, --no-json, holds');
});

test('an extra positional argument is named as one, with what the command takes, in every command', async (t) => {
  const cases: Array<[args: string[], expected: string]> = [
    [['export', 'x.csv', 'y.csv'], 'Unexpected extra argument: y.csv (export takes one file; quote a path that holds spaces).'],
    [['export', 'x.csv', 'y.csv', 'z.csv'], 'Unexpected extra arguments: y.csv z.csv (export takes one file; quote a path that holds spaces).'],
    [['export', 'x.csv', '--', 'y.csv'], 'Unexpected extra argument: y.csv (export takes one file; quote a path that holds spaces).'],
    [['import', 'my', 'contacts.csv', '--dry-run'], 'Unexpected extra argument: contacts.csv (import takes one file; quote a path that holds spaces).'],
    [['update', 'a.csv', 'b.csv', '--set', 'portal_role=admin'], 'Unexpected extra argument: b.csv (update takes one file; quote a path that holds spaces).'],
    [['apply', 'p.json', 'q.json'], 'Unexpected extra argument: q.json (apply takes one plan; quote a path that holds spaces).'],
    [['show', 'p.json', 'q.json'], 'Unexpected extra argument: q.json (show takes one plan; quote a path that holds spaces).'],
    [['emulator', 'seed.json'], 'Unexpected extra argument: seed.json (emulator takes options only).'],
    [['demo', 'out'], 'Unexpected extra argument: out (demo takes options only).'],
  ];
  for (const [args, expected] of cases) {
    const run = await runCli(args, noServer);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.is(withoutCodeLine(run.stderr), `pylon-contacts: ${expected}\nRun with --help for usage.\n`, args.join(' '));
  }
  // Help and the version are printed whatever else the line holds.
  const help = await runCli(['export', 'x.csv', 'y.csv', '--help'], noServer);
  t.is(help.code, 0, help.stderr);
  t.regex(help.stdout, /pylon-contacts export \[file\]/);
});

test('a repeatable option takes one value each time: a word after it is an extra argument, not a bad value', async (t) => {
  const cases: Array<[args: string[], expected: string]> = [
    [['update', 'a.csv', '--set', 'portal_role=admin', 'extra'], 'Unexpected extra argument: extra (update takes one file; quote a path that holds spaces).\nRun with --help for usage.\n'],
    [['update', 'a.csv', '--set', 'portal_role=admin', 'custom.tier=gold'], 'Unexpected extra argument: custom.tier=gold (update takes one file; quote a path that holds spaces; each --set takes one field=value: repeat --set for another).\nRun with --help for usage.\n'],
    [['update', '--where', 'email~@acme.com', '--set', 'portal_role=admin', 'extra'], 'Unexpected extra argument: extra (update takes a file or --where, not both).\n'],
    [['update', 'a.csv', '--sync', '--set', 'portal_role=admin', '--others', 'portal_role=member', 'extra'], 'Unexpected extra argument: extra (update takes one file; quote a path that holds spaces).\nRun with --help for usage.\n'],
    [['emulator', '--token', 'tok-one', 'extra'], 'Unexpected extra argument: extra (emulator takes options only).\nRun with --help for usage.\n'],
  ];
  for (const [args, expected] of cases) {
    const run = await runCli(args, noServer);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.is(withoutCodeLine(run.stderr), `pylon-contacts: ${expected}`, args.join(' '));
  }
  // The file after --set is the file: the run goes on to connect (and finds nothing on port 9).
  writeFileSync(join(cwd, 'after.csv'), 'email\nada@acme.com\n');
  const fileAfter = await runCli(['update', '--set', 'portal_role=admin', 'after.csv', '--dry-run'], noServer);
  t.is(fileAfter.code, 1, fileAfter.stderr);
  t.regex(fileAfter.stderr, /could not connect/);
});

test('a positional given both as a word and as its option is a usage error naming both, and nothing is written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-twice-positional-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const at = (name: string) => join(dir, name);
  const cases: Array<[args: string[], expected: string]> = [
    [['export', at('x.csv'), '--file', at('y.csv')], `Two files given: ${at('x.csv')} and --file ${at('y.csv')} (export takes one file: give it once, as a word or as --file).`],
    [['export', `--file=${at('y.csv')}`, at('x.csv')], `Two files given: ${at('x.csv')} and --file ${at('y.csv')} (export takes one file: give it once, as a word or as --file).`],
    [['import', at('x.csv'), '--file', at('y.csv'), '--dry-run'], `Two files given: ${at('x.csv')} and --file ${at('y.csv')} (import takes one file: give it once, as a word or as --file).`],
    [['apply', at('p.json'), '--plan', at('q.json')], `Two plans given: ${at('p.json')} and --plan ${at('q.json')} (apply takes one plan: give it once, as a word or as --plan).`],
  ];
  for (const [args, expected] of cases) {
    const run = await runCli(args, noServer);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.is(withoutCodeLine(run.stderr), `pylon-contacts: ${expected}\nRun with --help for usage.\n`, args.join(' '));
  }
  t.deepEqual(readdirSync(dir), [], 'nothing was written: no data file, manifest or error report');
  // One path, whichever way it is given, is still one path.
  const same = await runCli(['export', at('x.csv'), `--file=${at('x.csv')}`], noServer);
  t.is(same.code, 1, same.stderr);
  t.regex(same.stderr + same.stdout, /could not connect/);
});
