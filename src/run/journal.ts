import { closeSync, existsSync, openSync, readSync, writeSync, fsyncSync, fstatSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { outputWriteError } from '../output/output-file.js';
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
 *   {"t":"done","l":12,"o":"created","id":"…","rid":"…"}   the row's final outcome
 *
 * On resume: rows with a final outcome are replayed into the reports without a
 * call; every other row is processed again. A row whose create was sent but not
 * confirmed is found by the email lookup (it then exists) and counted as created,
 * so nothing is created twice and nothing is lost. A row whose PATCH was sent but
 * not confirmed, and whose contact now holds the new values, is counted as updated,
 * with the previous values from this journal (for `update`'s undo file).
 *
 * Resuming reads the journal once, streaming, and keeps only where each entry is
 * (16 bytes a line); `npm run bench -- import` measures a resumed 1M-row run
 * (bench/RESULTS.md).
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

export interface Journal {
  /** Outcomes recorded by earlier runs, by line. */
  readonly previous: JournalOutcomes;
  /** Lines whose write was sent by an earlier run without a recorded outcome. */
  readonly sentBefore: ReadonlyMap<number, JournalSent>;
  /** When an earlier run last wrote to the journal (ms since the epoch): its last write went out no later. */
  readonly lastWrittenAt: number;
  /** Notes that the write of `line` (a create, or a PATCH of `update.id`) is about to go out. */
  /** An earlier run's last `sent` entry of `line` (outcome recorded or not): what an undo row is rebuilt from. */
  sentAt(line: number): JournalSent | undefined;
  sent(line: number, update?: { id: string; email?: string | null; changes: FieldChange[] }): void;
  done(outcome: JournalOutcome): void;
  close(): void;
}

/** What a journal is keyed by: the input, the mode, and (recorded by this version on) the host and the tool version. */
export type JournalKey = Omit<JournalStart, 't' | 'v' | 'at' | 'tool'>;

const mismatch = (message: string) => new ConfigError('CONFIG_RESUME_MISMATCH', message, { option: '--resume' });

/**
 * Checks, before anything is read from Pylon or written, that a run may use the
 * journal at `path`: with `resume`, one must exist and belong to this input, mode,
 * host and tool version; without, none may exist (an unfinished run would be
 * forgotten). Every refusal is CONFIG_RESUME_MISMATCH (exit 2) and says what to do.
 */
export function checkJournal(path: string, key: JournalKey, resume: boolean): void {
  if (!resume) {
    refuseUnfinished(path, key.mode);
    return;
  }
  if (!existsSync(path)) throw mismatch(`Cannot resume: there is no interrupted run to finish (no journal at ${path}; a run writes one unless --dry-run, and removes it when it completes).`);
  const fd = openSync(path, 'r');
  try {
    checkStart(path, scanJournal(fd).start, key);
  } finally {
    closeSync(fd);
  }
}

/** A run without --resume never starts beside the journal of an unfinished one (it would be forgotten). */
export function refuseUnfinished(path: string, mode: string): void {
  if (existsSync(path)) {
    throw mismatch(
      `An interrupted run of this ${mode === 'apply' ? 'plan' : 'input'} left its journal at ${path}. Use --resume (the same command) to finish it, or delete ${path} to start a new run (the interrupted run's changes stay as they are).`,
    );
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
  if (first.tool !== TOOL_VERSION) {
    throw mismatch(`Cannot resume: the journal ${path} was written by pylon-contacts ${first.tool ?? 'before 0.x'}, this is ${TOOL_VERSION}. Finish it with that version, or delete ${path} to start a new run.`);
  }
}

export function openJournal(path: string, start: JournalKey, resume: boolean): Journal {
  let previous: JournalOutcomes = NO_OUTCOMES;
  let sentBefore = new Map<number, JournalSent>();
  let sentAt: (line: number) => JournalSent | undefined = () => undefined;
  let readFd: number | undefined;
  let lastWrittenAt = 0;
  if (!resume) checkJournal(path, start, false);
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
    fd = openSync(path, resume ? 'a' : 'wx');
  } catch (error) {
    if (readFd !== undefined) closeSync(readFd);
    throw outputWriteError(path, error);
  }
  let closed = false;
  const append = (entry: object) => {
    try {
      writeSync(fd, JSON.stringify(entry) + '\n');
    } catch (error) {
      // A journal that cannot be written stops the run (never a row failure); what it holds stays valid.
      throw outputWriteError(path, error);
    }
  };
  append({ t: 'start', v: 1, at: new Date().toISOString(), tool: TOOL_VERSION, ...start });
  return {
    previous,
    sentBefore,
    sentAt: (line) => sentAt(line),
    lastWrittenAt,
    sent(line, update) {
      const at = Date.now();
      append(update ? { t: 'sent', l: line, at, id: update.id, ...(update.email ? { email: update.email } : {}), changes: update.changes } : { t: 'sent', l: line, at });
    },
    done(outcome) {
      append(outcome);
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

/** A growable list of journal lines: input line, byte offset and length of the entry. */
class EntryList {
  lines = new Uint32Array(1024);
  offsets = new Float64Array(1024);
  lengths = new Uint32Array(1024);
  size = 0;

  push(line: number, offset: number, length: number): void {
    if (this.size === this.lines.length) {
      const grow = <T extends Uint32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.lines = grow(this.lines);
      this.offsets = grow(this.offsets);
      this.lengths = grow(this.lengths);
    }
    this.lines[this.size] = line;
    this.offsets[this.size] = offset;
    this.lengths[this.size] = length;
    this.size++;
  }
}

const CHUNK = 1 << 20;

/**
 * Reads a journal once, streaming, and keeps only where each entry is: 16 bytes
 * per line, not the entries (a million-row run's journal is over a hundred megabytes of JSON).
 * Outcomes are read back from the file, one at a time, when their line comes up.
 */
function scanJournal(fd: number): { start?: JournalStart; outcomes: JournalOutcomes; sentBefore: Map<number, JournalSent>; sentAt: (line: number) => JournalSent | undefined } {
  const done = new EntryList();
  const sent = new EntryList();
  let start: JournalStart | undefined;
  let carry = Buffer.alloc(0);
  let position = 0; // file offset of carry[0]
  const chunk = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    const read = readSync(fd, chunk, 0, CHUNK, position + carry.length);
    const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
    let from = 0;
    for (let nl = data.indexOf(10, from); nl >= 0; nl = data.indexOf(10, from)) {
      // A line cut short by a kill does not parse: its row is simply processed again.
      const entry = parseLine(data, from, nl);
      if (entry?.t === 'done') done.push(entry.l, position + from, nl - from);
      else if (entry?.t === 'sent') sent.push(entry.l, position + from, nl - from);
      else if (entry?.t === 'start') start ??= entry;
      from = nl + 1;
    }
    position += from;
    carry = Buffer.from(data.subarray(from));
    if (read === 0) break;
  }

  const readEntry = <T>(offset: number, length: number): T => {
    const buffer = Buffer.allocUnsafe(length);
    readSync(fd, buffer, 0, length, offset);
    return JSON.parse(buffer.toString('utf8')) as T;
  };
  const outcomeIndex = sortByLine(done);
  const sentIndex = sortByLine(sent);

  const sentBefore = new Map<number, JournalSent>();
  for (let i = 0; i < sent.size; i++) {
    if (outcomeIndex.find(sent.lines[i]!) < 0) sentBefore.set(sent.lines[i]!, readEntry<JournalSent>(sent.offsets[i]!, sent.lengths[i]!));
  }
  const outcomes: JournalOutcomes = {
    size: outcomeIndex.lines.length,
    get(line) {
      const i = outcomeIndex.find(line);
      return i < 0 ? undefined : readEntry<JournalOutcome>(outcomeIndex.offsets[i]!, outcomeIndex.lengths[i]!);
    },
    keys: () => outcomeIndex.lines[Symbol.iterator](),
  };
  const sentAt = (line: number) => {
    const i = sentIndex.find(line);
    return i < 0 ? undefined : readEntry<JournalSent>(sentIndex.offsets[i]!, sentIndex.lengths[i]!);
  };
  return { start, outcomes, sentBefore, sentAt };
}

/** Entries sorted by line (stable: file order within a line); `find` gives the last entry of a line, or -1. */
function sortByLine(list: EntryList): { lines: Uint32Array; offsets: Float64Array; lengths: Uint32Array; find(line: number): number } {
  const order = Uint32Array.from({ length: list.size }, (_, i) => i).sort((a, b) => list.lines[a]! - list.lines[b]! || a - b);
  const lines = new Uint32Array(list.size);
  const offsets = new Float64Array(list.size);
  const lengths = new Uint32Array(list.size);
  order.forEach((from, to) => {
    lines[to] = list.lines[from]!;
    offsets[to] = list.offsets[from]!;
    lengths[to] = list.lengths[from]!;
  });
  const find = (line: number): number => {
    // Upper bound: the first index whose line is greater, minus one.
    let lo = 0;
    let hi = lines.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lines[mid]! <= line) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && lines[lo - 1] === line ? lo - 1 : -1;
  };
  return { lines, offsets, lengths, find };
}

function parseLine(data: Buffer, from: number, to: number): JournalStart | JournalOutcome | JournalSent | undefined {
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
  const fd = openSync(path, 'r');
  try {
    const { outcomes, sentAt } = scanJournal(fd);
    return { outcomes, sentAt, close: () => closeSync(fd) };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
