/**
 * runImport against a real emulator on a loopback socket: outcomes, lookup
 * strategies, duplicate policies, modes, dry run, reports, faults and resume.
 * The end-to-end tests of the built CLI are in test/cli/import-e2e.test.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parse } from 'csv-parse/sync';
import type { Emulator, EmulatorOptionsInput } from '../../src/emulator/index.js';
import { ConfigError } from '../../src/errors.js';
import { resolveImportOptions, type ImportOptionsInput } from '../../src/import/options.js';
import { runImport, type ImportStats, type RunImportHooks } from '../../src/import/run-import.js';
import { createPylonClient } from '../../src/pylon/client.js';
import { ENDPOINTS } from '../../src/config.js';
import { FAST_RATE, TOKEN, contactsCsv, emailOf, filesUnder, notExactlyOnce, startEmulator, startFaultProxy, tempDir, writes } from '../helpers/cli.js';

const outcomes = (s: ImportStats) => s.created + s.updated + s.unchanged + s.skipped + s.failed;

interface Run {
  stats: ImportStats;
  dir: string;
  input: string;
  notes: string[];
}

async function importCsv(
  t: ExecutionContext,
  target: { url: string },
  csv: string | Buffer,
  extra: Partial<ImportOptionsInput> = {},
  hooks: RunImportHooks = {},
  dir = tempDir(t),
): Promise<Run> {
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, csv);
  const options = resolveImportOptions({ input, baseUrl: target.url, token: TOKEN, env: {}, rate: FAST_RATE, ...extra });
  const notes: string[] = [];
  const stats = await runImport(options, { onNote: (m) => notes.push(m), ...hooks });
  return { stats, dir, input, notes };
}

function readCsv(path: string): Array<Record<string, string>> {
  return parse(readFileSync(path), { columns: true, bom: true }) as Array<Record<string, string>>;
}

/** The store as comparable data: primary email → name, role, phones (ids left out: they differ between emulators). */
function snapshot(emulator: Emulator) {
  return [...emulator.store.all()]
    .map((c) => ({ email: c.email, emails: [...(c.emails ?? [])].sort(), name: c.name, role: c.portal_role, phones: c.phone_numbers ?? [] }))
    .sort((a, b) => String(a.email).localeCompare(String(b.email)));
}

const SEEDED = [
  { name: 'Ada Lovelace', email: 'Ada@Example.com', portal_role: 'member' },
  { name: 'Grace Hopper', email: 'grace@example.com', emails: ['grace@example.com', 'g.hopper@navy.example'], portal_role: 'member' },
  { name: 'Linus Torvalds', email: 'linus@example.com', emails: ['linus@example.com', 'linus@kernel.example'], portal_role: 'member' },
  { name: 'Alan Turing', email: 'alan@example.com', portal_role: 'admin' },
];

/**
 * Ada by another case (rename), Grace by another case (unchanged), Linus by his
 * secondary email (unchanged: a row matched through one of the contact's
 * addresses leaves the addresses alone), Alan (role change), two new contacts.
 */
const MIXED = [
  'name,email,portal_role',
  'Ada King,ada@example.com,',
  'Grace Hopper,GRACE@example.com,member',
  'Linus Torvalds,linus@kernel.example,',
  'Alan Turing,ALAN@example.com,member',
  'Edsger Dijkstra,edsger@example.com,member',
  'Barbara Liskov,barbara@example.com,',
].join('\n');
const MIXED_OUTCOME = { total: 6, created: 2, updated: 2, unchanged: 2, skipped: 0, failed: 0 };

/** The contacts above, then `filler` more (so that the first list page holds contacts with secondary emails). */
function seed(emulator: Emulator, filler = 0) {
  for (const contact of SEEDED) emulator.store.insert(contact);
  for (let i = 0; i < filler; i++) emulator.store.insert({ name: `Filler ${i}`, email: `filler-${i}@corp.example` });
}

test('upsert: every row ends in one outcome, the store holds the result, and a second run writes nothing', async (t) => {
  const emulator = await startEmulator(t);
  seed(emulator);
  const first = await importCsv(t, emulator, MIXED);
  t.like(first.stats, { ...MIXED_OUTCOME, notProcessed: 0 });
  t.is(outcomes(first.stats), first.stats.total);
  t.is(emulator.store.size, 6);
  t.is(emulator.store.findByEmail('linus@kernel.example')?.email, 'linus@example.com', 'the primary address is kept');
  t.is(emulator.store.findByEmail('ada@example.com')?.name, 'Ada King');
  t.is(emulator.store.findByEmail('alan@example.com')?.portal_role, 'member');
  t.is(emulator.store.findByEmail('barbara@example.com')?.name, 'Barbara Liskov');
  t.false(existsSync(join(first.dir, '.contacts.journal.jsonl')), 'a finished run removes its journal');

  emulator.resetStats();
  const second = await importCsv(t, emulator, MIXED, {}, {}, first.dir);
  t.like(second.stats, { total: 6, created: 0, updated: 0, unchanged: 6, failed: 0 });
  t.is(writes(emulator), 0);
});

test('--lookup search, list and auto give the same outcomes and the same store', async (t) => {
  const stores = [];
  for (const lookup of ['search', 'list', 'auto'] as const) {
    const emulator = await startEmulator(t);
    seed(emulator);
    const { stats } = await importCsv(t, emulator, MIXED, { lookup });
    t.like(stats, MIXED_OUTCOME, lookup);
    t.is(stats.lookupStrategy, lookup === 'search' ? 'search' : 'list', 'a one-page org is read in one list call');
    t.is(emulator.stats().requests[lookup === 'search' ? 'search' : 'list'] > 0, true);
    stores.push(snapshot(emulator));
    await emulator.close();
  }
  t.deepEqual(stores[1], stores[0]);
  t.deepEqual(stores[2], stores[0]);
});

/**
 * A larger org (two list pages) makes `auto` weigh search against list. On a
 * server whose search is case-sensitive or ignores secondary emails, `auto`
 * must notice and read the list; every strategy that copes gives the same store.
 */
const SWITCHES: Array<[string, EmulatorOptionsInput]> = [
  ['default', {}],
  ['emailMatch sensitive', { emailMatch: 'sensitive' }],
  ['matchSecondaryEmails false', { matchSecondaryEmails: false }],
];
for (const [label, switches] of SWITCHES) {
  test(`auto and list agree on a 1,200-contact org (${label}); auto falls back to listing when search is unreliable`, async (t) => {
    const results = [];
    for (const lookup of ['auto', 'list'] as const) {
      const emulator = await startEmulator(t, switches);
      seed(emulator, 1200);
      const run = await importCsv(t, emulator, MIXED, { lookup });
      t.like(run.stats, MIXED_OUTCOME, `${lookup}: ${JSON.stringify(run.stats)}`);
      if (lookup === 'auto') {
        t.is(run.stats.lookupStrategy, label === 'default' ? 'search' : 'list', run.notes.join('\n'));
        if (label !== 'default') t.true(run.notes.some((n) => n.includes('reading the whole contact list')), run.notes.join('\n'));
      }
      results.push(snapshot(emulator));
      await emulator.close();
    }
    t.deepEqual(results[0], results[1]);
  });
}

test('--lookup search where search is case-sensitive: refused before any write (it would create duplicates)', async (t) => {
  const emulator = await startEmulator(t, { emailMatch: 'sensitive' });
  seed(emulator);
  const error = await t.throwsAsync(importCsv(t, emulator, 'name,email\nAda King,Ada@Example.com\n', { lookup: 'search' }));
  t.true(error instanceof ConfigError);
  t.regex(error!.message, /--lookup search cannot find every contact here: .*case-sensitively/);
  const { requests } = emulator.stats();
  t.is(requests.create + requests.patch, 0);
  // auto reads the list instead, and finds her.
  const { stats } = await importCsv(t, emulator, 'name,email\nAda King,Ada@Example.com\n', { lookup: 'auto' });
  t.like(stats, { lookupStrategy: 'list', created: 0, updated: 1 });
});

test('a create refused with exists_id (the contact appeared after the lookup) becomes an update of that contact', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'reject' });
  seed(emulator);
  let inserted = false;
  // Line 2 is unchanged and recorded before line 3's create goes out: someone else creates line 3's contact meanwhile.
  const { stats } = await importCsv(t, emulator, 'name,email\nAlan Turing,alan@example.com\nNew Person,new@example.com\n', {}, {
    onProgress: () => {
      if (!inserted) emulator.store.insert({ name: 'Someone Else', email: 'NEW@example.com' });
      inserted = true;
    },
  });
  t.true(inserted);
  t.like(stats, { created: 0, updated: 1, unchanged: 1, failed: 0 });
  t.is(emulator.stats().requests.create, 1, 'the create was tried and refused');
  t.is(emulator.store.size, SEEDED.length + 1);
  t.is(emulator.store.findByEmail('new@example.com')?.name, 'New Person');
});

test('--on-duplicate first|last|error with emails differing only in case', async (t) => {
  const csv = 'name,email\nFirst,dup@example.com\nOther,other@example.com\nLast,DUP@Example.com\n';
  for (const [policy, expected] of [
    ['first', { name: 'First', created: 2, failed: 1, failedLines: ['4'] }],
    ['last', { name: 'Last', created: 2, failed: 1, failedLines: ['2'] }],
    ['error', { name: undefined, created: 1, failed: 2, failedLines: ['2', '4'] }],
  ] as const) {
    const emulator = await startEmulator(t);
    const { stats, dir } = await importCsv(t, emulator, csv, { onDuplicate: policy });
    t.like(stats, { total: 3, created: expected.created, failed: expected.failed }, policy);
    t.is(emulator.store.findByEmail('dup@example.com')?.name, expected.name, policy);
    const report = readCsv(join(dir, 'contacts.errors.csv'));
    t.deepEqual(report.map((r) => r._line).sort(), [...expected.failedLines], policy);
    t.true(report.every((r) => r._error_code === 'ROW_DUPLICATE_IN_FILE'), policy);
    await emulator.close();
  }
});

test('--mode create skips existing contacts; --mode update never creates', async (t) => {
  const create = await startEmulator(t);
  seed(create);
  const c = await importCsv(t, create, MIXED, { mode: 'create' });
  t.like(c.stats, { created: 2, skipped: 4, updated: 0, failed: 0 });
  t.is(create.stats().requests.patch, 0);
  t.is(create.store.findByEmail('ada@example.com')?.name, 'Ada Lovelace');

  const update = await startEmulator(t);
  seed(update);
  const u = await importCsv(t, update, MIXED, { mode: 'update' });
  t.like(u.stats, { created: 0, updated: 2, unchanged: 2, failed: 2 });
  t.is(update.stats().requests.create, 0);
  const report = readCsv(join(u.dir, 'contacts.errors.csv'));
  t.deepEqual(report.map((r) => [r.email, r._error_code]), [
    ['edsger@example.com', 'ROW_NOT_FOUND'],
    ['barbara@example.com', 'ROW_NOT_FOUND'],
  ]);
});

test('--dry-run writes nothing and reports the planned calls and changes', async (t) => {
  const emulator = await startEmulator(t);
  seed(emulator);
  const dir = tempDir(t);
  const planned: string[] = [];
  const { stats } = await importCsv(t, emulator, MIXED, { dryRun: true, results: join(dir, 'plan.csv') }, {
    onPlan: (line, action) => planned.push(`${line}:${action}`),
  }, dir);
  t.is(writes(emulator), 0);
  t.is(emulator.store.size, SEEDED.length);
  t.like(stats, { ...MIXED_OUTCOME, dryRun: true });
  t.like(stats.plannedCalls, { create: 2, patch: 2 });
  t.true((stats.etaSeconds ?? -1) >= 0);
  t.deepEqual(planned, ['2:update', '5:update', '6:create', '7:create']);
  const plan = readCsv(join(dir, 'plan.csv'));
  t.is(plan.length, 6);
  t.regex(plan.find((r) => r._line === '2')!._changes, /name: "Ada Lovelace" → "Ada King"/);
  t.false(existsSync(join(dir, '.contacts.journal.jsonl')), 'a dry run keeps no journal');
});

test('every failed row is in the error report with line, original columns and reason; the fixed report re-imports', async (t) => {
  const emulator = await startEmulator(t);
  const csv = [
    'name,email,portal_role,notes',
    'Good One,good1@example.com,member,x',
    'Bad Email,not-an-email,member,y',
    'Bad Role,role@example.com,superuser,z',
    ',noname@example.com,,w',
    'Good Two,good2@example.com,,v',
  ].join('\n');
  const dir = tempDir(t);
  const first = await importCsv(t, emulator, csv, { ignoreUnknownColumns: true }, {}, dir);
  t.like(first.stats, { total: 5, created: 2, failed: 3 });
  const reportPath = join(dir, 'contacts.errors.csv');
  const report = readCsv(reportPath);
  t.deepEqual(
    report.map((r) => [r._line, r.name, r.email, r.portal_role, r.notes, r._error_code, r._error_field]),
    [
      ['3', 'Bad Email', 'not-an-email', 'member', 'y', 'ROW_INVALID_EMAIL', 'email'],
      ['4', 'Bad Role', 'role@example.com', 'superuser', 'z', 'ROW_INVALID_ROLE', 'portal_role'],
      ['5', '', 'noname@example.com', '', 'w', 'ROW_NAME_REQUIRED', 'name'],
    ],
  );
  t.true(report.every((r) => r._error_message.length > 0));

  // Fix one row in the report and import the report file as it is.
  const fixed = readFileSync(reportPath, 'utf8').replace('not-an-email', 'fixed@example.com');
  const again = await importCsv(t, emulator, fixed, { ignoreUnknownColumns: true }, {}, tempDir(t));
  t.like(again.stats, { total: 3, created: 1, failed: 2 });
  t.is(emulator.store.findByEmail('fixed@example.com')?.name, 'Bad Email');
  t.is(emulator.store.size, 3);
});

test('a create answered 503, or applied and then cut off, is looked up before it is sent again: no duplicates', async (t) => {
  // duplicateEmail 'allow': a blind resend would create a second contact.
  const emulator = await startEmulator(t, { duplicateEmail: 'allow' });
  const firstTry = new Map<string, number>();
  const proxy = await startFaultProxy(t, emulator, ({ method, path, body }) => {
    if (method !== 'POST' || path !== '/contacts') return undefined;
    const email = (JSON.parse(body) as { email: string }).email;
    const tries = (firstTry.get(email) ?? 0) + 1;
    firstTry.set(email, tries);
    if (tries > 1) return undefined;
    const i = Number(/-(\d+)@/.exec(email)![1]);
    return i % 3 === 0 ? 'drop=after' : i % 3 === 1 ? 'status=503' : 'drop';
  });
  const emails = Array.from({ length: 30 }, (_, i) => emailOf('flaky', i));
  // A dropped connection may still be applied late: looked up for the late window (6 × --timeout) before any resend (issue 21).
  const { stats, notes } = await importCsv(t, proxy, contactsCsv(30, 'flaky'), { lookup: 'search', timeoutMs: 2000 });
  t.like(stats, { total: 30, created: 30, failed: 0 });
  t.deepEqual(notExactlyOnce(emulator, emails), []);
  t.is(emulator.store.size, 30);
  t.is(proxy.injected.length, 30);
  t.true(notes.some((n) => n.includes('checking by email before sending again')));
});

test('random 5xx and dropped connections: zero rows lost or duplicated', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow', faults: { errorRate: 0.1, dropRate: 0.05 }, seed: 42 });
  seed(emulator);
  const rows = 200;
  const csv = contactsCsv(rows, 'storm') + 'Ada King,ada@example.com,\n';
  const client = createPylonClient({
    baseUrl: emulator.url,
    token: TOKEN,
    rates: Object.fromEntries(ENDPOINTS.map((e) => [e, Infinity])),
    retry: { baseDelayMs: 2, maxDelayMs: 20 },
  });
  t.teardown(() => client.close());
  // A dropped connection may still be applied late: looked up for the late window (6 × --timeout) before any resend (issue 21).
  const { stats, dir } = await importCsv(t, emulator, csv, { concurrency: 6, timeoutMs: 2000 }, { client });
  if (stats.failed > 0) t.log(readFileSync(join(dir, 'contacts.errors.csv'), 'utf8'));
  t.log(`faults injected ${emulator.stats().faultsInjected}, retries ${stats.retries}`);
  t.true(emulator.stats().faultsInjected > 10);
  t.is(outcomes(stats), rows + 1);
  t.like(stats, { created: rows, updated: 1, failed: 0, notProcessed: 0 });
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('storm', i))), []);
  t.is(emulator.store.size, rows + SEEDED.length);
});

test('an aborted run keeps its journal; --resume finishes with every row exactly once', async (t) => {
  const emulator = await startEmulator(t, { duplicateEmail: 'allow', latencyMs: 5 });
  const rows = 300;
  const dir = tempDir(t);
  const controller = new AbortController();
  const first = await importCsv(t, emulator, contactsCsv(rows, 'abort'), { concurrency: 2, lookupBatch: 20 }, {
    signal: controller.signal,
    onProgress: (s) => {
      if (s.created >= 40) controller.abort(new Error('test abort'));
    },
  }, dir);
  t.true(first.stats.interrupted);
  t.true(first.stats.created >= 40 && first.stats.created < rows, `created ${first.stats.created}`);
  t.is(outcomes(first.stats) + first.stats.notProcessed, rows);
  t.true(existsSync(join(dir, '.contacts.journal.jsonl')));

  const options = resolveImportOptions({ input: first.input, baseUrl: emulator.url, token: TOKEN, env: {}, rate: FAST_RATE, resume: true });
  const second = await runImport(options);
  t.like(second, { total: rows, created: rows, failed: 0, notProcessed: 0, interrupted: false });
  t.is(second.resumed, outcomes(first.stats));
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: rows }, (_, i) => emailOf('abort', i))), []);
  t.false(existsSync(join(dir, '.contacts.journal.jsonl')));
});

test('--resume refuses a changed input, and a new run refuses to overwrite a journal', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  writeFileSync(join(dir, '.contacts.journal.jsonl'), '{"t":"start","v":1,"input":{"path":"x","size":1,"sha256":"00"},"mode":"upsert","at":"now"}\n');
  writeFileSync(input, contactsCsv(3));
  const options = (resume: boolean) => resolveImportOptions({ input, baseUrl: emulator.url, token: TOKEN, env: {}, rate: FAST_RATE, resume });
  await t.throwsAsync(runImport(options(true)), { code: 'CONFIG_RESUME_MISMATCH', message: /input file changed/ });
  await t.throwsAsync(runImport(options(false)), { code: 'CONFIG_RESUME_MISMATCH', message: /Use --resume/ });
  t.is(writes(emulator), 0);
});

test('the token appears in no file the run writes', async (t) => {
  const emulator = await startEmulator(t, { latencyMs: 10 });
  seed(emulator);
  const dir = tempDir(t);
  const controller = new AbortController();
  const csv = MIXED + '\nBad,bad-email,\n' + contactsCsv(50, 'tok').split('\n').slice(1).join('\n');
  await importCsv(t, emulator, csv, { results: join(dir, 'results.csv'), undo: join(dir, 'undo.csv'), concurrency: 1 }, {
    signal: controller.signal,
    onProgress: (s) => {
      if (s.created >= 10) controller.abort();
    },
  }, dir);
  const files = filesUnder(dir);
  t.true(files.some((f) => f.endsWith('.journal.jsonl')), files.join(', '));
  t.true(files.length >= 4, files.join(', '));
  for (const file of files) t.false(readFileSync(file, 'latin1').includes(TOKEN), file);
});

test('an abort while the contact list is still being read is an interruption, not an error; it keeps its journal, and --resume then works', async (t) => {
  const emulator = await startEmulator(t, { latencyMs: 60 });
  seed(emulator, 4000); // five list pages
  const controller = new AbortController();
  const poll = setInterval(() => {
    if (emulator.stats().requests.list >= 2) controller.abort(new Error('interrupted by SIGINT'));
  }, 5);
  t.teardown(() => clearInterval(poll));
  const dir = tempDir(t);
  const first = await importCsv(t, emulator, MIXED, { lookup: 'list' }, { signal: controller.signal }, dir);
  clearInterval(poll);
  t.like(first.stats, { interrupted: true, total: 0, created: 0, notProcessed: 0 });
  t.is(first.stats.fatal, undefined);
  t.is(writes(emulator), 0);
  // The journal exists from before the first row: exit 130 means --resume continues, at whatever point the stop came.
  const again = await importCsv(t, emulator, MIXED, { lookup: 'list', resume: true }, {}, dir);
  t.like(again.stats, MIXED_OUTCOME);
});

test('an email held by two contacts fails its row as ambiguous, with every lookup, and writes nothing', async (t) => {
  for (const lookup of ['search', 'list'] as const) {
    const emulator = await startEmulator(t, { duplicateEmail: 'allow' });
    const a = emulator.store.insert({ name: 'Twin A', email: 'twin@example.com' });
    const b = emulator.store.insert({ name: 'Twin B', emails: ['other@example.com', 'TWIN@example.com'] });
    const { stats, dir } = await importCsv(t, emulator, 'name,email\nTwin,twin@example.com\n', { lookup });
    t.like(stats, { total: 1, failed: 1 }, lookup);
    t.is(writes(emulator), 0);
    const [row] = readCsv(join(dir, 'contacts.errors.csv'));
    t.is(row._error_code, 'ROW_AMBIGUOUS_MATCH');
    t.true(row._error_message.includes(a.id) && row._error_message.includes(b.id), row._error_message);
    await emulator.close();
  }
});

test('search whose secondary-email matching could not be checked says so; one that was checked does not', async (t) => {
  const plain = await startEmulator(t);
  plain.store.insert({ name: 'Only Primary', email: 'only@example.com' });
  const unchecked = await importCsv(t, plain, 'name,email\nOnly Primary,only@example.com\n', { lookup: 'search' });
  t.like(unchecked.stats, { lookupStrategy: 'search', unchanged: 1 });
  t.true(unchecked.notes.some((n) => /not known whether Pylon's search matches them.*--lookup list is exact/.test(n)), unchecked.notes.join('\n'));

  const withSecondary = await startEmulator(t);
  seed(withSecondary);
  const checked = await importCsv(t, withSecondary, 'name,email\nAlan Turing,alan@example.com\n', { lookup: 'search' });
  t.like(checked.stats, { lookupStrategy: 'search', unchanged: 1 });
  t.false(checked.notes.some((n) => /secondary/.test(n)), checked.notes.join('\n'));
});
