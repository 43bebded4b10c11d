import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { runCli } from '../../src/cli/index.js';
import { emulatorCommand, emulatorOptionsFromArgv, parseRateOverrides, type EmulatorArgv } from '../../src/cli/commands/emulator.js';
import { resolveEmulatorOptions } from '../../src/emulator/index.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { BIN } from '../helpers/cli.js';
import { call } from '../helpers/with-emulator.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts the built command (`dist/bin.js emulator …`, as the end-to-end tests run it) and resolves once it prints its URL. */
async function startCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /PYLON_BASE_URL=(\S+)\n/.exec(stdout);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return {
    url,
    child,
    output: () => ({ stdout, stderr }),
    async stop(signal: NodeJS.Signals) {
      child.kill(signal);
      const [code] = await once(child, 'exit');
      return code as number;
    },
  };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`pylon-contacts emulator serves the seed file and stops cleanly on ${signal}`, async (t) => {
    const cli = await startCli(['--seed', 'samples/seed.json', '--rate-limits', 'off']);
    try {
      t.regex(cli.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await call({ url: cli.url, token: 'pylon-emulator-token' }, 'GET', '/contacts');
      t.is(res.status, 200);
      t.is(res.body.data.length, 8);
    } finally {
      const code = await cli.stop(signal);
      t.is(code, 0);
    }
    const { stdout, stderr } = cli.output();
    t.is(stdout, `PYLON_BASE_URL=${cli.url}\n`);
    t.true(stderr.startsWith(`Pylon emulator listening at ${cli.url} (token: pylon-emulator-token; 8 contacts; rate limits off)\n`), stderr);
    t.true(stderr.includes(`${signal}: stopping the emulator`));
  });
}

test('--host 0.0.0.0 prints a PYLON_BASE_URL the CLI accepts (loopback), and says how to reach it from elsewhere', async (t) => {
  const cli = await startCli(['--host', '0.0.0.0', '--seed', 'samples/seed.json', '--rate-limits', 'off']);
  try {
    t.regex(cli.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const exported = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'export', '-', '--quiet'], { cwd: ROOT, env: { PATH: process.env.PATH, PYLON_BASE_URL: cli.url, PYLON_API_TOKEN: 'pylon-emulator-token' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    t.is(exported.code, 0, exported.stderr);
    t.is(exported.stdout.trim().split('\n').length, 1 + 8, 'the header and the 8 seeded contacts');
  } finally {
    await cli.stop('SIGTERM');
  }
  const port = /:(\d+)$/.exec(cli.url)![1];
  t.true(cli.output().stderr.includes(`Listening on every interface (--host 0.0.0.0); PYLON_BASE_URL below is this machine's loopback address, because the CLI sends its token over plain http to loopback only. From another machine, forward a local port to it (ssh -L ${port}:127.0.0.1:${port} <this machine>) and use PYLON_BASE_URL=http://127.0.0.1:${port} there.\n`), cli.output().stderr);
});

test('the CLI defaults to the spec rate limits and never echoes a custom token', async (t) => {
  const cli = await startCli(['--token', 'secret-token-123', '--window-ms', '60000']);
  try {
    const em = { url: cli.url, token: 'secret-token-123' };
    const res = await call(em, 'GET', '/me');
    t.deepEqual([res.status, res.headers.get('x-rate-limit-remaining')], [200, '59']);
    t.is((await call(em, 'GET', '/me', { token: 'pylon-emulator-token' })).status, 401);
  } finally {
    await cli.stop('SIGTERM');
  }
  const { stdout, stderr } = cli.output();
  t.false((stdout + stderr).includes('secret-token-123'));
  t.true(stderr.includes('rate limits spec'));
});

async function runInProcess(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await runCli(args, { stdout, stderr, env: {}, isTTY: false, stdin: new PassThrough(), exitCode: 0 });
  return { code, stdout: out, stderr: err };
}

const BAD_FLAGS: Array<[string[], RegExp]> = [
  [['--fault-rate', '2'], /Invalid option `--fault-rate`: expected a number from 0 to 1, got 2/],
  [['--fault-rate', '0.7', '--drop-rate', '0.5'], /Invalid option `--fault-rate \+ --drop-rate`/],
  [['--rate', 'list=x'], /Invalid option `--rate`: expected a positive integer of requests per window for list, got "x"/],
  [['--rate', 'tickets=5'], /Invalid option `--rate`: expected endpoint=requests pairs/],
  [['--rate-limits', 'fast'], /^pylon-contacts: Invalid option `--rate-limits`: expected one of spec, tiered, off, got "fast"\n/],
  [['--port', '70000'], /Invalid option `--port`: expected an integer from 0 to 65535, got 70000/],
  [['--latency-ms', '-5'], /Invalid option `--latency-ms`/],
  [['--seed-random', '1.5'], /Invalid option `--seed-random`/],
  [['--seed', 'no/such/file.json'], /Seed file no\/such\/file\.json: not found/],
  [['--last-page-cursor', 'zero'], /^pylon-contacts: Invalid option `--last-page-cursor`: expected one of empty, null, absent, got "zero"\n/],
  [['--port', 'abc'], /^pylon-contacts: Invalid option `--port`: expected an integer from 0 to 65535, got "abc"\n/],
  [['--validation-status', '500'], /^pylon-contacts: Invalid option `--validation-status`: expected one of 400, 422, got 500\n/],
  [['--seed-random', 'abc'], /^pylon-contacts: Invalid option `--seed-random`: expected an integer from 0 to 10000000, got "abc"\n/],
];

for (const [args, message] of BAD_FLAGS) {
  test(`bad flags exit 2 with a clear message: ${args.join(' ')}`, async (t) => {
    const result = await runInProcess(['emulator', ...(args.includes('--port') ? [] : ['--port', '0']), ...args]);
    t.is(result.code, EXIT.USAGE);
    t.regex(result.stderr, message);
    t.false(result.stderr.includes('    at '), 'no stack trace');
    t.is(result.stdout, '');
  });
}

// A malformed seed CSV: one sentence naming the file and the line, not csv-parse's wording (exit 2).
const BAD_SEEDS: Array<[string, string, RegExp]> = [
  ['quote.csv', 'email,name\n"a@x.com,A\nb@x.com,B\n', /^pylon-contacts: Seed file \S*quote\.csv: a quoted cell is still open at the end of the file \(line 3\): close the quote where the cell ends, and write a quote inside a quoted cell as ""\n/],
  ['cells.csv', 'email,name\na@x.com,A,extra\n', /^pylon-contacts: Seed file \S*cells\.csv: line 2 has 3 cells where the header has 2: quote a cell that holds a comma\n/],
  ['closing.csv', 'email,name\na@x.com,"A"x\n', /^pylon-contacts: Seed file \S*closing\.csv: line 2 has text after the quote that closes a cell: quote the whole cell, and write a quote inside it as ""\n/],
];

for (const [name, text, message] of BAD_SEEDS) {
  test(`a malformed seed CSV exits 2 naming the file and the line: ${name}`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pylon-seed-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, name), text);
    const result = await runInProcess(['emulator', '--port', '0', '--seed', join(dir, name)]);
    t.is(result.code, EXIT.USAGE);
    t.regex(result.stderr, message);
    t.notRegex(result.stderr, /Invalid Record Length|Quote Not Closed|Invalid Closing Quote/);
  });
}

function argvOf(args: string[]): EmulatorArgv {
  const builder = emulatorCommand.builder as (y: Argv) => Argv<EmulatorArgv>;
  return builder(yargs(args)).parseSync() as EmulatorArgv;
}

test('argv → options: CLI defaults', (t) => {
  const options = resolveEmulatorOptions(emulatorOptionsFromArgv(argvOf([])));
  t.like(options, {
    host: '127.0.0.1',
    port: 4010,
    tokens: ['pylon-emulator-token'],
    rateLimits: 'spec',
    windowMs: 60_000,
    retryAfterHeader: 'both',
    remainingHeader: true,
    duplicateEmail: 'reject',
    validationStatus: 400,
    duplicateStatus: 400,
    patchEmail: 'replace',
    contactExternalIds: false,
    errorBody: 'pylon',
    emailMatch: 'insensitive',
    matchSecondaryEmails: true,
    lastPageCursor: 'empty',
    validation: 'strict',
    emptyString: 'clears',
    createEmail: 'optional',
    portalRoleSlugs: false,
    searchMaxValues: 0,
    searchLagMs: 0,
    listChurn: 0,
    latencyMs: 0,
    jitterMs: 0,
    faults: { errorRate: 0, dropRate: 0, slowRate: 0, slowMs: 5000 },
    seedRandom: 0,
  });
  t.is(options.limits.delete, 10);
});

test('argv → options: every switch', (t) => {
  const argv = argvOf([
    '--host', '127.0.0.2', '--port', '0', '--token', 'tok-a', '--token', 'tok-b', '--seed', 'x.csv', '--seed-random', '10',
    '--rate-limits', 'tiered', '--rate', 'list=600, create=5', '--window-ms', '1000', '--retry-after-header', 'x-retry-after',
    '--retry-after-format', 'past-date', '--no-remaining-header', '--duplicate-email', 'allow', '--email-match', 'sensitive', '--no-match-secondary-emails',
    '--last-page-cursor', 'null', '--latency-ms', '5', '--jitter-ms', '3', '--fault-rate', '0.1', '--drop-rate', '0.05',
    '--slow-rate', '0.2', '--slow-ms', '100', '--random-seed', '77', '--validation', 'lenient', '--empty-string', 'ignored',
    '--create-email', 'required', '--portal-role-slugs', '--search-max-values', '25', '--search-lag-ms', '400', '--list-churn', '3',
    '--max-body-bytes', '2048', '--validation-status', '422', '--duplicate-status', '409', '--patch-email', 'add', '--contact-external-ids', '--error-body', 'nested',
  ]);
  const options = resolveEmulatorOptions(emulatorOptionsFromArgv(argv));
  t.like(options, {
    host: '127.0.0.2',
    port: 0,
    tokens: ['tok-a', 'tok-b'],
    seedFile: 'x.csv',
    seedRandom: 10,
    rateLimits: 'tiered',
    windowMs: 1000,
    retryAfterHeader: 'x-retry-after',
    retryAfterFormat: 'past-date',
    remainingHeader: false,
    duplicateEmail: 'allow',
    emailMatch: 'sensitive',
    matchSecondaryEmails: false,
    lastPageCursor: 'null',
    latencyMs: 5,
    jitterMs: 3,
    maxBodyBytes: 2048,
    faults: { errorRate: 0.1, dropRate: 0.05, slowRate: 0.2, slowMs: 100 },
    seed: 77,
    validation: 'lenient',
    emptyString: 'ignored',
    createEmail: 'required',
    portalRoleSlugs: true,
    searchMaxValues: 25,
    searchLagMs: 400,
    listChurn: 3,
    validationStatus: 422,
    duplicateStatus: 409,
    patchEmail: 'add',
    contactExternalIds: true,
    errorBody: 'nested',
  });
  t.deepEqual(options.limits, {
    list: 600, get: 300, create: 5, patch: 120, delete: 30, search: 120, customFields: 300, accounts: 300, me: 300, import: 30, accountsSearch: 120, accountsCreate: 30,
  });
});

test('parseRateOverrides reads endpoint=n pairs', (t) => {
  t.deepEqual(parseRateOverrides('list=600,search=5'), { list: 600, search: 5 });
  t.deepEqual(parseRateOverrides(undefined), {});
  t.throws(() => parseRateOverrides('list=0'), { message: /--rate/ });
});
