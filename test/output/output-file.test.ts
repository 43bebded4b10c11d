import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkWritable, deadPartials, openOutput, partialPathFor, probePathFor } from '../../src/output/output-file.js';

/** The id of a process that has ended (a killed run's temporary files carry its pid). */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

function dir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'pylon-output-file-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('checkWritable leaves no probe, and sweeps the probes of killed processes; a running process keeps its probe', async (t) => {
  const d = dir(t);
  const target = join(d, 'plan.errors.csv');
  const dead = probePathFor(target, deadPid());
  const live = probePathFor(target, process.ppid);
  writeFileSync(dead, 'x');
  writeFileSync(live, 'x');
  await checkWritable([{ path: target, option: '--errors' }]);
  t.false(existsSync(dead), 'a dead process\'s probe is removed');
  t.true(existsSync(live), 'a running process\'s probe is its own');
  t.deepEqual(readdirSync(d).sort(), [live.slice(d.length + 1)]);
  // A probe is never taken for an undo file's rows (they are merged from `.partial` files).
  writeFileSync(probePathFor(target, deadPid()), 'x');
  t.deepEqual(deadPartials(target), []);
});

test('opening an output sweeps dead probes as it sweeps dead partials', async (t) => {
  const d = dir(t);
  const target = join(d, 'x.undo.csv');
  const probe = probePathFor(target, deadPid());
  const partial = partialPathFor(target, deadPid());
  writeFileSync(probe, 'x');
  writeFileSync(partial, 'id\n');
  const file = await openOutput(target);
  await file.write('id\n');
  await file.commit();
  t.deepEqual(readdirSync(d), ['x.undo.csv']);
});
