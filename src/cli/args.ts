import type { CliContext } from './context.js';
import { InternalError } from '../errors.js';

/** The context the root CLI attached to argv (see buildCli). */
export function contextOf(argv: unknown): CliContext {
  const ctx = (argv as { __ctx?: CliContext }).__ctx;
  if (!ctx) throw new InternalError('command ran without a CLI context');
  return ctx;
}
