/**
 * A write the server refuses (400), for a value the CLI's own checks let through: the error report's
 * `_error_field` names the column to fix, taken from the server's words. The built CLI in a child
 * process against the emulator on a real socket.
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNTS, type Emulator } from '../../src/emulator/index.js';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

/** A proxy that deletes `account` (DELETE /accounts/{id}, as another user would in Pylon) when the first contact write comes, after the run checked it. */
async function deletingAccountAtFirstWrite(t: ExecutionContext, emulator: Emulator, account: string) {
  let deleted: Promise<unknown> | undefined;
  return startFaultProxy(t, emulator, async ({ method, path }) => {
    if ((method === 'POST' || method === 'PATCH') && path.startsWith('/contacts') && !path.startsWith('/contacts/search')) {
      deleted ??= fetch(`${emulator.url}/accounts/${account}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => t.is(r.status, 200));
      await deleted;
    }
    return undefined;
  });
}

test('import: the account a row names is deleted after the run checked it; Pylon refuses the create and the update, and the report names account_id for both', async (t) => {
  const emulator = await startEmulator(t);
  const account = DEFAULT_ACCOUNTS[0]!.id;
  const existing = emulator.store.insert({ name: 'Old', email: 'old@acct.test' });
  const proxy = await deletingAccountAtFirstWrite(t, emulator, account);
  const dir = tempDir(t);
  const file = join(dir, 'accounts.csv');
  writeFileSync(file, `name,email,account_id\nNew,new@acct.test,${account}\nOld,old@acct.test,${account}\n`);
  const run = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--concurrency', '1'], { env: envFor(proxy) });
  t.is(run.code, 3, run.stderr);
  t.like(statsOf(run), { total: 2, created: 0, updated: 0, failed: 2 });
  const rows = readCsv(join(dir, 'accounts.errors.csv'));
  t.deepEqual(rows.map((r) => [r.email, r._line, r._error_code, r._error_field, r._http_status]), [
    ['new@acct.test', '2', 'ROW_API_REJECTED', 'account_id', '400'],
    ['old@acct.test', '3', 'ROW_API_REJECTED', 'account_id', '400'],
  ]);
  for (const row of rows) t.is(row._error_message, `No account with id "${account}"`);
  t.is(emulator.store.findByEmail('new@acct.test'), undefined, 'nothing created');
  t.is(emulator.store.get(existing.id)?.account, undefined, 'nothing written');
});

test('update by id: the account is deleted after the run checked it; the PATCH is refused and the report names account_id', async (t) => {
  const emulator = await startEmulator(t);
  const account = DEFAULT_ACCOUNTS[0]!.id;
  const kept = emulator.store.insert({ name: 'Ada', email: 'ada@acct.test' });
  const proxy = await deletingAccountAtFirstWrite(t, emulator, account);
  const dir = tempDir(t);
  const file = join(dir, 'accounts.csv');
  writeFileSync(file, `id,account_id\n${kept.id},${account}\n`);
  const run = await runCli(['update', file, '--json', '-q', '--rate', FAST_RATE, '--yes'], { env: envFor(proxy) });
  t.is(run.code, 3, run.stderr);
  const rows = readCsv(join(dir, 'accounts.errors.csv'));
  t.deepEqual(rows.map((r) => [r.id, r._line, r._error_code, r._error_field, r._http_status]), [[kept.id, '2', 'ROW_API_REJECTED', 'account_id', '400']]);
  t.is(emulator.store.get(kept.id)?.account, undefined, 'nothing written');
});

test('import --lenient: values the server refuses name their column (a custom field by its column, email, portal role)', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'lenient.csv');
  writeFileSync(file, [
    'name,email,portal_role,custom.seats',
    'Seats Bad,seats@lenient.test,,twelve',
    'Mail Bad,mail@localhost,,',
    'Role Bad,role@lenient.test,superuser,',
    'Fine,fine@lenient.test,member,12',
  ].join('\n') + '\n');
  const run = await runCli(['import', file, '--json', '-q', '--rate', FAST_RATE, '--lenient'], { env: envFor(emulator) });
  t.is(run.code, 3, run.stderr);
  t.like(statsOf(run), { total: 4, created: 1, failed: 3 });
  const rows = readCsv(join(dir, 'lenient.errors.csv'));
  t.deepEqual(rows.map((r) => [r._line, r._error_code, r._error_field, r._http_status]), [
    ['2', 'ROW_API_REJECTED', 'custom.seats', '400'],
    ['3', 'ROW_API_REJECTED', 'email', '400'],
    ['4', 'ROW_API_REJECTED', 'portal_role', '400'],
  ]);
  t.deepEqual([...emulator.store.all()].map((c) => [c.email, c.portal_role, c.custom_fields?.seats?.value]), [['fine@lenient.test', 'member', '12']], 'only the fine row was written, as it was');
});
