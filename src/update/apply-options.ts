import { basename, dirname, join, resolve } from 'node:path';
import { invalidOption } from '../errors.js';
import { refuseOutputsOn, sameFile } from '../output/output-file.js';
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
  /** `--only`: the error report of an earlier apply whose ROW_DRIFTED contacts this run applies. */
  only?: string;
}

export interface ResolvedApplyOptions {
  planPath: string;
  connection: ConnectionOptions;
  force: boolean;
  maxAgeMs: number;
  /** --max-age as given, for messages. */
  maxAge: string;
  maxChanges?: number;
  /** Given to apply; undefined: the plan's own (recorded by update --sync --plan-out), else 10. */
  maxRemovals?: number;
  errorsPath: string;
  resultsPath?: string;
  undoPath: string;
  journalPath: string;
  resume: boolean;
  readBatch: number;
  onlyPath?: string;
  /** The default error report was the --only file: the report goes to `errorsPath` instead. */
  errorsMoved?: { from: string };
}

/** apply's --max-removals when neither it nor the plan gives one. */
export const DEFAULT_MAX_REMOVALS = 10;

/** The only place `apply` defaults live: reports beside the plan, named after it. */
export function resolveApplyOptions(input: ApplyOptionsInput): ResolvedApplyOptions {
  if (!input.plan) throw invalidOption('<plan>', 'a plan file written by update --plan-out', input.plan ?? '');
  const base = input.plan.replace(/\.json$/i, '');
  const maxAgeMs = parseMaxAge(input.maxAge);
  if (maxAgeMs === undefined || maxAgeMs <= 0) throw invalidOption('--max-age', 'a duration such as 30s, 90m, 24h or 2d (a bare number is hours)', input.maxAge);
  if (input.maxChanges !== undefined && (!Number.isInteger(input.maxChanges) || input.maxChanges < 0)) {
    throw invalidOption('--max-changes', 'a whole number of contacts, 0 or more', input.maxChanges);
  }
  const defaultErrors = `${base}.errors.csv`;
  const onlyPath = input.only === undefined ? undefined : resolve(input.only);
  let errorsPath = input.errors ?? defaultErrors;
  let errorsMoved: { from: string } | undefined;
  if (onlyPath !== undefined) {
    // A run that ends with nothing to report removes its error report, and the results and the journal replace their file:
    // none of them may be the file --only reads. One named on the command line is refused; the default error report,
    // `<plan>.errors.csv` (the file the summary's `--force --only` hint names), is named after the --only file instead.
    refuseOutputsOn(onlyPath, 'the file --only reads', [
      ['--errors', input.errors, 'error report'],
      ['--results', input.results, 'results file'],
      ['--journal', input.journal, 'journal'],
    ]);
    if (input.errors === undefined && sameFile(defaultErrors, onlyPath)) {
      errorsPath = `${onlyPath.replace(/\.csv$/i, '')}.errors.csv`;
      errorsMoved = { from: defaultErrors };
    }
  }
  return {
    planPath: input.plan,
    connection: resolveConnectionOptions(input),
    force: input.force ?? false,
    maxAgeMs,
    maxAge: input.maxAge === undefined ? '24h' : String(input.maxAge).trim(),
    maxChanges: input.maxChanges,
    maxRemovals: input.maxRemovals === undefined ? undefined : resolveIntegerOption('--max-removals', input.maxRemovals, 0, Number.MAX_SAFE_INTEGER, 10),
    errorsPath,
    resultsPath: input.results,
    undoPath: input.undo ?? `${base}.undo.csv`,
    journalPath: input.journal ?? join(dirname(base), `.${basename(base)}.journal.jsonl`),
    resume: input.resume ?? false,
    readBatch: resolveIntegerOption('--read-batch', input.readBatch, 1, 999, 100),
    ...(onlyPath !== undefined ? { onlyPath } : {}),
    ...(errorsMoved ? { errorsMoved } : {}),
  };
}
