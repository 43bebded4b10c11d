import { invalidOption } from './errors.js';

/** Endpoints with their own rate-limit bucket, as Pylon documents them. */
export const ENDPOINTS = ['list', 'get', 'create', 'patch', 'delete', 'search', 'customFields', 'accounts', 'me'] as const;
export type EndpointKey = (typeof ENDPOINTS)[number];

/**
 * Requests per minute per endpoint, from the "Rate limit: N requests per minute"
 * lines of Pylon's OpenAPI spec. The client paces itself to these by default;
 * the emulator's `spec` preset enforces them.
 */
export const SPEC_RATES: Readonly<Record<EndpointKey, number>> = {
  list: 60,
  get: 60,
  create: 60,
  patch: 60,
  delete: 10,
  search: 20,
  customFields: 60,
  accounts: 60,
  me: 60,
};

/**
 * Parses "create=60,patch=30" (or a map) into per-endpoint numbers. Unknown
 * endpoints and numbers that are not positive (or not whole, with `integer`)
 * are usage errors naming `flag`; `unit` says what the numbers count.
 */
export function parseEndpointNumbers<K extends string = EndpointKey>(
  value: string | Partial<Record<string, unknown>> | undefined,
  {
    flag,
    unit,
    integer = false,
    pairs = false,
    endpoints = ENDPOINTS as unknown as readonly K[],
  }: { flag: string; unit: string; integer?: boolean; /** Name the pair, not just the key, in errors. */ pairs?: boolean; /** The names allowed (the emulator serves a few more than the client uses). */ endpoints?: readonly K[] },
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  if (value === undefined) return out;
  // `--rate ""` (an unset shell variable) is a mistake, not "the defaults": refused like any other bad value.
  if (typeof value === 'string' && value.trim() === '') {
    throw invalidOption(flag, `endpoint=${unit.split(' ')[0]} pairs such as ${endpoints[0]}=60 with endpoints from ${endpoints.join(', ')}`, value);
  }
  const entries: Array<[string, unknown]> =
    typeof value === 'string'
      ? value.split(',').map((p) => p.trim()).filter(Boolean).map((part) => {
          const [key, n] = part.split('=');
          return [String(key).trim(), n === undefined ? undefined : n.trim()];
        })
      : Object.entries(value);
  for (const [key, raw] of entries) {
    if (!(endpoints as readonly string[]).includes(key)) {
      if (pairs) throw invalidOption(flag, `endpoint=${unit.split(' ')[0]} pairs with endpoints from ${endpoints.join(', ')}`, raw === undefined ? key : `${key}=${String(raw)}`);
      throw invalidOption(flag, `endpoint names from ${endpoints.join(', ')}`, key);
    }
    const n = typeof raw === 'number' ? raw : raw === undefined || raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw invalidOption(flag, `a positive ${integer ? 'integer' : 'number'} of ${unit} for ${key}`, raw ?? '');
    }
    out[key as K] = n;
  }
  return out;
}

/**
 * How long a run of these calls takes when the client paces each endpoint to
 * its own rate (per `windowMs`). The buckets are paced apart and run side by
 * side, so the slowest one decides: 12,119 PATCHes at 60 a minute are 202 min,
 * and the 122 searches that read them at 20 a minute (6 min) fit inside that.
 */
export function pacedSeconds(calls: Partial<Record<EndpointKey, number>>, rates: Readonly<Record<EndpointKey, number>>, windowMs = 60_000): number {
  let slowest = 0;
  for (const [endpoint, n] of Object.entries(calls) as Array<[EndpointKey, number | undefined]>) {
    if (!n) continue;
    slowest = Math.max(slowest, (n * windowMs) / 1000 / rates[endpoint]);
  }
  return slowest;
}

/** "3 h 22 min", "14 min", "40 s": a duration for a person deciding whether to go on. */
export function describeSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'an unknown time';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const m = minutes % 60;
  return `${Math.floor(minutes / 60)} h${m > 0 ? ` ${m} min` : ''}`;
}
