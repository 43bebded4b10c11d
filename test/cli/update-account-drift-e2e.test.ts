/**
 * `update` reads each contact again just before its PATCH and leaves one changed since its lookup
 * (ROW_DRIFTED). An account set by its external id was compared by the external id of the account
 * it replaces, and an account without one (or no account) is "" either way: a contact put on such
 * an account while the run went was moved on. Now the account replaced is compared by its id too.
 * The run is held at its first PATCH by a proxy (never by time); the server's email search is
 * case-sensitive and it allows duplicate emails (non-default switches).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNTS } from '../../src/emulator/index.js';
import { FAST_RATE, envFor, spawnCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';
import { client } from '../helpers/with-emulator.js';

const ONE_BY_ONE = ['--rate', FAST_RATE, '--concurrency', '1'];
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
const [ACME, , , UMBRELLA] = DEFAULT_ACCOUNTS.map((a) => a.id);

test('update: a contact put on an account without an external id after the lookup, before its PATCH, is ROW_DRIFTED and stays there', async (t) => {
  const emulator = await startEmulator(t, { emailMatch: 'sensitive', duplicateEmail: 'allow' });
  const ids = [1, 2, 3, 4].map((i) => emulator.store.create({ name: `P${i}`, email: `p${i}@nowhere.example` }).id);
  const dir = tempDir(t, 'pylon-update-account-');
  const input = join(dir, 'acme.csv');
  writeFileSync(input, 'email,account_external_id\n' + ids.map((_, i) => `p${i + 1}@nowhere.example,acme\n`).join(''));
  const proxy = await stallProxy(t, emulator, (method) => method === 'PATCH');
  const env = { ...envFor(proxy), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };

  const run = spawnCli(['update', input, '--yes', '--json', ...ONE_BY_ONE], { env });
  await Promise.race([proxy.reached, run.result]);
  t.is(emulator.stats().requests.patch, 0, 'held at the first PATCH');
  const victim = ids[ids.length - 1];
  t.is((await client(emulator).patch(`/contacts/${victim}`, { account_id: UMBRELLA })).status, 200);
  proxy.release();
  const updated = await run.result;

  t.is(updated.code, 3, updated.stderr);
  t.like(statsOf<{ updated: number; failed: number }>(updated), { updated: 3, failed: 1 });
  t.is(emulator.store.get(victim)?.account?.id, UMBRELLA, 'the account given during the run stands');
  for (const id of ids.slice(0, -1)) t.is(emulator.store.get(id)?.account?.id, ACME);
  const errors = readCsv(join(dir, 'acme.errors.csv'));
  t.like(errors, [{ email: 'p4@nowhere.example', _error_code: 'ROW_DRIFTED', _error_field: 'account_external_id' }]);
  t.regex(errors[0]._error_message, new RegExp(`account_external_id is now "account ${UMBRELLA} \\(no external id\\)", the run read ""`));
});
