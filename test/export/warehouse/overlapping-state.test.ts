/**
 * Two overlapping nights of a pipeline that shares only a --state file (no
 * --to): night B starts while night A is still reading Pylon. Both read the
 * same state, so both change logs held the same changes, and both published
 * (the last to finish replaced the other's state). A run with --state now
 * holds `<state>.lock` from its start to its end, so B is refused at its
 * start (CONFIG_RUN_LOCKED, exit 2, nothing sent to Pylon or written) and A
 * publishes alone. Held at a known point by a proxy that stalls A's first
 * list request (never by time); real CLI child processes.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { stallProxy } from '../../helpers/stall-proxy.js';

/** Every change-log row (op and id) of every change log under `dir`. */
function changeRows(dir: string): string[] {
  const rows: string[] = [];
  for (const e of readdirSync(join(dir, 'lake', 'changes'), { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.csv')) continue;
    rows.push(...readFileSync(join(e.parentPath, e.name), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 2).join(',')));
  }
  return rows.sort();
}

test('two overlapping nights sharing only a --state file: the second is refused at its start (CONFIG_RUN_LOCKED, exit 2) and publishes nothing', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const dir = tempDir(t, 'pylon-overlap-state-');
  const args = (runId: string) => [
    'export', 'lake/contacts/dt={date}/contacts-{run_id}.csv', '--state', 'lake/contacts.state', '--changes', 'lake/changes/dt={date}/changes-{run_id}.csv',
    '--run-id', runId, '--rate', FAST_RATE, '--quiet', '--json',
  ];
  // Every night goes through one proxy (the state belongs to one host); it holds only the first list request once armed: night A's.
  let armed = false;
  const stall = await stallProxy(t, emulator, (method, path) => {
    if (!armed || method !== 'GET' || !path.startsWith('/contacts')) return false;
    armed = false;
    return true;
  });
  const env = envFor(stall);
  const first = await runCli(args('n1'), { cwd: dir, env });
  t.is(first.code, 0, first.stderr);
  const changed = [emulator.store.at(0)!.id, emulator.store.at(1)!.id];
  for (const id of changed) emulator.store.update(id, { name: `Changed ${id}` });

  // Night A waits at its first list request, after it began (and read its state).
  armed = true;
  const a = spawnCli(args('a'), { cwd: dir, env });
  await Promise.race([stall.reached, a.result]);
  t.is(a.child.exitCode, null, 'night A waits at its first list request');
  const listsBefore = emulator.stats().requests;

  const b = await runCli(args('b'), { cwd: dir, env });
  t.is(b.code, 2, b.stderr);
  t.regex(b.stderr, /CONFIG_RUN_LOCKED/);
  t.regex(b.stderr, /Another run \(pid \d+\) is using the --state file lake\/contacts\.state now \(its lock: lake\/contacts\.state\.lock\); wait for it, or stop it/);
  t.deepEqual(emulator.stats().requests, listsBefore, 'the refused night sent nothing to Pylon');

  stall.release();
  const done = await a.result;
  t.is(done.code, 0, done.stderr);
  t.deepEqual(changeRows(dir).filter((r) => !r.startsWith('insert,')), changed.map((id) => `update,${id}`).sort(), 'each change is in the change logs once');
  const lake = readdirSync(join(dir, 'lake'), { recursive: true }).map(String);
  t.deepEqual(lake.filter((p) => p.includes('-b.')), [], 'no file of the refused night');
  t.true(readFileSync(join(dir, 'lake', 'contacts.state'), 'utf8').includes('"a"'), 'the state is night A\'s');
  t.false(existsSync(join(dir, 'lake', 'contacts.state.lock')), 'night A released its lock');

  // The next night starts from A's state: nothing changed since.
  const next = await runCli(args('n3'), { cwd: dir, env });
  t.is(next.code, 0, next.stderr);
  t.deepEqual(changeRows(dir).filter((r) => !r.startsWith('insert,')), changed.map((id) => `update,${id}`).sort());
});
