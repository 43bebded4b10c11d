import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection
 * kept, in percent (V8's `--heap-growing-percent`; its own factor goes up to 300%).
 *
 * A streaming run keeps little alive (the import of a million rows: about 12 MB
 * of heap after a full collection) but promotes some garbage with every chunk of
 * rows; with V8's default factor that garbage grew to 4-5 times the live heap
 * between full collections, the largest share of the run's peak RSS. 50% keeps the
 * peak near the working set: full collections of so small a heap are cheap, so more
 * of them cost a few percent of CPU (figures in docs/import.md, Memory).
 */
const HEAP_GROWING_PERCENT = 50;

let applied = false;

/**
 * Limits the heap's growth for the rest of the process (a CLI run that streams its
 * rows). Only the collector's schedule changes: no limit, so a run that needs more
 * heap still gets it. Process-wide, hence called by the CLI only, never by the library.
 */
export function limitHeapGrowth(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
