/**
 * Issue 11, findings 4 and 5: a revoked token stops the run and leaves the row to
 * --resume; `--resume` after every PATCH landed still writes the undo file; an
 * existing undo file is never overwritten; `--where` runs keep a journal.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { partialPathFor } from '../../src/output/output-file.js';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createPylonClient } from '../../src/pylon/client.js';
import { resolveImportOptions, type ImportOptionsInput } from '../../src/import/options.js';
import { runUpdate } from '../../src/update/run-update.js';
import { ENDPOINTS } from '../../src/config.js';
import { openJournal } from '../../src/run/journal.js';
import { parseFilterExpression } from '../../src/pylon/filter-expr.js';
import { selectionPathFor, whereJournalPath, whereRunKey } from '../../src/run/run-state.js';
import type { Contact } from '../../src/pylon/types.js';
import { TOKEN, startEmulator, startFaultProxy, tempDir } from '../helpers/cli.js';
import { seedContacts } from './seed.js';

const FAST = Object.fromEntries(ENDPOINTS.map((e) => [e, 1_000_000]));
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

function update(url: string, input: Omit<ImportOptionsInput, 'baseUrl' | 'token'>, extra: { signal?: AbortSignal } = {}) {
  const client = createPylonClient({ baseUrl: url, token: TOKEN, rates: FAST, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  const options = resolveImportOptions({ baseUrl: url, token: TOKEN, rate: FAST, concurrency: 4, ...input });
  return runUpdate({ import: options }, { client, signal: extra.signal }).finally(() => client.close?.());
}

test('a PATCH that meets a 503 and then a 401 stops the run (PYLON_AUTH), is not a failed row, and --resume applies it', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 40);
  const dir = tempDir(t);
  const chosen = [...emulator.store.all()].filter((c) => c.portal_role !== 'no_access').slice(0, 12) as Contact[];
  const victim = chosen[5];
  let victimPatches = 0;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (method !== 'PATCH' || !path.endsWith(`/contacts/${victim.id}`)) return undefined;
    victimPatches++;
    // The first send meets a transient error; the retry finds the token revoked.
    return victimPatches === 1 ? 'status=503' : victimPatches === 2 ? 'status=401' : undefined;
  });
  const input = join(dir, 'revoked.csv');
  writeFileSync(input, ['email', ...chosen.map((c) => c.email)].join('\n') + '\n');
  const common = { input, set: { portal_role: 'no_access' }, undo: join(dir, 'revoked.undo.csv'), errors: join(dir, 'revoked.errors.csv'), lookup: 'list' };

  const first = await update(proxy.url, common);
  t.is(first.stats?.fatal?.code, 'PYLON_AUTH');
  t.is(first.stats?.failed, 0, 'the row is not recorded as failed');
  t.true(first.stats!.notProcessed >= 1);
  t.true(existsSync(join(dir, '.revoked.journal.jsonl')), 'the journal is kept for --resume');

  // Through the same host as the stopped run: a journal names its host, and a resume against another is refused (issue 21).
  const resumed = await update(proxy.url, { ...common, resume: true });
  t.is(resumed.stats?.fatal, undefined);
  t.is(resumed.stats?.failed, 0);
  t.is(resumed.stats?.updated, 12);
  t.is(emulator.store.get(victim.id)?.portal_role, 'no_access', 'the row is applied on resume');
  t.deepEqual(readCsv(join(dir, 'revoked.undo.csv')).map((r) => r.id).sort(), chosen.map((c) => c.id).sort());
});

test('--resume after every PATCH landed (outcomes unrecorded) still writes the undo file; the journal goes', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 30);
  const dir = tempDir(t);
  const before = structuredClone([...emulator.store.all()]) as Contact[];
  const chosen = before.filter((c) => c.portal_role !== 'no_access').slice(0, 8);
  const input = join(dir, 'landed.csv');
  writeFileSync(input, ['email', ...chosen.map((c) => c.email)].join('\n') + '\n');
  const undo = join(dir, 'landed.undo.csv');
  const journalPath = join(dir, '.landed.journal.jsonl');
  // What a kill -9 leaves: every PATCH sent (journaled with the previous values) and landed, no outcome
  // recorded, the undo rows of the first three in the killed run's .partial.
  const bytes = readFileSync(input);
  const journal = openJournal(journalPath, { input: { path: resolve(input), size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }, mode: 'update' }, false);
  chosen.forEach((c, i) => journal.sent(i + 2, { id: c.id, changes: [{ column: 'portal_role', from: c.portal_role!, to: 'no_access' }] }));
  journal.close();
  for (const c of chosen) emulator.store.update(c.id, { portal_role: 'no_access' });
  const partial = partialPathFor(undo, spawnSync(process.execPath, ['-e', '']).pid!);
  writeFileSync(partial, ['id,email,portal_role', ...chosen.slice(0, 3).map((c) => `${c.id},${c.email},${c.portal_role}`)].join('\n') + '\n');

  const resumed = await update(emulator.url, { input, set: { portal_role: 'no_access' }, undo, journal: journalPath, resume: true, errors: join(dir, 'landed.errors.csv') });
  t.like(resumed.stats, { updated: 8, failed: 0, dryRun: false });
  t.is(emulator.stats().requests.patch, 0, 'nothing is sent again');
  t.true(existsSync(undo), 'the undo file is written');
  t.false(existsSync(partial));
  t.false(existsSync(journalPath), 'the finished run removes its journal');
  const rows = readCsv(undo);
  t.deepEqual(rows.map((r) => r.id).sort(), chosen.map((c) => c.id).sort());
  for (const c of chosen) t.is(rows.find((r) => r.id === c.id)?.portal_role, c.portal_role);

  await update(emulator.url, { input: undo, undo: join(dir, 'landed.undo.undo.csv'), errors: join(dir, 'u.errors.csv') });
  t.deepEqual([...emulator.store.all()], before);
});

test('an existing undo file is never overwritten: the next run writes <name>-2.csv and says so', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 30);
  const dir = tempDir(t);
  const before = structuredClone([...emulator.store.all()]) as Contact[];
  const chosen = before.slice(0, 6);
  const input = join(dir, 'twice.csv');
  writeFileSync(input, ['email', ...chosen.map((c) => c.email)].join('\n') + '\n');
  const undo = join(dir, 'twice.undo.csv');
  const first = await update(emulator.url, { input, set: { 'custom.tier': 'gold' }, undo });
  t.is(first.stats?.undoPath, undo);
  const firstUndo = readFileSync(undo, 'utf8');
  const notes: string[] = [];
  const client = createPylonClient({ baseUrl: emulator.url, token: TOKEN, rates: FAST });
  const options = resolveImportOptions({ baseUrl: emulator.url, token: TOKEN, rate: FAST, input, set: { 'custom.tier': 'silver' }, undo });
  const second = await runUpdate({ import: options }, { client, onNote: (m) => notes.push(m) }).finally(() => client.close?.());
  t.is(second.stats?.undoPath, join(dir, 'twice.undo-2.csv'));
  t.is(readFileSync(undo, 'utf8'), firstUndo, 'the first undo file is untouched');
  t.true(notes.some((n) => n.includes('twice.undo-2.csv') && n.includes('exists')), notes.join('\n'));
  t.true(readCsv(join(dir, 'twice.undo-2.csv')).every((r) => r['custom.tier'] === 'gold'));
});

test('a --where run keeps a journal and its selection: interrupted, then --resume finishes it with one undo file', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 1_500);
  const dir = tempDir(t);
  const before = structuredClone([...emulator.store.all()]) as Contact[];
  const acme = before.filter((c) => c.email!.endsWith('@acme.com'));
  const changing = acme.filter((c) => c.portal_role !== 'admin');
  const where = parseFilterExpression('email~@acme.com');
  const set = { portal_role: 'admin' };
  const journal = whereJournalPath(dir, whereRunKey(where, set));
  const undo = join(dir, 'acme.undo.csv');
  const controller = new AbortController();
  const run = (resume: boolean, signal?: AbortSignal) => {
    const rates = { ...FAST, patch: 6_000 };
    const client = createPylonClient({ baseUrl: emulator.url, token: TOKEN, rates });
    const options = resolveImportOptions({ input: '-', baseUrl: emulator.url, token: TOKEN, rate: rates, set, undo, journal, resume, errors: join(dir, 'acme.errors.csv') });
    return runUpdate({ import: options, where }, {
      client,
      signal,
      onProgress: (stats) => {
        if (signal && !stats.dryRun && stats.updated >= 20) controller.abort();
      },
    }).finally(() => client.close?.());
  };
  const first = await run(false, controller.signal);
  t.true(first.stats!.interrupted);
  t.true(existsSync(journal), 'the journal is kept');
  t.true(existsSync(selectionPathFor(journal)), 'the selection is kept');
  // The same command again without --resume is refused, not run over the first.
  await t.throwsAsync(run(false), { code: 'CONFIG_RESUME_MISMATCH', message: /--resume/ });

  const second = await run(true);
  t.is(second.stats?.updated, changing.length);
  t.is(second.stats?.failed, 0);
  t.false(existsSync(journal));
  t.false(existsSync(selectionPathFor(journal)));
  t.is(readCsv(undo).length, changing.length);
  t.true([...emulator.store.all()].filter((c) => c.email!.endsWith('@acme.com')).every((c) => c.portal_role === 'admin'));

  await update(emulator.url, { input: undo, undo: join(dir, 'acme.undo.undo.csv'), errors: join(dir, 'u.errors.csv') });
  t.deepEqual([...emulator.store.all()], before);
});
