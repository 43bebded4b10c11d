import { closeSync, existsSync, openSync, readSync, rmSync, statSync, writeSync, fsyncSync, fstatSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { lockJournal } from './journal-lock.js';
import { deadPartials, journalUnwritable, outputWriteError } from '../output/output-file.js';
import { readRunMeta } from './run-state.js';
import { TOOL_VERSION } from '../update/target.js';
import type { FieldChange } from '../import/plan.js';

/**
 * Append-only JSONL journal that makes an import resumable after any stop,
 * kill -9 included. Every line is written with one write(2) before the next
 * step, so the kernel holds it even if the process dies on the next instruction.
 *
 *   {"t":"start", ...fingerprint}    once per run (a resumed run appends another)
 *   {"t":"sent","l":12}              a create for line 12 is about to go out
 *   {"t":"sent","l":13,"id":"…","changes":[…]}   a PATCH of contact … is about to go out
 *   {"t":"unsent","l":12}            the create for line 12 was answered and not applied (a 429 at a stop):
 *                                    its earlier "sent" is void, a resume has no lost answer to look for
 *   {"t":"done","l":12,"o":"created","id":"…","rid":"…"}   the row's final outcome
 *
 * On resume: rows with a final outcome are replayed into the reports without a
 * call; every other row is processed again. A row whose create was sent but not
 * confirmed is found by the email lookup (it then exists) and counted as created,
 * so nothing is created twice and nothing is lost. A row whose PATCH was sent but
 * not confirmed, and whose contact now holds the new values, is counted as updated,
 * with the previous values from this journal (for `update`'s undo file).
 *
 * Resuming reads the journal once, streaming, and keeps only where each line's
 * last outcome and last send are (8 bytes per input line each); `npm run bench
 * -- import` measures a resumed 1M-row run (bench/RESULTS.md).
 */

export type Outcome = 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed';

export interface JournalOutcome {
  t: 'done';
  /** Input line. */
  l: number;
  o: Outcome;
  id?: string;
  rid?: string;
  email?: string;
  /** Failure details. */
  code?: string;
  field?: string;
  message?: string;
  status?: number;
}

export interface JournalSent {
  t: 'sent';
  l: number;
  /** For a PATCH: the contact and its changes (with the previous values). */
  id?: string;
  /** When the request left the pacer (ms since the epoch). */
  at?: number;
  /** For a PATCH: the contact's email when it was read (for its undo row). */
  email?: string;
  changes?: FieldChange[];
  /**
   * For a resumed run's follow-up PATCH emails (no change of its own): the primary the interrupted run's PATCH email
   * replaced, which the follow-up drops, so that a run resumed again still knows it (a server that keeps it as a secondary).
   */
  replaced?: string;
}

/** The create of line `l` was answered without being applied (a 429, a connection never made): its `sent` entries are void. */
export interface JournalUnsent {
  t: 'unsent';
  l: number;
}

export interface JournalStart {
  t: 'start';
  v: 1;
  input: InputFingerprint;
  mode: string;
  at: string;
  /** The API host (`host[:port]`) the run writes to. */
  host?: string;
  /** The pylon-contacts version that wrote the journal. */
  tool?: string;
  /**
   * Everything else that decides what the run writes (`--set` values, the mapping, the
   * clear token, `--create-accounts`, `--force`…), by flag: a `--resume` with other
   * values would finish the run with them, mixing two runs' values in Pylon and in the undo file.
   */
  settings?: Record<string, string>;
}

export interface InputFingerprint {
  path: string;
  size: number;
  sha256: string;
}

/** Outcomes recorded by earlier runs, by input line. */
export interface JournalOutcomes {
  readonly size: number;
  get(line: number): JournalOutcome | undefined;
  /** The lines, in order. */
  keys(): IterableIterator<number>;
}

/** Sends of earlier runs without a recorded outcome, by input line (each read from the file when asked for). */
export interface JournalSentLines {
  readonly size: number;
  get(line: number): JournalSent | undefined;
  /** The lines, in order. */
  keys(): IterableIterator<number>;
}

export interface Journal {
  /** Outcomes recorded by earlier runs, by line. */
  readonly previous: JournalOutcomes;
  /** Lines whose write was sent by an earlier run without a recorded outcome. */
  readonly sentBefore: JournalSentLines;
  /** When an earlier run last wrote to the journal (ms since the epoch): its last write went out no later. */
  readonly lastWrittenAt: number;
  /** Notes that the write of `line` (a create, or a PATCH of `update.id`) is about to go out. */
  /** An earlier run's last `sent` entry of `line` (outcome recorded or not): what an undo row is rebuilt from. */
  sentAt(line: number): JournalSent | undefined;
  sent(line: number, update?: { id: string; email?: string | null; changes: FieldChange[]; replaced?: string }): void;
  /** Notes that the create of `line` was answered and not applied (every send of it): a resume does not wait for it as a lost answer. */
  unsent(line: number): void;
  done(outcome: JournalOutcome): void;
  close(): void;
}

/** What a journal is keyed by: the input, the mode, and (recorded by this version on) the host and the tool version. */
export type JournalKey = Omit<JournalStart, 't' | 'v' | 'at' | 'tool'>;

const mismatch = (message: string) => new ConfigError('CONFIG_RESUME_MISMATCH', message, { option: '--resume' });

/**
 * Checks, before anything is read from Pylon or written, that a run may use the
 * journal at `path`: with `resume`, one must exist and belong to this input, mode,
 * options that decide what is written (`settings`),
 * host and tool version; without, none may exist (an unfinished run would be
 * forgotten). Every refusal is CONFIG_RESUME_MISMATCH (exit 2) and says what to do.
 */
/** A journal is read back and removed when the run completes: a device (/dev/null, /dev/full) or a pipe can be neither (exit 2, before any call). */
export function refuseNotAFile(path: string): void {
  const existing = statSync(path, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) {
    const kind = existing.isDirectory() ? 'a folder' : existing.isCharacterDevice() || existing.isBlockDevice() ? 'a device' : existing.isFIFO() ? 'a pipe' : 'not a regular file';
    throw new ConfigError(
      'OUTPUT_UNWRITABLE',
      `Invalid option \`--journal\`: ${path} is ${kind}; a journal must be a regular file (or not exist yet), as --resume reads it back. Name a file, or leave --journal out for the default beside the input. Nothing was sent.`,
      { option: '--journal' },
    );
  }
}

export function checkJournal(path: string, key: JournalKey, resume: boolean): void {
  refuseNotAFile(path);
  if (!resume) {
    refuseUnfinished(path, key.mode);
    return;
  }
  if (!existsSync(path)) {
    throw mismatch(
      `Cannot resume: there is no interrupted run to finish (no journal at ${path}). A run creates its journal before it reads its first row and removes it only when it completes, so the run you mean either stopped before it could write anything (then the same command without --resume is safe) or completed (then there is nothing to finish: its summary, error report and undo file say what it did). A run with another --journal is resumed with that one.`,
    );
  }
  const fd = openSync(path, 'r');
  try {
    checkStart(path, scanJournal(fd).start, key);
  } finally {
    closeSync(fd);
  }
}

/**
 * A run without --resume never starts beside the journal of an unfinished one (it would be forgotten). When that run
 * stopped with writes whose answer never came (a 401 or a kill while they were out), the refusal says what only
 * --resume does with them: it looks the creates up before sending them again (a new run would create again what it
 * cannot find), and it checks the contacts of the PATCHes, counting a change made as updated with its undo row, rebuilt
 * from the journal when the run died before writing it (a new run finds those contacts already changed, counts them
 * unchanged and leaves them out of its undo file: deleting the journal could lose the only record of their old values).
 */
export function refuseUnfinished(path: string, mode: string): void {
  if (!existsSync(path)) return;
  const { creates: lost, patches } = unansweredWrites(path);
  const lines = (list: readonly number[]) => `line${list.length === 1 ? '' : 's'} ${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''}`;
  const creates = lost.length === 0 ? '' : ` It stopped with ${lost.length === 1 ? 'a create' : `${lost.length} creates`} sent and never answered (${lines(lost)}): only --resume finds out whether ${lost.length === 1 ? 'it was' : 'they were'} made before sending ${lost.length === 1 ? 'it' : 'them'} again; a new run creates again any contact it does not find (one whose row has no email or external id, always).`;
  const one = patches.length === 1;
  const changes =
    patches.length === 0
      ? ''
      : ` It stopped with ${one ? 'a change (PATCH)' : `${patches.length} changes (PATCHes)`} sent and never answered (${lines(patches)}), which may have been made: only --resume checks ${one ? 'its contact' : 'their contacts'} and counts a change made as updated, with its undo row (rebuilt from this journal, which alone holds the old values when the run was killed before the answer); a new run finds such a contact already changed, counts it unchanged and leaves it out of its undo file.`;
  const safeToDelete = lost.length === 0 && patches.length === 0;
  throw mismatch(
    `An interrupted run of this ${mode === 'apply' ? 'plan' : 'input'} left its journal at ${path}.${creates}${changes} Use --resume (the same command) to finish it${safeToDelete ? `, or delete ${path} to start a new run (the interrupted run's changes stay as they are)` : ''}.${undoFileOf(path, patches.length > 0)}`,
  );
}

/**
 * Where the interrupted run's undo rows are (the undo path kept beside its journal): its undo file, or the `.partial`
 * a kill left in its place, which --resume finishes and publishes under the file's name. `sent`: PATCHes went out
 * unanswered, whose rows --resume writes (rebuilt from the journal) when neither is on disk yet.
 */
function undoFileOf(journalPath: string, sent: boolean): string {
  const undo = readRunMeta(journalPath)?.undoPath;
  if (!undo) return '';
  const partial = deadPartials(undo).find((p) => p.endsWith('.partial'));
  if (partial) return ` Its undo file is not complete: the run was killed writing it, and its rows are in ${partial}; --resume finishes it and publishes it as ${undo}.`;
  if (existsSync(undo)) return ` Its undo file is ${undo}.`;
  return sent ? ` --resume writes their undo rows to ${undo}.` : '';
}

/** The lines of the journal's creates and PATCHes (a PATCH's `sent` entry names its contact) that went out without an outcome. Empty when it cannot be read. */
function unansweredWrites(path: string): { creates: number[]; patches: number[] } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const { sentBefore } = scanJournal(fd);
    const lines = [...sentBefore.keys()].sort((a, b) => a - b);
    const isCreate = (line: number) => sentBefore.get(line)?.id === undefined;
    return { creates: lines.filter(isCreate), patches: lines.filter((line) => !isCreate(line)) };
  } catch {
    return { creates: [], patches: [] };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function checkStart(path: string, first: JournalStart | undefined, key: JournalKey): void {
  if (!first) throw mismatch(`Cannot resume: ${path} is not a pylon-contacts journal.`);
  if (first.input.sha256 !== key.input.sha256 || first.input.size !== key.input.size) {
    throw mismatch(
      `Cannot resume: the input file changed since the interrupted run read it (${key.input.path}; journal ${path}). Restore the file as it was and use --resume again, or delete ${path} to start a new run with the changed file.`,
    );
  }
  if (first.mode !== key.mode) throw mismatch(`Cannot resume: the journal ${path} was written ${first.mode === 'apply' ? 'by apply' : `with --mode ${first.mode}`}, not ${key.mode === 'apply' ? 'by apply' : `--mode ${key.mode}`}.`);
  if (key.host !== undefined && first.host !== undefined && first.host !== key.host) {
    throw mismatch(`Cannot resume: the journal ${path} is of a run against ${first.host}, not ${key.host}. Point PYLON_BASE_URL at the host of that run, or delete ${path} to start a new run here.`);
  }
  // A journal of this version records its settings (recorded from 0.1.0 on; an older one has none to compare).
  if (first.settings && key.settings) checkSettings(path, first.settings, key.settings);
  if (first.tool !== TOOL_VERSION) {
    throw mismatch(`Cannot resume: the journal ${path} was written by pylon-contacts ${first.tool ?? 'before 0.x'}, this is ${TOOL_VERSION}. Finish it with that version, or delete ${path} to start a new run.`);
  }
}

/** Refuses a resume whose options that decide what is written differ from the interrupted run's (`then`), naming each. */
export function checkSettings(path: string, then: Record<string, string>, now: Record<string, string>): void {
  const differ = settingsDiffer(then, now);
  if (differ.length > 0) {
    throw mismatch(
      `Cannot resume: this run's options differ from those of the interrupted run, which decide what is written (${differ.join('; ')}). Use --resume with the interrupted run's options to finish it, or delete ${path} to start a new run with these (the interrupted run's changes stay as they are).`,
    );
  }
}

/** Each setting whose value differs, as `--set portal_role: "admin" in the interrupted run, "no_access" now`. */
function settingsDiffer(then: Record<string, string>, now: Record<string, string>): string[] {
  const shown = (v: string | undefined) => (v === undefined ? 'not given' : JSON.stringify(v));
  const flags = [...new Set([...Object.keys(then), ...Object.keys(now)])].sort();
  return flags.filter((f) => then[f] !== now[f]).map((f) => `${f}: ${shown(then[f])} in the interrupted run, ${shown(now[f])} now`);
}

/**
 * A journal a writing run holds from before its first read to its end (issue: two
 * runs at once): locked against any other run (journal-lock.ts), and once `begin`
 * has checked it, on disk, so that a stop at any point (before the first row, while
 * an update plans) leaves a journal that `--resume` finds.
 */
export interface JournalHold {
  readonly path: string;
  /** Whether this run created the journal (begin without --resume): openJournal appends to it, as to its own. */
  readonly created: boolean;
  /** Set once this run appended a write or an outcome. */
  readonly used: boolean;
  /** A write the journal does not record was sent (an account --create-accounts creates): the journal stays, as after a journaled one. */
  markUsed(): void;
  /** Checks the journal against this run (checkJournal) and, for a new run, creates it with its start entry. Once per hold. */
  begin(key: JournalKey, resume: boolean): void;
  /** Ends the hold. A journal this run created and never used goes too, unless `keep` (an interrupted run keeps it for --resume). */
  release(options?: { keep?: boolean }): void;
  /** The run ends before its first write whatever stops it (a Ctrl-C at the confirmation): a journal it created and never used goes at release. */
  discardUnused(): void;
}

/** Takes the journal's lock (CONFIG_RUN_LOCKED, exit 2, while another run holds it). */
export function holdJournal(path: string): JournalHold {
  refuseNotAFile(path);
  const unlock = lockJournal(path);
  let begun = false;
  let discard = false;
  const hold = {
    path,
    created: false,
    used: false,
    begin(key: JournalKey, resume: boolean) {
      if (begun) return;
      checkJournal(path, key, resume);
      begun = true;
      if (resume) return;
      let fd: number;
      // Before the run's first call: a journal that cannot be created or take its first line (a full disk) is an
      // output that cannot be written (exit 2, nothing sent), named with what to do.
      try {
        fd = openSync(path, 'wx');
      } catch (error) {
        throw journalUnwritable(path, error);
      }
      try {
        writeLine(fd, JSON.stringify(startEntry(key)));
      } catch (error) {
        rmSync(path, { force: true });
        throw journalUnwritable(path, error);
      } finally {
        closeSync(fd);
      }
      hold.created = true;
    },
    discardUnused() {
      discard = true;
    },
    markUsed() {
      hold.used = true;
    },
    release({ keep = false }: { keep?: boolean } = {}) {
      // Nothing written and nothing to finish: the journal would only stop the next run.
      if (hold.created && !hold.used && (!keep || discard)) rmSync(path, { force: true });
      unlock();
    },
  };
  return hold;
}

/**
 * Appends one entry with one write(2), whole or not at all. A disk that fills mid-entry makes write(2) return
 * short rather than fail: the cut entry would not parse, so a PATCH sent after its "sent" entry was cut would be
 * unknown to --resume (counted unchanged, its undo row lost). The rest of a short write is written again: that fails with
 * the real reason (ENOSPC, EFBIG under a file size limit…), which stops the run before it sends.
 */
function writeLine(fd: number, text: string): void {
  const bytes = Buffer.from(text + '\n');
  const written = writeSync(fd, bytes);
  if (written < bytes.length) {
    // The write of the rest fails with the real reason (ENOSPC, a file size limit's EFBIG, EDQUOT…): that is what is reported.
    let more: number;
    try {
      more = writeSync(fd, bytes, written);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw Object.assign(new Error(`${e.message} (${written} of the entry's ${bytes.length} bytes written)`), { code: e.code });
    }
    if (written + more < bytes.length) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, write (${written + more} of the entry's ${bytes.length} bytes written)`), { code: 'ENOSPC' });
    }
  }
}

const startEntry = (key: JournalKey) => ({ t: 'start', v: 1, at: new Date().toISOString(), tool: TOOL_VERSION, ...key });

export function openJournal(path: string, start: JournalKey, resume: boolean, hold?: JournalHold): Journal {
  // Created by this run's hold before its first read: its start entry is there, nothing else.
  const fresh = hold?.created ?? false;
  let previous: JournalOutcomes = NO_OUTCOMES;
  let sentBefore: JournalSentLines = NO_SENDS;
  let sentAt: (line: number) => JournalSent | undefined = () => undefined;
  let readFd: number | undefined;
  let lastWrittenAt = 0;
  if (fresh) {
    // Nothing to read back.
  } else if (!resume) checkJournal(path, start, false);
  else {
    if (!existsSync(path)) checkJournal(path, start, true);
    readFd = openSync(path, 'r');
    lastWrittenAt = fstatSync(readFd).mtimeMs;
    try {
      const scanned = scanJournal(readFd);
      checkStart(path, scanned.start, start);
      previous = scanned.outcomes;
      sentBefore = scanned.sentBefore;
      sentAt = scanned.sentAt;
    } catch (error) {
      closeSync(readFd);
      throw error;
    }
  }
  let fd: number;
  try {
    fd = openSync(path, resume || fresh ? 'a' : 'wx');
  } catch (error) {
    if (readFd !== undefined) closeSync(readFd);
    throw outputWriteError(path, error);
  }
  let closed = false;
  const append = (entry: object) => {
    try {
      writeLine(fd, JSON.stringify(entry));
    } catch (error) {
      // A journal that cannot be written stops the run (never a row failure); what it holds stays valid.
      throw outputWriteError(path, error);
    }
  };
  if (!fresh) append(startEntry(start));
  const used = () => {
    if (hold) (hold as { used: boolean }).used = true;
  };
  return {
    previous,
    sentBefore,
    sentAt: (line) => sentAt(line),
    lastWrittenAt,
    sent(line, update) {
      const at = Date.now();
      append(update ? { t: 'sent', l: line, at, id: update.id, ...(update.email ? { email: update.email } : {}), changes: update.changes, ...(update.replaced ? { replaced: update.replaced } : {}) } : { t: 'sent', l: line, at });
      used();
    },
    unsent(line) {
      append({ t: 'unsent', l: line });
    },
    done(outcome) {
      append(outcome);
      used();
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        fsyncSync(fd);
      } catch {
        // Every line was written with its own write(2); a failed fsync loses no outcome the run relies on.
      } finally {
        closeSync(fd);
        if (readFd !== undefined) closeSync(readFd);
        readFd = undefined;
      }
    },
  };
}

const NO_OUTCOMES: JournalOutcomes = { size: 0, get: () => undefined, keys: () => [][Symbol.iterator]() };
const NO_SENDS: JournalSentLines = { size: 0, get: () => undefined, keys: () => [][Symbol.iterator]() };

/** Lines above this are kept in a Map (a journal of another tool, or damaged): the dense array never grows past it. */
const DENSE_LINES = 1 << 26;

/**
 * Where the last entry of one kind for each line starts in the journal file,
 * indexed by line: 8 bytes a line up to the highest line seen (0: none). No
 * sorting and no per-entry object; the entry itself is read back from the file.
 */
class LineOffsets {
  private offsets = new Float64Array(1024);
  private readonly sparse = new Map<number, number>();
  /** Lines with an entry. */
  size = 0;

  set(line: number, offset: number): void {
    if (line >= DENSE_LINES) {
      if (!this.sparse.has(line)) this.size++;
      this.sparse.set(line, offset);
      return;
    }
    if (line >= this.offsets.length) {
      const grown = new Float64Array(Math.min(DENSE_LINES, Math.max(line + 1, this.offsets.length * 2)));
      grown.set(this.offsets);
      this.offsets = grown;
    }
    if (this.offsets[line] === 0) this.size++;
    // Stored + 1: offset 0 is a valid place (a journal whose first line is not its start).
    this.offsets[line] = offset + 1;
  }

  /** The entry's offset, or -1. */
  get(line: number): number {
    if (line >= DENSE_LINES) return this.sparse.get(line) ?? -1;
    return line < this.offsets.length ? this.offsets[line]! - 1 : -1;
  }

  has(line: number): boolean {
    return this.get(line) >= 0;
  }

  delete(line: number): void {
    if (!this.has(line)) return;
    this.size--;
    if (line >= DENSE_LINES) this.sparse.delete(line);
    else this.offsets[line] = 0;
  }

  /** The lines with an entry, in ascending order. */
  *lines(): IterableIterator<number> {
    const offsets = this.offsets;
    for (let line = 0; line < offsets.length; line++) if (offsets[line] !== 0) yield line;
    yield* [...this.sparse.keys()].sort((a, b) => a - b);
  }
}

const CHUNK = 1 << 20;

/** A journal line's input line, when it is one a run can have written (a whole number). */
const lineOf = (entry: { l?: unknown }): number | undefined => (typeof entry.l === 'number' && Number.isInteger(entry.l) && entry.l >= 0 && entry.l <= 0xffffffff ? entry.l : undefined);

/**
 * Reads a journal once, streaming through one reused buffer, and keeps only where
 * each line's last outcome and last send are: 8 bytes per input line each, not
 * the entries (a million-row run's journal is over a hundred megabytes of JSON).
 * Entries are read back from the file, one at a time, when their line comes up.
 */
function scanJournal(fd: number): { start?: JournalStart; outcomes: JournalOutcomes; sentBefore: JournalSentLines; sentAt: (line: number) => JournalSent | undefined } {
  const done = new LineOffsets();
  const sent = new LineOffsets();
  let start: JournalStart | undefined;
  let buffer = Buffer.allocUnsafe(CHUNK);
  let filled = 0; // bytes of buffer holding data not yet split into lines
  let position = 0; // file offset of buffer[0]
  for (;;) {
    // A line longer than the buffer: the buffer grows (never for lines this tool writes).
    if (filled === buffer.length) {
      const grown = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(grown, 0, 0, filled);
      buffer = grown;
    }
    const read = readSync(fd, buffer, filled, buffer.length - filled, position + filled);
    filled += read;
    let from = 0;
    for (let nl = buffer.indexOf(10, from); nl >= 0 && nl < filled; nl = buffer.indexOf(10, from)) {
      // A line cut short by a kill does not parse: its row is simply processed again.
      const entry = parseLine(buffer, from, nl);
      const line = entry && entry.t !== 'start' ? lineOf(entry) : undefined;
      if (entry?.t === 'done' && line !== undefined) done.set(line, position + from);
      else if (entry?.t === 'sent' && line !== undefined) sent.set(line, position + from);
      else if (entry?.t === 'unsent' && line !== undefined) sent.delete(line);
      else if (entry?.t === 'start') start ??= entry;
      from = nl + 1;
    }
    // The unfinished last line moves to the front; the next read goes after it.
    buffer.copy(buffer, 0, from, filled);
    filled -= from;
    position += from;
    if (read === 0) break;
  }

  // One buffer for every read back: an entry is read until its newline (every indexed entry has one).
  let scratch = Buffer.allocUnsafe(4096);
  const readEntry = <T>(offset: number): T => {
    let length = 0;
    for (;;) {
      const read = readSync(fd, scratch, length, scratch.length - length, offset + length);
      const nl = scratch.indexOf(10, length);
      if (nl >= 0 && nl < length + read) return JSON.parse(scratch.toString('utf8', 0, nl)) as T;
      length += read;
      if (read === 0) return JSON.parse(scratch.toString('utf8', 0, length)) as T;
      if (length === scratch.length) {
        const grown = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(grown, 0, 0, length);
        scratch = grown;
      }
    }
  };

  const outcomes: JournalOutcomes = {
    size: done.size,
    get(line) {
      const offset = done.get(line);
      return offset < 0 ? undefined : readEntry<JournalOutcome>(offset);
    },
    keys: () => done.lines(),
  };
  let unanswered = 0;
  for (const line of sent.lines()) if (!done.has(line)) unanswered++;
  const sentBefore: JournalSentLines = {
    size: unanswered,
    get(line) {
      const offset = done.has(line) ? -1 : sent.get(line);
      return offset < 0 ? undefined : readEntry<JournalSent>(offset);
    },
    *keys() {
      for (const line of sent.lines()) if (!done.has(line)) yield line;
    },
  };
  const sentAt = (line: number) => {
    const offset = sent.get(line);
    return offset < 0 ? undefined : readEntry<JournalSent>(offset);
  };
  return { start, outcomes, sentBefore, sentAt };
}

function parseLine(data: Buffer, from: number, to: number): JournalStart | JournalOutcome | JournalSent | JournalUnsent | undefined {
  if (to <= from) return undefined;
  try {
    return JSON.parse(data.toString('utf8', from, to));
  } catch {
    return undefined;
  }
}

/** A journal read without appending to it (undo rows are rebuilt from it before a resumed run): close it after use. */
export interface JournalReader {
  readonly outcomes: JournalOutcomes;
  sentAt(line: number): JournalSent | undefined;
  close(): void;
}

export function readJournal(path: string): JournalReader {
  refuseNotAFile(path);
  const fd = openSync(path, 'r');
  try {
    const { outcomes, sentAt } = scanJournal(fd);
    return { outcomes, sentAt, close: () => closeSync(fd) };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
