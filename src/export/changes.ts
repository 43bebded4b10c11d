import { stringify } from 'csv-stringify/sync';
import { openOutput, type OutputFile } from '../output/output-file.js';
import type { PublishRecorder } from '../output/publish-journal.js';
import { RANK, type PageSink } from './sink.js';

/**
 * The change log of a run (`--changes <file>`): one row per contact inserted,
 * updated or deleted since the previous state (the `--since` manifest; without
 * one, every contact is an insert), with the row's hash, this run's extraction
 * time as `valid_from`, and the run id. Rows come in export order, then the
 * deletions in the previous state's order: the same inputs give the same file.
 * CSV, or NDJSON when the name ends in .ndjson/.jsonl.
 */
export type ChangeOp = 'insert' | 'update' | 'delete';

export const CHANGE_COLUMNS = ['op', 'id', 'row_hash', 'valid_from', 'run_id'] as const;

/** A sink of the run (sink.ts): staged while the run walks, published with the other outputs. */
export interface ChangeLog extends PageSink {
  add(op: ChangeOp, id: string, rowHash: string): void;
  flush(): Promise<void>;
  readonly counts: Record<ChangeOp, number>;
}

export async function createChangeLog(path: string, run: { validFrom: string; runId: string }, journal?: PublishRecorder): Promise<ChangeLog> {
  const file: OutputFile = await openOutput(path, { journal, label: 'the change log (--changes)' });
  const ndjson = /\.(ndjson|jsonl)$/i.test(path);
  let pending = ndjson ? '' : stringify([[...CHANGE_COLUMNS]]);
  const counts: Record<ChangeOp, number> = { insert: 0, update: 0, delete: 0 };
  const flush = async () => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    await file.write(text);
  };
  const add = (op: ChangeOp, id: string, rowHash: string) => {
    counts[op] += 1;
    pending += ndjson
      ? JSON.stringify({ op, id, row_hash: rowHash, valid_from: run.validFrom, run_id: run.runId }) + '\n'
      : stringify([[op, id, rowHash, run.validFrom, run.runId]]);
  };
  return {
    counts,
    add,
    flush,
    async page(records) {
      for (const record of records) if (record.change !== 'unchanged') add(record.change === 'new' ? 'insert' : 'update', record.id, record.hash!.hex);
      await flush();
    },
    rank: RANK.data,
    async prepare() {
      await flush();
      await file.prepare();
      return [file];
    },
    abort: () => file.discard(),
  };
}
