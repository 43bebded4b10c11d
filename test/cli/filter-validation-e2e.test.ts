/**
 * `export --filter` and `update --where` read one grammar and are checked the same way before the
 * first search: a field or operator Pylon's search refuses is a usage error (exit 2) that writes
 * nothing, not a server 400 after the run began. The built CLI against the emulator.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

test('export --filter on a field Pylon cannot filter: exit 2 before any search, naming the fix, and no report or manifest written', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Ada', email: 'ada@f.example' });
  const cases: Array<[string, RegExp]> = [
    ['portal_role=admin', /Invalid option `--filter`: cannot filter on "portal_role": Pylon's search cannot filter on portal_role/],
    ['custom.tier=gold', /Invalid option `--filter`: cannot filter on "custom.tier": custom fields are filtered by their bare slug: write tier/],
    ['Email~@f.example', /Invalid option `--filter`: cannot filter on "Email": did you mean email\?/],
  ];
  for (const [filter, message] of cases) {
    const dir = tempDir(t);
    const run = await runCli(['export', join(dir, 'out.csv'), '--filter', filter], { env: envFor(emulator), cwd: dir });
    t.is(run.code, 2, `${filter}: ${run.stderr}`);
    t.regex(run.stderr, message, filter);
    t.notRegex(run.stderr, /select the contacts with a file|update <file>/, 'export has no file to select with');
    t.deepEqual(readdirSync(dir), [], `${filter}: nothing written`);
  }
  t.is(emulator.stats().requests.search ?? 0, 0, 'no search was sent');
});

test('operators the field does not take: an exact equivalent is sent instead (email!=, multiselect =, in, not in), else exit 2 before any search, for export --filter and update --where alike', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Ada', email: 'ada@f.example', custom_fields: { interests: ['api', 'security'] } });
  emulator.store.insert({ name: 'Bob', email: 'bob@f.example', custom_fields: { interests: ['billing'] } });
  emulator.store.insert({ name: 'Cy', email: 'cy@g.example' });
  const exported = async (filter: string) => {
    const dir = tempDir(t);
    const run = await runCli(['export', join(dir, 'out.csv'), '--filter', filter, '--columns', 'email'], { env: envFor(emulator), cwd: dir });
    t.is(run.code, 0, `${filter}: ${run.stderr}`);
    return readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n').slice(1).sort();
  };
  t.deepEqual(await exported('email!=ada@f.example'), ['bob@f.example', 'cy@g.example']);
  t.deepEqual(await exported('interests=api'), ['ada@f.example']);
  t.deepEqual(await exported('interests in billing'), ['bob@f.example']);
  t.deepEqual(await exported('interests in api|billing'), ['ada@f.example', 'bob@f.example']);
  t.deepEqual(await exported('interests not in api and email~@f.example'), ['bob@f.example']);
  t.deepEqual(await exported('interests!=billing'), ['ada@f.example', 'cy@g.example']);
  // update --where selects through the same rewrite.
  const dir = tempDir(t);
  const plan = await runCli(['update', '--where', 'interests in billing|security', '--set', 'portal_role=admin', '--dry-run'], { env: envFor(emulator), cwd: dir });
  t.is(plan.code, 0, plan.stderr);
  t.regex(plan.stderr, /would update 2\b/);
  const searches = emulator.stats().requests.search ?? 0;
  const refused: Array<[string[], RegExp]> = [
    [['export', join(dir, 'out.csv'), '--filter', 'email!~@g.example'], /Invalid option `--filter`: cannot filter email with !~ \(string_does_not_contain\): Pylon's search takes email with =, !=, in, not in, ~ only/],
    [['export', join(dir, 'out.csv'), '--filter', 'interests~api'], /Invalid option `--filter`: cannot filter interests with ~ \(string_contains\): .*multiselect/],
    [['update', '--where', 'email!~@g.example', '--set', 'portal_role=admin', '--yes'], /Invalid option `--where`: cannot filter email with !~/],
    [['update', '--where', 'interests~api', '--set', 'portal_role=admin', '--yes'], /Invalid option `--where`: cannot filter interests with ~/],
  ];
  for (const [args, message] of refused) {
    const run = await runCli(args, { env: envFor(emulator), cwd: dir });
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message, args.join(' '));
  }
  t.deepEqual(readdirSync(dir), [], 'nothing written');
  t.is(emulator.stats().requests.search ?? 0, searches, 'no search was sent for a refused filter');
  t.is(emulator.stats().requests.patch ?? 0, 0);
});

test('a custom field filtered with an operator its type does not take (select ~, number ~, boolean in): exit 2 before any search, naming the operators it takes, for export --filter and update --where alike', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Ada', email: 'ada@f.example', custom_fields: { tier: 'gold', seats: '5', vip: 'true' } });
  const dir = tempDir(t);
  const refused: Array<[string[], RegExp]> = [
    [['export', join(dir, 'out.csv'), '--filter', 'tier~gol'], /Invalid option `--filter`: cannot filter tier with ~ \(string_contains\): Pylon's search takes tier with =, !=, in, not in, is set, is unset only: it is a select field\./],
    [['export', join(dir, 'out.csv'), '--filter', 'seats~5'], /Invalid option `--filter`: cannot filter seats with ~ \(string_contains\): .*greater_than.* only: it is a number field\./],
    [['update', '--where', 'vip in true', '--set', 'portal_role=admin', '--yes'], /Invalid option `--where`: cannot filter vip with in: Pylon's search takes vip with =, !=, is set, is unset only: it is a boolean field\./],
  ];
  for (const [args, message] of refused) {
    const run = await runCli(args, { env: envFor(emulator), cwd: dir });
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message, args.join(' '));
    t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
  }
  t.deepEqual(readdirSync(dir), [], 'nothing written');
  t.is(emulator.stats().requests.search ?? 0, 0, 'no search was sent');
  t.is(emulator.stats().requests.patch ?? 0, 0);
});

test('a select field filtered by an option label is searched by the option value, said in one line; a value that is no option is refused (exit 2) listing the options, never an empty export', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Ada', email: 'ada@f.example', custom_fields: { tier: 'gold' } });
  emulator.store.insert({ name: 'Bob', email: 'bob@f.example', custom_fields: { tier: 'silver' } });
  const dir = tempDir(t);
  const run = await runCli(['export', join(dir, 'out.csv'), '--filter', 'tier=Gold', '--columns', 'email'], { env: envFor(emulator), cwd: dir });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /--filter: tier "Gold" is taken as the option gold \(Gold\); search matches options by value\./);
  t.deepEqual(readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n').slice(1), ['ada@f.example']);
  const plan = await runCli(['update', '--where', 'tier in Gold|Silver', '--set', 'portal_role=admin', '--dry-run'], { env: envFor(emulator), cwd: dir });
  t.is(plan.code, 0, plan.stderr);
  t.regex(plan.stderr, /would update 2\b/);
  const searches = emulator.stats().requests.search ?? 0;
  const other = tempDir(t);
  const refused = await runCli(['export', join(other, 'out.csv'), '--filter', 'tier=Platinum'], { env: envFor(emulator), cwd: other });
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /Invalid option `--filter`: tier has no option "Platinum"; Pylon's search matches it by option value: gold \(Gold\), silver \(Silver\), bronze \(Bronze\)\./);
  t.deepEqual(readdirSync(other), [], 'nothing written');
  t.is(emulator.stats().requests.search ?? 0, searches, 'no search was sent');
});
