/**
 * The types the emulator's pipeline, route table and handlers share: kept apart
 * so that handlers need not import the modules that import them.
 */
import type { FaultInjector, FaultPlan } from './faults.js';
import type { EmulatorOptions } from './options.js';
import type { Org } from './org.js';
import type { Prng } from './prng.js';
import type { RateLimiter } from './rate-limiter.js';
import type { EmulatorStats } from './stats.js';
import type { ContactStore } from './store.js';

export interface EmulatorContext {
  options: EmulatorOptions;
  store: ContactStore;
  org: Org;
  /** --list-churn progress: churn events done, contacts inserted. */
  churn: { done: number; inserted: number };
}

export interface RequestInfo {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (routes with `body: true`); `{}` when the body was empty. */
  body: unknown;
  requestId: string;
  fault?: FaultPlan;
}

export interface PipelineDeps {
  app: EmulatorContext;
  stats: EmulatorStats;
  limiter: RateLimiter;
  faults: FaultInjector;
  jitter: Prng;
}
