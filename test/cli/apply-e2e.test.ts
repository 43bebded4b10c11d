/**
 * Saved plans, `apply`, conditional undo, `--sync` and the audit log, end to end:
 * the built CLI in a child process against an emulator in this process, which a
 * second client (this test) edits between the steps.
 */
import test from 'ava';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ME, type Emulator } from '../../src/emulator/index.js';
import type { Contact } from '../../src/pylon/types.js';
import type { SavedPlan } from '../../src/update/plan-file.js';
import type { AuditRecord } from '../../src/audit/audit-log.js';
import { FAST_RATE, TOKEN, envFor, filesUnder, runCli, startEmulator, tempDir, writes, type CliResult } from '../helpers/cli.js';
import { client } from '../helpers/with-emulator.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '8'];
const snapshot = (emulator: Emulator): Contact[] => structuredClone([...emulator.store.all()]);
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
const emailsCsv = (contacts: Contact[]) => ['email', ...contacts.map((c) => c.email!)].join('\n') + '\n';
const json = <T>(result: CliResult): T => JSON.parse(result.stdout.trim().split('\n').pop()!) as T;
const hostOf = (emulator: Emulator) => new URL(emulator.url).host;

async function seeded(t: Parameters<typeof startEmulator>[0], count: number) {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, count);
  const dir = tempDir(t, 'pylon-apply-e2e-');
  return { emulator, dir, env: { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') } };
}

/** No file under `dir`, and no output, holds the token. */
function assertNoToken(t: Parameters<typeof startEmulator>[0], dir: string, results: CliResult[]) {
  for (const path of filesUnder(dir)) t.false(readFileSync(path, 'utf8').includes(TOKEN), `the token is in ${path}`);
  for (const r of results) t.false(r.stdout.includes(TOKEN) || r.stderr.includes(TOKEN), 'the token is in the output');
}

test('plan → another client edits one contact → apply skips exactly that one (ROW_DRIFTED, exit 3) and applies the rest; the audit log records it', async (t) => {
  const { emulator, dir, env } = await seeded(t, 200);
  const chosen = snapshot(emulator).filter((c) => c.portal_role !== 'admin').slice(0, 30);
  const input = join(dir, 'admins.csv');
  writeFileSync(input, emailsCsv(chosen));
  const planPath = join(dir, 'plan.json');

  const planned = await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', planPath, ...FAST, '--json'], { env });
  t.is(planned.code, 0, planned.stderr);
  t.is(writes(emulator), 0, 'making a plan writes nothing');
  const plan = JSON.parse(readFileSync(planPath, 'utf8')) as SavedPlan;
  t.like(plan, { format: 'pylon-contacts-plan', version: 1, counts: { changes: 30, removals: 0 }, set: { portal_role: 'admin' } });
  t.like(plan.target, { host: hostOf(emulator), organization: { id: DEFAULT_ME.id, name: DEFAULT_ME.name } });
  t.like(plan.source, { kind: 'file' });
  t.deepEqual(
    plan.changes.map((c) => [c.id, c.changes]),
    chosen.map((c) => [c.id, [{ column: 'portal_role', from: c.portal_role, to: 'admin' }]]),
  );
  t.regex(planned.stderr, new RegExp(`Target: ${hostOf(emulator)} \\(organisation ${DEFAULT_ME.name}`));
  t.regex(planned.stderr, /Plan written to .*plan\.json: 30 contacts change/);
  t.false(existsSync(join(dir, 'audit.jsonl')), 'a plan is not a run that writes');

  // Between review and apply, someone else changes one of the planned contacts.
  const victim = chosen[4];
  const edited = victim.portal_role === 'member' ? 'no_access' : 'member';
  t.is((await client(emulator).patch(`/contacts/${victim.id}`, { portal_role: edited })).status, 200);
  emulator.resetStats();

  const applied = await runCli(['apply', planPath, ...FAST, '--json'], { env });
  t.is(applied.code, 3, applied.stderr);
  const stats = json<{ updated: number; failed: number; drifted: number; target: { host: string } }>(applied);
  t.like(stats, { updated: 29, failed: 1, drifted: 1, target: { host: hostOf(emulator) } });
  t.is(emulator.stats().requests.patch, 29, 'no PATCH for the drifted contact');
  t.is(emulator.stats().requests.create, 0);
  t.regex(applied.stderr, new RegExp(`target: ${hostOf(emulator)} \\(organisation ${DEFAULT_ME.name}`));
  for (const c of snapshot(emulator)) {
    if (c.id === victim.id) t.is(c.portal_role, edited, 'the later edit stands');
    else if (chosen.some((x) => x.id === c.id)) t.is(c.portal_role, 'admin');
  }
  const errors = readCsv(join(dir, 'plan.errors.csv'));
  t.is(errors.length, 1);
  t.like(errors[0], { id: victim.id, _error_code: 'ROW_DRIFTED', _error_field: 'portal_role' });
  t.true(errors[0]._error_message.includes(`now "${edited}"`) && errors[0]._error_message.includes(`expected "${victim.portal_role}"`), errors[0]._error_message);
  t.is(readCsv(join(dir, 'plan.undo.csv')).length, 29);

  const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  t.is(audit.length, 1);
  t.like(audit[0], {
    v: 1,
    host: hostOf(emulator),
    organization: { id: DEFAULT_ME.id, name: DEFAULT_ME.name },
    actor: { id: DEFAULT_ME.user!.id },
    planHash: plan.hash,
    outcome: 'partial',
    exitCode: 3,
    counts: { updated: 29, failed: 1, drifted: 1 },
  });
  t.regex(audit[0].command, /^apply .*plan\.json/);
  t.is(audit[0].files.undo, join(dir, 'plan.undo.csv'));
  t.true(Date.parse(audit[0].endedAt) >= Date.parse(audit[0].startedAt));
  assertNoToken(t, dir, [planned, applied]);
});

test('undo after a later edit keeps the later edit (ROW_DRIFTED, exit 3); --force reverts it; an undo applied twice changes nothing', async (t) => {
  const { emulator, dir, env } = await seeded(t, 120);
  const before = snapshot(emulator);
  const chosen = before.filter((c) => c.portal_role !== 'admin').slice(0, 20);
  const input = join(dir, 'promote.csv');
  writeFileSync(input, emailsCsv(chosen));
  const undo = join(dir, 'promote.undo.csv');
  const run = await runCli(['update', input, '--set', 'portal_role=admin', '--set', 'custom.tier=gold', ...FAST], { env });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, new RegExp(`target: ${hostOf(emulator)}`));
  t.true(readCsv(undo).every((r) => r['_set.portal_role'] === 'admin'));

  // A colleague then demotes one of them again.
  const victim = chosen[3];
  await client(emulator).patch(`/contacts/${victim.id}`, { portal_role: 'member' });
  emulator.resetStats();
  const back = await runCli(['update', undo, ...FAST, '--json', '--errors', join(dir, 'back.errors.csv'), '--undo', join(dir, 'back.undo.csv')], { env });
  t.is(back.code, 3, back.stderr);
  t.like(json<{ updated: number; failed: number }>(back), { updated: 19, failed: 1 });
  const after = new Map(snapshot(emulator).map((c) => [c.id, c]));
  t.is(after.get(victim.id)!.portal_role, 'member', 'the later edit is kept');
  t.is(after.get(victim.id)!.custom_fields?.tier?.value, 'gold', 'the drifted contact is left as it is, every field');
  for (const c of chosen.filter((x) => x.id !== victim.id)) t.deepEqual(after.get(c.id), before.find((b) => b.id === c.id));
  const errors = readCsv(join(dir, 'back.errors.csv'));
  t.deepEqual(errors.map((e) => [e.id, e._error_code]), [[victim.id, 'ROW_DRIFTED']]);
  t.regex(back.stderr, /Undo plan: 19 contacts change/);
  // The report keeps the undo rows as written: applied again (with --force) it reverts exactly the drifted contact.
  t.true(back.stderr.includes(`to revert exactly those contacts anyway: pylon-contacts update ${join(dir, 'back.errors.csv')} --force`), back.stderr);

  // Applied twice: what was reverted already holds its values; the drifted contact is still drifted.
  emulator.resetStats();
  const again = await runCli(['update', undo, ...FAST, '--json', '--errors', join(dir, 'again.errors.csv'), '--undo', join(dir, 'again.undo.csv')], { env });
  t.is(again.code, 3, again.stderr);
  t.like(json<{ updated: number; unchanged: number; failed: number }>(again), { updated: 0, unchanged: 19, failed: 1 });
  t.is(emulator.stats().requests.patch, 0);

  // --force reverts the drifted one too.
  const forced = await runCli(['update', undo, '--force', ...FAST, '--json', '--errors', join(dir, 'forced.errors.csv'), '--undo', join(dir, 'forced.undo.csv')], { env });
  t.is(forced.code, 0, forced.stderr);
  t.deepEqual(snapshot(emulator), before);
  const once = await runCli(['update', undo, ...FAST, '--errors', join(dir, 'once.errors.csv'), '--undo', join(dir, 'once.undo.csv')], { env });
  t.is(once.code, 0, once.stderr);
  t.regex(once.stderr, /already holds the undo's values/);
  assertNoToken(t, dir, [run, back, again, forced, once]);
});

test('--sync demotes exactly the contacts not listed, shows them apart, and stops at --max-removals with zero writes', async (t) => {
  const { emulator, dir, env } = await seeded(t, 150);
  const before = snapshot(emulator);
  const admins = before.filter((c) => c.portal_role === 'admin');
  const listed = [...admins.slice(0, 6), ...before.filter((c) => c.portal_role === 'member').slice(0, 4)];
  const unlisted = admins.slice(6);
  t.true(unlisted.length > 5, `${unlisted.length} admins not listed`);
  const input = join(dir, 'members.csv');
  writeFileSync(input, emailsCsv(listed));
  const sync = ['update', input, '--set', 'portal_role=admin', '--sync', '--others', 'portal_role=member', ...FAST];

  const guarded = await runCli([...sync, '--max-removals', '5'], { env });
  t.is(guarded.code, 1, guarded.stderr);
  t.regex(guarded.stderr, new RegExp(`Removals \\(--sync\\): ${unlisted.length} contacts not in the file change`));
  t.regex(guarded.stderr, new RegExp(`Stopped before writing anything: --sync would take the value from ${unlisted.length} contacts not in the file, more than --max-removals 5`));
  t.is(writes(emulator), 0);

  const planPath = join(dir, 'sync.json');
  const planned = await runCli([...sync, '--plan-out', planPath], { env });
  t.is(planned.code, 0, planned.stderr);
  const plan = JSON.parse(readFileSync(planPath, 'utf8')) as SavedPlan;
  t.deepEqual(plan.removals.map((r) => r.id).sort(), unlisted.map((c) => c.id).sort());
  t.true(plan.removals.every((r) => r.changes.length === 1 && r.changes[0].from === 'admin' && r.changes[0].to === 'member'));
  t.is(plan.changes.length, 4, 'the listed members are promoted');
  t.deepEqual(plan.sync, { others: { portal_role: 'member' } });

  const applied = await runCli(['apply', planPath, '--max-removals', '5', ...FAST], { env });
  t.is(applied.code, 1, 'apply has the same guard');
  t.is(writes(emulator), 0);

  const done = await runCli([...sync, '--max-removals', String(unlisted.length), '--json'], { env });
  t.is(done.code, 0, done.stderr);
  t.like(json<{ updated: number; failed: number }>(done), { updated: 4 + unlisted.length, failed: 0 });
  const listedIds = new Set(listed.map((c) => c.id));
  const unlistedIds = new Set(unlisted.map((c) => c.id));
  for (const [i, c] of snapshot(emulator).entries()) {
    if (listedIds.has(c.id)) t.is(c.portal_role, 'admin');
    else if (unlistedIds.has(c.id)) t.is(c.portal_role, 'member');
    else t.deepEqual(c, before[i], 'everyone else is untouched');
  }
  t.is(emulator.stats().requests.patch, 4 + unlisted.length);
  // One undo file restores both the promotions and the removals.
  const undoRows = readCsv(join(dir, 'members.undo.csv'));
  t.is(undoRows.length, 4 + unlisted.length);
  const back = await runCli(['update', join(dir, 'members.undo.csv'), ...FAST, '--undo', join(dir, 'members.undo.undo.csv')], { env });
  t.is(back.code, 0, back.stderr);
  t.deepEqual(snapshot(emulator), before);
});

test('bad plans: another host, another organisation, edited, stale, not a plan — exit 2 and nothing written; deleted contacts are ROW_NOT_FOUND', async (t) => {
  const { emulator, dir, env } = await seeded(t, 60);
  const chosen = snapshot(emulator).filter((c) => c.portal_role !== 'admin').slice(0, 8);
  const input = join(dir, 'p.csv');
  writeFileSync(input, emailsCsv(chosen));
  const planPath = join(dir, 'p.json');
  t.is((await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', planPath, ...FAST], { env })).code, 0);

  const other = await startEmulator(t);
  seedContacts(other.store, 60);
  const elsewhere = await runCli(['apply', planPath, ...FAST], { env: { ...env, PYLON_BASE_URL: other.url } });
  t.is(elsewhere.code, 2, elsewhere.stderr);
  t.regex(elsewhere.stderr, new RegExp(`was made for ${hostOf(emulator)}, and this run goes to ${hostOf(other)}`));
  t.is(writes(other) + writes(emulator), 0);

  // The same host, another organisation: a fresh emulator on the port of the first.
  const port = Number(new URL(emulator.url).port);
  await emulator.close();
  const otherOrg = await startEmulator(t, { port, me: { id: 'org-other', name: 'Other Org', user: { id: 'u-2' } } });
  seedContacts(otherOrg.store, 60);
  const wrongOrg = await runCli(['apply', planPath, ...FAST], { env });
  t.is(wrongOrg.code, 2, wrongOrg.stderr);
  t.regex(wrongOrg.stderr, /made for organisation Emulated Org .*this token belongs to Other Org \(org-other\)/);
  t.is(writes(otherOrg), 0);
  await otherOrg.close();
  const again = await startEmulator(t, { port });
  seedContacts(again.store, 60);

  const edited = join(dir, 'edited.json');
  writeFileSync(edited, readFileSync(planPath, 'utf8').replace('"to": "admin"', '"to": "member"'));
  const tampered = await runCli(['apply', edited, ...FAST], { env });
  t.is(tampered.code, 2);
  t.regex(tampered.stderr, /was changed after it was written/);

  const notPlan = await runCli(['apply', input, ...FAST], { env });
  t.is(notPlan.code, 2);
  t.regex(notPlan.stderr, /is not a plan file/);
  // A contacts file where a plan goes: told to make a plan of it under another name, never to write the plan over it.
  t.true(notPlan.stderr.includes(`It looks like a contacts file: make a plan of it with \`update ${input} --set … --plan-out plan.json\`, then \`apply plan.json\`.`), notPlan.stderr);
  t.false(notPlan.stderr.includes(`--plan-out ${input}`), notPlan.stderr);
  const showNotPlan = await runCli(['show', input], { env });
  t.is(showNotPlan.code, 2);
  t.true(showNotPlan.stderr.includes(`make a plan of it with \`update ${input} --set … --plan-out plan.json\``), showNotPlan.stderr);

  await sleep(1_100);
  const stale = await runCli(['apply', planPath, '--max-age', '1s', ...FAST], { env });
  t.is(stale.code, 2);
  // The limit as given and the age in seconds, not both rounded to "0 min".
  t.regex(stale.stderr, /was made \d+ s ago \(.*\), more than --max-age 1s\. /);
  t.is(writes(again), 0);

  // Two planned contacts were deleted since.
  again.store.delete(chosen[0].id);
  again.store.delete(chosen[1].id);
  const gone = await runCli(['apply', planPath, ...FAST, '--json'], { env });
  t.is(gone.code, 3, gone.stderr);
  t.like(json<{ updated: number; failed: number }>(gone), { updated: 6, failed: 2 });
  const errors = readCsv(join(dir, 'p.errors.csv'));
  t.deepEqual(errors.map((e) => [e.id, e._error_code]).sort(), [[chosen[0].id, 'ROW_NOT_FOUND'], [chosen[1].id, 'ROW_NOT_FOUND']].sort());
  t.regex(errors[0]._error_message, /deleted after the plan was made/);
  t.is(again.stats().requests.patch, 6);
});

test('a plan for another host is refused before any call: no request (no token) reaches that host, and an unreachable one gives the same exit 2', async (t) => {
  const { emulator, dir, env } = await seeded(t, 20);
  const input = join(dir, 'h.csv');
  writeFileSync(input, emailsCsv(snapshot(emulator).slice(0, 3)));
  const planPath = join(dir, 'h.json');
  t.is((await runCli(['update', input, '--set', 'custom.tier=gold', '--plan-out', planPath, ...FAST], { env })).code, 0);

  const other = await startEmulator(t);
  const elsewhere = await runCli(['apply', planPath, ...FAST], { env: { ...env, PYLON_BASE_URL: other.url } });
  t.is(elsewhere.code, 2, elsewhere.stderr);
  t.regex(elsewhere.stderr, new RegExp(`was made for ${hostOf(emulator)}, and this run goes to ${hostOf(other)}`));
  t.is(Object.values(other.stats().requests).reduce((a, b) => a + b, 0), 0, 'not even GET /me');

  // Nothing listens there any more: the mismatch is still what the user is told.
  const gone = other.url;
  await other.close();
  const unreachable = await runCli(['apply', planPath, ...FAST], { env: { ...env, PYLON_BASE_URL: gone } });
  t.is(unreachable.code, 2, unreachable.stderr);
  t.regex(unreachable.stderr, new RegExp(`was made for ${hostOf(emulator)}, and this run goes to ${new URL(gone).host}`));
  t.is(writes(emulator), 0);
});

test('every summary names the host: import, import --dry-run, update --dry-run, update, apply (and --json has target)', async (t) => {
  const { emulator, dir, env } = await seeded(t, 20);
  const host = hostOf(emulator);
  const csv = join(dir, 'new.csv');
  writeFileSync(csv, 'name,email\nAda,ada@new.example\n');
  const runs: Array<[string, string[]]> = [
    ['import --dry-run', ['import', csv, '--dry-run']],
    ['import', ['import', csv]],
    ['update --dry-run', ['update', csv, '--set', 'portal_role=member', '--dry-run']],
    ['update', ['update', csv, '--set', 'portal_role=member']],
  ];
  for (const [name, args] of runs) {
    const r = await runCli([...args, ...FAST, '--json'], { env });
    t.is(r.code, 0, `${name}: ${r.stderr}`);
    t.regex(r.stderr, new RegExp(`target: ${host}`), name);
    t.is(json<{ target: { host: string } }>(r).target.host, host, name);
  }
  const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  t.deepEqual(audit.map((a) => a.command.split(' ')[0]), ['import', 'update'], 'runs that write are recorded; dry runs are not');
  t.true(audit.every((a) => a.host === host && a.organization?.id === DEFAULT_ME.id));
});

test('--token on the command line never reaches the plan, the audit log or the output', async (t) => {
  const { emulator, dir } = await seeded(t, 30);
  const env = { PYLON_BASE_URL: emulator.url, PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const chosen = snapshot(emulator).slice(0, 5);
  const input = join(dir, 't.csv');
  writeFileSync(input, emailsCsv(chosen));
  const plan = await runCli(['update', input, '--set', 'custom.tier=gold', '--plan-out', join(dir, 't.json'), '--token', TOKEN, ...FAST], { env });
  t.is(plan.code, 0, plan.stderr);
  const apply = await runCli(['apply', join(dir, 't.json'), `--token=${TOKEN}`, ...FAST], { env });
  t.is(apply.code, 0, apply.stderr);
  const record = JSON.parse(readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim()) as AuditRecord;
  t.regex(record.command, /--token=\[REDACTED\]/);
  const saved = JSON.parse(readFileSync(join(dir, 't.json'), 'utf8')) as SavedPlan;
  t.regex(saved.command, /--token \[REDACTED\]/);
  assertNoToken(t, dir, [plan, apply]);
});

test('import --plan-out saves the updates of existing contacts for apply; rows that would create are refused (exit 2, nothing written)', async (t) => {
  const { emulator, dir, env } = await seeded(t, 40);
  const chosen = snapshot(emulator).slice(0, 5);
  const input = join(dir, 'tiers.csv');
  writeFileSync(input, ['email,custom.tier', ...chosen.map((c) => `${c.email},silver`)].join('\n') + '\n');
  const planPath = join(dir, 'tiers.json');
  const planned = await runCli(['import', input, '--plan-out', planPath, ...FAST, '--json'], { env });
  t.is(planned.code, 0, planned.stderr);
  t.is(writes(emulator), 0);
  const plan = JSON.parse(readFileSync(planPath, 'utf8')) as SavedPlan;
  const changing = chosen.filter((c) => c.custom_fields?.tier?.value !== 'silver');
  t.is(plan.changes.length, changing.length);
  t.regex(plan.command, /^import /);
  const applied = await runCli(['apply', planPath, ...FAST], { env });
  t.is(applied.code, 0, applied.stderr);
  t.true(snapshot(emulator).slice(0, 5).every((c) => c.custom_fields?.tier?.value === 'silver'));

  const withNew = join(dir, 'new.csv');
  writeFileSync(withNew, `name,email\nNew Person,new-person@example.com\n${chosen[0].name},${chosen[0].email}\n`);
  emulator.resetStats();
  const refused = await runCli(['import', withNew, '--plan-out', join(dir, 'new.json'), ...FAST], { env });
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /: 1 row would create a contact \(line 2\); a saved plan/);
  t.false(existsSync(join(dir, 'new.json')));
  t.is(writes(emulator), 0);
});

test('apply and update --plan-out prove their outputs writable before the first call (exit 2, no request)', async (t) => {
  const { emulator, dir, env } = await seeded(t, 20);
  const input = join(dir, 'a.csv');
  writeFileSync(input, emailsCsv(snapshot(emulator).slice(0, 3)));
  const planPath = join(dir, 'a.json');
  t.is((await runCli(['update', input, '--set', 'custom.tier=gold', '--plan-out', planPath, ...FAST], { env })).code, 0);
  emulator.resetStats();
  const missing = join(dir, 'no-such-folder');
  const cases: Array<[string[], RegExp]> = [
    [['apply', planPath, '--undo', join(missing, 'u.csv')], /--undo/],
    [['apply', planPath, '--errors', join(missing, 'e.csv')], /--errors/],
    [['update', input, '--set', 'custom.tier=gold', '--plan-out', join(missing, 'p.json')], /--plan-out/],
    // The audit log too: a folder missing from a path the user named is refused, not created.
    [['apply', planPath, '--audit-log', join(missing, 'audit.jsonl')], /\(--audit-log\): its folder does not exist/],
    [['update', input, '--set', 'custom.tier=gold', '--yes', '--audit-log', join(missing, 'audit.jsonl')], /\(--audit-log\): its folder does not exist/],
    [['import', input, '--audit-log', join(missing, 'audit.jsonl')], /\(--audit-log\): its folder does not exist/],
  ];
  for (const [args, flag] of cases) {
    const r = await runCli([...args, ...FAST], { env });
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, flag);
  }
  const r = await runCli(['update', input, '--set', 'custom.tier=gold', '--yes', ...FAST], { env: { ...env, PYLON_AUDIT_LOG: join(missing, 'env.jsonl') } });
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /\(PYLON_AUDIT_LOG\): its folder does not exist/);
  t.false(existsSync(missing), 'no folder created');
  const { requests } = emulator.stats();
  t.is(Object.values(requests).reduce((a, b) => a + b, 0), 0, 'no request sent');
});

/** 150 contacts: 10 listed (6 admins, 4 members: 4 promotions), the other admins lose the role (--sync removals). */
async function syncSetup(t: Parameters<typeof startEmulator>[0]) {
  const { emulator, dir, env } = await seeded(t, 150);
  const before = snapshot(emulator);
  const admins = before.filter((c) => c.portal_role === 'admin');
  const listed = [...admins.slice(0, 6), ...before.filter((c) => c.portal_role === 'member').slice(0, 4)];
  const removals = admins.length - 6;
  const input = join(dir, 'members.csv');
  writeFileSync(input, emailsCsv(listed));
  const sync = ['update', input, '--set', 'portal_role=admin', '--sync', '--others', 'portal_role=member', ...FAST];
  return { emulator, dir, env, removals, sync };
}

test('--max-changes counts the --sync removals too, in update and in apply: stopped before any write', async (t) => {
  const { emulator, dir, env, removals, sync } = await syncSetup(t);
  t.true(removals > 10, `${removals} removals`);
  const limit = 4 + removals - 1;
  const updated = await runCli([...sync, '--max-removals', '1000', '--max-changes', String(limit)], { env });
  t.is(updated.code, 1, updated.stderr);
  t.regex(updated.stderr, new RegExp(`Stopped before writing anything: ${4 + removals} contacts would change \\(4 of the file's, ${removals} --sync removals\\), more than --max-changes ${limit}`));
  t.is(writes(emulator), 0);

  const planPath = join(dir, 'sync.json');
  t.is((await runCli([...sync, '--plan-out', planPath], { env })).code, 0);
  const applied = await runCli(['apply', planPath, '--yes', '--max-removals', '1000', '--max-changes', String(limit), ...FAST], { env });
  t.is(applied.code, 1, applied.stderr);
  t.regex(applied.stderr, new RegExp(`the plan changes ${4 + removals} contacts \\(4 of the file's, ${removals} --sync removals\\), more than --max-changes ${limit}`));
  t.is(writes(emulator), 0);

  const within = await runCli([...sync, '--max-removals', '1000', '--max-changes', String(limit + 1), '--json'], { env });
  t.is(within.code, 0, within.stderr);
  t.is(json<{ updated: number }>(within).updated, 4 + removals);
});

test('a --sync dry run counts the removals as the real run does, and gives the guards\' verdict: exit 1 where the real run would stop', async (t) => {
  const { emulator, env, removals, sync } = await syncSetup(t);
  const dry = await runCli([...sync, '--max-removals', '1000', '--dry-run', '--json'], { env });
  t.is(dry.code, 0, dry.stderr);
  const planned = json<{ updated: number; plannedCalls: { patch: number }; wouldStop?: unknown }>(dry);
  t.is(planned.updated, 4 + removals);
  t.is(planned.plannedCalls.patch, 4 + removals);
  t.is(planned.wouldStop, undefined);
  t.regex(dry.stderr, new RegExp(`would update ${4 + removals},`));

  // The default --max-removals (10), then --max-changes: the dry run says the real run would stop, and exits 1 as it would.
  for (const guard of [[], ['--max-removals', '1000', '--max-changes', '5']]) {
    const stopped = await runCli([...sync, ...guard, '--dry-run', '--json'], { env });
    t.is(stopped.code, 1, stopped.stderr);
    t.regex(stopped.stderr, /guard: the real run would stop before writing anything: .*(--max-removals 10|--max-changes 5)/);
    t.like(json<{ wouldStop: { code: string } }>(stopped), { wouldStop: { code: 'RUN_GUARD' } });
    const real = await runCli([...sync, ...guard], { env });
    t.is(real.code, 1, real.stderr);
  }
  t.is(writes(emulator), 0);
});

test('a --sync plan records its --max-removals and --max-changes: show prints them, and apply enforces them unless given its own', async (t) => {
  const { emulator, dir, env, removals, sync } = await syncSetup(t);
  t.true(removals > 10, `${removals} removals`);
  // Made with a small --max-removals: written for review (exit 0), and apply refuses it naming the plan's guard.
  const tight = join(dir, 'tight.json');
  t.is((await runCli([...sync, '--max-removals', '3', '--plan-out', tight], { env })).code, 0);
  t.deepEqual((JSON.parse(readFileSync(tight, 'utf8')) as { guard?: unknown }).guard, { maxRemovals: 3 });
  const shown = await runCli(['show', tight], { env });
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /\n {2}guard: --max-removals 3 \(recorded when the plan was made: apply stops before writing anything beyond it unless given its own\)\n/);
  t.like(JSON.parse((await runCli(['show', tight, '--json'], { env })).stdout), { guard: { maxRemovals: 3 } });
  const refused = await runCli(['apply', tight, '--yes', ...FAST], { env });
  t.is(refused.code, 1, refused.stderr);
  t.true(refused.stderr.includes(`removes the value from ${removals} contacts, more than the plan's --max-removals 3 (given when it was made; apply it with a larger --max-removals to allow more)`), refused.stderr);
  t.is(writes(emulator), 0);

  // Made with a large one (and --max-changes): apply takes the plan's, where its own default (10) would refuse it.
  const wide = join(dir, 'wide.json');
  t.is((await runCli([...sync, '--max-removals', '1000', '--max-changes', '5000', '--plan-out', wide], { env })).code, 0);
  const wideShown = await runCli(['show', wide], { env });
  t.regex(wideShown.stdout, /\n {2}guard: --max-changes 5,000, --max-removals 1,000 \(recorded when the plan was made: apply stops before writing anything beyond them unless given its own\)\n/);
  const applied = await runCli(['apply', wide, '--yes', '--json', ...FAST], { env });
  t.is(applied.code, 0, applied.stderr);
  t.is(json<{ updated: number }>(applied).updated, 4 + removals);
});
