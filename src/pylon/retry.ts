/**
 * The retry policy, as pure functions: which failures are retried for which
 * endpoint, and how long to wait. The client (client.ts) applies it; got's own
 * retry is off.
 *
 * - Idempotent calls (everything but create): retried on 429, 500/502/503/504,
 *   lost connections and timeouts, up to `limit` times.
 * - create: retried only when the server provably did not apply it: a 429, or a
 *   connection that was never established. A 5xx, a timeout or a connection lost
 *   after the request went out may have created the contact: the caller gets
 *   `maybeApplied: true` and must look the contact up before sending again.
 * - Connection never established (ECONNREFUSED, DNS failure, connect timeout):
 *   at most CONNECT_RETRY_LIMIT quick retries, then fatal. A wrong base URL or a
 *   stopped server should fail fast, not after minutes of backoff.
 * - Any other 4xx is the caller's problem and is never retried.
 */
import type { EndpointKey } from '../config.js';

export interface RetryOptions {
  /** Most retries per call (attempts = limit + 1). */
  limit: number;
  /** First backoff delay; doubles on every retry. */
  baseDelayMs: number;
  /** Cap on a backoff delay. */
  maxDelayMs: number;
  /** A server asking for a longer wait than this makes the call give up at once. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  limit: 8,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 300_000,
};

/** Retries for a connection that was never established, whatever `limit` says. */
export const CONNECT_RETRY_LIMIT = 2;

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** System error codes meaning "the request never reached the server". */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
/**
 * TLS handshake failures: an https:// URL at a server that answers in plain http (OpenSSL's "wrong
 * version number"). Nothing was sent, and asking again gets the same answer: never retried.
 */
export const TLS_CODES: ReadonlySet<string> = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);
/** got timeout phases that end before the request is written. */
const CONNECT_TIMEOUT_EVENTS = new Set(['lookup', 'connect', 'secureConnect']);

export type Failure =
  /** The server answered with a non-2xx status (or a 2xx/5xx body that is not Pylon's envelope). */
  | { kind: 'status'; status: number; retryAfterMs?: number }
  /** The connection could not be established: nothing was sent. */
  | { kind: 'connect'; code: string }
  /** The connection broke after the request may have been sent. */
  | { kind: 'network'; code: string }
  /** No complete answer within the timeout. */
  | { kind: 'timeout'; event: string };

/** Classifies a got/system error code (and got's timeout phase) into a failure kind. */
export function classifyTransportError(code: string | undefined, timeoutEvent?: string): Failure {
  if (timeoutEvent !== undefined) {
    return CONNECT_TIMEOUT_EVENTS.has(timeoutEvent) ? { kind: 'connect', code: 'ETIMEDOUT' } : { kind: 'timeout', event: timeoutEvent };
  }
  const c = code ?? 'ERR_NETWORK';
  return CONNECT_CODES.has(c) || TLS_CODES.has(c) ? { kind: 'connect', code: c } : { kind: 'network', code: c };
}

export function isIdempotent(endpoint: EndpointKey): boolean {
  return endpoint !== 'create';
}

/** Transient: trying again later may succeed. */
export function isTransient(failure: Failure): boolean {
  if (failure.kind === 'connect' && TLS_CODES.has(failure.code)) return false;
  return failure.kind !== 'status' || RETRYABLE_STATUSES.has(failure.status);
}

/** Whether the server may have applied the request despite this failure. */
export function mayHaveApplied(failure: Failure): boolean {
  switch (failure.kind) {
    case 'connect':
      return false;
    case 'network':
    case 'timeout':
      return true;
    case 'status':
      return failure.status >= 500;
  }
}

export type RetryDecision =
  | { retry: true; delayMs: number; reason: string }
  | { retry: false; reason: 'not-retryable' | 'unsafe-write' | 'exhausted' | 'retry-after-too-long' };

export interface RetryInput {
  endpoint: EndpointKey;
  failure: Failure;
  /** Retries already made for this call (0 after the first attempt failed). */
  retriesDone: number;
  options: RetryOptions;
  random: () => number;
}

export function decideRetry({ endpoint, failure, retriesDone, options, random }: RetryInput): RetryDecision {
  if (!isTransient(failure)) return { retry: false, reason: 'not-retryable' };
  if (!isIdempotent(endpoint) && mayHaveApplied(failure)) return { retry: false, reason: 'unsafe-write' };
  const limit = failure.kind === 'connect' ? Math.min(options.limit, CONNECT_RETRY_LIMIT) : options.limit;
  const requested = failure.kind === 'status' ? failure.retryAfterMs : undefined;
  if (requested !== undefined && requested > options.maxRetryAfterMs) return { retry: false, reason: 'retry-after-too-long' };
  if (retriesDone >= limit) return { retry: false, reason: 'exhausted' };
  const delayMs = requested ?? backoffDelay(retriesDone + 1, options, random);
  return { retry: true, delayMs, reason: describeFailure(failure) };
}

/**
 * Exponential backoff with "equal jitter": the n-th retry (1-based) waits between
 * half and all of min(maxDelayMs, baseDelayMs * 2^(n-1)). Deterministic for a given `random`.
 */
export function backoffDelay(retryNumber: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}

type HeaderValue = string | string[] | undefined;

function firstHeader(value: HeaderValue): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const trimmed = v?.trim();
  return trimmed ? trimmed : undefined;
}

function parseSeconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Math.round(Number(text) * 1000);
}

/**
 * The wait the server asked for, in ms: `Retry-After` (delta-seconds or an HTTP-date),
 * then `X-Retry-After` (seconds). Undefined when neither is present and valid.
 * An HTTP-date in the past or now (a server whose clock is behind ours) asks for no wait we
 * can use: read as no header, so the call backs off as usual instead of retrying at once
 * until its retries run out. Header names must be lower-case (as Node delivers them).
 */
export function parseRetryAfter(headers: Record<string, HeaderValue>, nowMs: number = Date.now()): number | undefined {
  const standard = firstHeader(headers['retry-after']);
  if (standard !== undefined) {
    const seconds = parseSeconds(standard);
    if (seconds !== undefined) return seconds;
    const date = /[a-z]/i.test(standard) ? Date.parse(standard) : Number.NaN;
    if (!Number.isNaN(date) && date > nowMs) return date - nowMs;
  }
  return parseSeconds(firstHeader(headers['x-retry-after']));
}

/** `X-Rate-Limit-Remaining` as a non-negative integer, or undefined. */
export function parseRateLimitRemaining(headers: Record<string, HeaderValue>): number | undefined {
  const text = firstHeader(headers['x-rate-limit-remaining']);
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

export function describeFailure(failure: Failure): string {
  switch (failure.kind) {
    case 'status':
      return `HTTP ${failure.status}`;
    case 'connect':
    case 'network':
      return failure.code;
    case 'timeout':
      return `timeout (${failure.event})`;
  }
}
