/**
 * `update --resume` and `apply --resume` end to end (issue 21): the built CLI in a
 * child process, stopped by kill -9, SIGTERM or Ctrl-C (SIGINT) once the emulator
 * has received some PATCH calls, then resumed. Every contact ends with the new
 * values, every changed contact has its undo row, and applying the undo file
 * restores the store exactly. The refusals (a re-run beside a journal, a resume
 * of nothing, of a changed file, of another host) exit 2 and write nothing.
 */
import test from 'ava';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Emulator } from '../../src/emulator/index.js';
import type { Contact } from '../../src/pylon/types.js';
import { FAST_RATE, contactsCsv, emailOf, envFor, filesUnder, notExactlyOnce, runCli, spawnCli, startEmulator, startFaultProxy, statsOf, tempDir, type CliResult } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';
import { canMountTmpfs, mountTmpfs } from '../helpers/tmpfs.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '8'];
/** PATCH paced at 40 a second, the rest unpaced: a 200-contact run lasts seconds, long enough to be stopped mid-way. */
const SLOW = ['--rate', FAST_RATE.replace(/patch=\d+/, 'patch=40'), '--rate-window', '1000', '--concurrency', '4'];
const COUNT = 200;

const snapshot = (emulator: Emulator): Contact[] => structuredClone([...emulator.store.all()]);
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

async function seeded(t: Parameters<typeof startEmulator>[0]) {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, COUNT);
  return { emulator, dir: tempDir(t, 'pylon-resume-e2e-'), env: envFor(emulator) };
}

/** Starts `args`, stops it with `signal` once the emulator has received `after` PATCH calls, and returns its result. */
async function stopMidway(args: string[], env: Record<string, string>, emulator: Emulator, signal: NodeJS.Signals, after: number): Promise<CliResult> {
  const run = spawnCli(args, { env });
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      if (emulator.stats().requests.patch >= after) resolve();
    }, 20);
  });
  await Promise.race([reached, run.result]).finally(() => clearInterval(timer));
  run.child.kill(signal);
  return run.result;
}

/** Every contact of the store whose role is not `role`. */
const notHolding = (emulator: Emulator, role: string) => snapshot(emulator).filter((c) => c.portal_role !== role);

/** The undo file has one row for each contact the runs changed (by id), and applying it restores `before` exactly. */
async function undoRestores(t: Parameters<typeof startEmulator>[0], emulator: Emulator, env: Record<string, string>, undo: string, changed: Contact[], before: Contact[]) {
  t.true(existsSync(undo), `undo file ${undo}`);
  const rows = readCsv(undo);
  const ids = new Set(rows.map((r) => r.id));
  const missing = changed.filter((c) => !ids.has(c.id)).map((c) => c.email);
  t.deepEqual(missing, [], 'every changed contact has its undo row');
  t.is(rows.length, ids.size, 'one undo row per contact');
  const back = await runCli(['update', undo, ...FAST, '--json', '--journal', `${undo}.journal.jsonl`], { env });
  t.is(back.code, 0, back.stderr);
  t.deepEqual(snapshot(emulator), before, 'the undo file restores the store exactly');
}

for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT'] as const) {
  test(`update <file> stopped by ${signal}, then --resume: every contact changed, the undo file restores the store`, async (t) => {
    const { emulator, dir, env } = await seeded(t);
    const before = snapshot(emulator);
    const changed = before.filter((c) => c.portal_role !== 'admin');
    const input = join(dir, 'all.csv');
    writeFileSync(input, ['email', ...before.map((c) => c.email)].join('\n') + '\n');
    const args = ['update', input, '--set', 'portal_role=admin', '--json'];

    const first = await stopMidway([...args, ...SLOW], env, emulator, signal, 20);
    t.not(first.code, 0, `the first run was stopped (${signal}): ${first.stderr}`);
    t.true(notHolding(emulator, 'admin').length > 0, 'the stop left contacts to change');
    t.true(existsSync(join(dir, '.all.journal.jsonl')), 'the journal stays for --resume');

    const again = await runCli([...args, ...FAST], { env });
    t.is(again.code, 2, 'a plain re-run beside the journal is refused');
    t.regex(again.stderr, /Use --resume/);

    const resumed = await runCli([...args, ...FAST, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.deepEqual(notHolding(emulator, 'admin'), [], 'every contact holds the new role');
    t.false(existsSync(join(dir, '.all.journal.jsonl')), 'the completed run removed its journal');
    await undoRestores(t, emulator, env, join(dir, 'all.undo.csv'), changed, before);
  });
}

test('update --where stopped by kill -9, then --resume works through the same selection', async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  const selected = before.filter((c) => c.email!.endsWith('@acme.com'));
  const changed = selected.filter((c) => c.portal_role !== 'no_access');
  const undo = join(dir, 'where.undo.csv');
  const journal = join(dir, 'where.journal.jsonl');
  const args = ['update', '--where', 'email~@acme.com', '--set', 'portal_role=no_access', '--undo', undo, '--journal', journal, '--errors', join(dir, 'where.errors.csv'), '--json'];

  const first = await stopMidway([...args, ...SLOW.map((a) => a.replace('patch=40', 'patch=10'))], env, emulator, 'SIGKILL', 3);
  t.is(first.signal, 'SIGKILL', `${first.code} ${first.stderr}`);
  const resumed = await runCli([...args, ...FAST, '--resume'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  t.true(snapshot(emulator).filter((c) => c.email!.endsWith('@acme.com')).every((c) => c.portal_role === 'no_access'));
  t.false(existsSync(journal));
  await undoRestores(t, emulator, env, undo, changed, before);
});

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`apply stopped by ${signal}, then apply --resume: the plan is applied once, the undo file restores the store`, async (t) => {
    const { emulator, dir, env } = await seeded(t);
    const before = snapshot(emulator);
    const changed = before.filter((c) => c.portal_role !== 'member');
    const input = join(dir, 'members.csv');
    writeFileSync(input, ['email', ...before.map((c) => c.email)].join('\n') + '\n');
    const plan = join(dir, 'plan.json');
    const planned = await runCli(['update', input, '--set', 'portal_role=member', '--plan-out', plan, ...FAST], { env });
    t.is(planned.code, 0, planned.stderr);

    const args = ['apply', plan, '--yes', '--json'];
    const first = await stopMidway([...args, ...SLOW], env, emulator, signal, 20);
    t.not(first.code, 0, first.stderr);
    const resumed = await runCli([...args, ...FAST, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.deepEqual(notHolding(emulator, 'member'), []);
    await undoRestores(t, emulator, env, join(dir, 'plan.undo.csv'), changed, before);
  });
}

test('refusals exit 2 and write nothing: --resume with nothing to resume, a changed file, another host', async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  const input = join(dir, 'few.csv');
  writeFileSync(input, ['email', ...before.slice(0, 50).map((c) => c.email)].join('\n') + '\n');
  const plain = ['update', input, '--set', 'portal_role=admin'];
  const args = [...plain, ...FAST];
  const filesBefore = filesUnder(dir).sort();

  const nothing = await runCli([...args, '--resume'], { env });
  t.is(nothing.code, 2, nothing.stderr);
  t.regex(nothing.stderr, /no interrupted run to finish/);
  t.deepEqual(filesUnder(dir).sort(), filesBefore, 'nothing written');
  const plan = join(dir, 'nothing.json');
  const applyNothing = await runCli(['apply', plan, '--resume', '--yes'], { env });
  t.not(applyNothing.code, 0);

  // A run stopped by kill -9 leaves its journal.
  const first = await stopMidway([...plain, ...SLOW], env, emulator, 'SIGKILL', 5);
  t.is(first.signal, 'SIGKILL');
  const journal = join(dir, '.few.journal.jsonl');
  t.true(existsSync(journal));
  const writesBefore = emulator.stats().requests.patch;
  // The killed run's lock is stale: the next run takes it over and releases it (run-lock-e2e.test.ts), so it is not counted.
  const unlocked = () => filesUnder(dir).filter((f) => !f.endsWith('.lock')).sort();
  const filesAfterKill = unlocked();

  // The file changed since: the message says to restore it or delete the journal (not "run without --resume").
  const original = readFileSync(input);
  appendFileSync(input, `${before[60].email}\n`);
  const changedFile = await runCli([...args, '--resume'], { env });
  t.is(changedFile.code, 2, changedFile.stderr);
  t.regex(changedFile.stderr, /changed since the interrupted run/);
  t.regex(changedFile.stderr, /delete .*few\.journal\.jsonl/);
  writeFileSync(input, original);

  // Another host: the journal names the host it was written against.
  const other = await startEmulator(t);
  seedContacts(other.store, COUNT);
  const otherHost = await runCli([...args, '--resume'], { env: envFor(other) });
  t.is(otherHost.code, 2, otherHost.stderr);
  t.regex(otherHost.stderr, /run against 127\.0\.0\.1:\d+, not 127\.0\.0\.1:\d+/);
  t.is(writes(other), 0);

  // Another version: a journal whose start line names another tool version.
  const text = readFileSync(journal, 'utf8');
  writeFileSync(journal, text.replace(/"tool":"[^"]*"/, '"tool":"0.0.0-other"'));
  const otherVersion = await runCli([...args, '--resume'], { env });
  t.is(otherVersion.code, 2, otherVersion.stderr);
  t.regex(otherVersion.stderr, /written by pylon-contacts 0\.0\.0-other/);
  writeFileSync(journal, text);

  t.is(emulator.stats().requests.patch, writesBefore, 'no refused run wrote to Pylon');
  t.deepEqual(unlocked(), filesAfterKill, 'no refused run wrote a file');
});

function writes(emulator: Emulator): number {
  const { requests } = emulator.stats();
  return requests.create + requests.patch + requests.delete;
}

/** `count` increasing PATCH counts between 1 and `max`, at random (logged, so a failure can be replayed). */
function randomStops(t: Parameters<typeof startEmulator>[0], count: number, max: number): number[] {
  const stops = [...new Set(Array.from({ length: count }, () => 1 + Math.floor(Math.random() * (max - 1))))].sort((a, b) => a - b);
  t.log(`kill -9 after PATCH calls: ${stops.join(', ')}`);
  return stops;
}

for (const command of ['update', 'apply'] as const) {
  test(`${command} killed by kill -9 at random points, resumed each time: every changed contact has its undo row, the undo file restores the store`, async (t) => {
    const { emulator, dir, env } = await seeded(t);
    const before = snapshot(emulator);
    const changed = before.filter((c) => c.portal_role !== 'admin');
    const input = join(dir, 'all.csv');
    writeFileSync(input, ['email', ...before.map((c) => c.email)].join('\n') + '\n');
    let args = ['update', input, '--set', 'portal_role=admin', '--json'];
    let undo = join(dir, 'all.undo.csv');
    if (command === 'apply') {
      const plan = join(dir, 'plan.json');
      t.is((await runCli([...args, '--plan-out', plan, ...FAST], { env })).code, 0);
      args = ['apply', plan, '--yes', '--json'];
      undo = join(dir, 'plan.undo.csv');
    }
    const stops = randomStops(t, 4, changed.length - 5);
    for (const [i, after] of stops.entries()) {
      const run = await stopMidway([...args, ...SLOW, ...(i > 0 ? ['--resume'] : [])], env, emulator, 'SIGKILL', after);
      t.is(run.signal, 'SIGKILL', `run ${i + 1} was killed: ${run.stderr}`);
    }
    const resumed = await runCli([...args, ...FAST, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.log(/\d+ undo rows the interrupted run had not written were rebuilt/.exec(resumed.stderr)?.[0] ?? 'no undo row rebuilt from the journal');
    t.deepEqual(notHolding(emulator, 'admin'), []);
    t.is(emulator.stats().requests.patch, changed.length, 'each contact patched once over every run');
    await undoRestores(t, emulator, env, undo, changed, before);
  });
}

const smallDisk = mountTmpfs;
const canMount = canMountTmpfs;
const diskTest = canMount ? test : test.skip;

for (const command of ['update', 'apply'] as const) {
  diskTest(`${command} whose undo file meets a full disk stops (exit 1); after space is freed, --resume leaves an undo file that restores the store${canMount ? '' : ' [skipped: needs root and mount]'}`, async (t) => {
    const { emulator, dir, env } = await seeded(t);
    const before = snapshot(emulator);
    const changed = before.filter((c) => c.portal_role !== 'admin');
    const disk = smallDisk(t, '4k')!;
    const undo = join(disk, 'undo.csv');
    const input = join(dir, 'all.csv');
    writeFileSync(input, ['email', ...before.map((c) => c.email)].join('\n') + '\n');
    let args = ['update', input, '--set', 'portal_role=admin', '--json', '--undo', undo];
    if (command === 'apply') {
      const plan = join(dir, 'plan.json');
      t.is((await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', plan, ...FAST], { env })).code, 0);
      args = ['apply', plan, '--yes', '--json', '--undo', undo];
    }
    const first = await runCli([...args, ...FAST], { env });
    t.is(first.code, 1, first.stderr);
    t.regex(first.stderr, /no space|ENOSPC/i);
    const patchedBefore = emulator.stats().requests.patch;
    t.true(patchedBefore > 0 && patchedBefore < changed.length, `${patchedBefore} PATCH calls before the disk filled`);

    t.is(spawnSync('mount', ['-o', 'remount,size=1m', disk]).status, 0, 'space freed');
    const resumed = await runCli([...args, ...FAST, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.log(/\d+ undo rows the interrupted run had not written were rebuilt/.exec(resumed.stderr)?.[0] ?? 'no undo row rebuilt from the journal');
    t.deepEqual(notHolding(emulator, 'admin'), []);
    await undoRestores(t, emulator, env, undo, changed, before);
  });
}

test('import --resume after Ctrl-C writes at once: no wait for creates that never left the pacer (default --timeout 30 s)', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-resume-e2e-');
  const rows = 300;
  const input = join(dir, 'new.csv');
  writeFileSync(input, contactsCsv(rows, 'ctrlc'));
  const args = ['import', input, '--json'];
  // Creates paced at 40 a second: when Ctrl-C comes, most rows wait in the pool or the pacer.
  const run = spawnCli([...args, '--rate', FAST_RATE.replace(/create=\d+/, 'create=40'), '--rate-window', '1000', '--concurrency', '4'], { env: envFor(emulator) });
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    timer = setInterval(() => {
      if (emulator.stats().requests.create >= 20) resolve();
    }, 10);
  }).finally(() => clearInterval(timer));
  run.child.kill('SIGINT');
  const first = await run.result;
  t.is(first.code, 130, first.stderr);
  const createsBefore = emulator.stats().requests.create;
  t.true(createsBefore < rows);

  const started = Date.now();
  const resumed = spawnCli([...args, '--rate', FAST_RATE, '--resume'], { env: envFor(emulator) });
  let firstWriteMs: number | undefined;
  const watch = setInterval(() => {
    if (firstWriteMs === undefined && emulator.stats().requests.create > createsBefore) firstWriteMs = Date.now() - started;
  }, 10);
  const result = await resumed.result.finally(() => clearInterval(watch));
  t.log(`the resumed run's first create reached the emulator ${firstWriteMs} ms after it started`);
  t.is(result.code, 0, result.stderr);
  t.notRegex(result.stderr, /creates whose answer was lost/, 'no create is waited for');
  t.true(firstWriteMs !== undefined, 'the resumed run wrote');
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('ctrlc', i))), []);
});

test('update --sync stopped by kill -9 while changing the listed contacts, then --resume: the list holds the value, everyone else lost it', async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  const listed = before.filter((_, i) => i % 2 === 0);
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...listed.map((c) => c.email)].join('\n') + '\n');
  const args = ['update', input, '--set', 'portal_role=admin', '--sync', '--others', 'portal_role=member', '--max-removals', '1000', '--json'];
  const first = await stopMidway([...args, ...SLOW], env, emulator, 'SIGKILL', 10);
  t.is(first.signal, 'SIGKILL', first.stderr);
  const resumed = await runCli([...args, ...FAST, '--resume'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  const ids = new Set(listed.map((c) => c.id));
  const now = snapshot(emulator);
  t.deepEqual(now.filter((c) => ids.has(c.id) && c.portal_role !== 'admin').map((c) => c.email), []);
  t.deepEqual(now.filter((c) => !ids.has(c.id) && c.portal_role === 'admin').map((c) => c.email), []);
});

test('update --sync killed by kill -9 while taking the value from contacts not in the file, then --resume: every removal is applied once, each changed contact has its undo row, the undo file restores the store', async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  const listedIds = new Set(before.filter((_, i) => i % 2 === 0).map((c) => c.id));
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...before.filter((c) => listedIds.has(c.id)).map((c) => c.email)].join('\n') + '\n');
  const promoted = before.filter((c) => listedIds.has(c.id) && c.portal_role !== 'admin');
  const removed = before.filter((c) => !listedIds.has(c.id) && c.portal_role === 'admin');
  t.true(removed.length > 20, `${removed.length} removals`);
  const args = ['update', input, '--set', 'portal_role=admin', '--sync', '--others', 'portal_role=member', '--max-removals', '1000', '--json'];
  // The listed contacts are patched first; the kill lands once some removals were sent.
  const first = await stopMidway([...args, ...SLOW], env, emulator, 'SIGKILL', promoted.length + 8);
  t.is(first.signal, 'SIGKILL', first.stderr);
  const patchedAtKill = emulator.stats().requests.patch;
  t.true(patchedAtKill > promoted.length && patchedAtKill < promoted.length + removed.length, `killed in the removal phase: ${patchedAtKill} PATCH calls, ${promoted.length} listed`);

  const resumed = await runCli([...args, ...FAST, '--resume'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  const now = snapshot(emulator);
  t.deepEqual(now.filter((c) => listedIds.has(c.id) && c.portal_role !== 'admin').map((c) => c.email), [], 'every listed contact is an admin');
  t.deepEqual(now.filter((c) => !listedIds.has(c.id) && c.portal_role === 'admin').map((c) => c.email), [], 'no one else is');
  t.is(emulator.stats().requests.patch, promoted.length + removed.length, 'each contact patched once over both runs');
  t.deepEqual(filesUnder(dir).filter((f) => /removals/.test(f)), [], 'the removals journal, state and undo rows are gone once merged');
  await undoRestores(t, emulator, env, join(dir, 'admins.undo.csv'), [...promoted, ...removed], before);
});

/** The counts a --sync run reports, --json and summary line: a resumed run must report the uninterrupted run's. */
const syncCounts = (result: CliResult) => {
  const { total, syncRemovals, created, updated, unchanged, skipped, failed, notProcessed } = statsOf(result);
  return { total, syncRemovals, created, updated, unchanged, skipped, failed, notProcessed };
};

test('update --sync killed by kill -9 while taking the value from others, then --resume: the final counts are those of an uninterrupted run, and rows read is the file\'s rows (apply --resume of a --sync plan too)', async (t) => {
  const listedOf = (contacts: Contact[]) => contacts.filter((_, i) => i % 2 === 0);
  const args = (input: string) => ['update', input, '--set', 'portal_role=admin', '--sync', '--others', 'portal_role=member', '--max-removals', '1000', '--json'];
  // The reference: the same store and file, never stopped.
  const reference = await seeded(t);
  const refInput = join(reference.dir, 'admins.csv');
  writeFileSync(refInput, ['email', ...listedOf(snapshot(reference.emulator)).map((c) => c.email)].join('\n') + '\n');
  const uninterrupted = await runCli([...args(refInput), ...FAST], { env: reference.env });
  t.is(uninterrupted.code, 0, uninterrupted.stderr);
  const expected = syncCounts(uninterrupted);
  t.is(expected.total, COUNT / 2, 'rows read: the file\'s rows');
  t.true(expected.syncRemovals! > 20 && expected.unchanged > 0, JSON.stringify(expected));
  t.regex(uninterrupted.stderr, new RegExp(`${COUNT / 2} rows read and ${expected.syncRemovals} contacts not in the file \\(--sync\\)`));

  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...listedOf(before).map((c) => c.email)].join('\n') + '\n');
  const promoted = listedOf(before).filter((c) => c.portal_role !== 'admin').length;
  const first = await stopMidway([...args(input), ...SLOW], env, emulator, 'SIGKILL', promoted + 8);
  t.is(first.signal, 'SIGKILL', first.stderr);
  t.true(emulator.stats().requests.patch > promoted, 'killed in the removal phase');
  const resumed = await runCli([...args(input), ...FAST, '--resume'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  t.deepEqual(syncCounts(resumed), expected, 'the resumed run reports what the uninterrupted one did');
  t.regex(resumed.stderr, new RegExp(`${COUNT / 2} rows read and ${expected.syncRemovals} contacts not in the file \\(--sync\\)`));
  t.regex(resumed.stderr, new RegExp(`created 0, updated ${expected.updated}, unchanged ${expected.unchanged}, skipped 0, failed 0`));

  // apply of the same --sync plan, killed among its removals and resumed: one run over the plan's entries, counted once each.
  const applied = await seeded(t);
  const planInput = join(applied.dir, 'admins.csv');
  writeFileSync(planInput, ['email', ...listedOf(snapshot(applied.emulator)).map((c) => c.email)].join('\n') + '\n');
  const planPath = join(applied.dir, 'sync.json');
  t.is((await runCli([...args(planInput), ...FAST, '--plan-out', planPath], { env: applied.env })).code, 0);
  const applyArgs = ['apply', planPath, '--max-removals', '1000', '--yes', '--json'];
  const cut = await stopMidway([...applyArgs, ...SLOW], applied.env, applied.emulator, 'SIGKILL', promoted + 8);
  t.is(cut.signal, 'SIGKILL', cut.stderr);
  const finished = await runCli([...applyArgs, ...FAST, '--resume'], { env: applied.env });
  t.is(finished.code, 0, finished.stderr);
  t.like(statsOf(finished), { updated: expected.updated, failed: 0, notProcessed: 0 });
  t.is(applied.emulator.stats().requests.patch, expected.updated, 'each contact patched once');
});

test('update --sync stopped by Ctrl-C while taking the value from contacts not in the file: the undo file the summary names restores every change made, removals included', async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  const listedIds = new Set(before.filter((_, i) => i % 2 === 0).map((c) => c.id));
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...before.filter((c) => listedIds.has(c.id)).map((c) => c.email)].join('\n') + '\n');
  const promoted = before.filter((c) => listedIds.has(c.id) && c.portal_role !== 'admin');
  const args = ['update', input, '--set', 'portal_role=admin', '--sync', '--others', 'portal_role=member', '--max-removals', '1000'];
  const first = await stopMidway([...args, ...SLOW], env, emulator, 'SIGINT', promoted.length + 8);
  t.is(first.code, 130, first.stderr);
  const changed = before.filter((c) => emulator.store.get(c.id)?.portal_role !== c.portal_role);
  t.true(changed.length > promoted.length, `stopped in the removal phase: ${changed.length} changed, ${promoted.length} listed`);
  const undo = join(dir, 'admins.undo.csv');
  t.regex(first.stderr, new RegExp(`undo file: ${undo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  t.deepEqual(filesUnder(dir).filter((f) => f.endsWith('.undo.csv.removals')), [], 'no second undo file');
  await undoRestores(t, emulator, env, undo, changed, before);
});

diskTest(`update --sync whose undo file meets a full disk while taking the value from others: the summary says the undo file is incomplete until --resume, which completes it${canMount ? '' : ' [skipped: needs root and mount]'}`, async (t) => {
  const { emulator, dir, env } = await seeded(t);
  const before = snapshot(emulator);
  // A few listed contacts (their undo rows fit in the disk's one page), then every admin loses the role (theirs do not).
  const listed = before.filter((c) => c.portal_role !== 'admin').slice(0, 10);
  const removed = before.filter((c) => c.portal_role === 'admin');
  const disk = smallDisk(t, '4k')!;
  const undo = join(disk, 'admins.undo.csv');
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...listed.map((c) => c.email)].join('\n') + '\n');
  const args = ['update', input, '--set', 'portal_role=admin', '--sync', '--others', 'portal_role=member', '--max-removals', '1000', '--undo', undo, ...FAST];
  const first = await runCli(args, { env });
  t.is(first.code, 1, first.stderr);
  t.regex(first.stderr, /no space|ENOSPC/i);
  t.true(emulator.stats().requests.patch > listed.length, 'stopped in the removal phase');
  t.notRegex(first.stderr, /restores the previous values/, first.stderr);
  t.regex(first.stderr, /undo file: .*admins\.undo\.csv \(incomplete: .*--resume/);

  t.is(spawnSync('mount', ['-o', 'remount,size=1m', disk]).status, 0, 'space freed');
  const resumed = await runCli([...args, '--resume'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  t.regex(resumed.stderr, /undo file: .*admins\.undo\.csv \(pylon-contacts update/);
  await undoRestores(t, emulator, env, undo, [...listed, ...removed], before);
});

for (const phase of ['changing the listed contacts', 'taking the value from others'] as const) {
  test(`update --sync killed by kill -9 while ${phase}: --resume with another --others, or without --sync, is refused (CONFIG_RESUME_MISMATCH, exit 2) naming the option, and writes nothing`, async (t) => {
    const { emulator, dir, env } = await seeded(t);
    const before = snapshot(emulator);
    const listedIds = new Set(before.filter((_, i) => i % 2 === 0).map((c) => c.id));
    const input = join(dir, 'admins.csv');
    writeFileSync(input, ['email', ...before.filter((c) => listedIds.has(c.id)).map((c) => c.email)].join('\n') + '\n');
    const promoted = before.filter((c) => listedIds.has(c.id) && c.portal_role !== 'admin').length;
    const args = ['update', input, '--set', 'portal_role=admin', '--max-removals', '1000', '--json'];
    const sync = ['--sync', '--others', 'portal_role=member'];
    const first = await stopMidway([...args, ...sync, ...SLOW], env, emulator, 'SIGKILL', phase === 'changing the listed contacts' ? 5 : promoted + 8);
    t.is(first.signal, 'SIGKILL', first.stderr);
    const patched = emulator.stats().requests.patch;

    const other = await runCli([...args, '--sync', '--others', 'portal_role=no_access', ...FAST, '--resume'], { env });
    t.is(other.code, 2, other.stderr);
    t.regex(other.stderr, /CONFIG_RESUME_MISMATCH|Cannot resume/);
    t.regex(other.stderr, /--others portal_role: "member" in the interrupted run, "no_access" now/);
    if (phase === 'changing the listed contacts') {
      const without = await runCli([...args, ...FAST, '--resume'], { env });
      t.is(without.code, 2, without.stderr);
      t.regex(without.stderr, /--sync: "true" in the interrupted run, not given now/);
    }
    t.is(emulator.stats().requests.patch, patched, 'nothing written by the refused runs');
    const resumed = await runCli([...args, ...sync, ...FAST, '--resume'], { env });
    t.is(resumed.code, 0, resumed.stderr);
    t.deepEqual(snapshot(emulator).filter((c) => c.portal_role === 'no_access' && before.find((b) => b.id === c.id)?.portal_role !== 'no_access'), []);
  });
}

/**
 * 12 contacts of 4 companies no account has: --create-accounts creates 4. The --timeout is what a lost
 * account create is waited for before it is looked up; 2 s was too short for the in-process emulator on a
 * machine at a load of 20 (GET /me timed out nine times), so it is 8 s.
 */
function newCompanies(dir: string): { input: string; args: string[] } {
  const input = join(dir, 'acc.csv');
  const rows = Array.from({ length: 12 }, (_, i) => `Acc ${i},acc${i}@mail${i}.example,Newco ${i % 4}`);
  writeFileSync(input, ['name,email,company', ...rows].join('\n') + '\n');
  return { input, args: ['import', input, '--account-match', 'name', '--account-column', 'company', '--create-accounts', '--json', '--timeout', '8000', ...FAST] };
}

const accountsNamed = (emulator: Emulator, prefix: string) => emulator.store.org.accounts.filter((a) => a.name?.startsWith(prefix)).map((a) => a.name).sort();

test('import --create-accounts: a POST /accounts whose answer is lost (applied, connection dropped) is looked for in the account list and used, not created twice, and the run goes on', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-resume-e2e-');
  let dropped = false;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (method !== 'POST' || !path.startsWith('/accounts') || dropped) return undefined;
    dropped = true;
    return 'drop=after';
  });
  const { args } = newCompanies(dir);
  const run = await runCli(args, { env: envFor(proxy) });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(proxy.injected, ['drop=after']);
  t.regex(run.stderr, /may have been applied/);
  t.deepEqual(accountsNamed(emulator, 'Newco'), ['Newco 0', 'Newco 1', 'Newco 2', 'Newco 3'], 'one account per company');
  const contacts = [...emulator.store.all()];
  t.is(contacts.length, 12);
  for (const c of contacts) t.is(emulator.store.org.findAccount(c.account?.id ?? '')?.name, `Newco ${Number(/\d+/.exec(c.email!)![0]) % 4}`, c.email!);
});

test('import --create-accounts stopped by a fatal error after creating accounts keeps its journal: --resume finishes the run and creates no account twice', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-resume-e2e-');
  let created = false;
  let revoked = true;
  // Every call after the accounts are created (reading the contacts first) meets a 401 until the token is
  // "fixed" for the --resume: the run stops before any contact write. Not only the first such call: one
  // whose 401 comes back after --timeout on a busy machine is retried, and its retry must meet the 401 too.
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (method === 'POST' && path.startsWith('/accounts')) created = true;
    else if (created && revoked && !path.startsWith('/accounts')) return 'status=401';
    return undefined;
  });
  const { input, args } = newCompanies(dir);
  const first = await runCli(args, { env: envFor(proxy) });
  revoked = false;
  t.is(first.code, 1, first.stderr);
  t.true(proxy.injected.includes('status=401'));
  t.deepEqual([...emulator.store.all()], [], 'no contact written before the 401');
  t.is(accountsNamed(emulator, 'Newco').length, 4);
  t.true(existsSync(join(dir, '.acc.journal.jsonl')), 'the journal is kept');
  // Stopped before its first row, the run still gives its summary, and says how to finish.
  t.regex(first.stderr, /Import of .*: stopped/);
  t.regex(first.stderr, /fatal \(PYLON_AUTH\): .* — fix it and run again with --resume/);
  const resumed = await runCli([...args, '--resume'], { env: envFor(proxy) });
  t.is(resumed.code, 0, resumed.stderr);
  t.deepEqual(accountsNamed(emulator, 'Newco'), ['Newco 0', 'Newco 1', 'Newco 2', 'Newco 3'], 'no account created twice');
  t.deepEqual(notExactlyOnce(emulator, readCsv(input).map((r) => r.email)), []);
});


test('--journal /dev/null or /dev/full is refused (OUTPUT_UNWRITABLE, exit 2), with --resume too: a journal must be a regular file', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-resume-e2e-');
  const input = join(dir, 'new.csv');
  writeFileSync(input, contactsCsv(3, 'dev'));
  for (const device of ['/dev/null', '/dev/full']) {
    for (const resume of [[], ['--resume']]) {
      const run = await runCli(['import', input, '--journal', device, ...resume, ...FAST], { env: envFor(emulator) });
      t.is(run.code, 2, run.stderr);
      t.regex(run.stderr, new RegExp(`--journal.*${device} is a device; a journal must be a regular file`));
      t.notRegex(run.stderr, /RangeError|bug|delete \/dev/);
    }
  }
  t.is(emulator.stats().requests.create, 0);
});
