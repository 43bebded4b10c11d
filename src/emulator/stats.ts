/** The emulator's counters: the contract tests assert invariants on (also at GET /_emulator/stats). */
import { ENDPOINTS } from '../config.js';

export interface EmulatorStats {
  /** Requests per endpoint key (`unknown` for unmatched routes), whatever their outcome. */
  requests: Record<string, number>;
  /** Responses sent per HTTP status ("200", "429", …); dropped connections are not counted here. */
  status: Record<string, number>;
  /** 429 answers sent (rate limits and forced ones). */
  rateLimited: number;
  /** Most API requests in flight at once since the last reset. */
  maxInFlight: number;
  inFlight: number;
  /** Faults applied (header-forced or random). */
  faultsInjected: number;
}

export function createStats(): EmulatorStats {
  const requests: Record<string, number> = {};
  for (const key of ENDPOINTS) requests[key] = 0;
  requests.unknown = 0;
  return { requests, status: {}, rateLimited: 0, maxInFlight: 0, inFlight: 0, faultsInjected: 0 };
}

/** Zeroes the counters in place; requests in flight stay counted. */
export function resetStats(stats: EmulatorStats): void {
  const fresh = createStats();
  stats.requests = fresh.requests;
  stats.status = fresh.status;
  stats.rateLimited = 0;
  stats.faultsInjected = 0;
  stats.maxInFlight = stats.inFlight;
}

export function snapshotStats(stats: EmulatorStats): EmulatorStats {
  return { ...stats, requests: { ...stats.requests }, status: { ...stats.status } };
}
