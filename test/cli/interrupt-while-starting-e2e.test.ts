/**
 * Ctrl-C while the CLI is still starting (loading its modules, reading its
 * flags), before any run's own handler is live: a sentence and exit 130, not a
 * silent death by the signal. The built CLI in a child process; the signal is
 * sent by a preload module the moment the first SIGINT listener is added (the
 * start-up one), so it arrives before the command's module has loaded (never by
 * time).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, tempDir } from '../helpers/cli.js';

/** Sends the process a signal as soon as the first listener for it is added, once. */
const preload = (signal: string) =>
  'data:text/javascript,' +
  encodeURIComponent(
    `const on = process.on.bind(process); let sent = false;
     process.on = function (event, listener) { const r = on(event, listener); if (event === ${JSON.stringify(signal)} && !sent) { sent = true; process.kill(process.pid, ${JSON.stringify(signal)}); } return r; };`,
  );

function run(args: string[], signal: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, ['--import', preload(signal), BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYLON_API_TOKEN: 'secret-token-123' } });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk) => (stdout += chunk));
  return new Promise((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig, stderr, stdout })));
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  test(`${signal} while starting: a sentence on stderr and exit 130, not a death by the signal`, async (t) => {
    const dir = tempDir(t);
    const stopped = await run(['show', join(dir, 'plan.json')], signal);
    t.is(stopped.signal, null, 'the process was not ended by the signal itself');
    t.is(stopped.code, 130, stopped.stderr);
    t.regex(stopped.stderr, new RegExp(`${signal}: stopped while starting, before anything was sent to Pylon or written \\(exit 130\\)`));
    t.notRegex(stopped.stderr, /\n\s+at /, 'no stack trace');
    t.false(`${stopped.stderr}${stopped.stdout}`.includes('secret-token-123'));
    t.is(stopped.stdout, '', 'without --json, nothing on stdout');
  });
}

test('SIGINT while starting with --json: the error object on stdout', async (t) => {
  const dir = tempDir(t);
  const stopped = await run(['show', join(dir, 'plan.json'), '--json'], 'SIGINT');
  t.is(stopped.code, 130, stopped.stderr);
  t.deepEqual(JSON.parse(stopped.stdout), { error: { code: 'RUN_ABORTED', message: 'SIGINT: stopped while starting, before anything was sent to Pylon or written', exitCode: 130 } });
});

test('the start-up handler steps aside once the emulator has its own: SIGINT stops the emulator the way it always did (exit 0)', async (t) => {
  const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // The emulator prints PYLON_BASE_URL=… on stdout once it listens (its handler is live by then).
  await new Promise<void>((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('PYLON_BASE_URL=')) resolve();
    });
  });
  child.kill('SIGINT');
  t.is(await closed, 0, stderr);
  t.notRegex(stderr, /stopped while starting/);
});
