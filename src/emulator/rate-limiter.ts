/**
 * Per-endpoint, per-organisation fixed-window rate limiting: every token of the
 * org shares one bucket per endpoint, and a bucket allows `limit` requests per
 * window (60 s by default; tests shorten the "minute"). The clock is injectable.
 */
import type { EndpointKey } from './options.js';

export interface RateDecision {
  allowed: boolean;
  /** The bucket's limit; undefined when the endpoint is not limited. */
  limit?: number;
  /** Requests left in this window after this one. */
  remaining?: number;
  /** Whole seconds until the window resets (at least 1), when refused. */
  retryAfterSeconds?: number;
}

export interface RateLimiter {
  take(endpoint: EndpointKey): RateDecision;
  reset(): void;
}

export function createRateLimiter(limits: Partial<Record<EndpointKey, number>>, windowMs: number, now: () => number): RateLimiter {
  const buckets = new Map<EndpointKey, { windowStart: number; count: number }>();
  return {
    take(endpoint) {
      const limit = limits[endpoint];
      if (limit === undefined) return { allowed: true };
      const t = now();
      const windowStart = t - (t % windowMs);
      let bucket = buckets.get(endpoint);
      if (!bucket || bucket.windowStart !== windowStart) {
        bucket = { windowStart, count: 0 };
        buckets.set(endpoint, bucket);
      }
      if (bucket.count >= limit) {
        const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000));
        return { allowed: false, limit, remaining: 0, retryAfterSeconds };
      }
      bucket.count += 1;
      return { allowed: true, limit, remaining: limit - bucket.count };
    },
    reset() {
      buckets.clear();
    },
  };
}
