import { ConfigError, invalidOption } from './errors.js';

export const DEFAULT_BASE_URL = 'https://api.usepylon.com';
export const REGION_BASE_URLS = {
  us: 'https://api.usepylon.com',
  eu: 'https://api.eu.usepylon.com',
} as const;
export type Region = keyof typeof REGION_BASE_URLS;

/** Endpoints with their own rate-limit bucket, as Pylon documents them. */
export const ENDPOINTS = ['list', 'get', 'create', 'patch', 'delete', 'search', 'customFields', 'accounts', 'me'] as const;
export type EndpointKey = (typeof ENDPOINTS)[number];

/** Client-side pacing defaults (requests per minute), from Pylon's OpenAPI spec. */
export const DEFAULT_RATES: Record<EndpointKey, number> = {
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

/** Raw connection settings: from flags, the environment and defaults, all optional. */
export interface ConnectionOptionsInput {
  baseUrl?: string;
  region?: string;
  token?: string;
  /** Environment to read PYLON_API_TOKEN / PYLON_BASE_URL from (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  concurrency?: number;
  /** "create=60,patch=60,search=20,list=60" or a map. */
  rate?: string | Partial<Record<EndpointKey, number>>;
  /** Length of Pylon's rate-limit window in ms: 60000 (a minute). Only the emulator's --window-ms changes it. */
  rateWindowMs?: number;
  timeoutMs?: number;
}

export interface ConnectionOptions {
  baseUrl: string;
  token: string;
  concurrency: number;
  /** Requests per `rateWindowMs`, per endpoint. */
  rates: Record<EndpointKey, number>;
  rateWindowMs: number;
  timeoutMs: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Validates a base URL: https anywhere, plain http only on loopback (the emulator). */
export function resolveBaseUrl(input: { baseUrl?: string; region?: string; env?: NodeJS.ProcessEnv }): string {
  const env = input.env ?? process.env;
  let raw = input.baseUrl ?? env.PYLON_BASE_URL;
  if (input.region !== undefined) {
    const region = input.region.toLowerCase();
    if (!(region in REGION_BASE_URLS)) throw invalidOption('--region', 'one of us, eu', input.region);
    if (input.baseUrl === undefined) raw = REGION_BASE_URLS[region as Region];
  }
  raw ??= DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidOption('--base-url', 'an absolute http(s) URL', raw);
  }
  if (url.username || url.password) {
    throw invalidOption('--base-url', 'a URL without credentials (pass the token with --token or PYLON_API_TOKEN)', `${url.protocol}//…@${url.host}`);
  }
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) {
      throw new ConfigError(
        'CONFIG_INSECURE_URL',
        `Refusing plain-http base URL ${url.origin}: the API token would travel unencrypted. Use https, or a loopback address for the emulator.`,
        { option: '--base-url' },
      );
    }
  } else if (url.protocol !== 'https:') {
    throw invalidOption('--base-url', 'an http(s) URL', raw);
  }
  return url.toString().replace(/\/+$/, '');
}

export function resolveToken(input: { token?: string; env?: NodeJS.ProcessEnv }): string {
  const env = input.env ?? process.env;
  const token = (input.token ?? env.PYLON_API_TOKEN ?? '').trim();
  if (!token) {
    throw new ConfigError(
      'CONFIG_MISSING_TOKEN',
      'No API token: set PYLON_API_TOKEN or pass --token (create one in Pylon under Settings → API Tokens).',
      { option: '--token' },
    );
  }
  return token;
}

/** Parses "create=60,patch=60" into a full rate table; unknown keys and bad numbers are usage errors. */
export function resolveRates(rate: ConnectionOptionsInput['rate']): Record<EndpointKey, number> {
  const rates = { ...DEFAULT_RATES };
  if (rate === undefined || rate === '') return rates;
  const entries: Array<[string, unknown]> =
    typeof rate === 'string'
      ? rate.split(',').filter(Boolean).map((part) => {
          const [key, value] = part.split('=');
          return [String(key).trim(), value === undefined ? undefined : value.trim()];
        })
      : Object.entries(rate);
  for (const [key, value] of entries) {
    if (!(ENDPOINTS as readonly string[]).includes(key)) {
      throw invalidOption('--rate', `endpoint names from ${ENDPOINTS.join(', ')}`, key);
    }
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n) || n <= 0) {
      throw invalidOption('--rate', `a positive number of requests per minute for ${key}`, value ?? '');
    }
    rates[key as EndpointKey] = n;
  }
  return rates;
}

export function resolveIntegerOption(flag: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalidOption(flag, `an integer from ${min} to ${max}`, value);
  }
  return n;
}

export function resolveConnectionOptions(input: ConnectionOptionsInput): ConnectionOptions {
  return {
    baseUrl: resolveBaseUrl(input),
    token: resolveToken(input),
    concurrency: resolveIntegerOption('--concurrency', input.concurrency, 1, 64, 4),
    rates: resolveRates(input.rate),
    rateWindowMs: resolveIntegerOption('--rate-window', input.rateWindowMs, 100, 3_600_000, 60_000),
    timeoutMs: resolveIntegerOption('--timeout', input.timeoutMs, 100, 600_000, 30_000),
  };
}

/** Replaces every occurrence of the token in a string. Used on every message that leaves the process. */
export function redact(text: string, token: string | undefined): string {
  if (!token || token.length < 4) return text;
  return text.split(token).join('[REDACTED]');
}
