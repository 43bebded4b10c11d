/**
 * A saved plan names each contact by its id and its primary email: that is what the reviewer read
 * (`show`: `one@… (id) portal_role: "member" → "admin"`). A contact whose primary email changed since
 * the plan (its record reassigned to another person, merged, its address taken over) is no longer the
 * contact reviewed, even though the field the plan sets still holds the planned `from`: `apply`
 * leaves it as it is (ROW_DRIFTED on `email`, naming both addresses) and applies the rest; `--force
 * --only` applies it anyway. Before, the role was granted to whoever the contact had become.
 * Against a server whose PATCH email keeps the old primary as a secondary address and whose email
 * search is case-sensitive (non-default switches), so the old address is still on the contact.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { client } from '../helpers/with-emulator.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

test('apply: a contact whose primary email changed since the plan is ROW_DRIFTED and keeps its role; one only re-cased is applied; --force --only applies it', async (t) => {
  const emulator = await startEmulator(t, { patchEmail: 'demote', emailMatch: 'sensitive' });
  const ids = ['a', 'b', 'c'].map((k) => emulator.store.create({ name: `Person ${k}`, email: `${k}@acme.example`, portal_role: 'member' }).id);
  const dir = tempDir(t, 'pylon-apply-identity-');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const input = join(dir, 'admins.csv');
  writeFileSync(input, 'email,portal_role\na@acme.example,admin\nb@acme.example,admin\nc@acme.example,admin\n');
  const planPath = join(dir, 'plan.json');
  const planned = await runCli(['update', input, '--plan-out', planPath, ...FAST], { env });
  t.is(planned.code, 0, planned.stderr);

  // Since the plan: a's record now belongs to someone else (its old address kept as a secondary one by this server);
  // b's address only changed case, which is the same address.
  const api = client(emulator);
  t.is((await api.patch(`/contacts/${ids[0]}`, { email: 'mallory@other.example', name: 'Mallory' })).status, 200);
  t.deepEqual(emulator.store.get(ids[0])?.emails, ['mallory@other.example', 'a@acme.example']);
  t.is((await api.patch(`/contacts/${ids[1]}`, { emails: [{ email: 'B@Acme.example', is_primary: true }] })).status, 200);

  const applied = await runCli(['apply', planPath, '--yes', '--json', ...FAST], { env });
  t.is(applied.code, 3, applied.stderr);
  t.like(statsOf<{ updated: number; failed: number; drifted: number }>(applied), { updated: 2, failed: 1, drifted: 1 });
  t.is(emulator.store.get(ids[0])?.portal_role, 'member', 'the contact that is no longer the one reviewed keeps its role');
  t.is(emulator.store.get(ids[0])?.email, 'mallory@other.example');
  t.is(emulator.store.get(ids[1])?.portal_role, 'admin', 'an address that changed case only is the same contact');
  t.is(emulator.store.get(ids[2])?.portal_role, 'admin');
  const errors = readCsv(join(dir, 'plan.errors.csv'));
  t.is(errors.length, 1);
  t.like(errors[0], { id: ids[0], email: 'a@acme.example', portal_role: 'admin', _error_code: 'ROW_DRIFTED', _error_field: 'email', _line: '2' });
  t.regex(errors[0]._error_message, /primary email is now "mallory@other\.example", not "a@acme\.example" as when the plan was made/);
  const undo = readCsv(join(dir, 'plan.undo.csv'));
  t.deepEqual(undo.map((r) => [r.id, r.portal_role]).sort(), [[ids[1], 'member'], [ids[2], 'member']].sort());

  // Applied again: nothing written for the others; the drifted one still refused.
  const patchesBefore = emulator.stats().requests.patch;
  const again = await runCli(['apply', planPath, '--yes', '--json', '--errors', join(dir, 'again.errors.csv'), '--no-undo', ...FAST], { env });
  t.is(again.code, 3, again.stderr);
  t.like(statsOf<{ updated: number; unchanged: number; failed: number }>(again), { updated: 0, unchanged: 2, failed: 1 });
  t.is(emulator.stats().requests.patch, patchesBefore, 'a second apply writes nothing');

  // The reviewer decides it is still the right contact: --force --only applies exactly that one.
  const forced = await runCli(['apply', planPath, '--yes', '--json', '--force', '--only', join(dir, 'plan.errors.csv'), '--undo', join(dir, 'forced.undo.csv'), ...FAST], { env });
  t.is(forced.code, 0, forced.stderr);
  t.like(statsOf<{ updated: number; failed: number }>(forced), { updated: 1, failed: 0 });
  t.is(emulator.store.get(ids[0])?.portal_role, 'admin');
});
