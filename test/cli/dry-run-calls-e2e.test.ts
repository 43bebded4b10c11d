/**
 * End-to-end: a dry run's planned calls are the calls the real run then makes, the search the real run
 * makes after its first create (to measure how long search takes to show a new contact) included.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import type { ImportStats } from '../../src/import/run-import.js';

for (const lookup of ['search', 'list'] as const) {
  test(`--dry-run --lookup ${lookup} plans the calls the real run makes`, async (t) => {
    const emulator = await startEmulator(t);
    for (let i = 0; i < 10; i++) emulator.store.insert({ name: `Old ${i}`, email: `old${i}@calls.example` } as never);
    const dir = tempDir(t);
    const input = join(dir, 'mix.csv');
    const rows = [...Array.from({ length: 30 }, (_, i) => `New ${i},new${i}@calls.example`), ...Array.from({ length: 10 }, (_, i) => `Renamed ${i},old${i}@calls.example`)];
    writeFileSync(input, ['name,email', ...rows].join('\n') + '\n');
    const run = async (extra: string[]) => {
      const res = await runCli(['import', input, '--rate', FAST_RATE, '--json', '-q', '--no-undo', '--lookup', lookup, ...extra], { env: envFor(emulator), cwd: dir });
      t.is(res.code, 0, res.stderr);
      return JSON.parse(res.stdout) as ImportStats;
    };
    const dry = await run(['--dry-run']);
    const real = await run([]);
    t.like(real, { created: 30, updated: 10 });
    const made = Object.fromEntries(Object.entries(real.calls).filter(([, n]) => n > 0));
    t.deepEqual(dry.plannedCalls, made);
  });
}

test('--dry-run --lookup list with a list that moves while read: the confirming searches are planned as the real run makes them', async (t) => {
  const emulator = await startEmulator(t, { seed: 0, listShuffle: true, maxPageSize: 7, duplicateEmail: 'allow' });
  for (let i = 0; i < 60; i++) emulator.store.insert({ name: `P ${i}`, email: `person.${i}@calls.example` });
  const dir = tempDir(t);
  const input = join(dir, 'moved.csv');
  writeFileSync(input, ['name,email', ...Array.from({ length: 40 }, (_, i) => `Moved ${i},person.${i}@calls.example`), 'New One,new-one@calls.example'].join('\n') + '\n');
  const run = async (extra: string[]) => {
    const res = await runCli(['import', input, '--rate', FAST_RATE, '--json', '-q', '--no-undo', '--lookup', 'list', ...extra], { env: envFor(emulator), cwd: dir });
    t.is(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as ImportStats;
  };
  const dry = await run(['--dry-run']);
  const real = await run([]);
  t.like(real, { created: 1, updated: 40 });
  t.true((real.calls.search ?? 0) > 0, 'the real run searched for the rows the moved list did not show');
  t.deepEqual(dry.plannedCalls, Object.fromEntries(Object.entries(real.calls).filter(([, n]) => n > 0)));
});

test('--dry-run of new primary emails on a server whose PATCH email demotes the old primary plans the follow-up PATCH emails the real run sends', async (t) => {
  const emulator = await startEmulator(t, { patchEmail: 'demote' });
  const contacts = Array.from({ length: 4 }, (_, i) => emulator.store.insert({ name: `C ${i}`, email: `old${i}@calls.example` }));
  const dir = tempDir(t);
  // This test's own memory of the host: what PATCH email does there is learnt by the first real run.
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
  const first = file('first.csv', [0]);
  // Not yet seen on this host: one PATCH a row, and the dry run says the real run may send a second.
  const unknown = await run(first, ['--dry-run']);
  t.like(unknown.stats.plannedCalls, { patch: 1 });
  t.regex(unknown.stderr, /has not been seen yet, and where it keeps it the real run sends a second PATCH \(emails\)/);
  const learnt = await run(first);
  t.like(learnt.stats.calls, { patch: 2 });
  const second = file('second.csv', [1, 2, 3]);
  const dry = await run(second, ['--dry-run']);
  t.is(dry.stats.plannedFollowUps, 3);
  // --max-changes counts contacts: three, though the run sends six PATCHes.
  const guarded = await runCli(['update', second, '--max-changes', '3', '--dry-run', '--rate', FAST_RATE, '--json', '--no-undo'], { env, cwd: dir });
  t.is(guarded.code, 0, guarded.stderr);
  const real = await run(second);
  t.like(real.stats, { updated: 3, failed: 0 });
  t.is(real.stats.calls.patch, 6, 'a PATCH email and a PATCH emails a row');
  const made = (calls: object | undefined) => Object.fromEntries(Object.entries(calls ?? {}).filter(([, n]) => n > 0));
  t.deepEqual(made(dry.stats.plannedCalls), made(real.stats.calls));
  for (const i of [0, 1, 2, 3]) t.like(emulator.store.get(contacts[i]!.id), { email: `new${i}@calls.example`, emails: [`new${i}@calls.example`] });
});
