/**
 * A server that merges a create into the contact already holding its email (emulator `--duplicate-email merge`):
 * when the lookup did not show that contact (another client made it just before the create), the row's values are
 * written over it, and its values before were never read. Such a row was reported `created` and the write was in
 * no undo row: nothing said that an existing contact had changed. Now an answer that shows an existing contact (an
 * address or external id the create did not send) fails the row ROW_MERGED_BY_SERVER naming it (exit 3, in the error
 * report), in the run and in a --resume after a kill -9 lost the create's answer; the undo file, applied twice,
 * restores the contact the run patched and touches the merged ones in no way (it never deletes). Real emulator,
 * real fault proxy, the built CLI as a child.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, LATE, envFor, runCli, spawnCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

const FAST = ['--rate', FAST_RATE, '--json', '-q'];
const readCsv = (path: string) => parse(readFileSync(path), { columns: true, bom: true }) as Array<Record<string, string>>;

test('import: creates the server merged into contacts another client made meanwhile fail ROW_MERGED_BY_SERVER, not created; undo twice leaves them', async (t) => {
  const em = await startEmulator(t, { duplicateEmail: 'merge' });
  const old = em.store.insert({ name: 'Old Name', email: 'kept@acme.example' });
  let raced: { secondary?: string; ext?: string } = {};
  const proxy = await startFaultProxy(t, em, (req) => {
    if (req.method !== 'POST' || req.path !== '/contacts') return undefined;
    // Another client makes the contact just before this create reaches Pylon (after the lookup).
    if (req.body.includes('sec@acme.example') && !raced.secondary) raced.secondary = em.store.insert({ name: 'Racer One', emails: ['racer@other.example', 'sec@acme.example'] }).id;
    if (req.body.includes('ext@acme.example') && !raced.ext) raced.ext = em.store.insert({ name: 'Racer Two', email: 'ext@acme.example', external_ids: [{ external_id: 'hs-9', label: 'hubspot' }] }).id;
    return undefined;
  });
  const dir = tempDir(t);
  const input = join(dir, 'c.csv');
  writeFileSync(input, 'name,email\nNew Name,kept@acme.example\nRow Sec,sec@acme.example\nRow Ext,ext@acme.example\nFresh,fresh@acme.example\n');
  const env = envFor(proxy);
  const result = await runCli(['import', input, ...FAST], { env });
  t.is(result.code, 3, result.stderr);
  const stats = statsOf(result);
  t.like(stats, { total: 4, created: 1, updated: 1, failed: 2 });
  const errors = readCsv(join(dir, 'c.errors.csv'));
  t.deepEqual(errors.map((e) => [e._line, e.name, e.email, e._error_code]), [
    ['3', 'Row Sec', 'sec@acme.example', 'ROW_MERGED_BY_SERVER'],
    ['4', 'Row Ext', 'ext@acme.example', 'ROW_MERGED_BY_SERVER'],
  ]);
  t.regex(errors[0]!._error_message, new RegExp(`contact ${raced.secondary}, which existed before it \\(it holds the address racer@other\\.example`));
  t.regex(errors[1]!._error_message, /the external id hs-9 \(hubspot\)/);
  t.regex(errors[1]!._error_message, /the undo file cannot restore them/);
  // One contact per email: the raced ones were merged (their names overwritten), none made twice.
  const all = [...em.store.all()];
  t.is(all.length, 4);
  t.is(em.store.get(raced.secondary!)!.name, 'Row Sec');
  t.is(em.store.get(raced.ext!)!.name, 'Row Ext');
  // The undo file holds the one contact the run patched, and applying it twice restores it and touches nothing else.
  const undo = readCsv(join(dir, 'c.undo.csv'));
  t.deepEqual(undo.map((r) => r.id), [old.id]);
  const after = structuredClone(all.filter((c) => c.id !== old.id));
  for (const pass of [1, 2]) {
    const back = await runCli(['update', join(dir, 'c.undo.csv'), '--no-undo', ...FAST], { env: envFor(em), cwd: dir });
    t.is(back.code, 0, `undo pass ${pass}: ${back.stderr}`);
    t.is(em.store.get(old.id)!.name, 'Old Name');
    t.deepEqual([...em.store.all()].filter((c) => c.id !== old.id), after, `undo pass ${pass} leaves the others`);
  }
});

test('import killed while a create the server merges is unanswered: --resume fails it ROW_MERGED_BY_SERVER, not created', async (t) => {
  const em = await startEmulator(t, { duplicateEmail: 'merge' });
  let racer: string | undefined;
  const proxy = await startFaultProxy(t, em, (req) => {
    if (req.method !== 'POST' || req.path !== '/contacts' || racer) return undefined;
    racer = em.store.insert({ name: 'Racer', email: 'ext@acme.example', external_ids: [{ external_id: 'hs-9', label: 'hubspot' }] }).id;
    // Held until the killed client's connection closes, then applied: the answer is lost.
    return LATE;
  });
  const dir = tempDir(t);
  const input = join(dir, 'c.csv');
  writeFileSync(input, 'name,email\nRow Ext,ext@acme.example\n');
  const env = envFor(proxy);
  const first = spawnCli(['import', input, ...FAST, '--timeout', '60000'], { env });
  while (proxy.injected.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  first.child.kill('SIGKILL');
  await first.result;
  // The held create reaches the emulator once the connection closed: the racer is merged.
  while (em.store.get(racer!)!.name !== 'Row Ext') await new Promise((resolve) => setTimeout(resolve, 20));
  t.true(existsSync(join(dir, '.c.journal.jsonl')), 'the kill left the journal');
  const resumed = await runCli(['import', input, ...FAST, '--resume', '--timeout', '1000'], { env });
  t.is(resumed.code, 3, resumed.stderr);
  t.like(statsOf(resumed), { total: 1, created: 0, failed: 1 });
  const errors = readCsv(join(dir, 'c.errors.csv'));
  t.deepEqual(errors.map((e) => [e._line, e.email, e._error_code]), [['2', 'ext@acme.example', 'ROW_MERGED_BY_SERVER']]);
  t.is([...em.store.all()].length, 1, 'one contact: the create was not sent again');
});
