import { createInterface } from 'node:readline/promises';
import { ExitError } from '../errors.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';

/**
 * Asks on the terminal. Only "yes"/"y" goes on; end of input answers no, and
 * Ctrl-C stops like an interrupted run (nothing was written yet).
 */
export async function askToConfirm(ctx: CliContext, question: string, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr, terminal: false });
  try {
    const answer = await new Promise<string | undefined>((resolve, reject) => {
      rl.once('close', () => resolve(undefined));
      rl.question(question, { signal }).then(resolve, reject);
    });
    const word = answer?.trim().toLowerCase();
    return word === 'yes' || word === 'y';
  } catch (error) {
    if (signal.aborted) throw new ExitError(EXIT.INTERRUPTED, 'Stopped before writing anything: interrupted.', 'RUN_ABORTED');
    throw error;
  } finally {
    rl.close();
  }
}
