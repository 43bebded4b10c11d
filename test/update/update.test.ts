/**
 * runUpdate against a real emulator over loopback: the plan, the --max-changes
 * guard, the confirmation hook, idempotence, --where selection, unknown emails
 * and the undo file restoring the store exactly.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { createEmulator, DEFAULT_ME, type Emulator } from '../../src/emulator/index.js';
import { createPylonClient } from '../../src/pylon/client.js';
import { resolveImportOptions, type ImportOptionsInput } from '../../src/import/options.js';
import { runUpdate, type UpdateHooks, type UpdatePlan } from '../../src/update/run-update.js';
import { parseFilterExpression } from '../../src/pylon/filter-expr.js';
import { ExitError } from '../../src/errors.js';
import { openJournal } from '../../src/run/journal.js';
import { ENDPOINTS } from '../../src/config.js';
import type { Contact } from '../../src/pylon/types.js';
import { seedContacts, GLOBEX_ACCOUNT } from './seed.js';

const FAST = Object.fromEntries(ENDPOINTS.map((e) => [e, 1_000_000]));

interface Fixture {
  emulator: Emulator;
  dir: string;
  /** Writes a CSV file in the fixture's directory and returns its path. */
  csv(name: string, lines: string[]): string;
  update(input: Omit<ImportOptionsInput, 'baseUrl' | 'token' | 'input'> & { input?: string }, extra?: { where?: string; maxChanges?: number; confirm?: UpdateHooks['confirm']; force?: boolean }): ReturnType<typeof runUpdate>;
  snapshot(): Contact[];
  writes(): number;
}

async function fixture(count: number): Promise<Fixture> {
  const emulator = await createEmulator({ rateLimits: 'off', seed: 7 });
  seedContacts(emulator.store, count);
  const dir = mkdtempSync(join(tmpdir(), 'pylon-update-test-'));
  return {
    emulator,
    dir,
    csv(name, lines) {
      const path = join(dir, name);
      writeFileSync(path, lines.join('\n') + '\n');
      return path;
    },
    async update(input, extra = {}) {
      const client = createPylonClient({ baseUrl: emulator.url, token: emulator.token, rates: FAST });
      try {
        const options = resolveImportOptions({
          input: input.input ?? '-',
          baseUrl: emulator.url,
          token: emulator.token,
          concurrency: 16,
          rate: FAST,
          errors: join(dir, 'errors.csv'),
          ...input,
        });
        return await runUpdate(
          { import: options, where: extra.where ? parseFilterExpression(extra.where) : undefined, maxChanges: extra.maxChanges, force: extra.force },
          { client, confirm: extra.confirm },
        );
      } finally {
        client.close?.();
      }
    },
    snapshot: () => structuredClone([...emulator.store.all()]),
    writes: () => {
      const s = emulator.stats();
      return s.requests.create + s.requests.patch + s.requests.delete;
    },
  };
}

async function withFixture(count: number, fn: (f: Fixture) => Promise<void>): Promise<void> {
  const f = await fixture(count);
  try {
    await fn(f);
  } finally {
    await f.emulator.close();
    rmSync(f.dir, { recursive: true, force: true });
  }
}

const emailsOf = (contacts: Contact[]) => contacts.map((c) => c.email!);

test('changing the role of 1,000 of 10,000 contacts, then the undo file, restores the store exactly', async (t) => {
  await withFixture(10_000, async (f) => {
    const before = f.snapshot();
    // Every tenth contact; among them members, admins and no_access ones already.
    const chosen = before.filter((_, i) => i % 10 === 3);
    t.is(chosen.length, 1_000);
    const alreadyAdmin = chosen.filter((c) => c.portal_role === 'admin').length;
    t.true(alreadyAdmin > 0 && alreadyAdmin < 1_000);
    const input = f.csv('admins.csv', ['email', ...emailsOf(chosen)]);
    const undo = join(f.dir, 'admins.undo.csv');

    const result = await f.update({ input, set: { portal_role: 'admin' }, undo });
    t.is(result.plan.changes, 1_000 - alreadyAdmin);
    t.deepEqual(
      result.plan.transitions.map((x) => [x.column, x.to, x.count]).sort(),
      [...new Set(chosen.filter((c) => c.portal_role !== 'admin').map((c) => c.portal_role!))]
        .map((from) => ['portal_role', 'admin', chosen.filter((c) => c.portal_role === from).length])
        .sort(),
    );
    t.is(result.stats?.updated, 1_000 - alreadyAdmin);
    t.is(result.stats?.unchanged, alreadyAdmin);
    t.is(result.stats?.failed, 0);
    t.is(f.emulator.stats().requests.patch, 1_000 - alreadyAdmin, 'only contacts whose role changes are patched');
    t.is(f.emulator.stats().requests.create, 0);
    const after = f.snapshot();
    const chosenIds = new Set(chosen.map((c) => c.id));
    for (const [i, contact] of after.entries()) {
      if (chosenIds.has(contact.id)) t.is(contact.portal_role, 'admin');
      else if (contact.portal_role !== before[i].portal_role) t.fail(`${contact.email} changed without being listed`);
    }

    const undoRows = parse(readFileSync(undo, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.is(undoRows.length, 1_000 - alreadyAdmin);
    // `_set.<field>`: the value the run set, so that applying the undo file reverts only where it still holds it.
    // `_organization`: whose contacts these are (an undo file of another organisation is refused).
    t.deepEqual(Object.keys(undoRows[0]), ['id', 'email', 'portal_role', '_set.portal_role', '_organization']);
    t.true(undoRows.every((r) => r._organization === DEFAULT_ME.id));
    t.true(undoRows.every((r) => r['_set.portal_role'] === 'admin'));

    f.emulator.resetStats();
    const back = await f.update({ input: undo, undo: join(f.dir, 'admins.undo.undo.csv') });
    t.is(back.stats?.updated, 1_000 - alreadyAdmin);
    t.is(back.stats?.failed, 0);
    t.is(f.emulator.stats().requests.patch, 1_000 - alreadyAdmin);
    t.deepEqual(f.snapshot(), before);
  });
});

test('--set custom.tier=gold where some contacts had no tier: the undo clears it again', async (t) => {
  await withFixture(2_000, async (f) => {
    const before = f.snapshot();
    const chosen = before.filter((_, i) => i % 4 === 1);
    const tiers = chosen.map((c) => c.custom_fields?.tier?.value ?? '');
    t.true(tiers.includes(''), 'some chosen contacts have no tier');
    t.true(tiers.includes('silver') && tiers.includes('gold'), 'some have another tier, some already gold');
    const input = f.csv('tier.csv', ['email', ...emailsOf(chosen)]);
    const undo = join(f.dir, 'tier.undo.csv');

    const result = await f.update({ input, set: { 'custom.tier': 'gold', portal_role: 'member' }, undo });
    const changing = chosen.filter((c) => c.custom_fields?.tier?.value !== 'gold' || c.portal_role !== 'member');
    t.is(result.stats?.updated, changing.length);
    t.is(result.stats?.unchanged, chosen.length - changing.length);
    for (const c of f.snapshot().filter((c) => chosen.some((x) => x.id === c.id))) {
      t.is(c.custom_fields?.tier?.value, 'gold');
      t.is(c.portal_role, 'member');
    }
    const undoRows = parse(readFileSync(undo, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.true(undoRows.some((r) => r['custom.tier'] === '#N/A'), 'an empty previous tier is written as the clear token');

    const back = await f.update({ input: undo, undo: join(f.dir, 'tier.undo.undo.csv') });
    t.is(back.stats?.failed, 0);
    t.is(back.stats?.updated, changing.length);
    t.deepEqual(f.snapshot(), before);
  });
});

test('--max-changes stops before any write when more would change', async (t) => {
  await withFixture(3_000, async (f) => {
    const before = f.snapshot();
    const chosen = before.filter((c) => c.portal_role !== 'no_access').slice(0, 500);
    const input = f.csv('off.csv', ['email', ...emailsOf(chosen)]);
    const error = await t.throwsAsync(f.update({ input, set: { portal_role: 'no_access' }, undo: join(f.dir, 'off.undo.csv') }, { maxChanges: 499 }));
    t.true(error instanceof ExitError);
    t.is((error as ExitError).code, 'RUN_GUARD');
    t.regex(error!.message, /500 contacts would change, more than --max-changes 499/);
    t.is(f.writes(), 0);
    t.true(f.emulator.stats().requests.search > 0, 'the plan looked the contacts up');
    t.deepEqual(f.snapshot(), before);

    // Exactly at the limit goes through.
    const ok = await f.update({ input, set: { portal_role: 'no_access' }, undo: join(f.dir, 'off.undo.csv') }, { maxChanges: 500 });
    t.is(ok.stats?.updated, 500);
  });
});

test('a second identical run makes no write', async (t) => {
  await withFixture(3_000, async (f) => {
    const chosen = f.snapshot().slice(100, 700);
    const input = f.csv('roles.csv', ['email', ...emailsOf(chosen)]);
    const undo = join(f.dir, 'roles.undo.csv');
    const first = await f.update({ input, set: { portal_role: 'no_access', 'custom.tier': 'bronze' }, undo });
    t.true((first.stats?.updated ?? 0) > 500);
    const undoText = readFileSync(undo, 'utf8');
    const after = f.snapshot();

    f.emulator.resetStats();
    const second = await f.update({ input, set: { portal_role: 'no_access', 'custom.tier': 'bronze' }, undo });
    t.is(second.plan.changes, 0);
    t.is(second.stats?.updated, 0);
    t.is(second.stats?.unchanged, 600);
    t.is(f.writes(), 0);
    t.deepEqual(f.snapshot(), after);
    t.is(readFileSync(undo, 'utf8'), undoText, 'a run with nothing to change keeps the earlier undo file');
  });
});

test('--where selects contacts through search: email~@acme.com, then account_id=…', async (t) => {
  await withFixture(4_000, async (f) => {
    const before = f.snapshot();
    const acme = before.filter((c) => c.email!.toLowerCase().includes('@acme.com'));
    t.true(acme.length > 100);
    const undo = join(f.dir, 'acme.undo.csv');
    const result = await f.update({ set: { portal_role: 'admin' }, undo }, { where: 'email~@acme.com' });
    t.is(result.stats?.total, acme.length);
    t.is(result.stats!.updated + result.stats!.unchanged, acme.length);
    t.is(result.stats?.updated, acme.filter((c) => c.portal_role !== 'admin').length);
    for (const [i, c] of f.snapshot().entries()) {
      t.is(c.portal_role, acme.some((a) => a.id === c.id) ? 'admin' : before[i].portal_role);
    }
    const back = await f.update({ input: undo, undo: join(f.dir, 'acme.undo.undo.csv') });
    t.is(back.stats?.failed, 0);
    t.deepEqual(f.snapshot(), before);

    const globex = before.filter((c) => c.account?.id === GLOBEX_ACCOUNT);
    t.true(globex.length > 100);
    const byAccount = await f.update({ set: { 'custom.tier': 'silver' }, undo: join(f.dir, 'globex.undo.csv') }, { where: `account_id=${GLOBEX_ACCOUNT}` });
    t.is(byAccount.stats?.total, globex.length);
    t.is(byAccount.stats?.updated, globex.filter((c) => c.custom_fields?.tier?.value !== 'silver').length);
    for (const [i, c] of f.snapshot().entries()) {
      if (c.account?.id === GLOBEX_ACCOUNT) t.is(c.custom_fields?.tier?.value, 'silver');
      else t.deepEqual(c.custom_fields, before[i].custom_fields);
    }
  });
});

test('unknown emails are reported as ROW_NOT_FOUND and never created', async (t) => {
  await withFixture(500, async (f) => {
    const known = f.snapshot().slice(0, 20);
    const input = f.csv('mixed.csv', ['email', ...emailsOf(known), 'nobody@nowhere.example', 'ghost@acme.com']);
    const result = await f.update({ input, set: { portal_role: 'no_access' }, undo: join(f.dir, 'mixed.undo.csv') });
    t.is(result.stats?.failed, 2);
    t.is(result.stats!.updated + result.stats!.unchanged, 20);
    t.is(f.emulator.stats().requests.create, 0);
    t.is(f.emulator.store.size, 500);
    const errors = parse(readFileSync(join(f.dir, 'errors.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.deepEqual(errors.map((r) => [r.email, r._error_code, r._line]), [
      ['nobody@nowhere.example', 'ROW_NOT_FOUND', '22'],
      ['ghost@acme.com', 'ROW_NOT_FOUND', '23'],
    ]);
  });
});

test('--dry-run returns the plan and writes nothing', async (t) => {
  await withFixture(1_000, async (f) => {
    const before = f.snapshot();
    const chosen = before.slice(0, 300);
    const input = f.csv('dry.csv', ['email', ...emailsOf(chosen)]);
    const undo = join(f.dir, 'dry.undo.csv');
    let confirmations = 0;
    const result = await f.update({ input, set: { portal_role: 'member' }, undo, dryRun: true }, { confirm: async () => (confirmations++, true) });
    const changing = chosen.filter((c) => c.portal_role !== 'member');
    t.is(result.plan.changes, changing.length);
    t.is(result.stats, undefined);
    t.true(result.plan.stats.dryRun);
    t.is(result.plan.stats.plannedCalls?.patch, changing.length);
    t.is(confirmations, 0, 'a dry run asks nothing');
    t.is(f.writes(), 0);
    t.deepEqual(f.snapshot(), before);
    t.throws(() => readFileSync(undo), { code: 'ENOENT' });
  });
});

test('the confirmation hook sees the plan; answering no aborts with zero writes, yes applies it', async (t) => {
  await withFixture(1_000, async (f) => {
    const before = f.snapshot();
    const chosen = before.slice(0, 200);
    const input = f.csv('ask.csv', ['email', ...emailsOf(chosen)]);
    const undo = join(f.dir, 'ask.undo.csv');
    const seen: UpdatePlan[] = [];
    const error = await t.throwsAsync(f.update({ input, set: { portal_role: 'admin' }, undo }, { confirm: async (plan) => (seen.push(plan), false) }));
    t.is((error as ExitError).code, 'RUN_GUARD');
    t.is(seen.length, 1);
    t.is(seen[0].changes, chosen.filter((c) => c.portal_role !== 'admin').length);
    t.is(f.writes(), 0);
    t.deepEqual(f.snapshot(), before);

    const yes = await f.update({ input, set: { portal_role: 'admin' }, undo }, { confirm: async () => true });
    t.is(yes.stats?.updated, seen[0].changes);
    t.true(f.snapshot().slice(0, 200).every((c) => c.portal_role === 'admin'));

    // Nothing left to change: no question is asked.
    let asked = 0;
    await f.update({ input, set: { portal_role: 'admin' }, undo }, { confirm: async () => (asked++, true) });
    t.is(asked, 0);
  });
});

test('an interrupted update finished with --resume leaves one undo file that restores everything', async (t) => {
  await withFixture(2_000, async (f) => {
    const before = f.snapshot();
    const chosen = before.filter((c) => c.portal_role !== 'no_access').slice(0, 600);
    const input = f.csv('slow.csv', ['email', ...emailsOf(chosen)]);
    const undo = join(f.dir, 'slow.undo.csv');
    const journal = join(f.dir, 'slow.journal.jsonl');
    const controller = new AbortController();
    const run = (resume: boolean, signal?: AbortSignal) => {
      const client = createPylonClient({ baseUrl: f.emulator.url, token: f.emulator.token, rates: { ...FAST, patch: 6_000 } });
      // lookup=list: every lookup happens before the first write, so the stop always lands on writes.
      const options = resolveImportOptions({ input, baseUrl: f.emulator.url, token: f.emulator.token, rate: { ...FAST, patch: 6_000 }, lookup: 'list', errors: join(f.dir, 'slow.errors.csv'), set: { portal_role: 'no_access' }, undo, journal, resume });
      return runUpdate({ import: options }, {
        client,
        signal,
        // Stop the real run (about 100 patches per second) once it has made some changes.
        onProgress: (stats) => {
          if (signal && !stats.dryRun && stats.updated >= 100) controller.abort();
        },
      }).finally(() => client.close?.());
    };
    const first = await run(false, controller.signal);
    t.true(first.stats!.interrupted);
    const done = first.stats!.updated;
    t.true(done > 0 && done < 600, `${done} updated before the stop`);
    t.is(readFileSync(undo, 'utf8').trim().split('\n').length - 1, done, 'the interrupted run committed its undo rows');

    const second = await run(true);
    t.is(second.stats?.resumed, done);
    t.is(second.stats!.updated, 600, 'updated rows of the earlier run are replayed');
    t.is(f.emulator.stats().requests.patch, 600);
    const rows = parse(readFileSync(undo, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.is(rows.length, 600);
    t.is(new Set(rows.map((r) => r.id)).size, 600);

    await f.update({ input: undo, undo: join(f.dir, 'slow.undo.undo.csv') });
    t.deepEqual(f.snapshot(), before);
  });
});

test('a PATCH that landed before a kill -9, its outcome unrecorded: --resume counts it updated and the undo file still restores it, once', async (t) => {
  await withFixture(50, async (f) => {
    const before = f.snapshot();
    const chosen = before.filter((c) => c.portal_role !== 'no_access').slice(0, 10);
    const input = f.csv('killed.csv', ['email', ...emailsOf(chosen)]);
    const undo = join(f.dir, 'killed.undo.csv');
    const journalPath = join(f.dir, 'killed.journal.jsonl');
    // The state a kill -9 leaves: lines 2 and 3 had their PATCH sent (journaled with the previous
    // values). Line 2's landed and its undo row reached the file; line 3's landed and its undo row
    // did not; neither outcome was recorded. (Line 4's was sent and did not land.)
    const bytes = readFileSync(input);
    const journal = openJournal(journalPath, { input: { path: resolve(input), size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }, mode: 'update' }, false);
    for (const [line, contact] of [[2, chosen[0]], [3, chosen[1]], [4, chosen[2]]] as const) {
      journal.sent(line, { id: contact.id, changes: [{ column: 'portal_role', from: contact.portal_role!, to: 'no_access' }] });
    }
    journal.close();
    f.emulator.store.update(chosen[0].id, { portal_role: 'no_access' });
    f.emulator.store.update(chosen[1].id, { portal_role: 'no_access' });
    writeFileSync(undo, `id,email,portal_role\n${chosen[0].id},${chosen[0].email},${chosen[0].portal_role}\n`);

    const resumed = await f.update({ input, undo, journal: journalPath, resume: true, set: { portal_role: 'no_access' } });
    t.like(resumed.stats, { updated: 10, unchanged: 0, failed: 0 });
    t.is(f.emulator.stats().requests.patch, 8, 'lines 2 and 3 are not sent again');
    const rows = parse(readFileSync(undo, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.deepEqual(rows.map((r) => r.id).sort(), chosen.map((c) => c.id).sort(), 'one undo row per changed contact');
    t.like(rows.find((r) => r.id === chosen[1].id), { portal_role: chosen[1].portal_role });

    await f.update({ input: undo, undo: join(f.dir, 'killed.undo.undo.csv') });
    t.deepEqual(f.snapshot(), before);
  });
});

test('an undo file applied after one contact changed and one was deleted: the error report names their lines in the undo file, and the plan totals count only the contacts that change', async (t) => {
  await withFixture(40, async (f) => {
    const chosen = f.snapshot().filter((c) => c.portal_role !== 'admin').slice(0, 4);
    const undo = join(f.dir, 'list.undo.csv');
    const run = await f.update({ input: f.csv('list.csv', ['email', ...emailsOf(chosen)]), set: { portal_role: 'admin' }, undo });
    t.is(run.stats?.updated, 4);
    // Someone else changes the 2nd contact again and deletes the 3rd: lines 3 and 4 of the undo file (line 1 is its header).
    const undoRows = parse(readFileSync(undo, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.deepEqual(undoRows.map((r) => r.id), chosen.map((c) => c.id));
    f.emulator.store.update(chosen[1].id, { portal_role: chosen[1].portal_role === 'member' ? 'no_access' : 'member' });
    f.emulator.store.delete(chosen[2].id);

    const back = await f.update({ input: undo, undo: join(f.dir, 'list.undo.undo.csv'), errors: join(f.dir, 'back.errors.csv') });
    t.like(back.stats, { updated: 2, failed: 2 });
    const errors = parse(readFileSync(join(f.dir, 'back.errors.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.deepEqual(errors.map((e) => [e.id, e._line, e._error_code]), [
      [chosen[1].id, '3', 'ROW_DRIFTED'],
      [chosen[2].id, '4', 'ROW_NOT_FOUND'],
    ]);
    // An undo run has no plan: the messages name the change the undo row reverts.
    t.is(
      errors[0]!._error_message,
      `Changed since the change this undo row reverts, left as it is: portal_role is now ${JSON.stringify(f.emulator.store.get(chosen[1].id)!.portal_role)}, not "admin" as that change set it (to restore ${JSON.stringify(chosen[1].portal_role)}). Use --force to revert it anyway.`,
    );
    t.is(errors[1]!._error_message, `Contact ${chosen[2].id} (${chosen[2].email}) no longer exists: it was deleted after the change this undo row reverts`);
    for (const e of errors) t.false(e._error_message!.includes('plan'), e._error_message);
    // The totals add up to the contacts that change: the 1st and the 4th, back to their roles.
    t.is(back.plan.changes, 2);
    const expected = new Map<string, number>();
    for (const c of [chosen[0], chosen[3]]) expected.set(c.portal_role!, (expected.get(c.portal_role!) ?? 0) + 1);
    t.deepEqual(
      back.plan.transitions.map((x) => [x.column, x.from, x.to, x.count]).sort(),
      [...expected].map(([role, count]) => ['portal_role', 'admin', role, count]).sort(),
    );
  });
});

test("an undo file's error report keeps its rows as written and applies again; a row with no id fails and one with nothing to restore is skipped, in the dry run too", async (t) => {
  await withFixture(40, async (f) => {
    const before = f.snapshot();
    const chosen = before.filter((c) => c.portal_role !== 'admin').slice(0, 4);
    const undo = join(f.dir, 'list.undo.csv');
    t.is((await f.update({ input: f.csv('list.csv', ['email', ...emailsOf(chosen)]), set: { portal_role: 'admin' }, undo })).stats?.updated, 4);
    const [header, ...rows] = parse(readFileSync(undo, 'utf8')) as string[][];
    t.true(header.includes('_set.portal_role') && header.includes('_organization'), header.join());
    // Line 2 lost its id; line 3 holds nothing to restore; line 4's contact was changed again since; line 5 is fine.
    const edited = [header, ['', ...rows[0].slice(1)], header.map((h, i) => (h === 'id' || h === 'email' || h === '_organization' ? rows[1][i] : '')), rows[2], rows[3]];
    const editedPath = join(f.dir, 'edited.undo.csv');
    writeFileSync(editedPath, stringifyCsv(edited));
    f.emulator.store.update(chosen[2].id, { portal_role: chosen[2].portal_role === 'member' ? 'no_access' : 'member' });

    const counts = { total: 4, updated: 1, unchanged: 0, skipped: 1, failed: 2 };
    const dry = await f.update({ input: editedPath, dryRun: true, errors: join(f.dir, 'dry.errors.csv') });
    t.like(dry.plan.stats, counts, 'the dry run gives every row its outcome');
    const back = await f.update({ input: editedPath, undo: join(f.dir, 'edited.undo.undo.csv'), errors: join(f.dir, 'back.errors.csv') });
    t.like(back.stats, counts, 'every row has one outcome');
    const report = parse(readFileSync(join(f.dir, 'back.errors.csv'), 'utf8'), { bom: true }) as string[][];
    t.deepEqual(report[0], [...header, '_line', '_error_code', '_error_field', '_error_message', '_http_status', '_request_id'], "the undo file's columns as written, then the report's");
    t.deepEqual(report.slice(1).map((r) => r.slice(0, header.length)), [edited[1], edited[3]], 'each failed row as read');
    t.deepEqual(report.slice(1).map((r) => r.slice(header.length, header.length + 3)), [['2', 'ROW_ID_REQUIRED', 'id'], ['4', 'ROW_DRIFTED', 'portal_role']]);
    t.regex(report[1][header.length + 3], /no id/);

    // The report, its id filled in, is an undo file: applied, it reverts the row fixed and checks the drifted one again.
    report[1][0] = chosen[0].id;
    const fixed = join(f.dir, 'back.fixed.csv');
    writeFileSync(fixed, stringifyCsv(report));
    const retry = await f.update({ input: fixed, undo: join(f.dir, 'retry.undo.csv'), errors: join(f.dir, 'retry.errors.csv') });
    t.like(retry.stats, { total: 2, updated: 1, failed: 1 });
    const again = parse(readFileSync(join(f.dir, 'retry.errors.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    // Its _line is still the row's line in the first undo file (4), not its line in the report.
    t.deepEqual(again.map((r) => [r.id, r._line, r._error_code]), [[chosen[2].id, '4', 'ROW_DRIFTED']]);
    // That report again, with --force: the drifted contact is reverted too.
    const forced = await f.update({ input: join(f.dir, 'retry.errors.csv'), undo: join(f.dir, 'forced.undo.csv'), errors: join(f.dir, 'forced.errors.csv') }, { force: true });
    t.like(forced.stats, { total: 1, updated: 1, failed: 0 });
    const after = new Map(f.snapshot().map((c) => [c.id, c]));
    for (const c of [chosen[0], chosen[2], chosen[3]]) t.deepEqual(after.get(c.id), c);
    t.is(after.get(chosen[1].id)!.portal_role, 'admin', 'the row with nothing to restore changed nothing');
  });
});

test('an undo row with more or fewer cells than the header fails ROW_MALFORMED and restores nothing (its values would land in the wrong fields); the other rows are restored', async (t) => {
  await withFixture(40, async (f) => {
    const before = f.snapshot();
    const chosen = before.filter((c) => c.portal_role !== 'admin').slice(0, 3);
    const undo = join(f.dir, 'list.undo.csv');
    t.is((await f.update({ input: f.csv('list.csv', ['email', ...emailsOf(chosen)]), set: { portal_role: 'admin' }, undo })).stats?.updated, 3);
    const [header, ...rows] = parse(readFileSync(undo, 'utf8')) as string[][];
    // Line 2 gains a cell (a value with an unquoted comma, say), line 3 loses its last one; line 4 is as written.
    const edited = [header, [...rows[0], 'stray'], rows[1].slice(0, -1), rows[2]];
    const editedPath = join(f.dir, 'ragged.undo.csv');
    writeFileSync(editedPath, stringifyCsv(edited));

    const counts = { total: 3, updated: 1, unchanged: 0, skipped: 0, failed: 2 };
    const dry = await f.update({ input: editedPath, dryRun: true, errors: join(f.dir, 'dry.errors.csv') });
    t.like(dry.plan.stats, counts, 'the dry run says the same');
    const back = await f.update({ input: editedPath, undo: join(f.dir, 'ragged.undo.undo.csv'), errors: join(f.dir, 'back.errors.csv') });
    t.like(back.stats, counts);
    const report = parse(readFileSync(join(f.dir, 'back.errors.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.deepEqual(report.map((r) => [r._line, r._error_code]), [['2', 'ROW_MALFORMED'], ['3', 'ROW_MALFORMED']]);
    t.regex(report[0]!._error_message, /has \d+ cells and the header \d+: .*cells beyond the header: \["stray"\]/);
    const after = new Map(f.snapshot().map((c) => [c.id, c]));
    t.is(after.get(chosen[0].id)!.portal_role, 'admin', 'nothing restored for the row with a cell too many');
    t.is(after.get(chosen[1].id)!.portal_role, 'admin', 'nothing restored for the row with a cell too few');
    t.deepEqual(after.get(chosen[2].id), chosen[2], 'the well-formed row is restored');
  });
});
