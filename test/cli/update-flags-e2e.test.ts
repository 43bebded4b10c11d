/**
 * The guards, flags and messages of `update` (and the filter grammar it shares with `export`),
 * end to end: the built CLI in a child process against an emulator in this process.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Contact } from '../../src/pylon/types.js';
import type { Emulator } from '../../src/emulator/index.js';
import type { SavedPlan } from '../../src/update/plan-file.js';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
const snapshot = (emulator: Emulator): Contact[] => structuredClone([...emulator.store.all()]);

async function seeded(t: Parameters<typeof startEmulator>[0], count: number) {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, count);
  return { emulator, dir: tempDir(t, 'pylon-update-flags-'), env: envFor(emulator) };
}

test('a misspelt --set field is a usage error naming it and the nearest field, with or without --ignore-unknown-columns, and nothing changes', async (t) => {
  const { emulator, dir, env } = await seeded(t, 10);
  const before = snapshot(emulator);
  const input = join(dir, 'e.csv');
  writeFileSync(input, `email,Notes\n${before[0]!.email},hello\n${before[1]!.email},hi\n`);
  const cases: string[][] = [
    ['update', input, '--set', 'role=admin', '--yes'],
    ['update', input, '--set', 'role=admin', '--ignore-unknown-columns', '--yes'],
    ['update', input, '--set', 'role=admin', '--ignore-unknown-columns', '--dry-run'],
    ['update', '--where', 'email~@', '--set', 'role=admin', '--yes'],
    ['update', '--where', 'email~@', '--set', 'role=admin', '--ignore-unknown-columns', '--yes'],
  ];
  for (const args of cases) {
    const result = await runCli([...args, ...FAST], { env, cwd: dir });
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.true(result.stderr.includes('Invalid option `--set`: no contact field is named "role" (did you mean portal_role?)'), result.stderr);
    t.notRegex(result.stderr, /header/i, 'a flag is not a header');
    t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
  }
  const typo = await runCli(['update', input, '--set', 'custom.tire=gold', '--ignore-unknown-columns', '--yes', ...FAST], { env, cwd: dir });
  t.is(typo.code, 2, typo.stderr);
  t.true(typo.stderr.includes('no contact field is named "custom.tire" (did you mean custom.tier?)'), typo.stderr);
  t.is(emulator.stats().requests.patch, 0);
  t.deepEqual(snapshot(emulator), before);
});

test('--where and export --filter refuse "or", && and a comma-separated "in" list (exit 2, before any request), naming the grammar', async (t) => {
  const { emulator, dir, env } = await seeded(t, 10);
  const [a, b] = snapshot(emulator);
  const cases: Array<[string, RegExp]> = [
    [`email=${a!.email} or email=${b!.email}`, /"or" does not join expressions \(only " and " does; for one of several values write field in a\|b/],
    [`email!=${a!.email} or email!=${b!.email}`, /"or" does not join expressions/],
    [`email in ${a!.email},${b!.email}`, /a comma in .* \(the values of "in" are separated with \|: field in a\|b/],
    ['tier=gold && email~acme', /"&&" does not join expressions/],
  ];
  for (const [expression, message] of cases) {
    for (const args of [['update', '--where', expression, '--set', 'portal_role=admin', '--yes'], ['export', join(dir, 'out.csv'), '--filter', expression]]) {
      const result = await runCli([...args, ...FAST], { env, cwd: dir });
      t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      t.regex(result.stderr, message);
      t.true(result.stderr.includes(`Invalid option \`${args[0] === 'update' ? '--where' : '--filter'}\``), result.stderr);
      t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
    }
  }
  t.is(Object.values(emulator.stats().requests).reduce((x, y) => x + y, 0), 0, 'no request');
});

test('--plan-out gives the --max-changes verdict (exit 1, with --dry-run too), the plan carries the guard, and apply enforces it unless given its own --max-changes', async (t) => {
  const { emulator, dir, env } = await seeded(t, 10);
  const before = snapshot(emulator);
  const chosen = before.slice(0, 3);
  const input = join(dir, 'e.csv');
  writeFileSync(input, ['email', ...chosen.map((c) => c.email)].join('\n') + '\n');
  for (const dryRun of [[], ['--dry-run']]) {
    const planPath = join(dir, `plan${dryRun.length}.json`);
    const made = await runCli(['update', input, '--set', 'custom.notes=guarded', '--max-changes', '1', '--plan-out', planPath, ...dryRun, ...FAST], { env, cwd: dir });
    t.is(made.code, 1, made.stderr);
    t.true(made.stderr.includes('guard: apply would stop before writing anything: 3 contacts would change, more than --max-changes 1.'), made.stderr);
    t.true(existsSync(planPath), 'the plan is written for review');
    t.deepEqual((JSON.parse(readFileSync(planPath, 'utf8')) as SavedPlan).guard, { maxChanges: 1 });
  }
  const json = await runCli(['update', input, '--set', 'custom.notes=guarded', '--max-changes', '1', '--plan-out', join(dir, 'j.json'), '--json', ...FAST], { env, cwd: dir });
  t.is(json.code, 1, json.stderr);
  t.like(JSON.parse(json.stdout.trim().split('\n').pop()!), { wouldStop: { code: 'RUN_GUARD' } });

  const refused = await runCli(['apply', join(dir, 'plan0.json'), '--yes', ...FAST], { env, cwd: dir });
  t.is(refused.code, 1, refused.stderr);
  t.true(refused.stderr.includes("more than the plan's --max-changes 1 (given when it was made; apply it with a larger --max-changes to allow more)"), refused.stderr);
  t.is(writes(emulator), 0);
  t.deepEqual(snapshot(emulator), before);

  const allowed = await runCli(['apply', join(dir, 'plan0.json'), '--yes', '--max-changes', '3', ...FAST], { env, cwd: dir });
  t.is(allowed.code, 0, allowed.stderr);
  t.is(emulator.stats().requests.patch, 3);

  // Within its guard, a plan is made as before (exit 0, no guard line).
  const within = await runCli(['update', input, '--set', 'custom.notes=other', '--max-changes', '3', '--plan-out', join(dir, 'ok.json'), ...FAST], { env, cwd: dir });
  t.is(within.code, 0, within.stderr);
  t.false(within.stderr.includes('guard:'));
});

test('https:// to a plain-http server stops at once (no retry): the message says the server does not speak TLS and suggests http://', async (t) => {
  const { emulator, dir, env } = await seeded(t, 3);
  const host = new URL(emulator.url).host;
  const result = await runCli(['export', join(dir, 'out.csv'), '--base-url', `https://${host}`], { env, cwd: dir });
  t.is(result.code, 1, result.stderr);
  t.true(result.stderr.includes(`could not connect to https://${host}: the server does not speak TLS (https) at that address (EPROTO)`), result.stderr);
  t.true(result.stderr.includes(`use http://${host} (--base-url or PYLON_BASE_URL)`), result.stderr);
  t.regex(result.stderr, /retries 0\b/);
  t.notRegex(result.stderr, /after \d+ retr/);
  t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
});
