/**
 * A row setting an `account_id` no account has: the dry run and the real run both fail it
 * ROW_ACCOUNT_NOT_FOUND with `_error_field` account_id (the dry run counted it as a create, and the
 * real run then failed it ROW_API_REJECTED with the field empty), as an unknown account_external_id is.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';
import { DEFAULT_ACCOUNTS } from '../../src/emulator/default-org.js';

test('import: an account_id no account has fails its row ROW_ACCOUNT_NOT_FOUND (field account_id) in the dry run and the real run alike', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'acc.csv');
  const known = DEFAULT_ACCOUNTS[0]!.id;
  writeFileSync(file, `email,name,account_id\nzz1@ex.com,Z One,00000000-0000-4000-8000-000000000000\nzz2@ex.com,Z Two,${known}\n`);
  for (const args of [['--dry-run'], []]) {
    const run = await runCli(['import', file, '--json', '--no-undo', '--rate', FAST_RATE, ...args], { env: envFor(emulator) });
    t.is(run.code, 3, run.stderr);
    t.like(statsOf(run), { total: 2, created: 1, failed: 1 }, args.join(' '));
    const report = parse(readFileSync(join(dir, 'acc.errors.csv')), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.like(report, [{ email: 'zz1@ex.com', _line: '2', _error_code: 'ROW_ACCOUNT_NOT_FOUND', _error_field: 'account_id' }], args.join(' '));
    t.regex(report[0]!._error_message!, /No account has id 00000000-0000-4000-8000-000000000000/);
  }
  const created = [...emulator.store.all()];
  t.deepEqual(created.map((c) => [c.email, c.account?.id]), [['zz2@ex.com', known]]);
});

test('import: a server that answers GET /accounts/{id} 400 or 422 (an id not in its form) fails those rows ROW_ACCOUNT_NOT_FOUND; the run goes on', async (t) => {
  const emulator = await startEmulator(t);
  const refused: Record<string, string> = { '/accounts/not-a-uuid': 'status=400', '/accounts/bad%20ext': 'status=422' };
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => (method === 'GET' ? refused[path] : undefined));
  const dir = tempDir(t);
  const file = join(dir, 'form.csv');
  writeFileSync(file, 'email,name,account_id,account_external_id\nf1@ex.com,F One,not-a-uuid,\nf2@ex.com,F Two,,bad ext\nf3@ex.com,F Three,,\n');
  const run = await runCli(['import', file, '--json', '--no-undo', '--rate', FAST_RATE], { env: envFor(proxy) });
  t.is(run.code, 3, run.stderr);
  t.like(statsOf(run), { total: 3, created: 1, failed: 2 });
  const report = parse(readFileSync(join(dir, 'form.errors.csv')), { columns: true, bom: true }) as Array<Record<string, string>>;
  t.deepEqual(report.map((r) => [r.email, r._line, r._error_code, r._error_field]), [
    ['f1@ex.com', '2', 'ROW_ACCOUNT_NOT_FOUND', 'account_id'],
    ['f2@ex.com', '3', 'ROW_ACCOUNT_NOT_FOUND', 'account_external_id'],
  ]);
  t.deepEqual([...emulator.store.all()].map((c) => c.email), ['f3@ex.com']);
});
