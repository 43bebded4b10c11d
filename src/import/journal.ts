import { closeSync, existsSync, openSync, readFileSync, writeSync, fsyncSync } from 'node:fs';
import { ConfigError } from '../errors.js';
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

export interface Journal {
  /** Outcomes recorded by earlier runs, by line. */
  readonly previous: ReadonlyMap<number, JournalOutcome>;
  /** Lines whose write was sent by an earlier run without a recorded outcome. */
  readonly sentBefore: ReadonlyMap<number, JournalSent>;
  /** Notes that the write of `line` (a create, or a PATCH of `update.id`) is about to go out. */
  sent(line: number, update?: { id: string; changes: FieldChange[] }): void;
  done(outcome: JournalOutcome): void;
  close(): void;
}

export function openJournal(path: string, start: Omit<JournalStart, 't' | 'v' | 'at'>, resume: boolean): Journal {
  const previous = new Map<number, JournalOutcome>();
  const sentBefore = new Map<number, JournalSent>();
  if (resume) {
    if (!existsSync(path)) {
      throw new ConfigError('CONFIG_RESUME_MISMATCH', `Cannot resume: no journal at ${path} (it is written by a run without --dry-run).`, { option: '--resume' });
    }
    let first: JournalStart | undefined;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      let entry: JournalStart | JournalOutcome | JournalSent;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a line cut short by a kill: its row is simply processed again
      }
      if (entry.t === 'start') first ??= entry;
      else if (entry.t === 'sent') sentBefore.set(entry.l, entry);
      else if (entry.t === 'done') previous.set(entry.l, entry);
    }
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
    for (const line of previous.keys()) sentBefore.delete(line);
  } else if (existsSync(path)) {
    throw new ConfigError(
      'CONFIG_RESUME_MISMATCH',
      `A journal from an earlier run exists at ${path}. Use --resume to finish that run, or delete the file to start over.`,
      { option: '--resume' },
    );
  }
  const fd = openSync(path, resume ? 'a' : 'wx');
  const append = (entry: object) => {
    writeSync(fd, JSON.stringify(entry) + '\n');
  };
  append({ t: 'start', v: 1, at: new Date().toISOString(), ...start });
  return {
    previous,
    sentBefore,
    sent(line, update) {
      append(update ? { t: 'sent', l: line, id: update.id, changes: update.changes } : { t: 'sent', l: line });
    },
    done(outcome) {
      append(outcome);
    },
    close() {
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
