/**
 * Client-side pacing: one scheduler per endpoint bucket, shared by every caller of
 * a client, so that 429s are rare instead of being the control loop.
 *
 * How it spaces requests. Pylon counts requests per endpoint in fixed windows
 * ("N per minute"). Sends are spaced `gap = windowMs / rate * (1 + margin)` apart,
 * with no burst: a burst of b lets one fixed window see rate + b − 1 requests.
 * A request evenly spaced `gap` apart can arrive up to `margin * windowMs` late
 * (timer lag, network jitter) before any fixed window could hold more than `rate`;
 * half of that budget is used to catch up with late timers (so throughput stays at
 * about 1 / (1 + margin) of the limit even when the gap is a few ms), the other
 * half is left for the network. A caller finding the bucket idle gets at most half
 * a gap of credit.
 *
 * How it adapts:
 * - `pause(endpoint, ms)`: after a 429, nothing is sent on that bucket until the
 *   server's Retry-After has elapsed.
 * - `observe(endpoint, remaining, sentAt)`: `X-Rate-Limit-Remaining`. A jump up
 *   marks a new server window (its start is estimated no earlier than the true one,
 *   windows are assumed periodic). At 0 the bucket is held until the estimated end
 *   of the window the request landed in; when low and clearly not enough for our
 *   pace (another client of the same organisation is using it), what is left is
 *   spread over the time left.
 *
 * Cost: a request that finds its bucket free is let through synchronously; a
 * bucket with waiters owns one timer at most.
 */
import { performance } from 'node:perf_hooks';
import { ENDPOINTS, type EndpointKey } from '../config.js';

export interface PacerOptions {
  /** Requests per window for each endpoint; 0, a negative number or Infinity means unpaced. */
  rates: Record<EndpointKey, number>;
  windowMs: number;
  /** Extra spacing as a fraction of the nominal gap (default 0.025: 97.5% of the limit). */
  margin?: number;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
  onEvent?: (event: PacerEvent) => void;
}

export type PacerEvent =
  | { type: 'paced'; endpoint: EndpointKey; waitMs: number }
  | { type: 'hold'; endpoint: EndpointKey; holdMs: number; reason: 'rate-limited' | 'remaining-zero' };

export interface BucketStats {
  rate: number;
  /** Spacing between sends in ms (0 when unpaced). */
  gapMs: number;
  /** Slots handed out. */
  sent: number;
  /** Slots that had to wait, and their total wait. */
  waited: number;
  totalWaitMs: number;
  queued: number;
  maxQueued: number;
  /** How much longer the bucket is paused or held (0 when not). */
  pausedForMs: number;
  /** Pauses after a 429, holds after X-Rate-Limit-Remaining: 0, slow-downs on a low remaining count. */
  pauses: number;
  holds: number;
  slowed: number;
  /** Last X-Rate-Limit-Remaining seen. */
  remaining?: number;
}

export interface Pacer {
  /** Resolves with the send time (pacer clock) once a request on `endpoint` may go out. Rejects with `signal.reason` on abort. */
  acquire(endpoint: EndpointKey, signal?: AbortSignal): Promise<number>;
  /** Sends nothing on `endpoint` for `ms` from now (a 429's Retry-After). */
  pause(endpoint: EndpointKey, ms: number): void;
  /** Feeds `X-Rate-Limit-Remaining` of the response to a request sent at `sentAt`. */
  observe(endpoint: EndpointKey, remaining: number, sentAt: number): void;
  now(): number;
  stats(): Record<EndpointKey, BucketStats>;
}

interface Waiter {
  resolve: (sentAt: number) => void;
  reject: (reason: unknown) => void;
  enqueuedAt: number;
  signal?: AbortSignal;
}

const DEFAULT_MARGIN = 0.025;

class Bucket {
  readonly gap: number;
  readonly catchUp: number;
  readonly idleCredit: number;
  private nextAt = -Infinity;
  private pausedUntil = -Infinity;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private anchor: number | undefined;
  private readonly counters = { sent: 0, waited: 0, totalWaitMs: 0, maxQueued: 0, pauses: 0, holds: 0, slowed: 0 };
  private remaining: number | undefined;
  /**
   * One abort listener per signal while any of its waiters queue, with how many do: a run passes one signal to every
   * call, and a listener per waiter put as many on it as requests queued (16 at --concurrency 16), past Node's
   * warning threshold of 10 (MaxListenersExceededWarning on stderr).
   */
  private readonly listening = new Map<AbortSignal, { waiters: number; onAbort: () => void }>();

  constructor(
    readonly endpoint: EndpointKey,
    readonly rate: number,
    private readonly windowMs: number,
    margin: number,
    private readonly clock: () => number,
    private readonly emit: (event: PacerEvent) => void,
  ) {
    const paced = Number.isFinite(rate) && rate > 0;
    this.gap = paced ? (windowMs / rate) * (1 + margin) : 0;
    this.catchUp = (margin * windowMs) / 2;
    this.idleCredit = Math.min(this.catchUp, this.gap / 2);
  }

  acquire(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const t = this.clock();
    if (this.queue.length === 0 && t >= this.readyAt()) return Promise.resolve(this.take(t, this.idleCredit));
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, enqueuedAt: t, signal };
      if (signal) this.listen(signal);
      this.queue.push(waiter);
      this.counters.maxQueued = Math.max(this.counters.maxQueued, this.queue.length);
      this.schedule();
    });
  }

  pause(ms: number, reason: 'rate-limited' | 'remaining-zero' = 'rate-limited'): void {
    if (!(ms > 0)) return;
    const until = this.clock() + ms;
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.counters[reason === 'rate-limited' ? 'pauses' : 'holds'] += 1;
    this.emit({ type: 'hold', endpoint: this.endpoint, holdMs: ms, reason });
  }

  observe(remaining: number, sentAt: number): void {
    const t = this.clock();
    const previous = this.remaining;
    this.remaining = remaining;
    const jump = Math.max(2, Math.ceil(this.rate * 0.1));
    if (this.anchor === undefined || (previous !== undefined && remaining > previous + jump)) this.anchor = t;
    const reset = this.anchor + Math.max(1, Math.ceil((sentAt - this.anchor) / this.windowMs)) * this.windowMs;
    if (remaining === 0) {
      this.pause(reset - t, 'remaining-zero');
    } else if (this.gap > 0 && remaining <= Math.max(1, Math.ceil(this.rate * 0.1))) {
      // Our own pace never needs this (the reset estimate is late by up to a gap): act only
      // when someone else is clearly using the allowance.
      const spacing = (reset - t) / (remaining + 1);
      const spread = t + spacing;
      if (spacing > 1.5 * this.gap && spread > this.nextAt) {
        this.nextAt = spread;
        this.counters.slowed += 1;
      }
    }
  }

  stats(): BucketStats {
    const t = this.clock();
    return {
      rate: this.rate,
      gapMs: this.gap,
      ...this.counters,
      queued: this.queue.length,
      pausedForMs: Math.max(0, this.pausedUntil - t),
      remaining: this.remaining,
    };
  }

  private readyAt(): number {
    return Math.max(this.nextAt, this.pausedUntil);
  }

  /**
   * Hands out a slot at time t; the next one is `gap` after this slot's virtual time.
   * A waiter released late by its timer keeps the schedule (up to `credit` ms of
   * lateness is caught up); a caller arriving at an idle bucket gets at most half a
   * gap, so two callers never go back to back.
   */
  private take(t: number, credit: number): number {
    const virtual = Math.max(this.readyAt(), t - credit);
    this.nextAt = virtual + this.gap;
    this.counters.sent += 1;
    return t;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    // Node fires a timer longer than 2^31 − 1 ms (24.8 days, a far Retry-After) at once: it wakes up at that cap instead, and waits on.
    const delay = Math.min(2 ** 31 - 1, Math.max(0, Math.ceil(this.readyAt() - this.clock())));
    this.timer = setTimeout(() => this.drain(), delay);
  }

  /** Counts a queued waiter of `signal`: its first adds the one listener, which rejects every waiter of that signal. */
  private listen(signal: AbortSignal): void {
    const entry = this.listening.get(signal);
    if (entry) {
      entry.waiters += 1;
      return;
    }
    const onAbort = () => {
      this.listening.delete(signal);
      const aborted = this.queue.filter((w) => w.signal === signal);
      this.queue.splice(0, this.queue.length, ...this.queue.filter((w) => w.signal !== signal));
      if (this.queue.length === 0) this.cancelTimer();
      for (const waiter of aborted) waiter.reject(signal.reason);
    };
    this.listening.set(signal, { waiters: 1, onAbort });
    signal.addEventListener('abort', onAbort, { once: true });
  }

  /** A waiter of `signal` left the queue (served): the last one takes the listener off. */
  private unlisten(signal: AbortSignal): void {
    const entry = this.listening.get(signal);
    if (!entry || --entry.waiters > 0) return;
    this.listening.delete(signal);
    signal.removeEventListener('abort', entry.onAbort);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private drain(): void {
    this.timer = undefined;
    const t = this.clock();
    while (this.queue.length > 0 && t >= this.readyAt()) {
      const waiter = this.queue.shift()!;
      if (waiter.signal) this.unlisten(waiter.signal);
      const waitMs = t - waiter.enqueuedAt;
      this.counters.waited += 1;
      this.counters.totalWaitMs += waitMs;
      waiter.resolve(this.take(t, this.catchUp));
      this.emit({ type: 'paced', endpoint: this.endpoint, waitMs });
    }
    this.schedule();
  }
}

export function createPacer(options: PacerOptions): Pacer {
  const clock = options.now ?? (() => performance.now());
  const emit = options.onEvent ?? (() => {});
  const margin = options.margin ?? DEFAULT_MARGIN;
  const buckets = Object.fromEntries(
    ENDPOINTS.map((endpoint) => [endpoint, new Bucket(endpoint, options.rates[endpoint], options.windowMs, margin, clock, emit)]),
  ) as Record<EndpointKey, Bucket>;
  return {
    acquire: (endpoint, signal) => buckets[endpoint].acquire(signal),
    pause: (endpoint, ms) => buckets[endpoint].pause(ms),
    observe: (endpoint, remaining, sentAt) => buckets[endpoint].observe(remaining, sentAt),
    now: clock,
    stats: () => Object.fromEntries(ENDPOINTS.map((e) => [e, buckets[e].stats()])) as Record<EndpointKey, BucketStats>,
  };
}
