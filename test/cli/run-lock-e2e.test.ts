/**
 * Runs that write, stopped and resumed, against what a black-box tester found:
 * a --resume with other --set values, two runs at once on one journal, a stop
 * before the first write, the summary of an update stopped while planning, and
 * the leftovers of a killed run. The built CLI in child processes; each run is
 * held at a known point by a proxy that stalls one kind of request (never by time).
 */
import test from 'ava';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/index.js';
import { FAST_RATE, contactsCsv, emailOf, envFor, notExactlyOnce, runCli, spawnCli, startEmulator, startFaultProxy, statsOf, tempDir, type CliResult } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';
import { stallProxy } from '../helpers/stall-proxy.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
/** PATCH and create paced at 10 a second: a run lasts seconds, long enough to meet it while it writes. */
const SLOW = ['--rate', FAST_RATE.replace(/patch=\d+/, 'patch=10').replace(/create=\d+/, 'create=10'), '--rate-window', '1000', '--concurrency', '2'];

/** Resolves once the emulator has received `count` writes (creates and PATCHes). */
async function writesReach(emulator: Emulator, count: number, run: Promise<CliResult>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      const { requests } = emulator.stats();
      if (requests.create + requests.patch >= count) resolve();
    }, 20);
  });
  await Promise.race([reached, run]).finally(() => clearInterval(timer));
}

const roles = (emulator: Emulator) => [...emulator.store.all()].map((c) => c.portal_role);

test('update --resume with another --set value is refused (exit 2, naming it), and nothing is written', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 20);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const input = join(dir, 'r4.csv');
  writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
  const first = spawnCli(['update', input, '--set', 'portal_role=admin', '--json', ...SLOW], { env });
  await writesReach(emulator, 3, first.result);
  first.child.kill('SIGKILL');
  t.is((await first.result).signal, 'SIGKILL');
  const patches = emulator.stats().requests.patch;

  const other = await runCli(['update', input, '--set', 'portal_role=no_access', '--resume', ...FAST], { env });
  t.is(other.code, 2, other.stderr);
  t.regex(other.stderr, /Cannot resume: this run's options differ .*--set portal_role: "admin" in the interrupted run, "no_access" now/);
  t.is(emulator.stats().requests.patch, patches, 'the refused resume wrote nothing');

  const same = await runCli(['update', input, '--set', 'portal_role=admin', '--resume', ...FAST], { env });
  t.is(same.code, 0, same.stderr);
  t.deepEqual([...new Set(roles(emulator))], ['admin']);
  const undo = parse(readFileSync(join(dir, 'r4.undo.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
  t.deepEqual([...new Set(undo.map((r) => r['_set.portal_role']))], ['admin'], "the undo file holds one run's values");
});

test('import --resume with another --create-accounts or --clear-token is refused, naming what differs', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const input = join(dir, 'c.csv');
  writeFileSync(input, contactsCsv(30, 'acc'));
  // A create the kill cut off before it reached the emulator is waited for by the resume for 6 × --timeout: kept short.
  const first = spawnCli(['import', input, '--clear-token', '#N/A', '--timeout', '2000', '--json', ...SLOW], { env });
  await writesReach(emulator, 2, first.result);
  first.child.kill('SIGKILL');
  await first.result;
  const other = await runCli(['import', input, '--timeout', '2000', '--resume', ...FAST], { env });
  t.is(other.code, 2, other.stderr);
  t.regex(other.stderr, /--clear-token: "#N\/A" in the interrupted run, not given now/);
  const same = await runCli(['import', input, '--clear-token', '#N/A', '--timeout', '2000', '--resume', '--json', ...FAST], { env });
  t.is(same.code, 0, same.stderr);
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: 30 }, (_, i) => emailOf('acc', i))), []);
});

for (const command of ['import', 'update'] as const) {
  test(`${command}: a second run of the same input while the first writes is refused (exit 2, naming its pid); after a kill -9 the stale lock is taken over`, async (t) => {
    const emulator = await startEmulator(t, { duplicateEmail: 'allow' });
    const dir = tempDir(t);
    const env = envFor(emulator);
    const input = join(dir, 'c.csv');
    let args: string[];
    let changing = 0;
    if (command === 'import') {
      writeFileSync(input, contactsCsv(20, 'two'));
      // A resume waits out --timeout for the creates that were in flight at the kill (they could still land): kept short.
      args = ['import', input, '--timeout', '2000'];
    } else {
      seedContacts(emulator.store, 20);
      changing = roles(emulator).filter((r) => r !== 'admin').length;
      writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
      args = ['update', input, '--set', 'portal_role=admin'];
    }
    // The first run is held while it writes: its creates or PATCHes wait at the proxy, unanswered.
    const proxy = await stallProxy(t, emulator, (method, path) => (method === 'POST' && path === '/contacts') || method === 'PATCH');
    const viaProxy = envFor(proxy);
    const first = spawnCli([...args, '--json', ...FAST], { env: viaProxy });
    await Promise.race([proxy.reached, first.result]);

    for (const extra of [[], ['--resume']]) {
      const second = await runCli([...args, ...extra, ...FAST], { env: viaProxy });
      t.is(second.code, 2, second.stderr);
      t.regex(second.stderr, new RegExp(`Another run \\(pid ${first.child.pid}\\) is working on this input now .*wait for it, or stop it`));
      t.notRegex(second.stderr, /Use --resume/);
    }
    const starts = readFileSync(join(dir, '.c.journal.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"t":"start"'));
    t.is(starts.length, 1, 'the refused runs did not touch the journal');
    first.child.kill('SIGKILL');
    await first.result;
    t.true(existsSync(join(dir, '.c.journal.jsonl.lock')), 'a kill -9 leaves its lock');
    // The writes held at the kill never reach Pylon.
    proxy.release({ drop: true });

    if (command === 'import') {
      // The dropped creates could still land until 6 × --timeout after their send: a resume waits that out before it
      // sends them again, and says so before it waits. A long --timeout makes that wait certain however slow the
      // machine; the run is stopped (Ctrl-C) once it has said so.
      const waiting = spawnCli([...args.filter((a, i) => a !== '--timeout' && args[i - 1] !== '--timeout'), '--timeout', '600000', '--resume', '--json', ...FAST], { env: viaProxy });
      const noted = new Promise<void>((resolve) => {
        let seen = '';
        waiting.child.stderr!.on('data', (d: string) => {
          seen += d;
          if (/checking \d+ creates whose answer was lost, by email, for up to \d+ s/.test(seen)) resolve();
        });
      });
      await Promise.race([noted, waiting.result]);
      waiting.child.kill('SIGINT');
      const stopped = await waiting.result;
      t.regex(stopped.stderr, /checking \d+ creates whose answer was lost, by email, for up to \d+ s \(a server may apply a create late\); none is sent again before/);
      t.is(stopped.code, 130, stopped.stderr);
    }
    const resumed = await runCli([...args, '--resume', '--json', ...FAST], { env: viaProxy });
    t.is(resumed.code, 0, resumed.stderr);
    t.false(existsSync(join(dir, '.c.journal.jsonl.lock')), 'the stale lock was taken over, and released');
    if (command === 'import') t.deepEqual(notExactlyOnce(emulator, Array.from({ length: 20 }, (_, i) => emailOf('two', i))), [], 'no contact created twice');
    else {
      t.is(emulator.stats().requests.patch, changing, 'one PATCH per contact changed');
      t.deepEqual([...new Set(roles(emulator))], ['admin']);
    }
  });
}

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  for (const command of ['import', 'update', 'undo'] as const) {
    test(`${command} stopped by ${signal} before its first write keeps its journal: --resume finishes the run`, async (t) => {
      const emulator = await startEmulator(t);
      const dir = tempDir(t);
      let input = join(dir, 't.csv');
      let args: string[];
      let stalled: (method: string, path: string) => boolean;
      let original: Array<string | undefined> = [];
      if (command === 'import') {
        writeFileSync(input, contactsCsv(10, 'pre'));
        args = ['import', input];
        stalled = (_m, path) => path.startsWith('/custom-fields');
      } else {
        seedContacts(emulator.store, 10);
        writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
        if (command === 'undo') {
          original = roles(emulator);
          const made = await runCli(['update', input, '--set', 'portal_role=admin', ...FAST], { env: envFor(emulator) });
          t.is(made.code, 0, made.stderr);
          input = join(dir, 't.undo.csv');
          args = ['update', input, '--undo', join(dir, 'back.undo.csv')];
        } else args = ['update', input, '--set', 'portal_role=admin'];
        // An update plans first: held while it reads the contacts (search for an undo file's rows, list for a file's lookup).
        stalled = (method, path) => (command === 'undo' ? method === 'POST' && path.startsWith('/contacts/search') : method === 'GET' && path.startsWith('/contacts'));
      }
      const proxy = await stallProxy(t, emulator, stalled);
      const env = envFor(proxy);
      const writesBefore = emulator.stats().requests.patch + emulator.stats().requests.create;
      // Ctrl-C lets requests in flight finish: the held one ends at --timeout, then the run stops.
      const first = spawnCli([...args, '--json', ...FAST, '--timeout', '1500'], { env });
      await Promise.race([proxy.reached, first.result]);
      first.child.kill(signal);
      const stopped = await first.result;
      if (signal === 'SIGINT') t.is(stopped.code, 130, stopped.stderr);
      t.is(emulator.stats().requests.patch + emulator.stats().requests.create, writesBefore, 'nothing was written');
      const journal = join(dir, command === 'undo' ? '.t.undo.journal.jsonl' : '.t.journal.jsonl');
      t.true(existsSync(journal), `the journal is there for --resume: ${readdirSync(dir).join(', ')}`);
      if (command === 'update' && signal === 'SIGINT') {
        // The summary of an update stopped while planning says so, and nothing else.
        t.regex(stopped.stderr, /Update of .*t\.csv: interrupted while planning after/);
        t.regex(stopped.stderr, /nothing was written: the run plans every row before its first write/);
        t.regex(stopped.stderr, /run the same command with --resume/);
        t.notRegex(stopped.stderr, /Update plan for|the real run:|no journal was kept|lookup by/);
        t.like(statsOf(stopped), { planning: true, interrupted: true, journalPath: journal });
      }

      proxy.release();
      const resumed = await runCli([...args, '--resume', '--json', ...FAST], { env });
      t.is(resumed.code, 0, resumed.stderr);
      t.false(existsSync(journal), 'the completed run removed its journal');
      if (command === 'import') t.deepEqual(notExactlyOnce(emulator, Array.from({ length: 10 }, (_, i) => emailOf('pre', i))), []);
      else if (command === 'update') t.deepEqual([...new Set(roles(emulator))], ['admin']);
      else t.deepEqual(roles(emulator), original, 'the undo file was applied');
    });
  }
}

test('--resume with no journal says when a plain run is safe', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'n.csv');
  writeFileSync(input, contactsCsv(2, 'none'));
  const result = await runCli(['import', input, '--resume', ...FAST], { env: envFor(emulator) });
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /no journal at .*stopped before it could write anything \(then the same command without --resume is safe\)/);
  t.is(emulator.stats().requests.create, 0);
});

test('a run refused before its first write (a guard) leaves no journal behind', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 5);
  const dir = tempDir(t);
  const input = join(dir, 'g.csv');
  writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
  const guarded = await runCli(['update', input, '--set', 'portal_role=admin', '--max-changes', '1', ...FAST], { env: envFor(emulator) });
  t.is(guarded.code, 1, guarded.stderr);
  t.deepEqual(readdirSync(dir), ['g.csv']);
});

test('a dry run with no failed row names no error report in --json (none is written)', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'd.csv');
  writeFileSync(input, contactsCsv(3, 'dry'));
  const result = await runCli(['import', input, '--dry-run', '--json', ...FAST], { env: envFor(emulator) });
  t.is(result.code, 0, result.stderr);
  t.is(statsOf(result).errorsPath, null);
  t.false(existsSync(join(dir, 'd.errors.csv')));
});

test("update --where sweeps the error report partials that killed runs left under their start time's name", async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 5);
  const dir = tempDir(t);
  // A pid that ran and ended: its partial is a dead run's.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const partial = join(dir, `.pylon-update-2026-01-02T03-04-05-678Z.errors.csv.${dead}.partial`);
  const other = join(dir, `.mine.csv.${dead}.partial`);
  writeFileSync(partial, 'email,_line\n');
  writeFileSync(other, 'x\n');
  const result = await runCli(['update', '--where', 'email~@', '--set', 'portal_role=admin', '--dry-run', ...FAST], { env: envFor(emulator), cwd: dir });
  t.is(result.code, 0, result.stderr);
  t.false(existsSync(partial), 'the dead run\'s partial is swept');
  t.true(existsSync(other), 'other files are left alone');
});

test('apply --force --only <report> stopped by kill -9, then the same command with --resume: it finishes exactly the contacts of the report', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 100);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
  const planPath = join(dir, 'plan.json');
  const planned = await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', planPath, ...FAST], { env });
  t.is(planned.code, 0, planned.stderr);
  // A colleague changes every other contact the plan would make admin to "no_access" meanwhile: apply leaves those, ROW_DRIFTED.
  const changing = [...emulator.store.all()].filter((c) => c.portal_role !== 'admin' && c.portal_role !== 'no_access').filter((_, i) => i % 2 === 0).map((c) => c.id);
  for (const id of changing) emulator.store.update(id, { portal_role: 'no_access' });
  const applied = await runCli(['apply', planPath, '--yes', ...FAST], { env });
  t.is(applied.code, 3, applied.stderr);
  const errorsPath = join(dir, 'plan.errors.csv');
  const report = parse(readFileSync(errorsPath, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
  const drifted = report.filter((r) => r._error_code === 'ROW_DRIFTED').map((r) => r.id!).sort();
  t.deepEqual(drifted, [...changing].sort());
  t.true(drifted.length >= 5, `${drifted.length} drifted contacts`);

  const only = ['apply', planPath, '--yes', '--force', '--only', errorsPath, '--undo', join(dir, 'forced.undo.csv')];
  const before = emulator.stats().requests.patch;
  const first = spawnCli([...only, ...SLOW], { env });
  await writesReach(emulator, before + 3, first.result);
  first.child.kill('SIGKILL');
  t.is((await first.result).signal, 'SIGKILL');

  const resumed = await runCli([...only, '--resume', ...FAST], { env });
  t.is(resumed.code, 0, resumed.stderr);
  // It says what it resumed: the run over the report's contacts, not the whole plan.
  t.true(resumed.stderr.includes(`--only ${errorsPath}: finishing the interrupted apply of ${drifted.length} of the plan's contacts (its ROW_DRIFTED rows)`), resumed.stderr);
  t.true(resumed.stderr.includes(`Apply of ${planPath} --only ${errorsPath}: done after`), resumed.stderr);
  t.regex(resumed.stderr, new RegExp(`${drifted.length} rows read`));
  t.deepEqual([...new Set(roles(emulator))], ['admin'], 'every contact of the report now holds the planned role, as the others already did');
  const undo = parse(readFileSync(join(dir, 'forced.undo.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
  t.deepEqual(undo.map((r) => r.id!).sort(), drifted, 'one undo row per overridden contact, none other');
  t.true(undo.every((r) => r.portal_role === 'no_access' && r['_set.portal_role'] === 'admin'), 'each undo row restores the colleague\'s value');
});

test('apply stopped by Ctrl-C at its first read counts every contact not processed and names the journal it kept; a 401 there says no journal was kept, and leaves none', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 10);
  const dir = tempDir(t);
  const input = join(dir, 'a.csv');
  writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
  const changing = [...emulator.store.all()].filter((c) => c.portal_role !== 'admin').length;
  let stalling = false;
  const proxy = await stallProxy(t, emulator, (_method, path) => stalling && path.startsWith('/custom-fields'));
  const plan = join(dir, 'p.json');
  t.is((await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', plan, ...FAST], { env: envFor(proxy) })).code, 0);
  const journal = join(dir, '.p.journal.jsonl');

  stalling = true;
  const first = spawnCli(['apply', plan, '--yes', '--timeout', '1500', ...FAST], { env: envFor(proxy) });
  await Promise.race([proxy.reached, first.result]);
  first.child.kill('SIGINT');
  const stopped = await first.result;
  t.is(stopped.code, 130, stopped.stderr);
  t.regex(stopped.stderr, new RegExp(`not processed: ${changing} rows — run the same command with --resume to finish`));
  t.true(existsSync(journal), 'the journal the hint names is there');
  t.is(emulator.stats().requests.patch, 0);
  proxy.release();
  const resumed = await runCli(['apply', plan, '--yes', '--resume', ...FAST], { env: envFor(proxy) });
  t.is(resumed.code, 0, resumed.stderr);
  t.deepEqual([...new Set(roles(emulator))], ['admin']);

  // A wrong token at the first read: nothing to resume, and the summary says to run it again.
  for (const c of emulator.store.all()) emulator.store.update(c.id, { portal_role: 'member' });
  let denying = false;
  const fault = await startFaultProxy(t, emulator, (r) => (denying && r.path.startsWith('/custom-fields') ? 'status=401' : undefined));
  const plan2 = join(dir, 'p2.json');
  t.is((await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', plan2, ...FAST], { env: envFor(fault) })).code, 0);
  denying = true;
  const denied = await runCli(['apply', plan2, '--yes', ...FAST], { env: envFor(fault) });
  t.is(denied.code, 1, denied.stderr);
  t.regex(denied.stderr, /not processed: 10 rows — no journal was kept; run the same command again/);
  t.notRegex(denied.stderr, /--resume/);
  t.false(existsSync(join(dir, '.p2.journal.jsonl')));
});

test('a run that changes nothing says it wrote no undo file, the same way in every command: update, update <undo file>, import --undo (as apply does)', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 6);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const input = join(dir, 'a.csv');
  writeFileSync(input, ['email', ...[...emulator.store.all()].map((c) => c.email)].join('\n') + '\n');
  const none = 'undo file: none written, since no contact was changed (there is nothing to undo)';
  const made = await runCli(['update', input, '--set', 'portal_role=admin', ...FAST], { env });
  t.is(made.code, 0, made.stderr);
  const undo = join(dir, 'a.undo.csv');
  const reverted = await runCli(['update', undo, '--undo', join(dir, 'back.undo.csv'), ...FAST], { env });
  t.is(reverted.code, 0, reverted.stderr);
  const runs = {
    'update <undo file> applied again': ['update', undo, '--undo', join(dir, 'again.undo.csv')],
    'update --set already held': ['update', join(dir, 'emails.csv'), '--set', 'name=Same', '--undo', join(dir, 'same.undo.csv')],
    'import --undo of unchanged rows': ['import', input, '--undo', join(dir, 'imp.undo.csv')],
  };
  // Every contact is named "Same" first, so the --set run and the import change nothing.
  for (const c of emulator.store.all()) emulator.store.update(c.id, { name: 'Same' });
  writeFileSync(join(dir, 'emails.csv'), readFileSync(input));
  writeFileSync(input, ['email,name', ...[...emulator.store.all()].map((c) => `${c.email},Same`)].join('\n') + '\n');
  const patches = emulator.stats().requests.patch;
  for (const [what, args] of Object.entries(runs)) {
    const result = await runCli([...args, ...FAST], { env });
    t.is(result.code, 0, `${what}: ${result.stderr}`);
    t.true(result.stderr.includes(none), `${what}:\n${result.stderr}`);
  }
  t.is(emulator.stats().requests.patch, patches, 'nothing was written');
});
