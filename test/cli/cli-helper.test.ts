/**
 * The child-process runner the e2e tests share (test/helpers/cli.ts): a child that outlasts its
 * timeout fails the test with its stderr tail instead of passing for one the test stopped with
 * SIGKILL, and no child outlives the test process that started it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { runCli, spawnCli } from '../helpers/cli.js';

/** The process exists and is not a zombie waiting to be reaped (/proc/<pid>/stat: state Z). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

test('a child still running at its timeout is killed and fails the test with its command line and the tail of its stderr', async (t) => {
  // The emulator runs until stopped: it stands for a hung run.
  const run = spawnCli(['emulator', '--port', '0'], { timeoutMs: 1 });
  const error = await t.throwsAsync(run.result);
  t.regex(error!.message, /^pylon-contacts emulator --port 0 was still running after 0\.001 s and was killed; its stderr ended with:\n/);
  t.false(alive(run.child.pid!), 'the child is gone');
});

test('a child that ends in time resolves with its exit code and output, as before', async (t) => {
  const result = await runCli(['--help'], { timeoutMs: 300_000 });
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /pylon-contacts/);
});

test('a test process that exits with a child still running kills it', async (t) => {
  const helper = fileURLToPath(new URL('../helpers/cli.js', import.meta.url));
  const script = `
    import { spawnCli } from ${JSON.stringify(helper)};
    const run = spawnCli(['emulator', '--port', '0']);
    run.child.stdout.on('data', (chunk) => {
      if (!/PYLON_BASE_URL=/.test(String(chunk))) return;
      console.log('child ' + run.child.pid);
      process.exit(0);
    });
  `;
  const parent = spawn(process.execPath, [...(import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  parent.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  parent.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const [code] = (await once(parent, 'close')) as [number | null];
  t.is(code, 0, err);
  const pid = Number(/child (\d+)/.exec(out)![1]);
  // The SIGKILL is sent as the parent exits, and takes effect a moment later: wait for the end, not for a time. Without
  // the kill the emulator runs on, and this test's ava timeout fails it (a guard against the hang, far past any load).
  t.timeout(120_000);
  t.teardown(() => alive(pid) && process.kill(pid, 'SIGKILL'));
  while (alive(pid)) await sleep(50);
  t.pass(`the child ${pid} was killed with its parent`);
});
