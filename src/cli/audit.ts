/** The CLI side of the audit log: the flag, the up-front check, and the record appended after a run that wrote. */
import type { Options } from 'yargs';
import type { ImportStats } from '../import/run-import.js';
import { appendAuditRecord, auditLogGuard, auditRecord, checkAuditLog, defaultAuditLogPath } from '../audit/audit-log.js';
import type { ConnectionOptions } from '../config.js';
import type { RunTarget } from '../update/target.js';
import { resolveFrom, type CliContext } from './context.js';

export const auditLogFlag = {
  'audit-log': {
    type: 'string',
    describe: 'Append a record of every run that writes (who, where, what, when) to this JSONL file, in a folder that exists (env PYLON_AUDIT_LOG)',
    defaultDescription: '$XDG_STATE_HOME/pylon-contacts/audit.jsonl or ~/.local/state/pylon-contacts/audit.jsonl',
  },
} satisfies Record<string, Options>;

/** The audit log of this run, checked writable before anything is sent to Pylon; a relative path resolves from the context's folder, like every other output. */
export function openAuditLog(flag: string | undefined, ctx: CliContext): string {
  const path = resolveFrom(ctx, flag ?? defaultAuditLogPath(ctx.env));
  // A path the user named must be in a folder that exists; the default one's folder is created.
  const option = flag !== undefined ? '--audit-log' : ctx.env.PYLON_AUDIT_LOG ? 'PYLON_AUDIT_LOG' : undefined;
  checkAuditLog(path, { createFolder: option === undefined, option: option ?? '--audit-log' });
  return path;
}

/** The connection of a run that keeps its record in `path`: each write is checked against the log's disk first (auditLogGuard). */
export function guardedByAuditLog<C extends ConnectionOptions>(connection: C, path: string | undefined): C {
  return path === undefined ? connection : { ...connection, beforeWrite: auditLogGuard(path) };
}

/** Appends the run's record; a failure to append is reported, and the run's exit code stands. */
export function recordRun(path: string, ctx: CliContext, input: { token: string; target: RunTarget; stats: ImportStats & { drifted?: number }; exitCode: number; startedAt: Date; planHash?: string; extraFiles?: Record<string, string | undefined> }): void {
  try {
    appendAuditRecord(path, auditRecord({ ...input, args: ctx.args ?? [] }));
  } catch (error) {
    ctx.stderr.write(`pylon-contacts: warning: ${(error as Error).message}\n`);
  }
}
