/**
 * A Ctrl-C that lands after a run has finished (its outputs published, its
 * exit code decided; black-box testing saw it during a DuckDB load's teardown)
 * must not end the process by the signal's default action: the shell would see
 * 130 for a run that completed. A real child process disposes the handler,
 * signals itself and then ends on its own; a second late signal quits at once
 * with the run's exit code.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const interruptModule = fileURLToPath(new URL('../../src/cli/interrupt.ts', import.meta.url));

async function run(script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

test('a SIGINT after the run finished: the process ends with the run\'s exit code, not killed by the signal', async (t) => {
  const result = await run(`
    import { onInterrupt } from ${JSON.stringify(interruptModule)};
    const interrupt = onInterrupt(process.stderr);
    interrupt.dispose();
    process.exitCode = 3;
    process.kill(process.pid, 'SIGINT');
    // Ends on its own once the signal has been handled (or never runs, if the signal killed the process).
    setTimeout(() => {}, 200);
  `);
  t.is(result.signal, null, `not killed by the signal: ${result.stderr}`);
  t.is(result.code, 3, 'the run\'s own exit code');
  t.regex(result.stderr, /SIGINT: the run had already finished; exiting with its own exit code/);
});

test('a second SIGINT after the run finished quits at once, with the run\'s exit code', async (t) => {
  const result = await run(`
    import { onInterrupt } from ${JSON.stringify(interruptModule)};
    const interrupt = onInterrupt(process.stderr);
    interrupt.dispose();
    process.exitCode = 0;
    process.kill(process.pid, 'SIGINT');
    setTimeout(() => process.kill(process.pid, 'SIGINT'), 50);
    // A teardown that would never end: only the second signal ends the process.
    setInterval(() => {}, 1000);
  `);
  t.is(result.signal, null, result.stderr);
  t.is(result.code, 0);
});

test('during a run the first SIGINT aborts the run\'s signal, and the handler is live again for the next run', async (t) => {
  const result = await run(`
    import { onInterrupt } from ${JSON.stringify(interruptModule)};
    const first = onInterrupt(process.stderr);
    first.dispose();
    const second = onInterrupt(process.stderr);
    second.signal.addEventListener('abort', () => { process.stderr.write('aborted\\n'); second.dispose(); process.exitCode = 130; });
    process.kill(process.pid, 'SIGINT');
    setTimeout(() => {}, 200);
  `);
  t.is(result.signal, null, result.stderr);
  t.is(result.code, 130);
  t.regex(result.stderr, /finishing requests in flight/);
  t.notRegex(result.stderr, /already finished/, 'the late handler stays quiet while a run is live');
  t.regex(result.stderr, /aborted/);
});

test('the late message goes to the stream the run was given (the run context\'s stderr), not to the process\'s', async (t) => {
  const result = await run(`
    import { Writable } from 'node:stream';
    import { onInterrupt } from ${JSON.stringify(interruptModule)};
    // The run context's stderr: here a stream that tags what it is given and passes it to stdout.
    const contextStderr = new Writable({ write(chunk, _encoding, done) { process.stdout.write('[context] ' + chunk); done(); } });
    const interrupt = onInterrupt(contextStderr);
    interrupt.dispose();
    process.exitCode = 3;
    process.kill(process.pid, 'SIGINT');
    setTimeout(() => {}, 200);
  `);
  t.is(result.signal, null, result.stderr);
  t.is(result.code, 3);
  t.regex(result.stdout, /\[context\] \nSIGINT: the run had already finished; exiting with its own exit code/);
  t.notRegex(result.stderr, /already finished/, result.stderr);
});
