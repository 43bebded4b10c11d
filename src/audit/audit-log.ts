/**
 * The audit log: one JSON line appended for every run that writes to Pylon
 * (`import`, `update`, `apply`), saying who (the token's user and organisation,
 * from `GET /me`), where (the host), what (the command line with secrets removed,
 * the plan hash, the counts, the files written) and when (start and end).
 *
 * Default path: $PYLON_AUDIT_LOG, else $XDG_STATE_HOME/pylon-contacts/audit.jsonl,
 * else ~/.local/state/pylon-contacts/audit.jsonl; `--audit-log <path>` overrides.
 * The path is checked writable before the run's first write. Each record is one
 * write(2) in append mode, so concurrent runs never interleave within a line.
 */
import { closeSync, existsSync, mkdirSync, openSync, statSync, statfsSync, writeSync, fsyncSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, PylonCliError } from '../errors.js';
import type { ImportStats } from '../import/run-import.js';
import { redact } from '../config.js';
import { TOOL_VERSION, type RunTarget } from '../update/target.js';

export interface AuditRecord {
  v: 1;
  tool: { name: 'pylon-contacts'; version: string };
  /** The command line, the token and any --token value removed. */
  command: string;
  host: string;
  baseUrl: string;
  organization?: { id: string; name: string };
  actor?: { id: string; email?: string };
  /** `apply`: the hash of the plan applied. */
  planHash?: string;
  outcome: 'complete' | 'partial' | 'interrupted' | 'stopped';
  exitCode: number;
  counts: { rows: number; created: number; updated: number; unchanged: number; skipped: number; failed: number; drifted?: number; notProcessed: number };
  /** Files the run wrote (absolute paths), by kind. */
  files: Record<string, string>;
  startedAt: string;
  endedAt: string;
}

export function defaultAuditLogPath(env: NodeJS.ProcessEnv): string {
  if (env.PYLON_AUDIT_LOG) return env.PYLON_AUDIT_LOG;
  return join(stateFolder(env), 'audit.jsonl');
}

/** The tool's state folder: $XDG_STATE_HOME/pylon-contacts, else ~/.local/state/pylon-contacts. */
export function stateFolder(env: NodeJS.ProcessEnv): string {
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'pylon-contacts');
}

/**
 * Opens the log for appending once: a run that cannot keep its record does not
 * start (OUTPUT_UNWRITABLE, exit 2, nothing sent). Only the default path's folder
 * is created (the tool's state folder); a folder missing from a path the user
 * named (`--audit-log`, PYLON_AUDIT_LOG) is refused like that of any other
 * output: a typo would otherwise scatter folders, and the record, anywhere.
 */
export function checkAuditLog(path: string, options: { createFolder?: boolean; option?: string } = {}): void {
  const option = options.option ?? '--audit-log';
  // A device or a pipe keeps no record: /dev/full takes the open and fails every write, so the record would be lost after the run
  // (and a pipe with no reader blocks the open). /dev/null is kept as a deliberate "no record".
  const kind = existsSync(path) ? statSync(path) : undefined;
  if (kind && !kind.isFile() && !kind.isDirectory() && resolve(path) !== '/dev/null') {
    throw new ConfigError(
      'OUTPUT_UNWRITABLE',
      `Cannot write the audit log ${path} (${option}): it is not a regular file (a device or a pipe keeps no record). Nothing was sent to Pylon; name a file with --audit-log.`,
      { option },
    );
  }
  try {
    if (options.createFolder) mkdirSync(dirname(resolve(path)), { recursive: true });
    closeSync(openSync(path, 'a'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const reason = missing ? 'its folder does not exist' : (error as Error).message;
    throw new ConfigError(
      'OUTPUT_UNWRITABLE',
      `Cannot write the audit log ${path} (${option}): ${reason}. Nothing was sent to Pylon; ${missing ? 'create the folder' : 'fix it'}, or name another file with --audit-log.`,
      { option, cause: error },
    );
  }
}

/** `--token X` / `--token=X` values become `[REDACTED]`, and so does the token wherever else it appears. */
export function redactCommand(args: readonly string[], token: string | undefined): string {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--token') {
      out.push(a, '[REDACTED]');
      i++;
    } else if (a.startsWith('--token=')) out.push('--token=[REDACTED]');
    else out.push(a);
  }
  const text = out.map((a) => (/^[\w@%+=:,./~[\]-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  return redact(text, token);
}

export function auditRecord(input: {
  args: readonly string[];
  token: string | undefined;
  target: RunTarget;
  stats: ImportStats & { drifted?: number };
  exitCode: number;
  startedAt: Date;
  planHash?: string;
  extraFiles?: Record<string, string | undefined>;
}): AuditRecord {
  const { stats } = input;
  const files: Record<string, string> = {};
  const add = (kind: string, path: string | undefined) => {
    if (path && existsSync(path)) files[kind] = resolve(path);
  };
  add('errors', stats.errorsPath ?? undefined);
  add('results', stats.resultsPath);
  // A run that changed no contact wrote no undo file: a file at its path is an earlier run's (as the summary says, none written).
  if (stats.updated > 0) add('undo', stats.undoPath);
  add('journal', stats.journalPath);
  for (const [kind, path] of Object.entries(input.extraFiles ?? {})) add(kind, path);
  return {
    v: 1,
    tool: { name: 'pylon-contacts', version: TOOL_VERSION },
    command: redactCommand(input.args, input.token),
    host: input.target.host,
    baseUrl: input.target.baseUrl,
    ...(input.target.organization ? { organization: input.target.organization } : {}),
    ...(input.target.actor ? { actor: input.target.actor } : {}),
    ...(input.planHash ? { planHash: input.planHash } : {}),
    outcome: stats.fatal ? 'stopped' : stats.interrupted ? 'interrupted' : stats.failed > 0 ? 'partial' : 'complete',
    exitCode: input.exitCode,
    counts: {
      rows: stats.total,
      created: stats.created,
      updated: stats.updated,
      unchanged: stats.unchanged,
      skipped: stats.skipped,
      failed: stats.failed,
      ...(stats.drifted !== undefined ? { drifted: stats.drifted } : {}),
      notProcessed: stats.notProcessed,
    },
    files,
    startedAt: input.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
  };
}

/** Appends one record as one line, fsynced (to the log `checkAuditLog` proved writable: no folder is created here). */
export function appendAuditRecord(path: string, record: AuditRecord): void {
  // Asked for no record (checkAuditLog lets it through); it takes no fsync either.
  if (resolve(path) === '/dev/null') return;
  try {
    const fd = openSync(path, 'a');
    try {
      writeSync(fd, JSON.stringify(record) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new PylonCliError('OUTPUT_WRITE', `Cannot append to the audit log ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Free space the audit log's disk must keep for the run's record (one line of about 1 KB; a long command line makes it longer). */
export const AUDIT_RESERVE_BYTES = 16 * 1024;
/** Free space above which a reading of the audit log's disk is trusted for CHECK_EVERY_MS (a disk that fills faster is caught at the next reading, at most that much later). */
const AMPLE_FREE_BYTES = 1024 * 1024;
const CHECK_EVERY_MS = 250;

/**
 * The check made before each write of a run: the record is appended when the run ends, so a disk that fills
 * meanwhile would leave writes to Pylon with no record. Once the log's disk has less than AUDIT_RESERVE_BYTES
 * free, the next write is not sent: the run stops (OUTPUT_WRITE, exit 1), its journal kept, and `--resume`
 * finishes it once there is room. `/dev/null` (no record asked for) is never checked.
 */
export function auditLogGuard(path: string): () => void {
  if (resolve(path) === '/dev/null') return () => undefined;
  const folder = dirname(resolve(path));
  // A synchronous statfs per write blocks the event loop each time (0.23 s per 100,000 calls on this machine, on the
  // walk's thread of an unpaced run): while the disk has room to spare (AMPLE_FREE_BYTES), one reading covers the
  // writes of the next CHECK_EVERY_MS.
  let checkedAt = -Infinity;
  let lastFree = 0;
  return () => {
    const now = performance.now();
    if (lastFree >= AMPLE_FREE_BYTES && now - checkedAt < CHECK_EVERY_MS) return;
    let free: number;
    try {
      const fs = statfsSync(folder);
      free = fs.bavail * fs.bsize;
      checkedAt = now;
      lastFree = free;
    } catch (error) {
      throw new PylonCliError('OUTPUT_WRITE', `Cannot append to the audit log ${path}: ${(error as Error).message}. The run stopped before its next write to Pylon; fix it, then run the same command with --resume.`, { cause: error });
    }
    if (free < AUDIT_RESERVE_BYTES) {
      throw new PylonCliError('OUTPUT_WRITE', `Cannot append to the audit log ${path}: its disk is full (${free} bytes free), so this run's record could not be kept. The run stopped before its next write to Pylon; free space on that disk, then run the same command with --resume.`);
    }
  };
}
