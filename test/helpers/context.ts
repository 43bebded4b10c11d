import { PassThrough } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';

/**
 * A CLI context for running a command in process from `cwd` (no process.chdir):
 * stdout and stderr collected in `out`, stdin holding `answer` (a confirmation).
 */
export function cliContext(env: Record<string, string>, cwd: string, options: { isTTY?: boolean; answer?: string } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = { stdout: '', stderr: '' };
  stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const stdin = new PassThrough();
  stdin.end(options.answer ?? '');
  const ctx: CliContext = { stdout, stderr, env, isTTY: options.isTTY ?? false, stdin, exitCode: 0, cwd };
  return { ctx, out };
}
