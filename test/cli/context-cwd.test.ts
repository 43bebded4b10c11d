/**
 * The CLI context's working directory, in process (no process.chdir): relative
 * paths and default outputs resolve from `ctx.cwd`; and the confirmation prompt
 * on a terminal names the count and the ETA at the paced rate.
 */
import test from 'ava';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli/index.js';
import { cliContext } from '../helpers/context.js';
import { FAST_RATE, envFor, filesUnder, startEmulator, tempDir, writes } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';

const context = cliContext;

test('a relative input and its default error report resolve from ctx.cwd, not from the process folder', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-ctx-cwd-');
  writeFileSync(join(dir, 'people.csv'), 'name,email\nGood,good@example.com\nBad,not-an-email\n');
  t.false(existsSync(join(process.cwd(), 'people.csv')), 'the process folder has no such file');
  const { ctx, out } = context(envFor(emulator), dir);
  const code = await runCli(['import', 'people.csv', '--rate', FAST_RATE, '--quiet'], ctx);
  t.is(code, 3, out.stderr);
  t.true(existsSync(join(dir, 'people.errors.csv')));
  t.false(existsSync(join(process.cwd(), 'people.errors.csv')));
  t.is(emulator.store.size, 1);

  // Nothing to report: no error report at all.
  writeFileSync(join(dir, 'clean.csv'), 'name,email\nOther,other@example.com\n');
  const again = context(envFor(emulator), dir);
  t.is(await runCli(['import', 'clean.csv', '--rate', FAST_RATE, '--quiet'], again.ctx), 0, again.out.stderr);
  t.deepEqual(filesUnder(dir).map((p) => p.slice(dir.length + 1)).sort(), ['clean.csv', 'people.csv', 'people.errors.csv']);
});

test('a relative --audit-log (or PYLON_AUDIT_LOG) resolves from ctx.cwd, like every other output path', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-ctx-audit-');
  writeFileSync(join(dir, 'people.csv'), 'name,email\nAudited,audited@example.com\n');
  const names = [`audit-flag-${process.pid}.jsonl`, `audit-env-${process.pid}.jsonl`];
  // Were the path resolved from the process folder, the log would land there: removed after the test either way.
  t.teardown(() => {
    for (const name of names) rmSync(join(process.cwd(), name), { force: true });
  });
  for (const name of names) t.false(existsSync(join(process.cwd(), name)), 'the process folder has no such file');

  const flag = context(envFor(emulator), dir);
  t.is(await runCli(['import', 'people.csv', '--rate', FAST_RATE, '--quiet', '--audit-log', names[0]!], flag.ctx), 0, flag.out.stderr);
  const env = context({ ...envFor(emulator), PYLON_AUDIT_LOG: names[1]! }, dir);
  t.is(await runCli(['import', 'people.csv', '--rate', FAST_RATE, '--quiet'], env.ctx), 0, env.out.stderr);

  for (const name of names) {
    t.false(existsSync(join(process.cwd(), name)), `${name} is not written in the process folder`);
    const records = readFileSync(join(dir, name), 'utf8').trim().split('\n');
    t.is(records.length, 1);
    t.regex(JSON.parse(records[0]!).command, /^import people\.csv/);
  }
});

test('on a terminal the confirmation names the count and the ETA at the paced rate; answering no writes nothing', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 40);
  const dir = tempDir(t, 'pylon-ctx-confirm-');
  const chosen = [...emulator.store.all()].filter((c) => c.portal_role !== 'admin').slice(0, 10);
  writeFileSync(join(dir, 'admins.csv'), ['email', ...chosen.map((c) => c.email)].join('\n') + '\n');
  const { ctx, out } = context(envFor(emulator), dir, { isTTY: true, answer: 'no\n' });
  // PATCH paced at 6 a minute: 10 changes take 100 s; searches are fast.
  const code = await runCli(['update', 'admins.csv', '--set', 'portal_role=admin', '--rate', `${FAST_RATE.replace(/patch=\d+/, 'patch=6')}`, '--quiet'], ctx);
  t.is(code, 1, out.stderr);
  t.regex(out.stderr, /Apply these changes to 10 contacts on [^,]+, about 2 min at the paced rate\? Type yes to continue: /);
  t.is(writes(emulator), 0);

  // apply asks the same way.
  const planned = context(envFor(emulator), dir);
  t.is(await runCli(['update', 'admins.csv', '--set', 'portal_role=admin', '--plan-out', 'plan.json', '--rate', FAST_RATE, '--quiet'], planned.ctx), 0, planned.out.stderr);
  const asked = context(envFor(emulator), dir, { isTTY: true, answer: 'no\n' });
  t.is(await runCli(['apply', 'plan.json', '--rate', `${FAST_RATE.replace(/patch=\d+/, 'patch=6')}`, '--quiet'], asked.ctx), 1, asked.out.stderr);
  t.regex(asked.out.stderr, /Apply this plan to 10 contacts on [^,]+, about 2 min at the paced rate\? Type yes to continue: /);
  t.is(writes(emulator), 0);
});

test('on a terminal the confirmation\'s ETA counts the GET that reads each contact again before its PATCH, as the dry run does', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 40);
  const dir = tempDir(t, 'pylon-ctx-confirm-get-');
  const chosen = [...emulator.store.all()].filter((c) => c.portal_role !== 'admin').slice(0, 10);
  writeFileSync(join(dir, 'admins.csv'), ['email', ...chosen.map((c) => c.email)].join('\n') + '\n');
  // GET paced at 6 a minute, PATCH fast: the 10 reads take 100 s.
  const rate = FAST_RATE.replace(/get=\d+/, 'get=6');
  const dry = context(envFor(emulator), dir);
  t.is(await runCli(['update', 'admins.csv', '--set', 'portal_role=admin', '--rate', rate, '--dry-run', '--json'], dry.ctx), 0, dry.out.stderr);
  const planned = JSON.parse(dry.out.stdout.trim().split('\n').pop()!) as { etaSeconds: number; plannedCalls: Record<string, number> };
  t.like(planned.plannedCalls, { get: 10, patch: 10 });
  t.true(planned.etaSeconds >= 100, `dry run ETA ${planned.etaSeconds} s`);
  const { ctx, out } = context(envFor(emulator), dir, { isTTY: true, answer: 'no\n' });
  t.is(await runCli(['update', 'admins.csv', '--set', 'portal_role=admin', '--rate', rate, '--quiet'], ctx), 1, out.stderr);
  t.regex(out.stderr, /Apply these changes to 10 contacts on [^,]+, about 2 min at the paced rate\? Type yes to continue: /);
  t.is(writes(emulator), 0);
});

test('custom numbers are compared as decimals end to end: 9007199254740993 over 9007199254740992 is a change, 010 over 10 is not', async (t) => {
  const emulator = await startEmulator(t);
  const big = emulator.store.insert({ name: 'Big', email: 'big@example.com', custom_fields: { seats: { slug: 'seats', value: '9007199254740992' } } } as never);
  const ten = emulator.store.insert({ name: 'Ten', email: 'ten@example.com', custom_fields: { seats: { slug: 'seats', value: '10' } } } as never);
  const dir = tempDir(t, 'pylon-ctx-decimal-');
  writeFileSync(join(dir, 'seats.csv'), 'email,custom.seats\nbig@example.com,9007199254740993\nten@example.com,010\n');
  const { ctx, out } = context(envFor(emulator), dir);
  const code = await runCli(['import', 'seats.csv', '--mode', 'update', '--rate', FAST_RATE, '--quiet', '--json'], ctx);
  t.is(code, 0, out.stderr);
  t.like(JSON.parse(out.stdout.trim().split('\n').pop()!), { updated: 1, unchanged: 1, failed: 0 });
  t.is(emulator.store.get(big.id)?.custom_fields?.seats?.value, '9007199254740993');
  t.is(emulator.store.get(ten.id)?.custom_fields?.seats?.value, '10');
  t.is(emulator.stats().requests.patch, 1);
});
