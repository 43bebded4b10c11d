import { setTimeout as sleep } from 'node:timers/promises';
import type { PylonClient } from '../pylon/api.js';
import { findByEmail } from './lookup.js';

/** Longest search lag measured; past it, the lag is taken as this. */
const MAX_LAG_MS = 60_000;
const POLL_MS = 200;

/** How long after a write search is taken to show it, given a measured lag: the lag with a margin (none without a lag). */
export function settleMs(lagMs: number): number {
  return lagMs === 0 ? 0 : Math.ceil(lagMs * 1.5) + POLL_MS;
}

/**
 * How long Pylon's search takes to show a contact just written (undocumented;
 * the emulator's `--search-lag-ms` models a lag). Measured once per run, on the
 * first contact the run creates: one search when search is immediate, a few more
 * polls when it lags. A create whose answer was lost is searched for only after
 * this lag has passed, and so is the after-run duplicate check: otherwise a
 * lagging search would miss the contact the lost create made, and the create
 * would be sent again. The lag is remembered for later runs (ServerMemory): one
 * that looks rows up by search within it of the last run's writes waits out the
 * rest first (`waitForEarlierWrites`), or it would create those contacts again.
 */
export class SearchVisibility {
  private lag: number | undefined;
  private probing: Promise<void> | undefined;

  constructor(
    private readonly client: PylonClient,
    private readonly signal?: AbortSignal,
    private readonly onNote?: (message: string) => void,
    /** Given the measured lag, to be remembered for later runs (ServerMemory.learnSearchLag). */
    private readonly onMeasured?: (lagMs: number) => void,
  ) {}

  /** The measured lag in ms; undefined until a create has been measured. */
  get lagMs(): number | undefined {
    return this.lag;
  }

  /**
   * Called with a contact the run just created: the first one is searched for
   * until it shows. `sentAt` is when its create was sent: the server wrote the
   * contact after that, and before its answer came, so the lag is timed from
   * the send (timed from the answer, a slow answer shortened it: 3.7 s measured
   * for a 4 s lag on a busy machine, and a later run then searched too early).
   * Without `id` (a create answered 2xx without the contact), any contact holding
   * `email` is the one it made: the row's email was no contact's when it was sent.
   */
  measure(email: string, id: string | undefined, sentAt?: number): Promise<void> {
    this.probing ??= this.probe(email, id, sentAt ?? Date.now());
    return this.probing;
  }

  /** Waits until a contact written now would show in search (the lag, with a margin). */
  async settle(): Promise<void> {
    await this.probing;
    const wait = this.lag === undefined ? 0 : settleMs(this.lag);
    if (wait > 0) await sleep(wait, undefined, { signal: this.signal }).catch(() => undefined);
  }

  private async probe(email: string, id: string | undefined, started: number): Promise<void> {
    try {
      for (let attempt = 1; ; attempt += 1) {
        const found = await findByEmail(this.client, email, this.signal);
        const elapsed = Date.now() - started;
        if (found.some((c) => id === undefined || c.id === id)) {
          // Shown by the first search: no lag, however long that search waited for its turn under the client's own pacing
          // (20 searches a minute make it wait about 3 s, which was reported as Pylon's lag).
          this.lag = attempt === 1 ? 0 : elapsed;
          this.onMeasured?.(this.lag);
          if (this.lag > 0) this.onNote?.(`search shows a new contact only after about ${(this.lag / 1000).toFixed(1)} s: lost create answers are checked after that long`);
          return;
        }
        if (elapsed >= MAX_LAG_MS || this.signal?.aborted) {
          this.lag = MAX_LAG_MS;
          if (!this.signal?.aborted) this.onMeasured?.(this.lag);
          this.onNote?.(`search did not show a contact created ${MAX_LAG_MS / 1000} s ago; lost create answers are checked after that long`);
          return;
        }
        await sleep(POLL_MS, undefined, { signal: this.signal }).catch(() => undefined);
      }
    } catch {
      // Measuring is best effort: a failed search leaves the lag unknown (treated as none).
    }
  }
}

/**
 * Before a run's lookup (its first list page or search): waits until the contacts the last run wrote to
 * this server show in search (its measured lag, with the margin of `settle`,
 * after the last write), saying so in one line. A row looked up earlier would
 * miss a contact that exists and create it a second time. Nothing to wait for
 * when no lag or no write is recorded, or the lag has passed. A stop (the
 * signal) ends the wait with the abort.
 */
export async function waitForEarlierWrites(memory: { searchLag(): { ms: number } | undefined; lastWriteAt(): number | undefined; hostName: string }, signal?: AbortSignal, onNote?: (message: string) => void): Promise<void> {
  const lag = memory.searchLag()?.ms;
  const lastWrite = memory.lastWriteAt();
  if (!lag || lastWrite === undefined) return;
  const wait = lastWrite + settleMs(lag) - Date.now();
  if (wait <= 0) return;
  onNote?.(
    `lookup: ${memory.hostName}'s search shows a contact only about ${(lag / 1000).toFixed(1)} s after it is written, and a run wrote contacts there moments ago: ` +
      `waiting ${Math.ceil(wait / 1000)} s before looking rows up, so that none of those is created a second time`,
  );
  await sleep(wait, undefined, { signal }).catch(() => undefined);
  signal?.throwIfAborted();
}
