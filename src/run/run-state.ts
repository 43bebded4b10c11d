/**
 * The files an `update` keeps between an interrupted run and its `--resume`,
 * beside the journal: which undo file the run writes (so a resume adds to that
 * one, never to another run's), and for `--where` the selection it read (so a
 * resume works through the same contacts even if the query would now select others).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Filter } from '../pylon/types.js';
import { deadPartials } from '../output/output-file.js';

export interface RunMeta {
  v: 1;
  /** The undo file the interrupted run was writing. */
  undoPath?: string;
}

/** Serialises with object keys in sorted order: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** A `--where` run is known by its host, query and the values it sets: 12 hex digits of their hash. */
export function whereRunKey(filter: Filter, set: Record<string, string>, baseUrl = ''): string {
  return createHash('sha256').update(canonicalJson({ filter, set, ...(baseUrl ? { baseUrl } : {}) })).digest('hex').slice(0, 12);
}

/** The journal of a `--where` run, in the working directory unless `--journal` says otherwise. */
export function whereJournalPath(cwd: string, key: string): string {
  return join(cwd, `.pylon-update-${key}.journal.jsonl`);
}

/** The contacts a `--where` run selected (`id,email`), kept beside its journal until the run completes. */
export function selectionPathFor(journalPath: string): string {
  return join(dirname(journalPath), `${basename(journalPath).replace(/\.jsonl$/, '')}.selection.csv`);
}

/** A file kept beside the journal: `<journal without .jsonl>.<suffix>`. */
const besideJournal = (journalPath: string, suffix: string) => join(dirname(journalPath), `${basename(journalPath).replace(/\.jsonl$/, '')}.${suffix}`);
const metaPathFor = (journalPath: string) => besideJournal(journalPath, 'meta.json');

/** `update --sync`: the journal of the removals, applied once the listed contacts are done. */
export const removalsJournalPathFor = (journalPath: string) => besideJournal(journalPath, 'removals.jsonl');

/** `update --sync`: the removals to apply and the undo file they are merged into, fixed before the run's first write. */
export interface RemovalState<T> {
  v: 1;
  undoPath?: string;
  removals: T[];
  /** The run's options that decide what is written (the journal's settings): a resume of the removals alone is checked against them. */
  settings?: Record<string, string>;
  /**
   * The outcomes of the file's rows, recorded once they are all done (their journal is then gone): a resume
   * of the removals alone reports them as the uninterrupted run would, not as the unchanged rows a new plan finds.
   */
  listed?: ListedOutcomes;
}

/** The outcome counts of a --sync run's file rows (ImportStats' fields of the same names). */
export interface ListedOutcomes {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
}

const removalStatePathFor = (journalPath: string) => besideJournal(journalPath, 'removals.json');

export function writeRemovalState<T>(journalPath: string, state: Omit<RemovalState<T>, 'v'>): void {
  const path = removalStatePathFor(journalPath);
  // Written whole, then renamed: a kill leaves the previous state or the new one, never half of one.
  writeFileSync(`${path}.tmp`, JSON.stringify({ v: 1, ...state }) + '\n');
  renameSync(`${path}.tmp`, path);
}

export function readRemovalState<T>(journalPath: string): RemovalState<T> | undefined {
  const path = removalStatePathFor(journalPath);
  if (!existsSync(path)) return undefined;
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as RemovalState<T>;
    return state && state.v === 1 && Array.isArray(state.removals) ? state : undefined;
  } catch {
    return undefined;
  }
}

export function removeRemovalState(journalPath: string): void {
  rmSync(removalStatePathFor(journalPath), { force: true });
}

export function writeRunMeta(journalPath: string, meta: Omit<RunMeta, 'v'>): void {
  writeFileSync(metaPathFor(journalPath), JSON.stringify({ v: 1, ...meta }) + '\n');
}

export function readRunMeta(journalPath: string): RunMeta | undefined {
  const path = metaPathFor(journalPath);
  if (!existsSync(path)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(path, 'utf8')) as RunMeta;
    return meta && meta.v === 1 ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the side files once the journal is gone (the run completed). */
export function removeRunState(journalPath: string): void {
  rmSync(metaPathFor(journalPath), { force: true });
  rmSync(selectionPathFor(journalPath), { force: true });
}

/**
 * An undo file is never overwritten: when `path` (or a `.partial` of it) exists,
 * the first free `<name>-2.csv`, `<name>-3.csv`, … is used instead.
 */
export function freeUndoPath(path: string): string {
  const taken = (p: string) => existsSync(p) || deadPartials(p).length > 0 || existsSync(`${p}.earlier`);
  if (!taken(path)) return path;
  const m = /^(.*?)(\.[^./\\]*)?$/.exec(path)!;
  const stem = m[1];
  const ext = m[2] ?? '';
  for (let i = 2; ; i++) {
    const candidate = `${stem}-${i}${ext}`;
    if (!taken(candidate)) return candidate;
  }
}

/**
 * The undo file of a run. A resumed run writes to the one of the run it finishes
 * (kept beside the journal); any other run never overwrites an existing undo file:
 * it takes a free name beside it (`<name>.undo-2.csv`…).
 */
export function chooseUndoPath(asked: string | undefined, resume: boolean, journalPath: string | undefined, onNote?: (message: string) => void): string | undefined {
  if (!asked) return undefined;
  if (resume) {
    const kept = journalPath ? readRunMeta(journalPath)?.undoPath : undefined;
    if (kept && kept !== asked) onNote?.(`resuming: the undo rows go to ${kept}, the undo file of the run being finished`);
    return kept ?? asked;
  }
  // Another name when an earlier run's file is there: said once this run has written it (beginUndoRun), since a run that changes no contact writes none.
  return freeUndoPath(asked);
}
