/**
 * The promises at the edges (issue 11), end to end: the built CLI in a child
 * process against the emulator on a real socket, real files, real full disks.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMountTmpfs, mountTmpfs } from '../helpers/tmpfs.js';
import { contactsCsv, emailOf, envFor, FAST_RATE, LATE, notExactlyOnce, runCli, spawnCli, startEmulator, startFaultProxy, statsOf, tempDir, writes } from '../helpers/cli.js';


function input(t: ExecutionContext, csv: string): string {
  const path = join(tempDir(t), 'contacts.csv');
  writeFileSync(path, csv);
  return path;
}

const importArgs = (file: string, ...args: string[]) => ['import', file, '--json', '-q', '--rate', FAST_RATE, ...args];

// ------------------------------------------------------------- finding 1: duplicates from the tool's own retries

test('a create that times out while the server still applies it is not sent again: no duplicate where Pylon accepts duplicate emails', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow' });
  // The first create of every email is held until the client's --timeout has cut it off, and applied all the same.
  const tried = new Set<string>();
  const proxy = await startFaultProxy(t, emulator, ({ method, path, body }) => {
    if (method !== 'POST' || path !== '/contacts') return undefined;
    const email = (JSON.parse(body) as { email: string }).email;
    if (tried.has(email)) return undefined;
    tried.add(email);
    return LATE;
  });
  const rows = 12;
  const result = await runCli(importArgs(input(t, contactsCsv(rows, 'late')), '--timeout', '2000', '--concurrency', '4', '--lookup', 'search'), { env: envFor(proxy) });
  t.is(result.code, 0, result.stderr);
  t.like(statsOf(result), { total: rows, created: rows, failed: 0, duplicatesCreated: [] });
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('late', i))), []);
  t.is(emulator.store.size, rows);
  t.is(proxy.injected.length, rows, 'every first create was held until the client gave up on it');
});

test('on a server that rejects duplicates, a late create is reported created, not unchanged', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'reject' });
  const tried = new Set<string>();
  const proxy = await startFaultProxy(t, emulator, ({ method, path, body }) => {
    if (method !== 'POST' || path !== '/contacts') return undefined;
    const email = (JSON.parse(body) as { email: string }).email;
    if (tried.has(email)) return undefined;
    tried.add(email);
    return LATE;
  });
  const result = await runCli(importArgs(input(t, contactsCsv(6, 'late')), '--timeout', '2000', '--lookup', 'search'), { env: envFor(proxy) });
  t.is(result.code, 0, result.stderr);
  t.like(statsOf(result), { total: 6, created: 6, unchanged: 0, failed: 0 });
  t.is(emulator.store.size, 6);
  t.is(proxy.injected.length, 6, 'every first create was held until the client gave up on it');
});

// ------------------------------------------------------------- finding 2: outputs proven writable before the first write

for (const [flag, option] of [
  ['--errors', '--errors'],
  ['--results', '--results'],
  ['--journal', '--journal'],
] as const) {
  test(`import ${flag} in a folder that does not exist: exit 2 naming the path, no call that writes`, async (t) => {
    const emulator = await startEmulator(t);
    const file = input(t, contactsCsv(5, 'nodir'));
    const target = join(file, '..', 'nodir', 'out.csv');
    const result = await runCli(importArgs(file, flag, target), { env: envFor(emulator) });
    t.is(result.code, 2, result.stderr);
    t.true(result.stderr.includes(target), result.stderr);
    t.true(result.stderr.includes(option));
    t.regex(result.stderr, /folder does not exist/);
    t.notRegex(result.stderr, /bug in pylon-contacts/);
    t.is(writes(emulator), 0);
    t.is(emulator.store.size, 0);
  });
}

test('update --where --undo in a folder that does not exist: exit 2, no contact changed, no undo lost', async (t) => {
  const emulator = await startEmulator(t);
  for (let i = 0; i < 3; i++) emulator.store.insert({ name: `P ${i}`, email: emailOf('acme', i), portal_role: 'member' } as never);
  const dir = tempDir(t);
  const undo = join(dir, 'nodir', 'u.csv');
  const result = await runCli(['update', '--where', 'email~@example.com', '--set', 'portal_role=admin', '--yes', '--undo', undo, '--errors', join(dir, 'e.csv'), '--json', '-q', '--rate', FAST_RATE], { env: envFor(emulator) });
  t.is(result.code, 2, result.stderr);
  t.true(result.stderr.includes(undo));
  t.is(writes(emulator), 0);
  t.true([...emulator.store.all()].every((c) => c.portal_role === 'member'));
});

test('an output path under a file (not a folder) is exit 2 with the reason, for --dry-run too', async (t) => {
  const emulator = await startEmulator(t);
  const file = input(t, contactsCsv(3, 'notdir'));
  const result = await runCli(importArgs(file, '--dry-run', '--errors', join(file, 'e.csv')), { env: envFor(emulator) });
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /not a folder/);
});

// ------------------------------------------------------------- finding 3: a disk that fills mid-run

/** A 64 KiB tmpfs, or undefined where this machine does not allow mounting one. */
const smallDisk = (t: ExecutionContext) => mountTmpfs(t, '64k');

test('results on a disk that fills mid-run: exit 1 with the path, the journal kept, no row failed for it; --resume finishes', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow' });
  const rows = 1500;
  const file = input(t, contactsCsv(rows, 'full'));
  const disk = smallDisk(t);
  // Without a mountable tmpfs, /dev/full answers every write with ENOSPC: the same failure, from the first line.
  const results = disk ? join(disk, 'results.csv') : '/dev/full';
  t.log(disk ? `tmpfs at ${disk}` : 'no tmpfs here: /dev/full');
  const first = await runCli(importArgs(file, '--results', results), { env: envFor(emulator) });
  t.is(first.code, 1, first.stderr);
  t.regex(first.stderr, /Cannot write .*(results\.csv|\/dev\/full).*(no space|ENOSPC)/i);
  const stats = statsOf(first);
  t.is(stats.failed, 0, 'a full disk is not a row failure');
  // The results hold up to 10,000 rows back to write them in line order (REORDER_WINDOW), so with 1,500 rows the
  // disk may fill only when they are written at the end, after every create: rows done plus rows not sent is all of them.
  t.is(stats.created + stats.notProcessed, rows);
  const journal = join(file, '..', '.contacts.journal.jsonl');
  t.true(existsSync(journal), 'the journal is kept for --resume');
  const resumed = await runCli(importArgs(file, '--resume', '--results', join(file, '..', 'results.csv')), { env: envFor(emulator) });
  t.is(resumed.code, 0, resumed.stderr);
  t.like(statsOf(resumed), { total: rows, failed: 0, notProcessed: 0 });
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('full', i))), []);
});

const mountable = canMountTmpfs;

// A journal cannot live on a device like /dev/full: without a tmpfs this one cannot run.
(mountable ? test : test.skip)(`a journal on a disk that fills: exit 1, no row marked failed, the journal kept and resumable${mountable ? '' : ' [skipped: cannot mount a tmpfs here (needs root and mount rights)]'}`, async (t) => {
  const disk = smallDisk(t);
  if (!disk) throw new Error('the tmpfs mounted in the probe but not for the test');
  const emulator = await startEmulator(t, { duplicateEmail: 'allow' });
  const rows = 1500;
  const file = input(t, contactsCsv(rows, 'jfull'));
  const journal = join(disk, 'j.jsonl');
  const first = await runCli(importArgs(file, '--journal', journal), { env: envFor(emulator) });
  t.is(first.code, 1, first.stderr);
  t.regex(first.stderr, /Cannot write .*j\.jsonl/);
  const stats = statsOf(first);
  t.is(stats.failed, 0);
  t.true(existsSync(journal));
  // No row failed, so no error report is written (and none can hold ENOSPC).
  t.false(existsSync(join(file, '..', 'contacts.errors.csv')));
  // Make room: move the journal where there is space, and finish.
  const roomy = join(file, '..', 'j.jsonl');
  writeFileSync(roomy, readFileSync(journal));
  const resumed = await runCli(importArgs(file, '--journal', roomy, '--resume'), { env: envFor(emulator) });
  t.is(resumed.code, 0, resumed.stderr);
  t.like(statsOf(resumed), { total: rows, failed: 0, notProcessed: 0 });
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('jfull', i))), []);
});

// ------------------------------------------------------------- finding 5: a revoked token stops the run

test('a token revoked mid-run (401 after a transient error) stops the run; --resume with a good token applies the row', async (t) => {
  const emulator = await startEmulator(t, { tokens: ['good-token-0001', 'other-token-0002'] });
  for (let i = 0; i < 20; i++) emulator.store.insert({ name: `Old ${i}`, email: emailOf('rev', i) });
  let patches = 0;
  let revoked = true;
  const proxy = await startFaultProxy(t, emulator, ({ method }) => {
    if (method !== 'PATCH' || !revoked) return undefined;
    patches++;
    // The 5th PATCH meets a 503 and its retry a 401: the token was revoked in between.
    if (patches === 5) return 'status=503';
    if (patches >= 6) return 'status=401';
    return undefined;
  });
  const file = input(t, contactsCsv(20, 'rev'));
  const first = await runCli(importArgs(file, '--concurrency', '1', '--lookup', 'search'), { env: envFor(proxy, 'good-token-0001') });
  t.is(first.code, 1, first.stderr);
  const stats = statsOf(first);
  t.is(stats.failed, 0, 'no row is failed for a revoked token');
  t.is(stats.fatal?.code, 'PYLON_AUTH');
  t.is(stats.updated, 4);
  // A good token again, on the same host: a journal is resumed only against the host it was written for.
  revoked = false;
  const resumed = await runCli(importArgs(file, '--concurrency', '1', '--lookup', 'search', '--resume'), { env: envFor(proxy, 'good-token-0001') });
  t.is(resumed.code, 0, resumed.stderr);
  t.like(statsOf(resumed), { total: 20, updated: 20, failed: 0 });
  t.true([...emulator.store.all()].every((c) => /^Person \d+$/.test(c.name ?? '')));
});

// ------------------------------------------------------------- finding 7: no personal data left in the temp folder

test('after kill -9, the next run removes the dead run\'s stdin spool; the lookup spool never outlives its process', async (t) => {
  const emulator = await startEmulator(t, { latencyMs: 30 });
  const csv = contactsCsv(400, 'spool');
  const before = new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('pylon-contacts-')));
  // In a folder of its own: the killed run's default outputs for stdin (its undo file's partial) land in the working directory.
  const cwd = tempDir(t);
  const run = spawnCli(['import', '-', '--json', '-q', '--rate', FAST_RATE, '--lookup', 'list', '--errors', join(tempDir(t), 'e.csv')], { env: envFor(emulator), cwd, stdin: csv });
  // Until the run is well under way; a run that ends before (it failed to start, say) fails the test instead of leaving it waiting.
  while (emulator.store.size < 20 && run.child.exitCode === null && run.child.signalCode === null) await new Promise((r) => setTimeout(r, 5));
  if (emulator.store.size < 20) {
    const ended = await run.result;
    t.fail(`the import ended (exit ${ended.code}, ${ended.signal}) before it had created 20 contacts: ${ended.stderr}`);
    return;
  }
  const ours = readdirSync(tmpdir()).filter((f) => f.startsWith('pylon-contacts-') && !before.has(f));
  t.true(ours.some((f) => f.startsWith(`pylon-contacts-stdin-${run.child.pid}-`)), ours.join(', '));
  // The lookup's contact file is unlinked as soon as it is open: its folder is gone while the run still goes on. (Only this run's
  // folders count: other test files' CLI runs make their own at the same time.)
  t.false(ours.some((f) => f.startsWith(`pylon-contacts-lookup-${run.child.pid}-`)), ours.join(', '));
  run.child.kill('SIGKILL');
  await run.result;
  t.true(readdirSync(tmpdir()).some((f) => f.startsWith(`pylon-contacts-stdin-${run.child.pid}-`)), 'kill -9 leaves the spool behind');
  const next = await runCli(['import', '-', '--json', '-q', '--rate', FAST_RATE, '--errors', join(tempDir(t), 'e2.csv')], { env: envFor(emulator), cwd, stdin: 'name,email\nA,a@example.com\n' });
  t.is(next.code, 0, next.stderr);
  t.false(readdirSync(tmpdir()).some((f) => f.startsWith(`pylon-contacts-stdin-${run.child.pid}-`)), 'the next run swept it');
});

// ------------------------------------------------------------- finding 8: one bad byte garbles nothing

test('a UTF-8 file with one Latin-1 byte: that row fails with ROW_ENCODING and its line, every other accent is stored as written', async (t) => {
  const emulator = await startEmulator(t);
  const lines = ['name,email'];
  for (let i = 0; i < 30; i++) lines.push(`Zoë ${i},zoe${i}@example.com`);
  const good = Buffer.from(lines.join('\n') + '\n', 'utf8');
  const bad = Buffer.concat([Buffer.from('Jos'), Buffer.from([0xe9]), Buffer.from(',jose@example.com\n')]);
  const file = join(tempDir(t), 'mixed.csv');
  writeFileSync(file, Buffer.concat([good, bad]));
  const result = await runCli(importArgs(file), { env: envFor(emulator) });
  t.is(result.code, 3, result.stderr);
  t.like(statsOf(result), { total: 31, created: 30, failed: 1 });
  t.is(emulator.store.findByEmail('zoe7@example.com')?.name, 'Zoë 7');
  t.false([...emulator.store.all()].some((c) => /Ã|\uFFFD/.test(c.name ?? '')));
  const report = readFileSync(join(file, '..', 'mixed.errors.csv'), 'utf8');
  t.regex(report, /,32,ROW_ENCODING,/);
});

test('emails with a zero-width space or mailto: fail their rows and name the problem; nothing odd is stored', async (t) => {
  const emulator = await startEmulator(t);
  const file = input(t, 'name,email\nZw,zw\u200b@example.com\nMail,mailto:mail@example.com\nOk,ok@example.com\n');
  const result = await runCli(importArgs(file), { env: envFor(emulator) });
  t.is(result.code, 3, result.stderr);
  t.like(statsOf(result), { created: 1, failed: 2 });
  const report = readFileSync(join(file, '..', 'contacts.errors.csv'), 'utf8');
  t.regex(report, /invisible characters \(U\+200B\)/);
  t.regex(report, /without ""mailto:""/);
  t.is(emulator.store.size, 1);
});

test('emails that differ only in Unicode composition are one address; a full-width letter fails its row', async (t) => {
  const emulator = await startEmulator(t);
  // René with é as one character (NFC), then as e + U+0301 (NFD), in a row of its own and in a second run.
  const file = input(t, 'name,email\nRené NFC,ren\u00e9@example.com\nRené NFD,rene\u0301@example.com\nWide,\uff41lice@example.com\n');
  const result = await runCli(importArgs(file), { env: envFor(emulator) });
  t.is(result.code, 3, result.stderr);
  t.like(statsOf(result), { created: 1, failed: 2 });
  t.deepEqual([...emulator.store.all()].map((c) => [c.name, c.email]), [['René NFC', 'ren\u00e9@example.com']]);
  const report = readFileSync(join(file, '..', 'contacts.errors.csv'), 'utf8');
  t.true(report.includes('René NFD,rene\u0301@example.com,3,ROW_DUPLICATE_IN_FILE,'), report);
  t.regex(report, /Wide,\uff41lice@example\.com,4,ROW_INVALID_EMAIL,email,"Invalid email .*U\+FF41, a full-width or compatibility form of ""a"".*\(""alice@example\.com""\)/);

  // The decomposed address alone matches the contact (no second one), and is sent composed.
  const again = input(t, 'name,email\nRené Again,RENE\u0301@example.com\n');
  const second = await runCli(importArgs(again, '--lookup', 'list'), { env: envFor(emulator) });
  t.is(second.code, 0, second.stderr);
  t.like(statsOf(second), { created: 0, updated: 1, failed: 0 });
  t.deepEqual([...emulator.store.all()].map((c) => [c.name, c.email]), [['René Again', 'ren\u00e9@example.com']]);
});

test('a contact Pylon holds under a decomposed address (another tool wrote it) is found by search from the composed one', async (t) => {
  const emulator = await startEmulator(t);
  const response = await fetch(`${emulator.url}/contacts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${envFor(emulator).PYLON_API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'René Old', email: 'rene\u0301@example.com' }),
  });
  t.is(response.status, 200, await response.text());
  const file = input(t, 'name,email\nRené New,ren\u00e9@example.com\n');
  const result = await runCli(importArgs(file, '--lookup', 'search'), { env: envFor(emulator) });
  t.is(result.code, 0, result.stderr);
  t.like(statsOf(result), { created: 0, updated: 1, failed: 0 });
  t.deepEqual([...emulator.store.all()].map((c) => c.name), ['René New']);
});

test('--results - and --errors - are refused before any call (exit 2), not written to a file named "-"', async (t) => {
  const emulator = await startEmulator(t);
  const file = input(t, 'name,email\nOk,ok@example.com\n');
  const dir = join(file, '..');
  for (const flag of ['--results', '--errors', '--journal']) {
    const result = await runCli(importArgs(file, flag, '-'), { env: envFor(emulator), cwd: dir });
    t.is(result.code, 2, result.stderr);
    t.regex(result.stderr, new RegExp(`Invalid option \`${flag}\`: expected a file path .*got "-"`));
    t.false(existsSync(join(dir, '-')), flag);
  }
  t.is(writes(emulator), 0);
});

// Finding 9 (install from a clone: prepare builds dist/) is test/install.test.ts's folder install.
