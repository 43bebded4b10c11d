/**
 * One run at a time on a journal. A run that may write holds `<journal>.lock`,
 * created exclusively and holding its pid, from before its first read until it
 * ends; a second run of the same input (a plain re-run or a `--resume`) is
 * refused while it is held, instead of sending every write a second time and
 * overwriting the first run's undo file. A lock whose process no longer runs
 * (a kill -9, a crash) is stale: the next run takes it over.
 */
import { hostname } from 'node:os';
import { linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { journalUnwritable } from '../output/output-file.js';
import { processAlive } from '../output/process-alive.js';

export const lockPathFor = (journalPath: string) => `${journalPath}.lock`;

interface LockOwner {
  pid: number;
  host?: string;
}

/** What a lock guards, for its refusal: `export --state` locks its state file (one night of a pipeline at a time). */
export interface LockSubject {
  /** `this input`, `the --state file lake/contacts.state`. */
  what: string;
  option: string;
  /** The lock as messages name it (as typed); default its absolute path. */
  shown?: string;
  /** The refusal when the lock cannot be written (a full disk); default journalUnwritable's, which names --journal. */
  unwritable?: (path: string, error: unknown) => ConfigError;
}

/** Takes the lock of `journalPath` for this process; returns its release. Throws CONFIG_RUN_LOCKED (exit 2) while another run holds it. */
export function lockJournal(journalPath: string, subject: LockSubject = { what: 'working on this input', option: '--journal' }): () => void {
  const path = lockPathFor(journalPath);
  const shown = subject.shown ?? path;
  const text = JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }) + '\n';
  // A few tries: the next one follows the removal of a stale lock (or a lock removed in between).
  for (let attempt = 0; !create(path, text, subject.unwritable); attempt++) {
    const seen = readOwner(path);
    if (seen === undefined && attempt < 3) continue; // released in between: try again
    const owner = seen?.owner ?? { pid: 0 };
    const here = owner.host === undefined || owner.host === hostname();
    if ((owner.pid > 0 && (!here || processAlive(owner.pid))) || attempt >= 3) {
      const who = `pid ${owner.pid > 0 ? owner.pid : '?'}${here ? '' : ` on ${owner.host}`}`;
      throw new ConfigError(
        'CONFIG_RUN_LOCKED',
        `Another run (${who}) is ${subject.what} now (its lock: ${shown}); wait for it, or stop it. If no such run is working any more, delete ${shown} and run again.`,
        { option: subject.option },
      );
    }
    // Stale (its process ended without releasing it): removed only if it is still the one read, then taken.
    if (readOwner(path)?.raw === seen!.raw) rmSync(path, { force: true });
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // Only our own lock goes (a lock taken over after we were presumed dead is the other run's).
    if (readOwner(path)?.owner.pid === process.pid) rmSync(path, { force: true });
  };
}

/** Creates the lock with its content in one step (a hard link of a written file): no reader ever sees it empty. */
function create(path: string, text: string, unwritable = (at: string, error: unknown) => journalUnwritable(at, error, "--journal's lock")): boolean {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text);
  } catch (error) {
    // Taken before the run's first call: a lock that cannot be written (a full disk) is named with what to do (exit 2).
    rmSync(temp, { force: true });
    throw unwritable(path, error);
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: an exclusive create.
    try {
      writeFileSync(path, text, { flag: 'wx' });
      return true;
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw unwritable(path, code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' ? again : error);
    }
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Already gone.
    }
  }
}

function readOwner(path: string): { owner: LockOwner; raw: string } | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(raw) as Partial<LockOwner>;
    return { owner: { pid: Number.isInteger(parsed.pid) ? parsed.pid! : 0, host: typeof parsed.host === 'string' ? parsed.host : undefined }, raw };
  } catch {
    // Not written by this tool (or damaged): stale, since the content is always written whole.
    return { owner: { pid: 0 }, raw };
  }
}
