import { ExitError, PylonCliError, type ErrorCode } from '../errors.js';
import { PylonApiError } from '../pylon/errors.js';

/** Errors that end the whole run: no later row could do better. */
const FATAL: ReadonlySet<ErrorCode> = new Set(['PYLON_AUTH', 'PYLON_FORBIDDEN', 'PYLON_NETWORK', 'PYLON_TIMEOUT', 'PYLON_RATE_LIMITED', 'PYLON_PAGINATION', 'OUTPUT_WRITE']);
/** Of those, the ones that stop the run even when the request reached the server. */
const ALWAYS_FATAL: ReadonlySet<ErrorCode> = new Set(['PYLON_AUTH', 'PYLON_FORBIDDEN', 'OUTPUT_WRITE']);

/**
 * Where an import decides to stop, and nowhere else. A row's error either fails
 * that row, or stops the run: then the row (and every row after it) is "not
 * processed", and `--resume` finishes it. Ctrl-C stops the run without an error.
 *
 * - 401/403 and output failures stop the run at any point: with a revoked token
 *   or a full disk, no later row could succeed, and failing rows would hide that.
 * - Network errors, timeouts, rate-limit exhaustion and broken pagination stop
 *   it too, unless the request reached the server and was cut off: that row
 *   fails (ROW_API_FAILED) and the run goes on.
 * - Anything else (a 400, a 404, a 5xx after retries) fails the row.
 */
export class RunControl {
  private fatalError: unknown;
  private readonly stopper = new AbortController();
  /**
   * The signal every call of the run takes: aborted by Ctrl-C (`interrupt`) and by a fatal stop. A fatal stop
   * ends what waits (a request queued behind a 429's 24-hour pause, a backoff): only requests already sent finish.
   */
  readonly signal: AbortSignal;
  constructor(private readonly interrupt?: AbortSignal) {
    this.signal = interrupt ? AbortSignal.any([interrupt, this.stopper.signal]) : this.stopper.signal;
  }

  /** The error that stopped the run, if one did. */
  get fatal(): unknown {
    return this.fatalError;
  }

  get interrupted(): boolean {
    return Boolean(this.interrupt?.aborted) && this.fatalError === undefined;
  }

  /** True once the run must not start another row. */
  get stopped(): boolean {
    return this.fatalError !== undefined || this.signal.aborted;
  }

  /** What `error`, thrown while working on a row, means: 'stop' (the run stopped; the row is not processed) or 'fail' (the row fails). */
  judge(error: unknown): 'stop' | 'fail' {
    if (this.isAbort(error)) return 'stop';
    if (!(error instanceof PylonCliError) || !FATAL.has(error.code)) return 'fail';
    const reachedServer = error instanceof PylonApiError && error.maybeApplied;
    if (reachedServer && !ALWAYS_FATAL.has(error.code)) return 'fail';
    this.stop(error);
    return 'stop';
  }

  /**
   * Like `judge`, for work outside a row (setup, a lookup for a chunk): stops the run on a fatal error and on any
   * answer of Pylon's that failed the call (a 400 or a 5xx after retries, a body it could not read). Such a call
   * serves many rows, and the next chunk's would most likely fail alike: the rows are left not processed, for
   * `--resume`, not failed one chunk at a time. Rethrows anything else (a defect of this tool).
   */
  stopOrThrow(error: unknown): void {
    if (this.isAbort(error)) return;
    if (error instanceof PylonCliError && (FATAL.has(error.code) || error instanceof PylonApiError || error.code === 'PYLON_BAD_RESPONSE')) {
      this.stop(error);
      return;
    }
    throw error;
  }

  /** Records the first fatal error and lets go of every call still waiting (they end as RUN_ABORTED: their rows are not processed). */
  private stop(error: PylonCliError): void {
    this.fatalError ??= error;
    if (!this.stopper.signal.aborted) this.stopper.abort(new Error(`the run stopped (${error.code})`));
  }

  /** A call refused because the run was interrupted (or the signal's own reason, thrown by a loop that checks it). */
  isAbort(error: unknown): boolean {
    if (!this.signal.aborted) return false;
    return (error instanceof PylonCliError && error.code === 'RUN_ABORTED') || error === this.signal.reason;
  }

  describeFatal(): { code: string; message: string } | undefined {
    if (this.fatalError === undefined) return undefined;
    const err = this.fatalError as Error & { code?: string };
    return { code: err.code ?? 'INTERNAL', message: err.message };
  }
}

/**
 * An API or network failure (a wrong token, a host that does not answer, a 5xx after retries) thrown
 * where no row judges it: at the start of a run (GET /me, the custom fields) or between its phases.
 * It ends the run as a stop mid-run does: the run resolves with it as `stats.fatal` instead of
 * throwing, so the caller (and `--json`) gets the stats and the code. Anything else (a ConfigError,
 * a bug) is not one and is thrown on.
 */
export function apiFailure(error: unknown): { code: string; message: string } | undefined {
  return error instanceof PylonApiError && error.code !== 'RUN_ABORTED' ? { code: error.code, message: error.message } : undefined;
}

/**
 * A Ctrl-C met where no row judges it (at the start of a run: GET /me, the custom fields): a call refused because
 * the run was interrupted, or the signal's own reason. The run resolves as interrupted (its summary, exit 130), as
 * a Ctrl-C later does, instead of the error ending the process without one.
 */
export function interruptedBy(error: unknown, signal: AbortSignal | undefined): boolean {
  // An ExitError is a stop with its own message and code (Ctrl-C at the confirmation: "Stopped before writing anything"): thrown on.
  if (!signal?.aborted || error instanceof ExitError) return false;
  return (error instanceof PylonCliError && error.code === 'RUN_ABORTED') || error === signal.reason;
}
