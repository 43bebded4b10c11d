/**
 * One error hierarchy for the whole tool. Every error carries a stable `code`
 * (branch on it, never on the message) and structured context in typed fields.
 * Nothing in here may ever hold the API token.
 */
import { editDistance } from './edit-distance.js';

/**
 * Every run-level code, as a list the tests compare with docs/errors.md's "Run codes" table (test/docs/error-codes.test.ts):
 * a code added here without its row there, or the reverse, fails the build.
 */
export const ERROR_CODES = [
  // configuration and usage (exit 2)
  'CONFIG_INVALID_OPTION',
  'CONFIG_MISSING_TOKEN',
  'CONFIG_INSECURE_URL',
  'CONFIG_UNKNOWN_COLUMNS',
  'CONFIG_BAD_MAPPING',
  'CONFIG_RESUME_MISMATCH',
  'CONFIG_RUN_LOCKED',
  'CONFIG_UNKNOWN_PRESET',
  // saved plans (`update --plan-out`, `apply`): exit 2, nothing written
  'PLAN_INVALID',
  'PLAN_EDITED',
  'PLAN_OTHER_TARGET',
  'PLAN_STALE',
  // input files (exit 1 or 2)
  'INPUT_NOT_FOUND',
  'INPUT_UNREADABLE',
  'CSV_MALFORMED',
  'INPUT_FORMAT',
  // Pylon API (exit 1 when fatal)
  'PYLON_AUTH',
  'PYLON_FORBIDDEN',
  'PYLON_RATE_LIMITED',
  'PYLON_HTTP',
  'PYLON_NETWORK',
  'PYLON_TIMEOUT',
  'PYLON_BAD_RESPONSE',
  'PYLON_PAGINATION',
  // run control
  'RUN_ABORTED',
  'RUN_GUARD',
  // a resumed run that cannot account for every undo row (exit 1; a stats.fatal code, never thrown)
  'RUN_UNDO_INCOMPLETE',
  'OUTPUT_WRITE',
  'OUTPUT_UNWRITABLE',
  'OUTPUT_EXISTS',
  // warehouse output and loads (exit 1)
  'SCHEMA_CHANGED',
  'LOAD_CONNECT',
  'LOAD_AUTH',
  'LOAD_TABLE_CONFLICT',
  'LOAD_UNAVAILABLE',
  'LOAD_FAILED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface PylonCliErrorOptions {
  cause?: unknown;
}

export class PylonCliError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options: PylonCliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PylonCliError';
    this.code = code;
  }
}

/** A bad flag, a missing token, an unusable file: the user can fix it and run again. Exit 2. */
export class ConfigError extends PylonCliError {
  readonly option?: string;
  constructor(code: ErrorCode, message: string, options: PylonCliErrorOptions & { option?: string } = {}) {
    super(code, message, options);
    this.name = 'ConfigError';
    this.option = options.option;
  }
}

/**
 * Uniform message grammar for option validation:
 * Invalid option `--concurrency`: expected an integer from 1 to 64, got 0
 */
export function invalidOption(flag: string, expected: string, got: unknown): ConfigError {
  const shown = typeof got === 'string' ? JSON.stringify(got) : String(got);
  // A choice mistyped (`--mode upsret`): the one it is a slip from.
  const listed = /^one of ([\w.-]+(?:, [\w.-]+)*)$/.exec(expected)?.[1]?.split(', ');
  const near = listed && typeof got === 'string' ? nearestChoice(got, listed) : undefined;
  return new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${flag}\`: expected ${expected}, got ${shown}${near ? ` (did you mean ${near}?)` : ''}`, {
    option: flag,
  });
}

/** The choice `value` is a typo or two from (case aside), if one is: `upsret` → upsert, `hubspt` → hubspot. */
export function nearestChoice(value: string, choices: readonly string[]): string | undefined {
  const typed = value.trim().toLowerCase();
  if (typed.length < 2) return undefined;
  let best: { choice: string; cost: number; tied: boolean } | undefined;
  for (const choice of choices) {
    const cost = editDistance(typed, choice.toLowerCase());
    if (!best || cost < best.cost) best = { choice, cost, tied: false };
    else if (cost === best.cost) best.tied = true;
  }
  // Two choices as near (`ue`: us or eu?) is no suggestion.
  return best && !best.tied && best.cost <= Math.max(1, Math.floor(best.choice.length / 3)) ? best.choice : undefined;
}

/** A run that must stop with a specific exit code and a message already written for humans. */
export class ExitError extends PylonCliError {
  readonly exitCode: number;
  constructor(exitCode: number, message: string, code: ErrorCode = 'RUN_ABORTED', options: PylonCliErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ExitError';
    this.exitCode = exitCode;
  }
}

/** A bug in this tool. The CLI prints it with a request to report it. */
export class InternalError extends PylonCliError {
  constructor(message: string, options: PylonCliErrorOptions = {}) {
    super('INTERNAL', message, options);
    this.name = 'InternalError';
  }
}
