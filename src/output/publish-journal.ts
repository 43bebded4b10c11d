/**
 * What an export run is about to write and publish, recorded in a fixed
 * folder before it happens, so that the next run can undo a run killed with
 * -9 (which cannot clean up after itself) wherever its files went.
 *
 * `publishTogether` keeps each replaced target as a `.previous` sibling until
 * the set is final, and the next run that writes *the same target* puts it
 * back (sweepDeadPartials). That is not enough when the names hold `{run_id}`
 * or `{date}`: no later run writes those targets, so a killed run's
 * `.partial` files (full of contact data) and the files it had already
 * renamed into place (a data file, a change log, a manifest saying
 * `complete`) stayed for good. The journal names them all:
 *
 * - a head line: the run, its process, the table it loads (if any) and the
 *   folders it made;
 * - a `partial` line for each temporary file, written before the file is
 *   created;
 * - one `publish` line before the first rename: each target (absolute, and
 *   as the run was given it, for messages), the temporary file renamed onto
 *   it, and where its replaced file is kept;
 * - a `committed` line once the set is final (after the load's COMMIT).
 *
 * The run removes its journal when it ends, whatever happened (it cleaned up
 * itself). The next run finds the journals of processes that no longer run
 * (recoverDeadJournals): a run that committed (the `committed` line, or a
 * `committed` row of its load in `_pylon_loads`) keeps its files and loses
 * its kept copies; any other has its new files removed, its replaced files
 * put back, its temporary files and the empty folders it made removed. Lines
 * are appended and fsynced one by one; a torn last line is ignored (the step
 * it announced had not begun).
 */
import { mkdir, open, readFile, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { processAlive } from './process-alive.js';

/** One file of a publish: `writing` is renamed onto `target`; a `target` that existed is kept (hard-linked) at `previous` first. */
export interface PublishEntry {
  target: string;
  writing: string;
  previous: string;
}

/** What openOutput and publishTogether tell the journal. */
export interface PublishRecorder {
  /** Before a temporary file is created. */
  recordPartial(path: string): Promise<void>;
  /** Before the first rename of a publish. */
  recordPublish(entries: readonly PublishEntry[]): Promise<void>;
}

export interface PublishJournal extends PublishRecorder {
  readonly path: string;
  /** The set is final (the load committed, every file is in place): a kill from here on keeps it. */
  recordCommitted(): Promise<void>;
  /** The run ended and cleaned up after itself: the journal goes. */
  close(): Promise<void>;
}

/** A `publish` line's entry: the paths absolute (the next run may run elsewhere), and the target as the run was given it. */
interface JournalEntry extends PublishEntry {
  /** The target as typed (relative to the run's folder, or absolute), for messages; absent in journals of earlier versions. */
  shown?: string;
}

interface JournalHead {
  kind: 'pylon-contacts-publish';
  runId: string;
  pid: number;
  /** The table the run loads (`LoadTarget.display`), or null. */
  load: string | null;
  /** The same table as `LoadTarget.key` (however the next run spells it: another folder, the password elsewhere); absent in journals of earlier versions. */
  loadKey?: string;
  /** Folders the run made (partition folders): removed when empty after an undo. */
  dirs: string[];
  /** When the run started (its `{run_id}` moment): the `started_at` of the load log row the next run writes for it if it was killed; absent in journals of earlier versions. */
  startedAt?: string;
}

const NAME = /^\.pylon-contacts-publish\.(\d+)\.([A-Za-z0-9._-]+)\.journal$/;

/** The journal of run `runId` in process `pid`, in `dir`. */
export function journalPath(dir: string, runId: string, pid = process.pid): string {
  return join(dir, `.pylon-contacts-publish.${pid}.${runId}.journal`);
}

/** Creates this run's journal in `dir` (made if missing) with its head line. */
export async function openJournal(dir: string, head: { runId: string; load: string | null; loadKey?: string; dirs: readonly string[]; startedAt?: string }): Promise<PublishJournal> {
  await mkdir(dir, { recursive: true });
  const path = journalPath(dir, head.runId);
  const file = await open(path, 'w');
  let closed = false;
  const append = async (record: object) => {
    if (closed) return;
    await file.write(JSON.stringify(record) + '\n');
    await file.datasync();
  };
  await append({ kind: 'pylon-contacts-publish', runId: head.runId, pid: process.pid, load: head.load, ...(head.loadKey ? { loadKey: head.loadKey } : {}), dirs: head.dirs.map((d) => resolve(d)), ...(head.startedAt ? { startedAt: head.startedAt } : {}) } satisfies JournalHead);
  return {
    path,
    recordPartial: (partial) => append({ partial: resolve(partial), shown: partial }),
    recordPublish: (entries) => append({ publish: entries.map((e) => ({ target: resolve(e.target), shown: e.target, writing: resolve(e.writing), previous: resolve(e.previous) } satisfies JournalEntry)) }),
    recordCommitted: () => append({ committed: true }),
    async close() {
      if (closed) return;
      closed = true;
      await file.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
    },
  };
}

/** A dead run's journal, read back. */
export interface DeadRun {
  path: string;
  runId: string;
  pid: number;
  load: string | null;
  /** JournalHead.loadKey; undefined in journals of earlier versions. */
  loadKey: string | undefined;
  dirs: string[];
  /** When the run started (JournalHead.startedAt); undefined in journals of earlier versions. */
  startedAt: string | undefined;
  partials: string[];
  /** Each temporary file as the run was given it (absolute → as typed), for messages; absent in journals of earlier versions. */
  partialsShown: Map<string, string>;
  publish: JournalEntry[] | undefined;
  committed: boolean;
}

/** What the next run did about a dead run. */
export interface Recovery {
  run: DeadRun;
  /** `kept`: it had committed (its kept copies were dropped); `undone`: its files were taken back. */
  outcome: 'kept' | 'undone';
  /** Files it had renamed into place where there was none: removed (named as in messages, see shownPath). */
  removed: string[];
  /** Files it had replaced: put back (named as in messages). */
  restored: string[];
  /** Its temporary files still there: removed. */
  partials: string[];
}

/** The journals in `dir` of processes that no longer run. */
export async function deadJournals(dir: string): Promise<DeadRun[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const runs: DeadRun[] = [];
  for (const entry of entries) {
    const m = NAME.exec(entry);
    if (!m || processAlive(Number(m[1]))) continue;
    const run = parseJournal(join(dir, entry), await readFile(join(dir, entry), 'utf8').catch(() => ''));
    if (run) runs.push(run);
  }
  return runs;
}

function parseJournal(path: string, text: string): DeadRun | undefined {
  const lines = text.split('\n');
  // The last line may be torn (killed while appending): the step it announced had not begun.
  const records: Array<Record<string, unknown>> = [];
  for (const line of lines) {
    try {
      if (line !== '') records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      break;
    }
  }
  const head = records[0] as Partial<JournalHead> | undefined;
  const m = NAME.exec(path.slice(path.lastIndexOf('/') + 1));
  // A journal killed before its head line was written holds nothing: it is only removed.
  const run: DeadRun = { path, runId: head?.runId ?? m?.[2] ?? '', pid: head?.pid ?? Number(m?.[1]), load: head?.load ?? null, loadKey: typeof head?.loadKey === 'string' ? head.loadKey : undefined, dirs: head?.dirs ?? [], startedAt: typeof head?.startedAt === 'string' ? head.startedAt : undefined, partials: [], partialsShown: new Map(), publish: undefined, committed: false };
  for (const record of records.slice(1)) {
    if (typeof record.partial === 'string') {
      run.partials.push(record.partial);
      if (typeof record.shown === 'string') run.partialsShown.set(record.partial, record.shown);
    }
    if (Array.isArray(record.publish)) run.publish = record.publish as JournalEntry[];
    if (record.committed === true) run.committed = true;
  }
  return run;
}

/**
 * A target as messages name it: as the dead run was given it (a relative path
 * as typed, like every other message of the run), when that still names the
 * same file from this process's folder; else absolute (the dead run ran
 * elsewhere, or its journal predates the typed form).
 */
function shownPath(entry: JournalEntry): string {
  return entry.shown !== undefined && resolve(entry.shown) === entry.target ? entry.shown : entry.target;
}

/**
 * Any path of a dead run as messages name it: a temporary file or a target as
 * the run was given it (see shownPath); a file beside a target (its kept copy)
 * in that target's folder as typed; else absolute.
 */
function shownFile(run: DeadRun, path: string): string {
  const partial = run.partialsShown.get(path);
  if (partial !== undefined && resolve(partial) === path) return partial;
  for (const entry of run.publish ?? []) {
    if (path === entry.target) return shownPath(entry);
    const shown = shownPath(entry);
    if (shown !== entry.target && dirname(path) === dirname(entry.target)) return join(dirname(shown), basename(path));
  }
  return path;
}

/** Runs one step of settling a dead run; its failure names the file as messages do (shownFile), not as the journal holds it (absolute). */
async function step(run: DeadRun, what: string, path: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    throw new Error(`cannot ${what} ${shownFile(run, path)} (${code ?? (error instanceof Error ? error.message : String(error))})`, { cause: error });
  }
}

const exists = (path: string) => stat(path).then(
  () => true,
  () => false,
);

/**
 * Settles a dead run: `committed` says whether it committed (its journal's
 * `committed` line, or its load's row in `_pylon_loads`). A committed run
 * keeps its published files (their kept copies go); any other is undone, the
 * last published file first. Its temporary files go either way, and the
 * journal last, so a run killed while recovering is recovered again.
 */
export async function recoverRun(run: DeadRun, committed: boolean): Promise<Recovery> {
  const recovery: Recovery = { run, outcome: committed ? 'kept' : 'undone', removed: [], restored: [], partials: [] };
  for (const entry of [...(run.publish ?? [])].reverse()) {
    const kept = await exists(entry.previous);
    if (committed || (await exists(entry.writing))) {
      // Final, or not renamed yet (every file is staged before the first rename, so a temporary file still there was not): the target is right as it is.
      if (kept) await step(run, 'remove', entry.previous, () => unlink(entry.previous));
    } else if (kept) {
      // Its old file, hard-linked before the rename: put back.
      await step(run, 'put back', entry.target, () => rename(entry.previous, entry.target));
      recovery.restored.push(shownPath(entry));
    } else if (await exists(entry.target)) {
      // Renamed into place where there was no file.
      await step(run, 'remove', entry.target, () => unlink(entry.target));
      recovery.removed.push(shownPath(entry));
    }
  }
  for (const partial of run.partials) {
    if (await exists(partial)) {
      await step(run, 'remove', partial, () => unlink(partial));
      recovery.partials.push(partial);
    }
  }
  if (!committed) for (const dir of [...run.dirs].sort((a, b) => b.length - a.length)) await rmdir(dir).catch(() => undefined);
  await unlink(run.path).catch(() => undefined);
  return recovery;
}

/** A recovery in words, for the summary's warnings (undefined when there was nothing to say). */
export function describeRecovery(recovery: Recovery): string | undefined {
  const { run, removed, restored, partials } = recovery;
  const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
  const temporary = partials.length > 0 ? `removed its ${partials.length} temporary (.partial) file${partials.length === 1 ? '' : 's'}` : undefined;
  if (recovery.outcome === 'kept') return temporary && `run ${run.runId} (process ${run.pid}) was killed after it committed; its files stay, and this run ${temporary}`;
  const what = [
    removed.length > 0 ? `removed the ${files(removed.length)} it had published (${removed.join(', ')})` : undefined,
    restored.length > 0 ? `put back the ${files(restored.length)} it had replaced (${restored.join(', ')})` : undefined,
    temporary,
  ].filter((s) => s !== undefined);
  const table = run.load ? ` (its load into ${run.load} had not committed: the table was left as it was)` : '';
  // A load that writes no file has nothing to take back, but its night is still said (and logged abandoned by the caller).
  if (what.length === 0) return run.load ? `run ${run.runId} (process ${run.pid}) was killed before it committed${table}; it had written no file, so there was nothing to take back` : undefined;
  return `run ${run.runId} (process ${run.pid}) was killed before it committed${table}; this run ${what.join(', ')}, so the outputs are as the last committed run left them`;
}
