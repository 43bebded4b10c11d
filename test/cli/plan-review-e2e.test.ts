/**
 * Plans a reviewer can read: `show <plan>` (text and --json), and the bad plans
 * it refuses (edited, cut short, made for another host), end to end with the
 * built CLI in a child process against an emulator in this process.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/index.js';
import { DEFAULT_ME } from '../../src/emulator/index.js';
import type { Contact } from '../../src/pylon/types.js';
import type { SavedPlan } from '../../src/update/plan-file.js';
import type { PlanReview } from '../../src/update/plan-review.js';
import { FAST_RATE, envFor, filesUnder, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '8'];
const emailsCsv = (contacts: Contact[]) => ['email', ...contacts.map((c) => c.email!)].join('\n') + '\n';

async function planned(t: Parameters<typeof startEmulator>[0], count = 12) {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 60);
  const dir = tempDir(t, 'pylon-plan-review-');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const chosen = [...emulator.store.all()].filter((c) => c.portal_role !== 'admin').slice(0, count);
  const input = join(dir, 'admins.csv');
  writeFileSync(input, emailsCsv(chosen));
  const planPath = join(dir, 'plan.json');
  const made = await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', planPath, ...FAST], { env });
  t.is(made.code, 0, made.stderr);
  return { emulator, dir, env, chosen, planPath, plan: JSON.parse(readFileSync(planPath, 'utf8')) as SavedPlan };
}

const hostOf = (emulator: Emulator) => new URL(emulator.url).host;
const totalCalls = (emulator: Emulator) => Object.values(emulator.stats().requests).reduce((a, b) => a + b, 0);

test('show prints each contact before → after, the totals, target, age and the ETA at the paced rate; --json carries the same', async (t) => {
  const { emulator, dir, chosen, planPath, plan } = await planned(t);
  const before = filesUnder(dir).sort();
  const callsBefore = totalCalls(emulator);

  const shown = await runCli(['show', planPath], { env: { PATH: process.env.PATH } });
  t.is(shown.code, 0, shown.stderr);
  for (const contact of chosen) {
    t.true(shown.stdout.includes(`${contact.email} (${contact.id})`), `${contact.email} is listed`);
  }
  const first = chosen[0];
  t.regex(shown.stdout, new RegExp(`${first.email} \\(${first.id}\\), line 2\\n\\s+portal_role: "${first.portal_role}" → "admin"`));
  t.regex(shown.stdout, new RegExp(`target: ${hostOf(emulator)} \\(organisation ${DEFAULT_ME.name}`));
  t.regex(shown.stdout, /made \d+ s ago/);
  t.regex(shown.stdout, new RegExp(`hash ${plan.hash}`));
  // 12 PATCHes at 60 a minute: 12 s, the slowest bucket.
  t.regex(shown.stdout, /ETA: about 12 s to apply \(me 1, customFields 1, search 1, get 12, patch 12 calls; paced at search 20, get 60, patch 60 per minute\)/);
  const members = chosen.filter((c) => c.portal_role === 'member').length;
  if (members > 0) t.regex(shown.stdout, new RegExp(`portal_role: "member" → "admin"  × ${members}\\n`));

  const asJson = await runCli(['show', planPath, '--json', '--rate', 'patch=30'], { env: { PATH: process.env.PATH } });
  t.is(asJson.code, 0, asJson.stderr);
  const review = JSON.parse(asJson.stdout) as PlanReview;
  t.is(review.hash, plan.hash);
  t.is(review.target.host, hostOf(emulator));
  t.deepEqual(review.calls, { me: 1, customFields: 1, search: 1, get: 12, patch: 12 });
  t.is(review.etaSeconds, 24, '12 PATCHes at 30 a minute');
  t.deepEqual(review.changes, plan.changes);
  t.deepEqual(review.removals, []);
  t.is(review.totals.changes.reduce((sum, x) => sum + x.count, 0), 12);
  t.true(review.ageSeconds >= 0);

  // Same host named: accepted. Showing calls nothing and writes nothing.
  const sameHost = await runCli(['show', planPath, '--base-url', emulator.url], { env: { PATH: process.env.PATH } });
  t.is(sameHost.code, 0, sameHost.stderr);
  t.is(totalCalls(emulator), callsBefore, 'show makes no call');
  t.is(writes(emulator), 0);
  t.deepEqual(filesUnder(dir).sort(), before, 'show writes no file');
});

test('show refuses a plan that was edited, cut short, or made for another host: a clear error, exit 2, nothing written', async (t) => {
  const { emulator, dir, planPath } = await planned(t, 5);
  const text = readFileSync(planPath, 'utf8');
  const env = { PATH: process.env.PATH };

  const edited = join(dir, 'edited.json');
  writeFileSync(edited, text.replace('"to": "admin"', '"to": "no_access"'));
  const cut = join(dir, 'cut.json');
  writeFileSync(cut, text.slice(0, Math.floor(text.length / 2)));
  const before = filesUnder(dir).sort();

  const r1 = await runCli(['show', edited], { env });
  t.is(r1.code, 2);
  t.regex(r1.stderr, /edited\.json was changed after it was written/);
  t.is(r1.stdout, '');

  const r2 = await runCli(['show', cut], { env });
  t.is(r2.code, 2);
  // Cut short, it is said to be incomplete (not "not JSON"), with the command that made it.
  t.regex(r2.stderr, /cut\.json is an incomplete plan file: it ends after [\d,]+ bytes, before its JSON does \(cut short: a copy that stopped early, or a full disk\)\. Nothing in it was used\. Make it again with `pylon-contacts update .*--plan-out .*` \(the command that made it\), then review it with `show`\./);
  t.notRegex(r2.stderr, /not JSON/);

  const r3 = await runCli(['show', planPath, '--base-url', 'https://api.usepylon.com'], { env });
  t.is(r3.code, 2);
  t.regex(r3.stderr, new RegExp(`was made for ${hostOf(emulator)}, and this run goes to api\\.usepylon\\.com`));

  const r4 = await runCli(['show', planPath], { env: { ...env, PYLON_BASE_URL: 'https://api.eu.usepylon.com' } });
  t.is(r4.code, 2, 'a leftover PYLON_BASE_URL is checked too');

  for (const r of [r1, r2, r3, r4]) t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.deepEqual(filesUnder(dir).sort(), before, 'nothing written');
});

test('--plan-out refuses an existing file (exit 2, the file untouched) unless --force; with --dry-run it still writes the plan', async (t) => {
  const { emulator, dir, env, planPath, plan } = await planned(t, 6);
  const reviewed = readFileSync(planPath, 'utf8');
  const input = join(dir, 'admins.csv');
  const before = filesUnder(dir).sort();

  const again = await runCli(['update', input, '--set', 'portal_role=no_access', '--plan-out', planPath, ...FAST], { env });
  t.is(again.code, 2, again.stderr);
  t.regex(again.stderr, /plan\.json exists \(--plan-out\).*add --force to replace it\. Nothing was written\./);
  t.is(readFileSync(planPath, 'utf8'), reviewed, 'the reviewed plan is untouched');
  t.deepEqual(filesUnder(dir).sort(), before, 'nothing written');

  const viaImport = await runCli(['import', input, '--mode', 'update', '--plan-out', planPath, ...FAST], { env });
  t.is(viaImport.code, 2, viaImport.stderr);
  t.is(readFileSync(planPath, 'utf8'), reviewed);

  const forced = await runCli(['update', input, '--set', 'portal_role=no_access', '--plan-out', planPath, '--force', ...FAST], { env });
  t.is(forced.code, 0, forced.stderr);
  const replaced = JSON.parse(readFileSync(planPath, 'utf8')) as SavedPlan;
  t.not(replaced.hash, plan.hash);
  t.deepEqual(replaced.set, { portal_role: 'no_access' });

  const dryPath = join(dir, 'dry.json');
  const dry = await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', dryPath, '--dry-run', ...FAST], { env });
  t.is(dry.code, 0, dry.stderr);
  const dryPlan = JSON.parse(readFileSync(dryPath, 'utf8')) as SavedPlan;
  t.is(dryPlan.counts.changes, 6);
  t.deepEqual(dryPlan.changes, plan.changes);
  t.is(writes(emulator), 0, 'no plan writes to Pylon');
});

test('after ROW_DRIFTED the summary does not say to import the report; apply --force --only <report> overrides exactly those contacts', async (t) => {
  const { emulator, dir, env, planPath, plan } = await planned(t, 8);
  const [drifted, other] = plan.changes;
  emulator.store.update(drifted.id, { portal_role: 'no_access' });
  const applied = await runCli(['apply', planPath, '--yes', ...FAST], { env });
  t.is(applied.code, 3, applied.stderr);
  t.notRegex(applied.stderr, /import that file again/);
  t.regex(applied.stderr, /do not import it/);
  const errorsPath = join(dir, 'plan.errors.csv');
  t.true(applied.stderr.includes(`apply ${planPath} --force --only ${errorsPath}`), applied.stderr);
  t.is(emulator.store.get(drifted.id)?.portal_role, 'no_access');

  // Someone changes another, already applied contact meanwhile: --only leaves it alone.
  emulator.store.update(other.id, { portal_role: 'member' });
  const report = readFileSync(errorsPath, 'utf8');
  // The --only file is the default error report too: naming it with --errors (or --results) is refused before any call.
  const calls = totalCalls(emulator);
  for (const option of ['--errors', '--results']) {
    const refused = await runCli(['apply', planPath, '--yes', '--force', '--only', errorsPath, option, errorsPath, ...FAST], { env });
    t.is(refused.code, 2, refused.stderr);
    t.true(refused.stderr.includes(`Invalid option \`${option}\`: ${errorsPath} is the file --only reads`), refused.stderr);
  }
  t.is(totalCalls(emulator), calls, 'no request');
  t.is(readFileSync(errorsPath, 'utf8'), report);
  const forced = await runCli(['apply', planPath, '--yes', '--force', '--only', errorsPath, '--undo', join(dir, 'forced.undo.csv'), ...FAST, '--json'], { env });
  t.is(forced.code, 0, forced.stderr);
  t.like(JSON.parse(forced.stdout.trim().split('\n').pop()!), { total: 1, updated: 1, failed: 0, errorsPath: null });
  t.is(emulator.store.get(drifted.id)?.portal_role, 'admin');
  t.is(emulator.store.get(other.id)?.portal_role, 'member', 'a contact not in the report is not touched');
  // A clean run removes its own error report; the file it read is another one, and is kept as it was.
  t.is(readFileSync(errorsPath, 'utf8'), report, 'the --only file is kept');
  t.false(existsSync(join(dir, 'plan.errors.errors.csv')));
  t.true(forced.stderr.includes(`this run's error report: ${join(dir, 'plan.errors.errors.csv')} (the default, ${errorsPath}, is the file --only reads`), forced.stderr);
});

test('--undo must be a regular file in a folder that exists: devices, pipes, /dev/null and missing folders exit 2 before any call; --no-undo writes none', async (t) => {
  const { emulator, dir, env, planPath } = await planned(t, 4);
  const input = join(dir, 'admins.csv');
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const calls = totalCalls(emulator);
  const before = filesUnder(dir).sort();
  for (const undo of ['/dev/full', '/dev/null', fifo, join(dir, 'missing', 'x.undo.csv'), dir]) {
    for (const args of [
      ['update', input, '--set', 'portal_role=admin', '--yes', '--undo', undo, ...FAST],
      ['apply', planPath, '--yes', '--undo', undo, ...FAST],
    ]) {
      const r = await runCli(args, { env });
      t.is(r.code, 2, `${args[0]} --undo ${undo}: ${r.stderr}`);
      t.regex(r.stderr, /--undo/);
      t.notRegex(r.stderr, /\n\s+at /);
    }
  }
  t.false(existsSync('/dev/full-2'), 'no file beside the device');
  t.is(totalCalls(emulator), calls, 'no call was made');
  t.deepEqual(filesUnder(dir).sort(), before, 'nothing written');

  const none = await runCli(['update', input, '--set', 'portal_role=admin', '--yes', '--no-undo', ...FAST], { env });
  t.is(none.code, 0, none.stderr);
  t.is(writes(emulator), 4);
  t.deepEqual(filesUnder(dir).filter((p) => p.includes('undo')), [], 'no undo file');
});

test('an undo file from another organisation: a clear error, exit 2, nothing written', async (t) => {
  const { emulator, dir, env, planPath } = await planned(t, 5);
  const undoPath = join(dir, 'plan.undo.csv');
  const applied = await runCli(['apply', planPath, '--yes', ...FAST], { env });
  t.is(applied.code, 0, applied.stderr);
  const undoText = readFileSync(undoPath, 'utf8');
  t.regex(undoText.split('\n')[0], /,_organization$/);
  t.true(undoText.trim().split('\n').slice(1).every((line) => line.endsWith(`,${DEFAULT_ME.id}`)));

  const otherOrg = await startEmulator(t, { me: { id: 'org-other', name: 'Other Org', user: { id: 'u-2' } } });
  seedContacts(otherOrg.store, 60);
  const before = filesUnder(dir).sort();
  const refused = await runCli(['update', undoPath, '--yes', ...FAST], { env: { ...env, PYLON_BASE_URL: otherOrg.url } });
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, new RegExp(`plan\\.undo\\.csv holds the previous values of contacts of organisation ${DEFAULT_ME.id}; this token belongs to Other Org \\(org-other\\)`));
  t.notRegex(refused.stderr, /\n\s+at /);
  t.is(writes(otherOrg), 0);
  t.deepEqual(filesUnder(dir).sort(), before, 'nothing written');

  // The organisation it came from takes it back.
  const restored = await runCli(['update', undoPath, '--yes', ...FAST], { env });
  t.is(restored.code, 0, restored.stderr);
  t.is(writes(emulator), 10, '5 applied, 5 restored');
});
