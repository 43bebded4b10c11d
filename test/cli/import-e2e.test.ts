/**
 * End-to-end: the built CLI (`node dist/bin.js import …`, built by `npm test`'s
 * pretest) runs as a child process against an emulator living in this process,
 * so every test can read the emulator's store and counters. Proves issue 4:
 * bad input, 429 storms and faults without lost or duplicated rows, kill -9 and
 * Ctrl-C then --resume, the concurrency bound, idempotent re-runs, exit codes,
 * and a token that never reaches any output.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parse } from 'csv-parse/sync';
import type { Emulator } from '../../src/emulator/index.js';
import type { ImportStats } from '../../src/import/run-import.js';
import { createPrng } from '../../src/emulator/prng.js';
import {
  FAST_RATE,
  REPO,
  TOKEN,
  contactsCsv,
  emailOf,
  envFor,
  filesUnder,
  notExactlyOnce,
  runCli,
  spawnCli,
  startEmulator,
  startFaultProxy,
  statsOf,
  tempDir,
  writes,
  type CliResult,
} from '../helpers/cli.js';

const FIXTURES = join(REPO, 'test', 'fixtures', 'import');
const STACK_TRACE = /^\s+at .+[(:]\d+/m;

const outcomes = (s: ImportStats) => s.created + s.updated + s.unchanged + s.skipped + s.failed;


function readCsv(path: string): Array<Record<string, string>> {
  return parse(readFileSync(path), { columns: true, bom: true }) as Array<Record<string, string>>;
}

/** `import <file> --json -q` against the emulator with unthrottled pacing, plus `args`. */
function importArgs(file: string, ...args: string[]): string[] {
  return ['import', file, '--json', '-q', '--rate', FAST_RATE, ...args];
}

/** Copies a fixture into a fresh directory (reports are written beside the input). */
function fixture(t: ExecutionContext, name: string): string {
  const path = join(tempDir(t), name);
  copyFileSync(join(FIXTURES, name), path);
  return path;
}

function writeInput(t: ExecutionContext, csv: string, name = 'contacts.csv'): string {
  const path = join(tempDir(t), name);
  writeFileSync(path, csv);
  return path;
}

/** name → [email, notes] for every contact in the store. */
function byName(emulator: Emulator): Record<string, [string | undefined, string | undefined]> {
  const out: Record<string, [string | undefined, string | undefined]> = {};
  for (const c of emulator.store.all()) out[c.name ?? ''] = [c.email, c.custom_fields?.notes?.value];
  return out;
}

function assertClean(t: ExecutionContext, result: CliResult) {
  t.notRegex(result.stderr, STACK_TRACE, 'no stack trace');
  t.false(result.stderr.includes(TOKEN) || result.stdout.includes(TOKEN), 'the token is never printed');
}

// ---------------------------------------------------------------- bad input corpus

interface CorpusCase {
  file: string;
  args?: string[];
  exit: number;
  stats: Partial<ImportStats>;
  store: Record<string, [string | undefined, string | undefined]>;
  /** Error report rows: [_line, _error_code, first original cell]. */
  errors?: Array<[string, string, string]>;
  warning?: RegExp;
}

const CORPUS: CorpusCase[] = [
  {
    file: 'bom-crlf.csv',
    exit: 0,
    stats: { total: 2, created: 2 },
    store: { 'Zoë Ångström': ['zoe@example.com', 'Café ☕'], 'Renée Faß': ['renee@example.com', undefined] },
  },
  {
    file: 'latin1.csv',
    exit: 0,
    stats: { total: 2, created: 2 },
    store: { 'José Müller': ['jose@example.com', 'Señor Ñandú'], 'François Øster': ['francois@example.com', 'crème brûlée'] },
    warning: /not valid UTF-8/,
  },
  {
    file: 'latin1.csv',
    args: ['--encoding', 'latin1'],
    exit: 0,
    stats: { total: 2, created: 2 },
    store: { 'José Müller': ['jose@example.com', 'Señor Ñandú'], 'François Øster': ['francois@example.com', 'crème brûlée'] },
  },
  {
    file: 'semicolon.csv',
    exit: 0,
    stats: { total: 2, created: 2 },
    store: { 'Müller, Hans': ['hans@example.com', '1,5 Seats; maybe'], 'Inès Dupont': ['ines@example.com', undefined] },
  },
  {
    file: 'quoted-newlines.csv',
    exit: 0,
    stats: { total: 3, created: 3 },
    store: {
      'Smith, Ann': ['ann@example.com', 'She said "hi",\nthen left'],
      Bob: ['bob@example.com', 'line one\r\nline two'],
      Cy: ['cy@example.com', 'plain'],
    },
  },
  {
    file: 'ragged.csv',
    exit: 3,
    stats: { total: 4, created: 2, failed: 2 },
    store: { Ann: ['ragged-ann@example.com', undefined], Dee: ['ragged-dee@example.com', undefined] },
    errors: [
      ['3', 'ROW_MALFORMED', 'Bob'],
      ['4', 'ROW_MALFORMED', 'Cy'],
    ],
  },
  {
    file: 'bad-emails.csv',
    exit: 3,
    stats: { total: 6, created: 2, failed: 4 },
    store: { Good: ['good@example.com', undefined], 'Trailing Space': ['trim@example.com', undefined] },
    errors: [
      ['3', 'ROW_INVALID_EMAIL', 'No At'],
      ['4', 'ROW_INVALID_EMAIL', 'Two Ats'],
      ['5', 'ROW_INVALID_EMAIL', 'Space'],
      ['6', 'ROW_EMAIL_REQUIRED', 'Empty'],
    ],
  },
  {
    file: 'case-duplicates.csv',
    exit: 3,
    stats: { total: 4, created: 2, failed: 2 },
    store: { First: ['Dup@Example.com', undefined], Unique: ['unique@example.com', undefined] },
    errors: [
      ['4', 'ROW_DUPLICATE_IN_FILE', 'Second'],
      ['5', 'ROW_DUPLICATE_IN_FILE', 'Third'],
    ],
  },
  {
    file: 'case-duplicates.csv',
    args: ['--on-duplicate', 'last'],
    exit: 3,
    stats: { total: 4, created: 2, failed: 2 },
    store: { Third: ['DUP@EXAMPLE.COM', undefined], Unique: ['unique@example.com', undefined] },
    errors: [
      ['2', 'ROW_DUPLICATE_IN_FILE', 'First'],
      ['4', 'ROW_DUPLICATE_IN_FILE', 'Second'],
    ],
  },
];

for (const c of CORPUS) {
  test(`bad input: ${c.file} ${c.args?.join(' ') ?? ''}`.trim(), async (t) => {
    const emulator = await startEmulator(t);
    const input = fixture(t, c.file);
    const result = await runCli(importArgs(input, ...(c.args ?? [])), { env: envFor(emulator) });
    assertClean(t, result);
    t.is(result.code, c.exit, result.stderr);
    const stats = statsOf(result);
    t.like(stats, c.stats);
    t.is(outcomes(stats), stats.total, 'every row has exactly one outcome');
    t.deepEqual(byName(emulator), c.store);
    // A run with no failed row writes no error report.
    const reportPath = input.replace(/\.csv$/, '.errors.csv');
    t.is(existsSync(reportPath), (c.errors ?? []).length > 0);
    const report = existsSync(reportPath) ? readCsv(reportPath) : [];
    t.deepEqual(report.map((r) => [r._line, r._error_code, r.name]), c.errors ?? []);
    t.true(report.every((r) => r._error_message !== ''));
    if (c.warning) t.regex(result.stderr, c.warning);
    if (c.file === 'ragged.csv') t.regex(report[0]._error_message, /has 4 cells.*"extra"/, 'no cell of a long row is lost');
  });
}

test('unknown columns: exit 2 before any write, naming every one of them', async (t) => {
  const emulator = await startEmulator(t);
  const result = await runCli(importArgs(fixture(t, 'unknown-columns.csv')), { env: envFor(emulator) });
  assertClean(t, result);
  t.is(result.code, 2);
  for (const name of ['"emial"', '"phone"', '"custom.tierr"']) t.true(result.stderr.includes(name), result.stderr);
  t.regex(result.stderr, /did you mean email/);
  t.is(writes(emulator), 0);
  t.is(emulator.store.size, 0);
});

// ---------------------------------------------------------------- exit codes and messages

test('a wrong token: exit 1, a clear message, no stack trace, neither token printed', async (t) => {
  const emulator = await startEmulator(t);
  const wrong = 'tok-SECRET-wrong-0a1b2c3d';
  const input = writeInput(t, contactsCsv(3));
  for (const how of ['env', 'flag'] as const) {
    const result = await runCli(how === 'env' ? importArgs(input) : importArgs(input, '--token', wrong), {
      env: how === 'env' ? envFor(emulator, wrong) : { PYLON_BASE_URL: emulator.url },
    });
    assertClean(t, result);
    t.is(result.code, 1, result.stderr);
    t.regex(result.stderr, /token/i);
    t.regex(result.stderr, /401|rejected|invalid|unauthori[sz]ed/i);
    t.false(result.stderr.includes(wrong) || result.stdout.includes(wrong), result.stderr);
  }
  t.is(writes(emulator), 0);
});

test('nothing listening at the base URL: exit 1 with a clear message', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  const result = await runCli(importArgs(writeInput(t, contactsCsv(3))), { env: envFor({ url: `http://127.0.0.1:${port}` }) });
  assertClean(t, result);
  t.is(result.code, 1, result.stderr);
  // A stop at the start ends like a stop mid-run: the summary, whose fatal line names the code; nothing to resume.
  t.true(
    result.stderr.includes(`  fatal (PYLON_NETWORK): GET /me failed: could not connect to http://127.0.0.1:${port} (after 2 retries): the connection was refused (ECONNREFUSED), so nothing accepts connections on 127.0.0.1 port ${port}. Is the server running, and is the URL right (--base-url or PYLON_BASE_URL)?\n`),
    result.stderr,
  );
  t.regex(result.stderr, /0 rows read/);
  t.notRegex(result.stderr, /--resume/);
});

test('usage errors exit 2: a bad flag, a bad choice, a missing file or token, --resume with --dry-run', async (t) => {
  const emulator = await startEmulator(t);
  const input = writeInput(t, contactsCsv(2));
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [['import', input, '--bogus-flag'], /bogus-flag/],
    [['import', input, '--mode', 'sideways'], /sideways|mode/],
    [['import', input, '--on-duplicate', 'merge'], /merge|on-duplicate/],
    [['import', join(tempDir(t), 'missing.csv')], /not found|missing\.csv/],
    [['import', input, '--resume', '--dry-run'], /--resume/],
    [['import'], /Name the file to import/],
  ];
  for (const [args, message, env] of [...cases, [['import', input], /No API token/, { PYLON_BASE_URL: emulator.url }] as const]) {
    const result = await runCli(args, { env: env ?? envFor(emulator) });
    assertClean(t, result);
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, message);
  }
  t.is(writes(emulator), 0);
});

// ---------------------------------------------------------------- correctness under load

for (const [label, make] of [
  ['60 generated rows', (t: ExecutionContext) => ({ input: writeInput(t, contactsCsv(60, 'twice')), rows: 60 })],
  // Values Pylon stores in another form: labels for slugs, formatted phones, offsets, "+3.0", TRUE, a quoted newline.
  ['every field type (every-field.csv)', (t: ExecutionContext) => ({ input: fixture(t, 'every-field.csv'), rows: 3 })],
] as const) {
  test(`the same file imported twice makes zero writes the second time: ${label}`, async (t) => {
    const emulator = await startEmulator(t);
    const { input, rows } = make(t);
    const first = await runCli(importArgs(input), { env: envFor(emulator) });
    t.is(first.code, 0, first.stderr);
    t.like(statsOf(first), { total: rows, created: rows });
    emulator.resetStats();
    const second = await runCli(importArgs(input), { env: envFor(emulator) });
    t.is(second.code, 0, second.stderr);
    t.like(statsOf(second), { total: rows, created: 0, updated: 0, unchanged: rows });
    t.is(writes(emulator), 0);
    t.is(emulator.store.size, rows);
  });
}

for (const concurrency of [1, 3]) {
  test(`the emulator never sees more than --concurrency ${concurrency} requests in flight`, async (t) => {
    const emulator = await startEmulator(t, { latencyMs: 15 });
    emulator.store.insert({ name: 'Existing', email: 'flight-1@example.com' });
    const input = writeInput(t, contactsCsv(60, 'flight'));
    const result = await runCli(importArgs(input, '--concurrency', String(concurrency), '--lookup-batch', '10', '--lookup', 'search'), { env: envFor(emulator) });
    t.is(result.code, 0, result.stderr);
    t.like(statsOf(result), { total: 60, created: 59, updated: 1 });
    const { maxInFlight } = emulator.stats();
    t.log(`maxInFlight ${maxInFlight}`);
    t.true(maxInFlight >= 1 && maxInFlight <= concurrency, `maxInFlight ${maxInFlight}`);
  });
}

test('a 429 storm (server limits below the client pace): zero rows lost or duplicated', async (t) => {
  // Without X-Rate-Limit-Remaining the client cannot slow down ahead of the limit (with it, it paces to the
  // server's budget, assuming Pylon's 60-second window): it runs into 429s and must back off and retry.
  // Limits low enough that even a slow, loaded machine sends more than a window allows.
  const emulator = await startEmulator(t, {
    rateLimits: 'spec',
    rateOverrides: { create: 6, search: 2 },
    windowMs: 1000,
    remainingHeader: false,
    duplicateEmail: 'allow',
  });
  const rows = 60;
  const input = writeInput(t, contactsCsv(rows, 'storm'));
  // The server allows 6 creates and 2 searches per 1-second "minute" (low enough that the 8 requests the client
  // starts at once overrun a window even on a loaded machine); the client paces at 1,000/s.
  const rate = 'create=60000,patch=60000,search=60000,list=60000,get=60000,customFields=60000,accounts=60000';
  const result = await runCli(['import', input, '--json', '-q', '--rate', rate, '--concurrency', '8', '--lookup', 'search', '--lookup-batch', '5'], {
    env: envFor(emulator),
  });
  t.is(result.code, 0, result.stderr);
  const stats = statsOf(result);
  t.log(`429s sent ${emulator.stats().rateLimited}, client saw ${stats.rateLimited}, retries ${stats.retries}`);
  t.true(emulator.stats().rateLimited > 0, 'the storm happened');
  t.true(emulator.stats().maxInFlight <= 8, `maxInFlight ${emulator.stats().maxInFlight}`);
  t.like(stats, { total: rows, created: rows, failed: 0, notProcessed: 0 });
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('storm', i))), []);
  t.is(emulator.store.size, rows);
});

test('5xx answers and dropped connections: zero rows lost or duplicated', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow', faults: { errorRate: 0.1, dropRate: 0.05 }, seed: 2024 });
  emulator.store.insert({ name: 'Old Name', email: 'faulty-7@example.com' });
  const rows = 120;
  const input = writeInput(t, contactsCsv(rows, 'faulty'));
  // A dropped create may still be applied late: it is looked up for the late window (6 × --timeout) before any resend (issue 21).
  const result = await runCli(importArgs(input, '--concurrency', '6', '--timeout', '2000'), { env: envFor(emulator) });
  t.is(result.code, 0, result.stderr);
  const stats = statsOf(result);
  t.log(`faults injected ${emulator.stats().faultsInjected}, retries ${stats.retries}`);
  t.true(emulator.stats().faultsInjected > 5);
  t.true(emulator.stats().maxInFlight <= 6, `maxInFlight ${emulator.stats().maxInFlight}`);
  t.like(stats, { total: rows, created: rows - 1, updated: 1, failed: 0, notProcessed: 0 });
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('faulty', i))), []);
  t.is(emulator.store.findByEmail('faulty-7@example.com')?.name, 'Person 7');
});

test('creates cut off after the server applied them are looked up, not sent blindly again', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow' });
  const seen = new Set<string>();
  // Every first create of an email is applied by the emulator, then its connection is closed unanswered.
  const proxy = await startFaultProxy(t, emulator, ({ method, path, body }) => {
    if (method !== 'POST' || path !== '/contacts') return undefined;
    const { email } = JSON.parse(body) as { email: string };
    if (seen.has(email)) return undefined;
    seen.add(email);
    return 'drop=after';
  });
  const rows = 20;
  const result = await runCli(importArgs(writeInput(t, contactsCsv(rows, 'cut'))), { env: envFor(proxy) });
  t.is(result.code, 0, result.stderr);
  t.like(statsOf(result), { total: rows, created: rows, failed: 0 });
  t.is(proxy.injected.length, rows);
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('cut', i))), []);
  t.is(emulator.stats().requests.create, rows, 'no create was sent twice');
});

// ---------------------------------------------------------------- kill -9, Ctrl-C, --resume

/** Starts the import and resolves once the store holds `atSize` contacts; then signals the child. */
async function interruptAt(emulator: Emulator, args: string[], atSize: number, signal: NodeJS.Signals): Promise<CliResult> {
  const run = spawnCli(args, { env: envFor(emulator) });
  let done = false;
  void run.result.then(() => (done = true));
  while (!done && emulator.store.size < atSize) await new Promise((resolve) => setTimeout(resolve, 2));
  if (!done) run.child.kill(signal);
  return run.result;
}

test('kill -9 at random points, then --resume: every email exactly once', async (t) => {
  const seed = Number(process.env.KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.log(`seed ${seed} (rerun with KILL_SEED=${seed})`);
  const prng = createPrng(seed);
  const rows = 400;
  for (let iteration = 0; iteration < 3; iteration++) {
    // duplicateEmail 'allow': a create sent twice would show up as a second contact.
    const emulator = await startEmulator(t, { duplicateEmail: 'allow', latencyMs: 4 });
    // Every fourth row updates a contact that exists under an old name; the others are new.
    const existing = Array.from({ length: rows }, (_, i) => i).filter((i) => i % 4 === 1);
    for (const i of existing) emulator.store.insert({ name: `Old ${i}`, email: emailOf(`kill${iteration}`, i) });
    const input = writeInput(t, contactsCsv(rows, `kill${iteration}`));
    // A short request timeout: a resumed run waits about twice that before re-checking creates the kill left in flight.
    const args = importArgs(input, '--concurrency', '4', '--lookup-batch', '25', '--timeout', '2000');
    const fresh = rows - existing.length;
    // Kill points come after at least 10 creates (so the journal has answers to resume from: at 1, a
    // kill can land before the first answer is journaled, seed 985417177) and leave at least 60 to go,
    // so that a loaded machine cannot finish the run first.
    const kills = [existing.length + 10 + prng.int(fresh - 110)];
    if (iteration === 2) kills.push(kills[0] + 1 + prng.int(rows - 60 - kills[0])); // the resumed run is killed too
    t.log(`iteration ${iteration}: SIGKILL once the store holds ${kills.join(', then ')} contacts`);
    for (const [k, atSize] of kills.entries()) {
      const killed = await interruptAt(emulator, k === 0 ? args : [...args, '--resume'], atSize, 'SIGKILL');
      t.is(killed.signal, 'SIGKILL', `iteration ${iteration}: the run ended before the kill (${killed.stderr})`);
    }
    t.true(existsSync(join(input, '..', '.contacts.journal.jsonl')));
    const resumed = await runCli([...args, '--resume'], { env: envFor(emulator) });
    t.is(resumed.code, 0, resumed.stderr);
    const stats = statsOf(resumed);
    // A create whose answer the kill lost is found and counted as created; a patch whose answer it lost
    // finds the contact already changed (unchanged): at most `concurrency` per kill.
    t.like(stats, { total: rows, created: fresh, failed: 0, skipped: 0, notProcessed: 0 }, `iteration ${iteration}`);
    t.is(stats.updated + stats.unchanged, existing.length);
    t.true(stats.unchanged <= 4 * kills.length, `unchanged ${stats.unchanged}`);
    t.true(stats.resumed > 0);
    t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf(`kill${iteration}`, i))), [], `iteration ${iteration}`);
    t.is(emulator.store.size, rows);
    t.deepEqual([...emulator.store.all()].filter((c) => !/^Person \d+$/.test(c.name ?? '')).map((c) => c.name), [], 'every row was applied');
    t.false(existsSync(join(input, '..', '.contacts.journal.jsonl')), 'the finished run removed its journal');
    await emulator.close();
  }
});

test('Ctrl-C (SIGINT): exit 130 with reports written; --resume finishes every row exactly once', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow', latencyMs: 5 });
  const rows = 300;
  const bad = ['name,email,portal_role', 'Bad One,bad-one,', 'Bad Two,bad@two@example.com,'];
  const input = writeInput(t, [...bad, ...contactsCsv(rows, 'sigint').split('\n').slice(1)].join('\n'));
  const dir = join(input, '..');
  // A short request timeout: the resumed run waits about twice that before re-checking the creates the interrupt left in flight.
  const args = importArgs(input, '--concurrency', '2', '--lookup-batch', '20', '--results', join(dir, 'results.csv'), '--timeout', '2000');
  // Two child runs on a busy machine: the test ends when the resumed child exits, not at a fixed time.
  t.timeout(300_000);
  const interrupted = await interruptAt(emulator, args, 40, 'SIGINT');
  t.is(interrupted.code, 130, interrupted.stderr);
  assertClean(t, interrupted);
  t.regex(interrupted.stderr, /SIGINT/);
  t.regex(interrupted.stderr, /--resume/);
  const first = statsOf(interrupted);
  t.true(first.interrupted);
  t.true(first.notProcessed > 0, JSON.stringify(first));
  t.is(outcomes(first) + first.notProcessed, rows + 2);
  t.deepEqual(readCsv(join(dir, 'contacts.errors.csv')).map((r) => r._line), ['2', '3'], 'the error report was written');
  t.is(readCsv(join(dir, 'results.csv')).length, outcomes(first), 'the results were written');
  t.true(existsSync(join(dir, '.contacts.journal.jsonl')));

  const resumed = await runCli([...args, '--resume'], { env: envFor(emulator), timeoutMs: 290_000 });
  t.is(resumed.code, 3, resumed.stderr);
  t.like(statsOf(resumed), { total: rows + 2, created: rows, failed: 2, notProcessed: 0, interrupted: false });
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('sigint', i))), []);
  t.deepEqual(readCsv(join(dir, 'contacts.errors.csv')).map((r) => r._line), ['2', '3'], 'each failed row once');
  const results = readCsv(join(dir, 'results.csv'));
  t.is(results.length, rows + 2);
  t.is(new Set(results.map((r) => r._line)).size, rows + 2, 'one result line per input row');
});

test('Ctrl-C on an import from stdin: exit 130, no --resume advice (no journal); importing the input again completes it', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow', latencyMs: 5 });
  const rows = 300;
  const csv = contactsCsv(rows, 'pipeint');
  const cwd = tempDir(t);
  const args = ['import', '-', '--json', '-q', '--rate', FAST_RATE, '--concurrency', '2'];
  const run = spawnCli(args, { env: envFor(emulator), cwd, stdin: csv });
  while (emulator.store.size < 30 && run.child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 2));
  run.child.kill('SIGINT');
  const interrupted = await run.result;
  t.is(interrupted.code, 130, interrupted.stderr);
  t.true(statsOf(interrupted).notProcessed > 0);
  t.notRegex(interrupted.stderr, /--resume to finish/);
  t.regex(interrupted.stderr, /import the same input again/);
  t.deepEqual(filesUnder(cwd).filter((f) => f.includes('journal')), []);
  const again = await runCli(args, { env: envFor(emulator), cwd, stdin: csv });
  t.is(again.code, 0, again.stderr);
  const stats = statsOf(again);
  t.is(stats.created + stats.unchanged, rows);
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('pipeint', i))), []);
});

// ---------------------------------------------------------------- dry run, stdin, reports, token

test('--dry-run makes zero writes and reports the planned calls', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Old Name', email: 'plan-0@example.com' });
  emulator.store.insert({ name: 'Person 1', email: 'plan-1@example.com' });
  const input = writeInput(t, contactsCsv(5, 'plan'));
  const result = await runCli(['import', input, '--dry-run', '--json', '--rate', FAST_RATE], { env: envFor(emulator) });
  t.is(result.code, 0, result.stderr);
  t.is(writes(emulator), 0);
  const stats = statsOf(result);
  t.like(stats, { dryRun: true, total: 5, created: 3, updated: 1, unchanged: 1 });
  t.like(stats.plannedCalls, { create: 3, patch: 1 });
  t.regex(result.stderr, /would create 3, would update 1/);
  t.regex(result.stderr, /the real run: .*create 3, patch 1/);
  t.is(emulator.store.size, 2);
  t.false(existsSync(join(input, '..', '.contacts.journal.jsonl')));
});

test('stdin (-) imports like a file, with --mode and --lookup passed through', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Kept', email: 'pipe-0@example.com' });
  const cwd = tempDir(t);
  const result = await runCli(['import', '-', '--json', '-q', '--rate', FAST_RATE, '--mode', 'create', '--lookup', 'search'], {
    env: envFor(emulator),
    cwd,
    stdin: contactsCsv(4, 'pipe'),
  });
  t.is(result.code, 0, result.stderr);
  t.like(statsOf(result), { total: 4, created: 3, skipped: 1, lookupStrategy: 'search' });
  t.is(emulator.store.findByEmail('pipe-0@example.com')?.name, 'Kept');
  t.is(emulator.stats().requests.list, 1, 'one list page, to check that search finds contacts here');
});

test('the error report re-imports as it is: the fixed row is created, the others fail again', async (t) => {
  const emulator = await startEmulator(t);
  const input = fixture(t, 'bad-emails.csv');
  const first = await runCli(importArgs(input), { env: envFor(emulator) });
  t.is(first.code, 3);
  const reportPath = input.replace(/\.csv$/, '.errors.csv');
  const report = readFileSync(reportPath, 'utf8');
  const fixedPath = join(input, '..', 'fixed.csv');
  writeFileSync(fixedPath, report.replace('no-at.example.com', 'fixed@example.com'));
  const second = await runCli(importArgs(fixedPath), { env: envFor(emulator) });
  t.is(second.code, 3, second.stderr);
  t.like(statsOf(second), { total: 4, created: 1, failed: 3 });
  t.is(emulator.store.findByEmail('fixed@example.com')?.name, 'No At');
  t.deepEqual(readCsv(join(input, '..', 'fixed.errors.csv')).map((r) => [r.name, r._error_code]), [
    ['Two Ats', 'ROW_INVALID_EMAIL'],
    ['Space', 'ROW_INVALID_EMAIL'],
    ['Empty', 'ROW_EMAIL_REQUIRED'],
  ]);
});

test('the token appears nowhere: not in stdout or stderr, the error report, results, journal or plan', async (t) => {
  const emulator = await startEmulator(t, { latencyMs: 5 });
  emulator.store.insert({ name: 'Old', email: 'tok-3@example.com' });
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, contactsCsv(200, 'tok') + 'Bad,not-an-email,\n');
  const outputs: CliResult[] = [];
  // An interrupted run leaves a journal, an error report and results behind.
  outputs.push(await interruptAt(emulator, importArgs(input, '--results', join(dir, 'results.csv'), '--concurrency', '1'), 20, 'SIGINT'));
  outputs.push(await runCli(importArgs(input, '--dry-run', '--resume'), { env: envFor(emulator) }));
  outputs.push(await runCli(['import', input, '--dry-run', '--json', '--rate', FAST_RATE, '--results', join(dir, 'plan.csv'), '--journal', join(dir, 'j.jsonl')], { env: envFor(emulator) }));
  outputs.push(await runCli(importArgs(input, '--base-url', emulator.url + '/nope'), { env: envFor(emulator) }));
  const files = filesUnder(dir);
  t.true(files.some((f) => f.endsWith('.journal.jsonl')), files.join(', '));
  t.true(files.some((f) => f.endsWith('plan.csv')) && files.some((f) => f.endsWith('results.csv')) && files.some((f) => f.endsWith('errors.csv')), files.join(', '));
  for (const file of files) t.false(readFileSync(file, 'latin1').includes(TOKEN), file);
  for (const out of outputs) assertClean(t, out);
  t.is(outputs[0].code, 130);
});
