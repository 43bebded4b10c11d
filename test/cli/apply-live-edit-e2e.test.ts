/**
 * An edit made while `apply` runs: the run reads its contacts' live values in batches, then
 * PATCHes them one by one at the paced rate, minutes later for the last of a big batch. Pylon
 * has no conditional PATCH, so apply reads each contact again just before its PATCH: an edit
 * made after the batch read is ROW_DRIFTED and kept, and the undo file records the values each
 * PATCH really replaced. The run is held at a known point by a proxy (never by time).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Contact } from '../../src/pylon/types.js';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';
import { client } from '../helpers/with-emulator.js';
import { seedContacts } from '../update/seed.js';

// One contact at a time: each contact's turn (its read, its PATCH) comes after the PATCHes before it.
const ONE_BY_ONE = ['--rate', FAST_RATE, '--concurrency', '1'];
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

test('apply: a contact edited after the batch read, before its PATCH, is ROW_DRIFTED and kept; the undo file holds only what the PATCHes replaced', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 60);
  const dir = tempDir(t, 'pylon-apply-live-');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const chosen = [...emulator.store.all()].filter((c) => c.portal_role === 'member').slice(0, 12) as Contact[];
  t.is(chosen.length, 12);
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...chosen.map((c) => c.email)].join('\n') + '\n');
  // The first PATCH is held: by then the batch read has read every contact, the victim (the last) as "member".
  // (The plan is made through the proxy too: apply refuses a plan made for another host.)
  const proxy = await stallProxy(t, emulator, (method) => method === 'PATCH');
  const viaProxy = { ...env, ...envFor(proxy) };
  const planPath = join(dir, 'plan.json');
  const planned = await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', planPath, ...ONE_BY_ONE], { env: viaProxy });
  t.is(planned.code, 0, planned.stderr);

  const results = join(dir, 'results.csv');
  const run = spawnCli(['apply', planPath, '--yes', '--json', '--results', results, ...ONE_BY_ONE], { env: viaProxy });
  await Promise.race([proxy.reached, run.result]);
  t.is(emulator.stats().requests.patch, 0, 'held at the first PATCH');
  const victim = chosen[chosen.length - 1];
  t.is((await client(emulator).patch(`/contacts/${victim.id}`, { portal_role: 'no_access' })).status, 200);
  proxy.release();
  const applied = await run.result;

  t.is(applied.code, 3, applied.stderr);
  t.like(statsOf<{ updated: number; failed: number; drifted: number }>(applied), { updated: 11, failed: 1, drifted: 1 });
  t.is(emulator.store.get(victim.id)?.portal_role, 'no_access', 'the edit made during the run stands');
  for (const c of chosen.slice(0, -1)) t.is(emulator.store.get(c.id)?.portal_role, 'admin');
  const errors = readCsv(join(dir, 'plan.errors.csv'));
  t.like(errors, [{ id: victim.id, _error_code: 'ROW_DRIFTED', _error_field: 'portal_role' }]);
  t.regex(errors[0]._error_message, /portal_role is now "no_access", the plan expected "member"/);
  const undo = readCsv(join(dir, 'plan.undo.csv'));
  t.deepEqual(
    undo.map((r) => r.id),
    chosen.slice(0, -1).map((c) => c.id),
    'one undo row per contact patched, none for the drifted one',
  );
  t.true(undo.every((r) => r.portal_role === 'member'));
  t.like(readCsv(results).find((r) => r._contact_id === victim.id), { _action: 'failed' });
});

test('update: a contact edited after the lookup, before its PATCH, is ROW_DRIFTED and kept; the dry run counts the extra GETs', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 60);
  const dir = tempDir(t, 'pylon-update-live-');
  const chosen = [...emulator.store.all()].filter((c) => c.portal_role === 'member').slice(0, 12) as Contact[];
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...chosen.map((c) => c.email)].join('\n') + '\n');
  const proxy = await stallProxy(t, emulator, (method) => method === 'PATCH');
  const env = { ...envFor(proxy), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const args = ['update', input, '--set', 'portal_role=admin', '--yes', '--json', ...ONE_BY_ONE];

  const dry = await runCli([...args, '--dry-run'], { env });
  t.is(dry.code, 0, dry.stderr);
  t.like(statsOf<{ plannedCalls: Record<string, number> }>(dry).plannedCalls, { patch: 12, get: 12 });

  const run = spawnCli(args, { env });
  await Promise.race([proxy.reached, run.result]);
  const victim = chosen[chosen.length - 1];
  t.is((await client(emulator).patch(`/contacts/${victim.id}`, { portal_role: 'no_access' })).status, 200);
  proxy.release();
  const updated = await run.result;
  t.is(updated.code, 3, updated.stderr);
  t.like(statsOf<{ updated: number; failed: number }>(updated), { updated: 11, failed: 1 });
  t.is(emulator.store.get(victim.id)?.portal_role, 'no_access', 'the edit made during the run stands');
  const errors = readCsv(join(dir, 'admins.errors.csv'));
  t.like(errors, [{ email: victim.email!, _error_code: 'ROW_DRIFTED', _error_field: 'portal_role' }]);
  const undo = readCsv(join(dir, 'admins.undo.csv'));
  t.deepEqual(undo.map((r) => r.id), chosen.slice(0, -1).map((c) => c.id));
  t.true(undo.every((r) => r.portal_role === 'member'));
});
