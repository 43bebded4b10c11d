import { ConfigError, invalidOption } from './errors.js';
import { parseEndpointNumbers, SPEC_RATES, type EndpointKey } from './rates.js';

export const DEFAULT_BASE_URL = 'https://api.usepylon.com';
export const REGION_BASE_URLS = {
  us: 'https://api.usepylon.com',
  eu: 'https://api.eu.usepylon.com',
} as const;
export type Region = keyof typeof REGION_BASE_URLS;

export { ENDPOINTS, type EndpointKey } from './rates.js';

/** Client-side pacing defaults (requests per minute), from Pylon's OpenAPI spec. */
export const DEFAULT_RATES: Record<EndpointKey, number> = { ...SPEC_RATES };

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
  /** Length of the rate-limit window the rates count in, in ms (--rate-window): 60000, Pylon's minute. Set it to match an emulator started with --window-ms. */
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
  /** Called before each write (create, PATCH, delete) is sent; a throw stops that write unsent (the audit log's check: cli/audit.ts). */
  beforeWrite?: () => void;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Validates a base URL: https anywhere, plain http only on loopback (the emulator). */
/** A base URL compared by origin and path (no trailing slash); text that is no URL is compared as it is. */
function sameHost(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return raw;
  }
}

/** A base URL as a message shows it: without any credentials it holds. */
function shownUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${hideCredentials(url.pathname.replace(/\/+$/, ''))}`;
  } catch {
    return JSON.stringify(hideCredentials(raw));
  }
}

/**
 * A base URL as an error shows it: whatever comes before an `@` in its authority (`user:password@`), which a URL
 * typed without its scheme leaves where `new URL` does not see credentials (`user:pw@host` reads as scheme `user:`), is `…`.
 */
function hideCredentials(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, (_, scheme: string | undefined) => `${scheme ?? ''}…@`);
}

export function resolveBaseUrl(input: { baseUrl?: string; region?: string; env?: NodeJS.ProcessEnv }): string {
  const env = input.env ?? process.env;
  let raw = input.baseUrl ?? env.PYLON_BASE_URL;
  if (input.region !== undefined) {
    const region = input.region.toLowerCase();
    if (!(region in REGION_BASE_URLS)) throw invalidOption('--region', 'one of us, eu', input.region);
    const regional = REGION_BASE_URLS[region as Region];
    // --region and PYLON_BASE_URL naming different hosts: neither is taken over the other silently (a PYLON_BASE_URL
    // left from an emulator session would send the token and the writes elsewhere, or --region would override it unsaid).
    // The same goes for --base-url: given both on one command line, --base-url used to win without a word, so a
    // --region eu left on a command pointed at the emulator (or at a proxy) was simply not what happened.
    if (raw !== undefined && sameHost(raw) !== sameHost(regional)) {
      const other = input.baseUrl !== undefined ? '--base-url' : 'PYLON_BASE_URL';
      const fix = input.baseUrl !== undefined ? 'drop --base-url, or drop --region' : 'unset PYLON_BASE_URL, or drop --region';
      throw new ConfigError(
        'CONFIG_INVALID_OPTION',
        `--region ${region} (${regional}) and ${other} (${shownUrl(raw)}) name different hosts: give one of them (${fix}).`,
        { option: '--region' },
      );
    }
    raw = regional;
  }
  raw ??= DEFAULT_BASE_URL;
  // A host and port typed without the scheme (`127.0.0.1:4010`, `localhost:4010`): say which URL it means.
  const schemeless = schemelessUrl(raw);
  if (schemeless !== undefined) {
    const meant = hideCredentials(schemeless);
    if (input.baseUrl !== undefined) throw invalidOption('--base-url', `an absolute http(s) URL (did you mean ${meant}?)`, hideCredentials(raw));
    throw new ConfigError('CONFIG_INVALID_OPTION', `PYLON_BASE_URL is not an absolute http(s) URL: ${JSON.stringify(hideCredentials(raw))} (did you mean ${meant}?)`, { option: '--base-url' });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidOption('--base-url', 'an absolute http(s) URL', hideCredentials(raw));
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
    throw invalidOption('--base-url', 'an http(s) URL', hideCredentials(raw));
  }
  return url.toString().replace(/\/+$/, '');
}

/** `host:port` or `host/path` without `scheme://`: the URL meant, http for a loopback host (the emulator), else https. */
function schemelessUrl(raw: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${raw}`);
  } catch {
    return undefined;
  }
  // A host name, an IPv4 address, or an IPv6 one in brackets (`[::1]:4010`), then a port and a path if any.
  if (!url.hostname || !/^([\w.-]+|\[[\da-f:.]+\])(:\d+)?(\/|$)/i.test(raw)) return undefined;
  // `0.0.0.0:4010` (an emulator listening on every interface, `--host 0.0.0.0`) is reached through loopback.
  const any = /^(0\.0\.0\.0|\[::\])(?=:|\/|$)/.exec(raw);
  if (any) return `http://${any[1] === '[::]' ? '[::1]' : '127.0.0.1'}${raw.slice(any[0].length)}`;
  return `${isLoopbackHost(url.hostname) ? 'http' : 'https'}://${raw}`;
}

export function resolveToken(input: { token?: string; env?: NodeJS.ProcessEnv }, baseUrl?: string): string {
  const env = input.env ?? process.env;
  const token = (input.token ?? env.PYLON_API_TOKEN ?? '').trim();
  if (!token) {
    // Rehearsing against the emulator (a loopback URL), the token to set is the one it prints, not one made in Pylon.
    const local = baseUrl !== undefined && isLoopbackHost(new URL(baseUrl).hostname);
    throw new ConfigError(
      'CONFIG_MISSING_TOKEN',
      local
        ? `No API token: set PYLON_API_TOKEN or pass --token. ${baseUrl} is a local server: against the emulator, use the token it prints (export PYLON_API_TOKEN=pylon-emulator-token, unless its --token names another).`
        : 'No API token: set PYLON_API_TOKEN or pass --token (create one in Pylon under Settings → API Tokens).',
      { option: '--token' },
    );
  }
  const source = input.token !== undefined ? '--token' : 'PYLON_API_TOKEN';
  checkToken(token, `The API token (${source})`, source);
  return token;
}

/**
 * The fewest characters an API token may have: the fewest the output masks (redact). Pylon's tokens
 * are far longer; a shorter value is a typo or a placeholder (`--token x`). It is refused rather than
 * sent because the tool could not keep it out of its output: masking every "x" in every message
 * would garble them, and not masking it would print the secret wherever its letters occur. The bar
 * is kept that low on purpose: another Pylon-compatible server may hand out short tokens.
 */
export const MIN_TOKEN_LENGTH = 4;

/**
 * Refuses (CONFIG_INVALID_OPTION, before any call) a token that cannot be sent in a header or is
 * too short to be real and to be kept out of the output. Neither message shows the value.
 */
export function checkToken(value: string, what: string, option: string): void {
  checkHeaderValue(value, what, option);
  const length = [...value].length;
  if (length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(
      'CONFIG_INVALID_OPTION',
      `${what} is ${length} character${length === 1 ? '' : 's'} long: an API token has at least ${MIN_TOKEN_LENGTH}, so this is not one (a placeholder or a cut-off paste?). Nothing was sent. Copy the whole token from Pylon (Settings → API Tokens); against the emulator, use the token it prints.`,
      { option },
    );
  }
}

/** What Node sends in a header value: tab, printable ASCII and the rest of Latin-1 (anything else is refused, ERR_INVALID_CHAR). */
const HEADER_UNSENDABLE = /[^\t\x20-\x7e\x80-\xff]/u;

/**
 * Refuses (CONFIG_INVALID_OPTION, before any call) a value the tool would put in an HTTP header
 * that holds a character a header cannot carry: a typographic quote pasted from a document, a
 * line break, an emoji. Sent, it fails in Node on every attempt and looks like a lost connection.
 * The message names the character's place and kind, never the value (it is a secret).
 */
export function checkHeaderValue(value: string, what: string, option: string): void {
  const match = HEADER_UNSENDABLE.exec(value);
  if (!match) return;
  const char = match[0];
  const codePoint = char.codePointAt(0)!;
  const position = [...value.slice(0, match.index)].length + 1;
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  const kind = /[\u2018-\u201f\u2032-\u2037\u00ab\u00bb\u2039\u203a]/u.test(char)
    ? `a typographic quote (${hex}), as a document or chat pastes around text`
    : codePoint < 0x20 || codePoint === 0x7f
      ? `a control character (${hex}${codePoint === 0x0a || codePoint === 0x0d ? ', a line break' : ''})`
      : `a character outside Latin-1 (${hex})`;
  throw new ConfigError(
    'CONFIG_INVALID_OPTION',
    `${what} holds a character that cannot be sent in an HTTP header: character ${position} of ${[...value].length} is ${kind}. Nothing was sent. Copy the token again as plain text, without quotes or spaces around it.`,
    { option },
  );
}

/** Parses "create=60,patch=60" into a full rate table; unknown keys and bad numbers are usage errors. */
export function resolveRates(rate: ConnectionOptionsInput['rate']): Record<EndpointKey, number> {
  return { ...DEFAULT_RATES, ...parseEndpointNumbers(rate, { flag: '--rate', unit: 'requests per minute' }) };
}

export function resolveIntegerOption(flag: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  // Number('') and Number(' ') are 0: an empty value is refused, not read as 0.
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalidOption(flag, `an integer from ${min} to ${max}`, value);
  }
  return n;
}

export function resolveConnectionOptions(input: ConnectionOptionsInput): ConnectionOptions {
  const baseUrl = resolveBaseUrl(input);
  return {
    baseUrl,
    token: resolveToken(input, baseUrl),
    concurrency: resolveIntegerOption('--concurrency', input.concurrency, 1, 64, 4),
    rates: resolveRates(input.rate),
    rateWindowMs: resolveIntegerOption('--rate-window', input.rateWindowMs, 100, 3_600_000, 60_000),
    timeoutMs: resolveIntegerOption('--timeout', input.timeoutMs, 100, 600_000, 30_000),
  };
}

/**
 * A word typed where a command or a file goes that may be an API token pasted there (`pylon-contacts <token> import
 * …`, `import <token>`): 20 characters or more, letters and digits, no space, no path separator and no file
 * extension. No redaction knows such a word (only --token and PYLON_API_TOKEN are known secrets), so the messages
 * about it give its length, not its text.
 */
export function mayBeToken(word: string): boolean {
  return word.length >= 20 && /[a-z]/i.test(word) && /\d/.test(word) && !/[\s/\\]/.test(word) && !/\.[a-z0-9]{1,5}(\.gz)?$/i.test(word);
}

/**
 * Replaces every occurrence of the token in a string. Used on every message that leaves the process.
 * A token shorter than MIN_TOKEN_LENGTH is refused before any use (checkToken); a value of one to
 * three characters is left as is here, because masking it would garble the very message that
 * refuses it (every "a" of the text for `--token a`), and that message never shows the value.
 */
export function redact(text: string, token: string | undefined): string {
  if (!token || token.length < MIN_TOKEN_LENGTH) return text;
  return text.split(token).join('[REDACTED]');
}
