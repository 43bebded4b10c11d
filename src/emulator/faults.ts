/**
 * Fault injection: the per-request `x-emulator-fault` header (always wins, no
 * randomness) and the global probabilities of the `faults` option, drawn from
 * the seeded PRNG so a run repeats for the same seed and request order.
 *
 * Header grammar: `;`-separated items, each `key` or `key=value`:
 *   status=<400-599>   answer with this status in Pylon's error envelope
 *   retry-after=<s>    add Retry-After / X-Retry-After (implies status=429 if no status)
 *   drop | drop=before close the connection without answering; nothing is applied
 *   drop=after         apply the request, then close the connection without answering
 *   slow=<ms>          wait this long before handling the request
 *   exists[=<id>]      POST /contacts: answer 400 duplicate with exists_id (the id, the
 *                      contact holding the body's email, or a made-up id)
 */
import { ApiError } from './api-error.js';
import { CODES, MSG } from './messages.js';
import type { FaultOptions } from './options.js';
import type { Prng } from './prng.js';

export const FAULT_HEADER = 'x-emulator-fault';

export interface FaultPlan {
  status?: number;
  retryAfter?: string;
  drop?: 'before' | 'after';
  slowMs?: number;
  exists?: string | true;
}

function bad(detail: string): ApiError {
  return new ApiError(400, CODES.emulatorFault, MSG.faultHeader(detail));
}

export function parseFaultHeader(header: string): FaultPlan {
  const plan: FaultPlan = {};
  for (const item of header.split(';').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const key = (eq === -1 ? item : item.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? undefined : item.slice(eq + 1).trim();
    switch (key) {
      case 'status': {
        const n = Number(value);
        if (!value || !Number.isInteger(n) || n < 400 || n > 599) throw bad(`status must be an integer from 400 to 599, got "${value ?? ''}"`);
        plan.status = n;
        break;
      }
      case 'retry-after':
        if (!value || !/^\d+(\.\d+)?$/.test(value)) throw bad(`retry-after must be a number of seconds, got "${value ?? ''}"`);
        plan.retryAfter = value;
        break;
      case 'drop':
        if (value !== undefined && value !== 'before' && value !== 'after') throw bad(`drop takes before or after, got "${value}"`);
        plan.drop = value === 'after' ? 'after' : 'before';
        break;
      case 'slow': {
        const n = Number(value);
        if (!value || !Number.isInteger(n) || n < 0 || n > 600_000) throw bad(`slow must be milliseconds from 0 to 600000, got "${value ?? ''}"`);
        plan.slowMs = n;
        break;
      }
      case 'exists':
        plan.exists = value ? value : true;
        break;
      default:
        throw bad(`unknown item "${key}" (expected status, retry-after, drop, slow or exists)`);
    }
  }
  if (plan.retryAfter !== undefined && plan.status === undefined) plan.status = 429;
  return plan;
}

const RANDOM_STATUSES = [500, 502, 503];

export interface FaultInjector {
  /** The faults for one request, or undefined for none. Throws ApiError 400 on a malformed header. */
  decide(header: string | undefined): FaultPlan | undefined;
}

export function createFaultInjector(options: Required<FaultOptions>, prng: Prng): FaultInjector {
  const active = options.errorRate > 0 || options.dropRate > 0 || options.slowRate > 0;
  return {
    decide(header) {
      if (header !== undefined && header.trim() !== '') return parseFaultHeader(header);
      if (!active) return undefined;
      const outcome = prng.next();
      const slow = prng.next() < options.slowRate;
      const pick = prng.int(RANDOM_STATUSES.length);
      const plan: FaultPlan = {};
      if (outcome < options.errorRate) plan.status = RANDOM_STATUSES[pick];
      else if (outcome < options.errorRate + options.dropRate) plan.drop = 'before';
      if (slow) plan.slowMs = options.slowMs;
      return plan.status === undefined && plan.drop === undefined && plan.slowMs === undefined ? undefined : plan;
    },
  };
}
