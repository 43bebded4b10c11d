/**
 * `pylon-contacts update` end to end: the built CLI in a child process against
 * an emulator in this process, whose store and request counters the tests read.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Emulator } from '../../src/emulator/index.js';
import type { ImportStats } from '../../src/import/run-import.js';
import type { Contact } from '../../src/pylon/types.js';
import { AUDIT_STATE_DIR, BIN, FAST_RATE, REPO, envFor, runCli, startEmulator, tempDir, writes, type CliResult, withoutCodeLine } from '../helpers/cli.js';
import { seedContacts, GLOBEX_ACCOUNT } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '16'];

const snapshot = (emulator: Emulator): Contact[] => structuredClone([...emulator.store.all()]);
const csvLines = (contacts: Contact[]) => ['email', ...contacts.map((c) => c.email!)].join('\n') + '\n';
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

function summary(result: CliResult): ImportStats {
  const line = result.stdout.trim().split('\n').pop();
  if (!line) throw new Error(`no --json summary on stdout (exit ${result.code}):\n${result.stderr}`);
  return JSON.parse(line) as ImportStats;
}

async function seeded(t: Parameters<typeof startEmulator>[0], count: number) {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, count);
  return { emulator, dir: tempDir(t, 'pylon-update-e2e-'), env: envFor(emulator) };
}

// The CLI child and the emulator (in this process) share the two cores with the rest of the suite: two helpers saw this run killed at a 120 s limit at a load average of about 50, so each run gets 5 minutes.
test('1,000 of 10,000 contacts: role and tier change, an identical second run writes nothing, the undo file restores the store exactly', async (t) => {
  const { emulator, dir, env } = await seeded(t, 10_000);
  const before = snapshot(emulator);
  const chosen = before.filter((_, i) => i % 10 === 7);
  t.is(chosen.length, 1_000);
  t.true(chosen.some((c) => c.custom_fields?.tier === undefined), 'some chosen contacts have no tier');
  const input = join(dir, 'admins.csv');
  writeFileSync(input, csvLines(chosen));
  const changing = chosen.filter((c) => c.portal_role !== 'admin' || c.custom_fields?.tier?.value !== 'gold');

  const args = ['update', input, '--set', 'portal_role=admin', '--set', 'custom.tier=gold', ...FAST, '--json'];
  const first = await runCli(args, { env, timeoutMs: 300_000 });
  t.is(first.code, 0, first.stderr);
  // 16 requests at a time queue on one run's signal: its abort listeners stay under Node's threshold (none per request).
  t.notRegex(first.stderr, /MaxListenersExceededWarning/);
  const stats = summary(first);
  t.is(stats.updated, changing.length);
  t.is(stats.unchanged, 1_000 - changing.length);
  t.is(stats.failed, 0);
  t.is(emulator.stats().requests.patch, changing.length, 'only contacts that change are patched');
  t.is(emulator.stats().requests.create, 0);
  t.regex(first.stderr, new RegExp(`Plan: ${changing.length.toLocaleString('en-US')} contacts change`));
  const undo = join(dir, 'admins.undo.csv');
  t.true(existsSync(undo), 'the undo file defaults to <input>.undo.csv');
  t.true(readCsv(undo).some((r) => r['custom.tier'] === '#N/A'));
  const chosenIds = new Set(chosen.map((c) => c.id));
  for (const c of snapshot(emulator)) {
    if (!chosenIds.has(c.id)) continue;
    t.is(c.portal_role, 'admin');
    t.is(c.custom_fields?.tier?.value, 'gold');
  }

  emulator.resetStats();
  const after = snapshot(emulator);
  const second = await runCli(args, { env, timeoutMs: 300_000 });
  t.is(second.code, 0, second.stderr);
  t.is(summary(second).updated, 0);
  t.is(summary(second).unchanged, 1_000);
  t.is(writes(emulator), 0);
  t.deepEqual(snapshot(emulator), after);

  const back = await runCli(['update', undo, ...FAST, '--json'], { env, timeoutMs: 300_000 });
  t.is(back.code, 0, back.stderr);
  t.is(summary(back).updated, changing.length);
  t.is(summary(back).failed, 0);
  t.deepEqual(snapshot(emulator), before);
});

test('--max-changes aborts with exit 1 and zero PATCH calls', async (t) => {
  const { emulator, dir, env } = await seeded(t, 2_000);
  const before = snapshot(emulator);
  const input = join(dir, 'all.csv');
  writeFileSync(input, csvLines(before.slice(0, 600)));
  const wouldChange = before.slice(0, 600).filter((c) => c.portal_role !== 'no_access').length;
  const result = await runCli(['update', input, '--set', 'portal_role=no_access', '--max-changes', '100', ...FAST], { env });
  t.is(result.code, 1);
  t.regex(result.stderr, new RegExp(`Stopped before writing anything: ${wouldChange} contacts would change, more than --max-changes 100`));
  t.is(emulator.stats().requests.patch, 0);
  t.is(writes(emulator), 0);
  t.deepEqual(snapshot(emulator), before);
  t.false(existsSync(join(dir, 'all.undo.csv')));
});

test('--where selects by email~@acme.com and by account_id=…', async (t) => {
  const { emulator, dir, env } = await seeded(t, 3_000);
  const before = snapshot(emulator);
  const acme = new Set(before.filter((c) => c.email!.includes('@acme.com')).map((c) => c.id));
  const undo = join(dir, 'acme.undo.csv');
  const byEmail = await runCli(['update', '--where', 'email~@acme.com', '--set', 'portal_role=admin', '--undo', undo, '--errors', join(dir, 'acme.errors.csv'), ...FAST, '--json'], { env, cwd: dir });
  t.is(byEmail.code, 0, byEmail.stderr);
  t.is(summary(byEmail).total, acme.size);
  for (const [i, c] of snapshot(emulator).entries()) t.is(c.portal_role, acme.has(c.id) ? 'admin' : before[i].portal_role);
  t.is(emulator.stats().requests.create, 0);

  const globex = before.filter((c) => c.account?.id === GLOBEX_ACCOUNT);
  const byAccount = await runCli(['update', '--where', `account_id=${GLOBEX_ACCOUNT}`, '--set', 'custom.tier=bronze', ...FAST, '--json'], { env, cwd: dir });
  t.is(byAccount.code, 0, byAccount.stderr);
  t.is(summary(byAccount).total, globex.length);
  t.is(summary(byAccount).updated, globex.filter((c) => c.custom_fields?.tier?.value !== 'bronze').length);
  const after = snapshot(emulator);
  for (const [i, c] of after.entries()) {
    if (c.account?.id === GLOBEX_ACCOUNT) t.is(c.custom_fields?.tier?.value, 'bronze');
    else t.deepEqual(c.custom_fields, before[i].custom_fields);
  }
  // Without --undo, the undo file goes to the working directory, named by the time of the run.
  const undoPath = summary(byAccount).undoPath!;
  // (resolved from the context's working directory, so the summary names it in full)
  t.is(dirname(undoPath), dir);
  t.regex(basename(undoPath), /^pylon-update-.*\.undo\.csv$/);
  t.true(existsSync(undoPath));
});

test('unknown emails become ROW_NOT_FOUND rows in the error report, exit 3, nothing created', async (t) => {
  const { emulator, dir, env } = await seeded(t, 300);
  const known = snapshot(emulator).slice(0, 5);
  const input = join(dir, 'mixed.csv');
  writeFileSync(input, ['email,custom.tier', ...known.map((c) => `${c.email},silver`), 'nobody@nowhere.example,gold', 'ghost@acme.com,'].join('\n') + '\n');
  const result = await runCli(['update', input, ...FAST, '--json'], { env });
  t.is(result.code, 3, result.stderr);
  t.is(summary(result).failed, 2);
  t.is(emulator.stats().requests.create, 0);
  t.is(emulator.store.size, 300);
  const errors = readCsv(join(dir, 'mixed.errors.csv'));
  t.deepEqual(errors.map((r) => [r.email, r['custom.tier'], r._error_code, r._line]), [
    ['nobody@nowhere.example', 'gold', 'ROW_NOT_FOUND', '7'],
    ['ghost@acme.com', '', 'ROW_NOT_FOUND', '8'],
  ]);
});

test('--plan-out with rows that fail: exit 3, and the summary names the error report that holds them (with --json too)', async (t) => {
  const { emulator, dir, env } = await seeded(t, 100);
  const known = snapshot(emulator).filter((c) => c.portal_role !== 'admin').slice(0, 3);
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...known.map((c) => c.email!), 'nobody@nowhere.example', known[0].email!].join('\n') + '\n');
  const errorsPath = join(dir, 'admins.errors.csv');
  for (const json of [false, true]) {
    const planPath = join(dir, `plan-${json}.json`);
    const result = await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', planPath, ...FAST, ...(json ? ['--json'] : [])], { env });
    t.is(result.code, 3, result.stderr);
    t.regex(result.stderr, /Plan: 3 contacts change, 0 unchanged, 2 rows fail\./);
    t.true(result.stderr.includes(`2 rows failed and are not in the plan; error report: ${errorsPath}`), result.stderr);
    if (json) t.like(JSON.parse(result.stdout.trim().split('\n').pop()!), { planPath, counts: { changes: 3, failed: 2 }, errorsPath });
    t.deepEqual(readCsv(errorsPath).map((r) => [r._line, r._error_code]).sort(), [['5', 'ROW_NOT_FOUND'], ['6', 'ROW_DUPLICATE_IN_FILE']]);
  }
  t.is(writes(emulator), 0);
});

test('--dry-run prints the plan with its transitions and writes nothing', async (t) => {
  const { emulator, dir, env } = await seeded(t, 1_000);
  const before = snapshot(emulator);
  const chosen = before.slice(0, 90);
  const input = join(dir, 'dry.csv');
  writeFileSync(input, csvLines(chosen));
  const result = await runCli(['update', input, '--set', 'portal_role=member', '--dry-run', ...FAST, '--json'], { env });
  t.is(result.code, 0, result.stderr);
  const fromAdmin = chosen.filter((c) => c.portal_role === 'admin').length;
  const fromNoAccess = chosen.filter((c) => c.portal_role === 'no_access').length;
  t.true(fromAdmin > 0 && fromNoAccess > 0);
  t.regex(result.stderr, new RegExp(`Plan: ${fromAdmin + fromNoAccess} contacts change, ${90 - fromAdmin - fromNoAccess} unchanged, 0 rows fail`));
  t.regex(result.stderr, new RegExp(`portal_role: "admin" → "member"  × ${fromAdmin}`));
  t.regex(result.stderr, new RegExp(`portal_role: "no_access" → "member"  × ${fromNoAccess}`));
  t.true(summary(result).dryRun);
  t.is(summary(result).plannedCalls?.patch, fromAdmin + fromNoAccess);
  t.is(writes(emulator), 0);
  t.deepEqual(snapshot(emulator), before);
  t.false(existsSync(join(dir, 'dry.undo.csv')));
});

test('usage errors exit 2 before any request', async (t) => {
  const { emulator, dir, env } = await seeded(t, 10);
  const input = join(dir, 'x.csv');
  writeFileSync(input, 'email\na@example.com\n');
  const cases: Array<[string[], RegExp]> = [
    [['update'], /Name the file of contacts to update \(CSV, XLSX, JSON or NDJSON; - for stdin\), or select them with --where, e\.g\. pylon-contacts update admins\.csv --set portal_role=admin --dry-run\./],
    [['update', input, '--where', 'email~@acme.com'], /a file or --where, not both/],
    [['update', input, '--set', 'portal_role'], /--set.*field=value/],
    [['update', input, '--max-changes=-1'], /--max-changes/],
    [['update', '--where', 'nonsense', '--set', 'portal_role=member'], /--where/],
    [['update', '--where', 'email~@acme.com'], /--where selects contacts; say what to change with --set/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args, { env });
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, message);
    t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
  }
  t.is(emulator.stats().requests.patch + emulator.stats().requests.search + emulator.stats().requests.list, 0);
});

test('an error report or results file that is the input is refused before any request, and the input is kept (an undo file too)', async (t) => {
  const { emulator, dir, env } = await seeded(t, 10);
  const [contact] = snapshot(emulator);
  const input = join(dir, 'x.csv');
  writeFileSync(input, `email\n${contact.email}\n`);
  const undo = join(dir, 'x.undo.csv');
  writeFileSync(undo, `id,email,portal_role,_set.portal_role\n${contact.id},${contact.email},no_access,${contact.portal_role}\n`);
  const cases: string[][] = [
    ['update', input, '--set', 'custom.tier=gold', '--yes', '--errors', input],
    ['update', input, '--set', 'custom.tier=gold', '--yes', '--results', input],
    ['update', undo, '--yes', '--errors', undo],
  ];
  for (const args of cases) {
    const file = args[1];
    const before = readFileSync(file, 'utf8');
    const option = args.at(-2)!;
    const result = await runCli([...args, ...FAST], { env });
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.true(result.stderr.includes(`Invalid option \`${option}\`: ${file} is the input file this run reads`), result.stderr);
    t.is(readFileSync(file, 'utf8'), before, `${args.join(' ')}: the input is kept`);
  }
  t.is(Object.values(emulator.stats().requests).reduce((a, b) => a + b, 0), 0, 'no request');
});

/** Runs the CLI under `script` (a pseudo-terminal), types `keys` once the prompt shows, and returns what the terminal showed. */
function runOnTerminal(args: string[], env: Record<string, string>, keys: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, XDG_STATE_HOME: AUDIT_STATE_DIR, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let typed = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
    if (!typed && screen.includes('Type yes to continue:')) {
      typed = true;
      child.stdin.write(keys);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (screen += d));
  // A safety net for a hung child only; the test ends on the child's exit.
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

const hasScript = spawnSync('script', ['--version']).status === 0;
const ttyTest = hasScript ? test : test.skip;

ttyTest('on a terminal it asks: no and Ctrl-C write nothing, yes applies the plan', async (t) => {
  const { emulator, dir, env } = await seeded(t, 500);
  const before = snapshot(emulator);
  const chosen = before.slice(0, 40);
  const input = join(dir, 'ask.csv');
  writeFileSync(input, csvLines(chosen));
  const changing = chosen.filter((c) => c.portal_role !== 'admin').length;
  const args = ['update', input, '--set', 'portal_role=admin', ...FAST];

  const no = await runOnTerminal(args, env, 'no\r');
  t.is(no.code, 1, no.screen);
  t.regex(no.screen, new RegExp(`Plan: ${changing} contacts change`));
  t.regex(no.screen, /Stopped before writing anything: not confirmed/);
  t.is(writes(emulator), 0);

  const interrupted = await runOnTerminal(args, env, '\x03');
  t.is(interrupted.code, 130, interrupted.screen);
  t.regex(interrupted.screen, /Stopped before writing anything: interrupted/);
  t.is(writes(emulator), 0);
  t.deepEqual(snapshot(emulator), before);

  const yes = await runOnTerminal(args, env, 'yes\r');
  t.is(yes.code, 0, yes.screen);
  t.is(emulator.stats().requests.patch, changing);
  t.true(snapshot(emulator).slice(0, 40).every((c) => c.portal_role === 'admin'));

  // --yes never asks.
  const quiet = await runOnTerminal([...args, '--set', 'custom.tier=gold', '--yes'], env, 'no\r');
  t.is(quiet.code, 0, quiet.screen);
  t.notRegex(quiet.screen, /Type yes to continue/);
  t.true(snapshot(emulator).slice(0, 40).every((c) => c.custom_fields?.tier?.value === 'gold'));
});

test('a --set field the file also has a column for names the column and the --set, not a column 3 that is not there', async (t) => {
  const { emulator, dir, env } = await seeded(t, 10);
  const input = join(dir, 'r.csv');
  const first = [...emulator.store.all()][0]!;
  writeFileSync(input, `email,portal_role\n${first.email},admin\n`);
  const result = await runCli(['update', input, '--set', 'portal_role=no_access', '--dry-run'], { env });
  t.is(result.code, 2, result.stderr);
  t.is(withoutCodeLine(result.stderr), `pylon-contacts: --set portal_role conflicts with the file's "portal_role" column (column 2): both set portal_role; drop the column from the file or the --set.\n`);
  t.is(emulator.stats().requests.patch + emulator.stats().requests.search + emulator.stats().requests.list, 0);
});

ttyTest('on a terminal the planning progress before the question says "would update", never "updated"', async (t) => {
  const { emulator, dir, env } = await seeded(t, 20);
  const chosen = snapshot(emulator).filter((c) => c.portal_role !== 'admin').slice(0, 2);
  const input = join(dir, 'two.csv');
  writeFileSync(input, csvLines(chosen));
  const { code, screen } = await runOnTerminal(['update', input, '--set', 'portal_role=admin', ...FAST], env, 'n\r');
  t.is(code, 1, screen);
  const beforeQuestion = screen.slice(0, screen.indexOf('Type yes to continue:'));
  t.regex(beforeQuestion, /would update 2/);
  t.notRegex(beforeQuestion, /(?<!would )updated? \d/, 'no outcome word before confirming');
  t.is(writes(emulator), 0);
});
