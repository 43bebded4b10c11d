/**
 * The dry run counts a second PATCH (emails) for each row replacing a primary where a real run saw this host's PATCH
 * email keep the replaced address (724ab1a), from the host's memory. A host that changed since (it now replaces) gets one
 * PATCH a row from the real run: the dry run before it said nothing of counting from memory, so its doubled count read as
 * a fact. Now it says where the count comes from and when it was seen; the real run relearns, and the next dry run counts
 * what the real run then sends. Real emulator, its PATCH email switched from demote to replace between runs, CLI children.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import type { ImportStats } from '../../src/import/run-import.js';

test('a host whose PATCH email stopped keeping the replaced address: the dry run says its count is remembered, the real run relearns it', async (t) => {
  const emulator = await startEmulator(t, { patchEmail: 'demote' });
  const contacts = Array.from({ length: 5 }, (_, i) => emulator.store.insert({ name: `C ${i}`, email: `old${i}@calls.example` }));
  const dir = tempDir(t);
  const env = { ...envFor(emulator), XDG_STATE_HOME: dir };
  const file = (name: string, rows: number[]) => {
    const path = join(dir, name);
    writeFileSync(path, ['id,email', ...rows.map((i) => `${contacts[i]!.id},new${i}@calls.example`)].join('\n') + '\n');
    return path;
  };
  const run = async (input: string, extra: string[] = []) => {
    const res = await runCli(['import', input, '--rate', FAST_RATE, '--json', '--no-undo', ...extra], { env, cwd: dir });
    t.is(res.code, 0, res.stderr);
    return { stats: JSON.parse(res.stdout.trim().split('\n').pop()!) as ImportStats, stderr: res.stderr };
  };
  const learnt = await run(file('a.csv', [0]));
  t.like(learnt.stats.calls, { patch: 2 });
  emulator.options.patchEmail = 'replace';
  const b = file('b.csv', [1, 2]);
  const remembered = await run(b, ['--dry-run']);
  t.like(remembered.stats, { plannedFollowUps: 2 });
  t.like(remembered.stats.plannedCalls, { patch: 4 });
  t.regex(remembered.stderr, /counted as two PATCHes each .* was seen to keep the address it replaces \(\d{4}-\d\d-\d\dT[^)]*\); should it no longer do so, the real run sends one PATCH for each such row/);
  const real = await run(b);
  t.like(real.stats.calls, { patch: 2 });
  const c = file('c.csv', [3, 4]);
  const dry = await run(c, ['--dry-run']);
  const real2 = await run(c);
  t.is(dry.stats.plannedFollowUps, undefined);
  t.is(dry.stats.plannedCalls?.patch, real2.stats.calls.patch);
  t.is(real2.stats.calls.patch, 2);
  for (const i of [0, 1, 2, 3, 4]) t.like(emulator.store.get(contacts[i]!.id), { email: `new${i}@calls.example`, emails: [`new${i}@calls.example`] });
});
