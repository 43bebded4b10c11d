import { closeSync, existsSync, openSync, readSync, writeSync, fsyncSync, fstatSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { outputWriteError } from '../output/output-file.js';
import type { FieldChange } from './plan.js';

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
  changes?: FieldChange[];
}

export interface JournalStart {
  t: 'start';
  v: 1;
  input: InputFingerprint;
  mode: string;
  at: string;
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
  sent(line: number, update?: { id: string; changes: FieldChange[] }): void;
  done(outcome: JournalOutcome): void;
  close(): void;
}

export function openJournal(path: string, start: Omit<JournalStart, 't' | 'v' | 'at'>, resume: boolean): Journal {
  let previous: JournalOutcomes = NO_OUTCOMES;
  let sentBefore = new Map<number, JournalSent>();
  let readFd: number | undefined;
  let lastWrittenAt = 0;
  if (resume) {
    if (!existsSync(path)) {
      throw new ConfigError('CONFIG_RESUME_MISMATCH', `Cannot resume: no journal at ${path} (it is written by a run without --dry-run).`, { option: '--resume' });
    }
    readFd = openSync(path, 'r');
    lastWrittenAt = fstatSync(readFd).mtimeMs;
    try {
      const scanned = scanJournal(readFd);
      const first = scanned.start;
      if (!first) throw new ConfigError('CONFIG_RESUME_MISMATCH', `Cannot resume: ${path} is not an import journal.`, { option: '--resume' });
      if (first.input.sha256 !== start.input.sha256 || first.input.size !== start.input.size) {
        throw new ConfigError(
          'CONFIG_RESUME_MISMATCH',
          `Cannot resume: the input file changed since the journal was written (${path}). Start a new run without --resume, or restore the original file.`,
          { option: '--resume' },
        );
      }
      if (first.mode !== start.mode) {
        throw new ConfigError('CONFIG_RESUME_MISMATCH', `Cannot resume: the journal was written with --mode ${first.mode}, not ${start.mode}.`, { option: '--resume' });
      }
      previous = scanned.outcomes;
      sentBefore = scanned.sentBefore;
    } catch (error) {
      closeSync(readFd);
      throw error;
    }
  } else if (existsSync(path)) {
    throw new ConfigError(
      'CONFIG_RESUME_MISMATCH',
      `A journal from an earlier run exists at ${path}. Use --resume to finish that run, or delete the file to start over.`,
      { option: '--resume' },
    );
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
  append({ t: 'start', v: 1, at: new Date().toISOString(), ...start });
  return {
    previous,
    sentBefore,
    lastWrittenAt,
    sent(line, update) {
      append(update ? { t: 'sent', l: line, id: update.id, changes: update.changes } : { t: 'sent', l: line });
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
function scanJournal(fd: number): { start?: JournalStart; outcomes: JournalOutcomes; sentBefore: Map<number, JournalSent> } {
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

  // Sorted by line: one binary search per row when the run replays it.
  const order = Uint32Array.from({ length: done.size }, (_, i) => i).sort((a, b) => done.lines[a]! - done.lines[b]!);
  const lines = new Uint32Array(done.size);
  const offsets = new Float64Array(done.size);
  const lengths = new Uint32Array(done.size);
  order.forEach((from, to) => {
    lines[to] = done.lines[from]!;
    offsets[to] = done.offsets[from]!;
    lengths[to] = done.lengths[from]!;
  });
  const indexOf = (line: number): number => {
    let lo = 0;
    let hi = lines.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (lines[mid] === line) return mid;
      if (lines[mid]! < line) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  };
  const readEntry = <T>(offset: number, length: number): T => {
    const buffer = Buffer.allocUnsafe(length);
    readSync(fd, buffer, 0, length, offset);
    return JSON.parse(buffer.toString('utf8')) as T;
  };

  const sentBefore = new Map<number, JournalSent>();
  for (let i = 0; i < sent.size; i++) {
    if (indexOf(sent.lines[i]!) < 0) sentBefore.set(sent.lines[i]!, readEntry<JournalSent>(sent.offsets[i]!, sent.lengths[i]!));
  }
  const outcomes: JournalOutcomes = {
    size: lines.length,
    get(line) {
      const i = indexOf(line);
      return i < 0 ? undefined : readEntry<JournalOutcome>(offsets[i]!, lengths[i]!);
    },
    keys: () => lines[Symbol.iterator](),
  };
  return { start, outcomes, sentBefore };
}

function parseLine(data: Buffer, from: number, to: number): JournalStart | JournalOutcome | JournalSent | undefined {
  if (to <= from) return undefined;
  try {
    return JSON.parse(data.toString('utf8', from, to));
  } catch {
    return undefined;
  }
}
