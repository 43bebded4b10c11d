import { basename, dirname, join } from 'node:path';
import { invalidOption } from '../errors.js';
import { resolveConnectionOptions, resolveIntegerOption, type ConnectionOptions, type ConnectionOptionsInput } from '../config.js';
import { parseMaxAge } from './plan-file.js';

/** Raw `apply` options: flags, environment and defaults, all optional. */
export interface ApplyOptionsInput extends ConnectionOptionsInput {
  plan: string;
  force?: boolean;
  /** `24h`, `90m`, `2d`, or hours. */
  maxAge?: string;
  maxChanges?: number;
  maxRemovals?: number;
  errors?: string;
  results?: string;
  undo?: string;
  journal?: string;
  resume?: boolean;
  readBatch?: number;
}

export interface ResolvedApplyOptions {
  planPath: string;
  connection: ConnectionOptions;
  force: boolean;
  maxAgeMs: number;
  maxChanges?: number;
  maxRemovals: number;
  errorsPath: string;
  resultsPath?: string;
  undoPath: string;
  journalPath: string;
  resume: boolean;
  readBatch: number;
}

/** The only place `apply` defaults live: reports beside the plan, named after it. */
export function resolveApplyOptions(input: ApplyOptionsInput): ResolvedApplyOptions {
  if (!input.plan) throw invalidOption('<plan>', 'a plan file written by update --plan-out', input.plan ?? '');
  const base = input.plan.replace(/\.json$/i, '');
  const maxAgeMs = parseMaxAge(input.maxAge);
  if (maxAgeMs === undefined || maxAgeMs <= 0) throw invalidOption('--max-age', 'a duration such as 90m, 24h or 2d', input.maxAge);
  if (input.maxChanges !== undefined && (!Number.isInteger(input.maxChanges) || input.maxChanges < 0)) {
    throw invalidOption('--max-changes', 'a whole number of contacts, 0 or more', input.maxChanges);
  }
  return {
    planPath: input.plan,
    connection: resolveConnectionOptions(input),
    force: input.force ?? false,
    maxAgeMs,
    maxChanges: input.maxChanges,
    maxRemovals: resolveIntegerOption('--max-removals', input.maxRemovals, 0, Number.MAX_SAFE_INTEGER, 10),
    errorsPath: input.errors ?? `${base}.errors.csv`,
    resultsPath: input.results,
    undoPath: input.undo ?? `${base}.undo.csv`,
    journalPath: input.journal ?? join(dirname(base), `.${basename(base)}.journal.jsonl`),
    resume: input.resume ?? false,
    readBatch: resolveIntegerOption('--read-batch', input.readBatch, 1, 999, 100),
  };
}
