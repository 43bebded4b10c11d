/**
 * Contacts created or deleted while the list is walked (issue 15, the
 * emulator's --list-churn): no contact is written twice, and the export says
 * complete only when a further walk found nothing it lacked.
 */
import { join } from 'node:path';
import test from 'ava';
import { createEmulator } from '../../src/emulator/index.js';
import { exportExitCode } from '../../src/cli/commands/export.js';
import { exportFrom, readCsv, readManifest, tempDir } from './helpers.js';

async function churning(t: import('ava').ExecutionContext, listChurn: number) {
  const em = await createEmulator({ listChurn, seed: 9 });
  t.teardown(() => em.close());
  for (let i = 0; i < 20; i++) em.store.insert({ name: `P${i}`, email: `p${i}@x.example` });
  return em;
}

test('recheck auto: the walk that moved is followed by walks until one adds nothing; every id once; verified', async (t) => {
  const em = await churning(t, 2);
  const before = new Set([...em.store.all()].map((c) => c.id));
  const out = join(await tempDir(), 'c.csv');
  const stats = await exportFrom(em, { output: out, pageSize: 4 });
  const ids = (await readCsv(out)).map((r) => r.id);
  t.is(new Set(ids).size, ids.length);
  const stayed = [...em.store.all()].map((c) => c.id).filter((id) => before.has(id));
  t.deepEqual(stayed.filter((id) => !ids.includes(id)), []);
  t.like(stats.listCheck, { verdict: 'verified', walks: 3 });
  t.true(stats.listCheck.repeated > 0 && stats.listCheck.addedByRecheck > 0, JSON.stringify(stats.listCheck));
  t.is(stats.rows, ids.length);
  const manifest = await readManifest(`${out}.manifest.json`);
  t.like(manifest, { complete: true, status: 'complete', listCheck: stats.listCheck });
  t.is(exportExitCode(stats), 0);
});

test('recheck never: the repeat is dropped, nothing is claimed: manifest complete false, status unverified, exit 3', async (t) => {
  const em = await churning(t, 2);
  const out = join(await tempDir(), 'c.csv');
  const stats = await exportFrom(em, { output: out, pageSize: 4, recheck: 'never' });
  const ids = (await readCsv(out)).map((r) => r.id);
  t.is(new Set(ids).size, ids.length, 'no contact written twice');
  t.like(stats.listCheck, { verdict: 'unverified', walks: 1 });
  t.regex(stats.listCheck.note ?? '', /--recheck never .* may be missing/);
  t.like(await readManifest(`${out}.manifest.json`), { complete: false, status: 'unverified' });
  t.is(exportExitCode(stats), 3);
});

test('a list that never settles stays unverified after the last recheck', async (t) => {
  const em = await churning(t, 1000);
  const out = join(await tempDir(), 'c.csv');
  const stats = await exportFrom(em, { output: out, pageSize: 4 });
  t.like(stats.listCheck, { verdict: 'unverified', walks: 4 });
  t.regex(stats.listCheck.note ?? '', /still changing on walk 4/);
});

test('a quiet list: one walk, no sign of change, the note says what one walk cannot show; --recheck always verifies', async (t) => {
  const em = await churning(t, 0);
  const dir = await tempDir();
  const once = await exportFrom(em, { output: join(dir, 'a.csv'), pageSize: 4 });
  t.like(once.listCheck, { verdict: 'no-sign-of-change', walks: 1, repeated: 0, addedByRecheck: 0 });
  t.regex(once.listCheck.note ?? '', /--recheck always/);
  const always = await exportFrom(em, { output: join(dir, 'b.csv'), pageSize: 4, recheck: 'always' });
  t.like(always.listCheck, { verdict: 'verified', walks: 2, repeated: 0 });
  t.is(always.rows, 20);
  t.is(always.contactsRead, 20);
});
