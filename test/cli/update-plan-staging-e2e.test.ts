/**
 * `update --results` stages its plan's results beside the results file (`.<results>.plan-<pid>.csv`); a run killed with
 * -9 never removes its own. The next run against that results file sweeps the ones whose process is gone (its pid is in
 * the name), as other temporary files are swept, and leaves a live process's alone. The run is held at its PATCH by a stall
 * proxy, killed there, and resumed through the same proxy.
 */
import test from 'ava';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';

const staged = (dir: string) => readdirSync(dir).filter((name) => name.includes('.plan-'));

test('update --results: a plan staging file left by a run killed with -9 is swept by the next run; a live process keeps its own', async (t) => {
  const emulator = await startEmulator(t);
  const fay = emulator.store.insert({ name: 'Fay', email: 'fay@x.example' });
  const dir = tempDir(t, 'pylon-plan-staging-');
  const input = join(dir, 'rows.csv');
  writeFileSync(input, 'email,name\nfay@x.example,Fay B\n');
  const args = ['update', input, '--yes', '--json', '--rate', FAST_RATE, '--timeout', '3000', '--results', join(dir, 'results.csv')];

  const stall = await stallProxy(t, emulator, (method, path) => method === 'PATCH' && path.startsWith(`/contacts/${fay.id}`));
  const env = envFor(stall);
  const killed = spawnCli(args, { env });
  await stall.reached;
  killed.child.kill('SIGKILL');
  await killed.result;
  stall.release({ drop: true });
  t.deepEqual(staged(dir), [`.results.csv.plan-${killed.child.pid}.csv`], 'the killed run left its staging file');
  // A staging file of a process that still runs (this test's): another run's, not to be touched.
  const live = `.results.csv.plan-${process.pid}.csv`;
  writeFileSync(join(dir, live), '_line\n');

  const resumed = await runCli([...args, '--resume'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  t.deepEqual(staged(dir), [live], "the dead run's staging file is gone, the live one's is kept");
});
