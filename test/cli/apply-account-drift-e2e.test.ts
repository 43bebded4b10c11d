/**
 * A plan that sets an account by its external id records the account it replaces by its external id,
 * and an account without one (or no account) is "" either way. So `show` printed a move off such an
 * account as `(empty) → "acme"`, as if the contact had none, and `apply` took a contact moved to
 * such an account since the plan for unchanged and moved it on. Now `show` names that account by its
 * id, and `apply` compares the account replaced by id too: ROW_DRIFTED, left where it was put.
 * Against a server whose PATCH answers 204 with no body and whose last page cursor is null
 * (non-default switches).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNTS } from '../../src/emulator/index.js';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { client } from '../helpers/with-emulator.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
const [ACME, , , UMBRELLA] = DEFAULT_ACCOUNTS.map((a) => a.id);

test('apply: a contact moved since the plan to an account without an external id is ROW_DRIFTED and stays there; show names the account a move leaves', async (t) => {
  const emulator = await startEmulator(t, { patchAnswer: 'no-content', lastPageCursor: 'null' });
  t.is(DEFAULT_ACCOUNTS[3].external_ids?.length ?? 0, 0, 'Umbrella has no external id');
  const onUmbrella = emulator.store.create({ name: 'On Umbrella', email: 'u@acme.example', accountId: UMBRELLA }).id;
  const movedSince = emulator.store.create({ name: 'Moved since', email: 'm@acme.example' }).id;
  const none = emulator.store.create({ name: 'No account', email: 'n@acme.example' }).id;
  const dir = tempDir(t, 'pylon-apply-account-');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const input = join(dir, 'acme.csv');
  writeFileSync(input, 'email,account_external_id\nu@acme.example,acme\nm@acme.example,acme\nn@acme.example,acme\n');
  const planPath = join(dir, 'plan.json');
  const planned = await runCli(['update', input, '--plan-out', planPath, ...FAST], { env });
  t.is(planned.code, 0, planned.stderr);

  const shown = await runCli(['show', planPath], { env });
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, new RegExp(`u@acme\\.example \\(${onUmbrella}\\), line 2\\n\\s+account_external_id: "account ${UMBRELLA} \\(no external id\\)" → "acme"`), 'the account the contact leaves is named');
  t.regex(shown.stdout, new RegExp(`n@acme\\.example \\(${none}\\), line 4\\n\\s+account_external_id: \\(empty\\) → "acme"`));

  // Since the plan: another client put one contact on Umbrella.
  t.is((await client(emulator).patch(`/contacts/${movedSince}`, { account_id: UMBRELLA })).status, 204);

  const applied = await runCli(['apply', planPath, '--yes', '--json', ...FAST], { env });
  t.is(applied.code, 3, applied.stderr);
  t.like(statsOf<{ updated: number; failed: number; drifted: number }>(applied), { updated: 2, failed: 1, drifted: 1 });
  t.is(emulator.store.get(movedSince)?.account?.id, UMBRELLA, 'the account given since the plan stands');
  t.is(emulator.store.get(onUmbrella)?.account?.id, ACME);
  t.is(emulator.store.get(none)?.account?.id, ACME);
  const errors = readCsv(join(dir, 'plan.errors.csv'));
  t.like(errors, [{ id: movedSince, _error_code: 'ROW_DRIFTED', _error_field: 'account_external_id', _line: '3' }]);
  t.regex(errors[0]._error_message, new RegExp(`account_external_id is now "account ${UMBRELLA} \\(no external id\\)", the plan expected ""`));
  // The undo file puts each contact back on its account of before, by id.
  const undo = readCsv(join(dir, 'plan.undo.csv'));
  t.deepEqual(undo.map((r) => [r.id, r.account_id]).sort(), [[onUmbrella, UMBRELLA], [none, '#N/A']].sort());
});
