/**
 * A run that fails at its start for an API or network reason (a wrong token at GET /me or
 * GET /custom-fields, nothing listening at the base URL) ends as a run stopped later does:
 * `--json` prints the stats with `fatal.code`, the summary's fatal line names the code, and
 * the library's runImport / runUpdate resolve with `stats.fatal` instead of throwing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { resolveImportOptions } from '../../src/import/options.js';
import { runImport } from '../../src/import/run-import.js';
import { runUpdate } from '../../src/update/run-update.js';
import { createPylonClient } from '../../src/pylon/client.js';
import { FAST_RATE, TOKEN, closedPort, contactsCsv, envFor, runCli, startEmulator, statsOf, tempDir, writes } from '../helpers/cli.js';

const WRONG = 'tok-SECRET-wrong-start-0001';

function input(t: ExecutionContext, csv: string): string {
  const path = join(tempDir(t), 'contacts.csv');
  writeFileSync(path, csv);
  return path;
}

test('import, import --dry-run and update with --json print the stats with fatal.code when the token is wrong', async (t) => {
  const emulator = await startEmulator(t);
  const file = input(t, contactsCsv(3));
  const cases: string[][] = [
    ['import', file], // GET /me (the audit log's target)
    ['import', file, '--dry-run'], // GET /custom-fields
    ['update', file, '--set', 'portal_role=admin'],
    ['update', file, '--set', 'portal_role=admin', '--dry-run'],
  ];
  for (const args of cases) {
    const result = await runCli([...args, '--json', '-q', '--rate', FAST_RATE], { env: envFor(emulator, WRONG) });
    t.is(result.code, 1, `${args.join(' ')}\n${result.stderr}`);
    const stats = statsOf(result);
    t.is(stats.fatal?.code, 'PYLON_AUTH', args.join(' '));
    t.regex(stats.fatal?.message ?? '', /failed with 401/);
    t.like(stats, { total: 0, created: 0, updated: 0, failed: 0 });
    t.regex(result.stderr, /fatal \(PYLON_AUTH\): GET \/(me|custom-fields) failed with 401/, args.join(' '));
    t.false(result.stdout.includes(WRONG) || result.stderr.includes(WRONG));
  }
  t.is(writes(emulator), 0);
});

test('apply with --json prints the stats with fatal.code when the token is wrong', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Ada', email: 'ada@example.com', portal_role: 'member' });
  const dir = tempDir(t);
  const file = join(dir, 'admins.csv');
  writeFileSync(file, 'email\nada@example.com\n');
  const planned = await runCli(['update', file, '--set', 'portal_role=admin', '--plan-out', join(dir, 'roles.plan'), '-q', '--rate', FAST_RATE], { env: envFor(emulator) });
  t.is(planned.code, 0, planned.stderr);
  const result = await runCli(['apply', join(dir, 'roles.plan'), '--json', '-q', '--yes', '--rate', FAST_RATE], { env: envFor(emulator, WRONG) });
  t.is(result.code, 1, result.stderr);
  t.is(statsOf(result).fatal?.code, 'PYLON_AUTH');
  t.regex(result.stderr, /fatal \(PYLON_AUTH\): GET \/me failed with 401/);
  t.is(writes(emulator), 0);
});

test('nothing listening at the base URL: --json prints the stats with fatal.code PYLON_NETWORK', async (t) => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const file = input(t, contactsCsv(2));
  for (const args of [['import', file, '--dry-run'], ['import', file]]) {
    const result = await runCli([...args, '--json', '-q', '--rate', FAST_RATE], { env: envFor({ url }) });
    t.is(result.code, 1, result.stderr);
    t.is(statsOf(result).fatal?.code, 'PYLON_NETWORK', args.join(' '));
    t.regex(result.stderr, /fatal \(PYLON_NETWORK\): .*ECONNREFUSED/);
  }
});

test('library: runImport and runUpdate resolve with stats.fatal for a wrong token; a bad option still throws ConfigError', async (t) => {
  const emulator = await startEmulator(t);
  const file = input(t, contactsCsv(3));
  const options = resolveImportOptions({ input: file, baseUrl: emulator.url, token: WRONG, rate: FAST_RATE });
  const stats = await runImport(options);
  t.is(stats.fatal?.code, 'PYLON_AUTH');
  t.like(stats, { total: 0, created: 0, errorsPath: null });
  const client = createPylonClient({ baseUrl: emulator.url, token: WRONG });
  try {
    const result = await runUpdate({ import: resolveImportOptions({ input: file, baseUrl: emulator.url, token: WRONG, mode: 'update', set: { portal_role: 'admin' } }) }, { client });
    t.is((result.stats ?? result.plan.stats).fatal?.code, 'PYLON_AUTH');
  } finally {
    client.close?.();
  }
  t.throws(() => resolveImportOptions({ input: file, baseUrl: emulator.url, token: TOKEN, concurrency: 0 }), { name: 'ConfigError' });
  t.is(writes(emulator), 0);
});
