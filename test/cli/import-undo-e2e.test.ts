/**
 * `import` keeps an undo file like `update` (one engine: withUndoRun, the journal's
 * `sent` entries): the built CLI in a child process against an emulator in this
 * process. An upsert that changes existing contacts writes the values it replaced;
 * `update <undo file>` restores them exactly and leaves a contact edited since as
 * it is (ROW_DRIFTED); a kill -9 and `--resume` still end with one undo file holding
 * every change; created contacts are not in it (an undo never deletes).
 */
import test from 'ava';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Emulator } from '../../src/emulator/index.js';
import type { ImportStats } from '../../src/import/run-import.js';
import type { Contact } from '../../src/pylon/types.js';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir, type CliResult } from '../helpers/cli.js';
import { GLOBEX_ACCOUNT, seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '8'];
/** PATCH paced at 40 a second: a 200-contact run lasts seconds, long enough to be killed mid-way. */
const SLOW = ['--rate', FAST_RATE.replace(/patch=\d+/, 'patch=40'), '--rate-window', '1000', '--concurrency', '4'];
const COUNT = 200;

const snapshot = (emulator: Emulator): Contact[] => structuredClone([...emulator.store.all()]);
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
const undoFilesIn = (dir: string) => readdirSync(dir).filter((f) => f.includes('.undo'));

function summary(result: CliResult): ImportStats {
  const line = result.stdout.trim().split('\n').pop();
  if (!line) throw new Error(`no --json summary on stdout (exit ${result.code}):\n${result.stderr}`);
  return JSON.parse(line) as ImportStats;
}

async function seeded(t: Parameters<typeof startEmulator>[0]) {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, COUNT);
  return { emulator, dir: tempDir(t, 'pylon-import-undo-e2e-'), env: envFor(emulator) };
}

/**
 * An upsert of `existing` (every one gets a new name, and a mix of role, tier,
 * interests, phones and account by external id) and of `creates` new contacts.
 */
function upsertCsv(existing: Contact[], creates: number): string {
  const rows = existing.map((c, i) => [
    c.email!,
    `Renamed ${i}`,
    ['admin', 'member', 'no_access'][i % 3],
    i % 4 === 0 ? 'gold' : '',
    i % 5 === 0 ? 'billing;mobile' : '',
    i % 6 === 0 ? `1444${String(i).padStart(7, '0')}` : '',
    i % 7 === 0 ? 'initech' : '',
  ]);
  for (let i = 0; i < creates; i++) rows.push([`new${i}@fresh.example`, `New ${i}`, 'member', '', '', '', '']);
  return stringify([['email', 'name', 'portal_role', 'custom.tier', 'custom.interests', 'phone_numbers', 'account_external_id'], ...rows]);
}

/** The store's contacts that existed before the import, by id. */
const byId = (contacts: Contact[]) => new Map(contacts.map((c) => [c.id, c]));

test('an upsert writes an undo file; update <undo file> restores every contact exactly, leaves the one a colleague edited since (ROW_DRIFTED) and the created ones', async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  const existing = before.slice(0, 150);
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, upsertCsv(existing, 20));
  const results = join(dir, 'results.csv');

  const imported = await runCli(['import', input, '--results', results, ...FAST, '--json'], { env });
  t.is(imported.code, 0, imported.stderr);
  const stats = summary(imported);
  t.is(stats.updated, 150);
  t.is(stats.created, 20);
  const undo = join(dir, 'contacts.undo.csv');
  t.is(stats.undoPath, undo, 'the undo file defaults to <input>.undo.csv');
  t.regex(imported.stderr, new RegExp(`undo file: ${undo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  t.regex(imported.stderr, /created contacts: 20, not in the undo file .*their ids are in .*results\.csv/);
  const rows = readCsv(undo);
  t.is(rows.length, 150, 'one undo row per updated contact, none for the created ones');
  t.deepEqual(rows.map((r) => r.id).sort(), existing.map((c) => c.id).sort());
  t.is(readCsv(results).filter((r) => r._action === 'created').length, 20, 'the created ids are in --results');

  // A colleague edits one of the imported contacts afterwards.
  const edited = existing[5];
  const res = await fetch(`${emulator.url}/contacts/${edited.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${env.PYLON_API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: "A colleague's edit" }) });
  t.is(res.status, 200);
  const afterImport = byId(snapshot(emulator));

  const back = await runCli(['update', undo, ...FAST, '--json'], { env });
  t.is(back.code, 3, back.stderr);
  t.is(summary(back).updated, 149);
  t.is((summary(back) as ImportStats & { drifted?: number }).drifted, 1);
  const errors = readCsv(join(dir, 'contacts.undo.errors.csv'));
  t.deepEqual(errors.map((e) => [e.id, e._error_code]), [[edited.id, 'ROW_DRIFTED']]);

  const now = byId(snapshot(emulator));
  for (const c of before) {
    if (c.id === edited.id) t.deepEqual(now.get(c.id), afterImport.get(c.id), "the colleague's edit (and that contact) is left as it is");
    else t.deepEqual(now.get(c.id), c, `contact ${c.email} is restored exactly`);
  }
  t.is(now.size, COUNT + 20, 'the created contacts stay: an undo never deletes');
});

test('import killed by kill -9 mid-way, then --resume: one undo file holds every change and restores the store', async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  const input = join(dir, 'all.csv');
  writeFileSync(input, upsertCsv(before, 10));
  const journal = join(dir, '.all.journal.jsonl');
  const args = ['import', input, '--json'];

  // Killed once the journal holds 20 PATCHes about to go out: some landed, some may be in flight.
  const run = spawnCli([...args, ...SLOW], { env });
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      const sent = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter((l) => l.includes('"t":"sent"') && l.includes('"changes"')).length : 0;
      if (sent >= 20) resolve();
    }, 10);
  });
  await Promise.race([reached, run.result]).finally(() => clearInterval(timer));
  run.child.kill('SIGKILL');
  const first = await run.result;
  t.is(first.signal, 'SIGKILL', `${first.code} ${first.stderr}`);
  t.true(existsSync(journal));
  t.true(snapshot(emulator).some((c) => c.name?.startsWith('Person')), 'the kill left contacts to change');
  // A plain re-run beside the journal is refused, and leaves the interrupted run's undo file for its --resume.
  const again = await runCli([...args, ...FAST], { env });
  t.is(again.code, 2, again.stderr);
  t.regex(again.stderr, /Use --resume/);

  const resumed = await runCli([...args, ...FAST, '--resume'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  t.is(summary(resumed).created + summary(resumed).updated, COUNT + 10);
  t.false(existsSync(journal), 'the completed run removed its journal');
  t.deepEqual(undoFilesIn(dir), ['all.undo.csv'], 'one undo file, no side files left');
  const rows = readCsv(join(dir, 'all.undo.csv'));
  t.is(rows.length, COUNT, 'one row for every contact the runs changed');
  t.deepEqual(rows.map((r) => r.id).sort(), before.map((c) => c.id).sort());

  const back = await runCli(['update', join(dir, 'all.undo.csv'), ...FAST, '--json'], { env });
  t.is(back.code, 0, back.stderr);
  const now = byId(snapshot(emulator));
  for (const c of before) t.deepEqual(now.get(c.id), c, `contact ${c.email} is restored exactly`);
});

test('--no-undo writes none, a second identical import (nothing changes) none, a dry run none; --undo naming the input is refused', async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const input = join(dir, 'few.csv');
  writeFileSync(input, upsertCsv(snapshot(emulator).slice(0, 30), 0));

  const dry = await runCli(['import', input, '--dry-run', ...FAST], { env });
  t.is(dry.code, 0, dry.stderr);
  t.deepEqual(undoFilesIn(dir), [], 'a dry run writes no undo file');

  const refused = await runCli(['import', input, '--undo', input, ...FAST], { env });
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /Invalid option `--undo`: .*few\.csv is the input file this run reads/);

  const none = await runCli(['import', input, '--no-undo', ...FAST, '--json'], { env });
  t.is(none.code, 0, none.stderr);
  t.is(summary(none).updated, 30);
  t.is(summary(none).undoPath, undefined);
  t.deepEqual(undoFilesIn(dir), [], '--no-undo writes no undo file');
  t.notRegex(none.stderr, /undo file/);

  const again = await runCli(['import', input, ...FAST, '--json'], { env });
  t.is(again.code, 0, again.stderr);
  t.is(summary(again).unchanged, 30);
  t.is(summary(again).undoPath, undefined);
  t.deepEqual(undoFilesIn(dir), [], 'an import that changes nothing leaves no undo file');
});

test('a migration (--from hubspot) keeps an undo file: names, the matched accounts and the external ids it added are restored; a contact whose added id was changed since is left as it is (ROW_DRIFTED)', async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  const existing = before.slice(0, 40);
  const input = join(dir, 'hubspot.csv');
  writeFileSync(
    input,
    stringify([
      ['Record ID', 'First Name', 'Last Name', 'Email', 'Company Name'],
      ...existing.map((c, i) => [String(9000 + i), 'Migrated', String(i), c.email!, 'Globex Corporation']),
    ]),
  );
  const imported = await runCli(['import', input, '--from', 'hubspot', ...FAST, '--json'], { env });
  t.is(imported.code, 0, imported.stderr);
  t.is(summary(imported).updated, 40);
  // The undo file puts everything back: the summary names no exception.
  t.is(summary(imported).undoKeepsExternalIds, undefined);
  t.regex(imported.stderr, /undo file: .*hubspot\.undo\.csv \(pylon-contacts update .* restores the previous values\)\n/);
  const undo = join(dir, 'hubspot.undo.csv');
  t.true(existsSync(undo));
  const withoutAccount = existing.filter((c) => !c.account?.id);
  t.true(withoutAccount.length > 0);
  t.true(withoutAccount.every((c) => snapshot(emulator).find((s) => s.id === c.id)?.account?.id === GLOBEX_ACCOUNT), 'the migration gave contacts without an account the matched one');
  for (const c of existing) {
    const added = snapshot(emulator).find((s) => s.id === c.id)!.external_ids;
    t.deepEqual(added, [...(c.external_ids ?? []), { external_id: String(9000 + existing.indexOf(c)), label: 'hubspot' }], 'the migration added the record id');
  }
  // A colleague gives the first contact another HubSpot id afterwards.
  const edited = existing[0]!;
  const editedIds = [...(edited.external_ids ?? []), { external_id: '9999', label: 'hubspot' }];
  const res = await fetch(`${emulator.url}/contacts/${edited.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${env.PYLON_API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ external_ids: editedIds }) });
  t.is(res.status, 200);

  const back = await runCli(['update', undo, ...FAST, '--json'], { env });
  t.is(back.code, 3, back.stderr);
  t.like(summary(back), { updated: 39, failed: 1 });
  const now = byId(snapshot(emulator));
  for (const c of existing.slice(1)) t.deepEqual(now.get(c.id), c, `contact ${c.email}: name, account and external ids restored`);
  t.deepEqual(now.get(edited.id)?.external_ids, editedIds, "the colleague's id is left as it is");
  const errors = readCsv(join(dir, 'hubspot.undo.errors.csv'));
  t.deepEqual(errors.map((e) => [e.id, e._error_code, e._error_field]), [[edited.id, 'ROW_DRIFTED', 'external_id']]);
});

test('a migration that replaced an external id, or changed an email through one, gets both back from its undo file; one edited since is left as it is (ROW_DRIFTED)', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-import-undo-e2e-');
  const env = envFor(emulator);
  const header = ['Record ID', 'First Name', 'Last Name', 'Email'];
  const first = join(dir, 'a.csv');
  writeFileSync(first, stringify([header, ['3151', 'Una', 'Do', 'una.do@acme.example'], ['3161', 'Vic', 'Ray', 'vic@acme.example'], ['3171', 'Wes', 'Lo', 'wes@acme.example']]));
  const created = await runCli(['import', first, '--from', 'hubspot', ...FAST, '--json'], { env });
  t.is(created.code, 0, created.stderr);
  const before = byId(snapshot(emulator));
  // Una and Wes are found by their email and get another record's id; Vic is found by his id and gets another email.
  const second = join(dir, 'b.csv');
  writeFileSync(second, stringify([header, ['3152', 'Una', 'Do', 'una.do@acme.example'], ['3161', 'Vic', 'Ray', 'vic.ray@acme.example'], ['3172', 'Wes', 'Lo', 'wes@acme.example']]));
  const imported = await runCli(['import', second, '--from', 'hubspot', ...FAST, '--json'], { env });
  t.is(imported.code, 0, imported.stderr);
  t.is(summary(imported).updated, 3);
  t.regex(imported.stderr, /undo file: .*b\.undo\.csv \(pylon-contacts update .* restores the previous values\)\n/);
  const wes = emulator.store.findByEmail('wes@acme.example')!;
  // A colleague gives Wes yet another id afterwards.
  const res = await fetch(`${emulator.url}/contacts/${wes.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${env.PYLON_API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ external_ids: [{ external_id: '3179', label: 'hubspot' }] }) });
  t.is(res.status, 200);

  const back = await runCli(['update', join(dir, 'b.undo.csv'), ...FAST, '--json'], { env });
  t.is(back.code, 3, back.stderr);
  t.like(summary(back), { updated: 2, failed: 1 });
  const now = byId(snapshot(emulator));
  const una = emulator.store.findByEmail('una.do@acme.example')!;
  t.deepEqual(now.get(una.id), before.get(una.id), 'Una has her id 3151 back');
  const vic = [...before.values()].find((c) => c.name === 'Vic Ray')!;
  t.deepEqual(now.get(vic.id), vic, 'Vic has his email back');
  t.deepEqual(now.get(wes.id)?.external_ids, [{ external_id: '3179', label: 'hubspot' }], "the colleague's edit is left as it is");
  const errors = readCsv(join(dir, 'b.undo.errors.csv'));
  t.deepEqual(errors.map((e) => [e.id, e._error_code, e._error_field]), [[wes.id, 'ROW_DRIFTED', 'external_id']]);
});

test('a create-only import killed by kill -9, then --resume: no undo file (nothing was changed), and the next run that changes contacts gets the plain name', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-import-undo-e2e-');
  const env = envFor(emulator);
  const input = join(dir, 'k.ndjson');
  writeFileSync(input, Array.from({ length: COUNT }, (_, i) => JSON.stringify({ name: `K ${i}`, email: `k${i}@kill.example` })).join('\n') + '\n');
  // Creates paced at 40 a second; killed once some landed. The resume waits 6 × --timeout for the creates the kill left in flight:
  // 2 s keeps that short without making a call that is merely slow on a busy machine time out.
  const args = ['import', input, '--json', '--timeout', '2000'];
  const slowCreates = ['--rate', FAST_RATE.replace(/create=\d+/, 'create=40'), '--rate-window', '1000', '--concurrency', '4'];
  const run = spawnCli([...args, ...slowCreates], { env });
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      if ((emulator.stats().requests.create ?? 0) >= 10) resolve();
    }, 10);
  });
  await Promise.race([reached, run.result]).finally(() => clearInterval(timer));
  run.child.kill('SIGKILL');
  const first = await run.result;
  t.is(first.signal, 'SIGKILL', `${first.code} ${first.stderr}`);

  const resumed = await runCli([...args, ...FAST, '--resume'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  t.is(summary(resumed).created, COUNT);
  t.deepEqual(undoFilesIn(dir), [], 'no undo file: no contact was changed');

  // A later run that renames them all: its undo file takes the plain name.
  writeFileSync(input, Array.from({ length: COUNT }, (_, i) => JSON.stringify({ name: `Renamed ${i}`, email: `k${i}@kill.example` })).join('\n') + '\n');
  const renamed = await runCli(['import', input, '--json', ...FAST], { env });
  t.is(renamed.code, 0, renamed.stderr);
  t.deepEqual(undoFilesIn(dir), ['k.undo.csv']);
  t.is(readCsv(join(dir, 'k.undo.csv')).length, COUNT);
});
