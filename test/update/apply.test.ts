/** runApply against a real emulator: an interrupted apply finished with --resume, and --force. */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createPylonClient } from '../../src/pylon/client.js';
import { resolveConnectionOptions, ENDPOINTS } from '../../src/config.js';
import { runApply, type ApplyOptions } from '../../src/update/apply.js';
import { beginUndoRun } from '../../src/run/undo-run.js';
import type { PlannedContact } from '../../src/update/plan-file.js';
import type { Contact } from '../../src/pylon/types.js';
import { TOKEN, startEmulator, tempDir } from '../helpers/cli.js';
import { seedContacts } from './seed.js';

const FAST = Object.fromEntries(ENDPOINTS.map((e) => [e, 1_000_000]));

test('an interrupted apply finished with --resume: every contact once, one undo file with every row, the journal removed', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 600);
  const dir = tempDir(t);
  const before = structuredClone([...emulator.store.all()]) as Contact[];
  const chosen = before.filter((c) => c.portal_role !== 'no_access').slice(0, 300);
  const contacts: PlannedContact[] = chosen.map((c) => ({ id: c.id, email: c.email, changes: [{ column: 'portal_role', from: c.portal_role!, to: 'no_access' }] }));
  const rates = { ...FAST, patch: 6_000 };
  const options = (resume: boolean): ApplyOptions => ({
    source: { path: join(dir, 'plan.json'), hash: 'h1' },
    contacts,
    connection: resolveConnectionOptions({ baseUrl: emulator.url, token: TOKEN, rate: rates, concurrency: 4 }),
    force: false,
    errorsPath: join(dir, 'plan.errors.csv'),
    undoPath: join(dir, 'plan.undo.csv'),
    journalPath: join(dir, '.plan.journal.jsonl'),
    resume,
    readBatch: 50,
  });
  const controller = new AbortController();
  const client1 = createPylonClient({ baseUrl: emulator.url, token: TOKEN, rates });
  const first = await runApply(options(false), {
    client: client1,
    signal: controller.signal,
    onProgress: (s) => {
      if (s.updated >= 60) controller.abort();
    },
  }).finally(() => client1.close());
  t.true(first.interrupted);
  t.true(first.updated >= 60 && first.updated < 300, `${first.updated} before the stop`);
  t.true(existsSync(join(dir, '.plan.journal.jsonl')));

  const client2 = createPylonClient({ baseUrl: emulator.url, token: TOKEN, rates });
  // The earlier run's undo rows are kept by the run engine's undo lifecycle (issue 21), around runApply.
  const undoRun = await beginUndoRun({ asked: join(dir, 'plan.undo.csv'), resume: true, journalPath: join(dir, '.plan.journal.jsonl') });
  const second = await runApply(options(true), { client: client2 })
    .finally(() => undoRun.finish())
    .finally(() => client2.close());
  t.is(undoRun.unaccounted, 0);
  t.like(second, { updated: 300, failed: 0, notProcessed: 0, interrupted: false });
  t.is(second.resumed, first.updated + first.failed);
  t.is(emulator.stats().requests.patch, 300, 'each contact patched once over both runs');
  t.false(existsSync(join(dir, '.plan.journal.jsonl')));
  const undo = parse(readFileSync(join(dir, 'plan.undo.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
  t.is(undo.length, 300);
  t.is(new Set(undo.map((r) => r.id)).size, 300);
  t.true(undo.every((r) => r['_set.portal_role'] === 'no_access' && r.portal_role === chosen.find((c) => c.id === r.id)!.portal_role));
});

test('--force applies a drifted contact and its undo row holds the value it replaced', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 20);
  const dir = tempDir(t);
  const c = [...emulator.store.all()].find((x) => x.portal_role === 'member')!;
  const contacts: PlannedContact[] = [{ id: c.id, changes: [{ column: 'portal_role', from: 'member', to: 'admin' }] }];
  emulator.store.update(c.id, { portal_role: 'no_access' });
  const client = createPylonClient({ baseUrl: emulator.url, token: TOKEN, rates: FAST });
  const base: ApplyOptions = {
    source: { path: join(dir, 'p.json'), hash: 'h' },
    contacts,
    connection: resolveConnectionOptions({ baseUrl: emulator.url, token: TOKEN, rate: FAST }),
    force: false,
    errorsPath: join(dir, 'p.errors.csv'),
    undoPath: join(dir, 'p.undo.csv'),
    resume: false,
    readBatch: 100,
  };
  const refused = await runApply(base, { client });
  t.like(refused, { updated: 0, failed: 1, drifted: 1 });
  t.is(emulator.store.get(c.id)?.portal_role, 'no_access');
  const forced = await runApply({ ...base, force: true, undoPath: join(dir, 'p2.undo.csv') }, { client }).finally(() => client.close());
  t.like(forced, { updated: 1, failed: 0, drifted: 0 });
  t.is(emulator.store.get(c.id)?.portal_role, 'admin');
  const undo = parse(readFileSync(join(dir, 'p2.undo.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
  t.like(undo[0], { id: c.id, portal_role: 'no_access', '_set.portal_role': 'admin' });
});
