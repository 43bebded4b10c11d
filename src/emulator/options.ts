/**
 * Emulator options: the raw input (all optional) and the resolved form, with
 * every default in resolveEmulatorOptions. Bad values throw ConfigError with
 * the project's "Invalid option …: expected …, got …" grammar.
 */
import { ENDPOINTS, parseEndpointNumbers, SPEC_RATES } from '../rates.js';
import { invalidOption } from '../errors.js';
import type { Account, CustomFieldDefinition, Me } from '../pylon/types.js';
import { DEFAULT_ACCOUNTS, DEFAULT_CUSTOM_FIELDS, DEFAULT_ME } from './default-org.js';

/** The client's endpoint keys plus routes only the emulator serves (the CLI never calls them). */
export const EMULATOR_ENDPOINTS = [...ENDPOINTS, 'import', 'accountsSearch', 'accountsCreate'] as const;
export type EndpointKey = (typeof EMULATOR_ENDPOINTS)[number];

export type RatePreset = 'spec' | 'tiered' | 'off';
export type RetryAfterHeader = 'retry-after' | 'x-retry-after' | 'both';
/**
 * How `Retry-After` states its wait: delta-seconds, an HTTP date that far ahead, or an HTTP date an hour in the
 * past (a server whose clock is behind). `X-Retry-After` is always seconds.
 */
export type RetryAfterFormat = 'seconds' | 'date' | 'past-date';
export type LastPageCursor = 'empty' | 'null' | 'absent';
/** Whether pages carry `pagination.has_next_page` (the schema requires it) or leave it out. */
export type HasNextPage = 'present' | 'absent';
/** What a create with an email already in use gets: 400 + exists_id, 400 without it, a second contact, or (merge) 200 with the holder, the body applied to it as a PATCH. */
export type DuplicateEmailPolicy = 'reject' | 'reject-plain' | 'allow' | 'merge';
/**
 * A contact external id another contact already holds: Pylon's docs say the id is
 * unique per object type (any label); its answer is undocumented. `reject`: 400 +
 * exists_id; `reject-plain`: 400 without it; `per-label`: unique per (label, id)
 * only, so another label may hold the same id.
 */
export type ExternalIdTakenPolicy = 'reject' | 'reject-plain' | 'per-label';
/** strict: the emulator's own format checks; lenient: only what Pylon's spec and docs state. */
export type ValidationMode = 'strict' | 'lenient';
/** What `""` on an optional string (avatar_url, portal_role_id, primary_phone_number) does. */
export type EmptyStringMode = 'clears' | 'rejected' | 'ignored';
/** Whether create needs `email`: optional (newer docs revision 000, spec) or required (older revision 002). */
export type CreateEmailMode = 'optional' | 'required';
/**
 * What a successful write answers: the contact (Pylon's spec), 200 with `{}` (no
 * `data`), or 204 without a body, as some servers and proxies do.
 */
export type WriteAnswer = 'contact' | 'empty' | 'no-content';
/** A create may also answer `{"data": {}}` (`empty-data`) or the contact without its `id` (`no-id`): a 2xx that does not say which contact it made. */
export type CreateAnswer = WriteAnswer | 'empty-data' | 'no-id';
/**
 * The status of a refusal (Pylon's spec: 400; 422 is the other common choice, which two
 * third-party clients map, S12 and S14): `validationStatus` for invalid requests and bad JSON,
 * `duplicateStatus` for a taken email, external id or id (409 is the other plausible one).
 */
export type ValidationStatus = 400 | 422;
export type DuplicateStatus = 400 | 409 | 422;
/**
 * What `email` on PATCH does to a contact that has other addresses (undocumented, §10 q7): `replace` the primary
 * (the old primary is gone), `demote` (the new address is primary, the old one stays as a secondary) or `add`
 * (the address joins as a secondary; the primary stays; a contact without an email gets it as its primary).
 */
export type PatchEmailMode = 'replace' | 'demote' | 'add';
/**
 * The body of an error: Pylon's documented envelope (`pylon`: `errors[]`, S6), or the shapes third-party clients
 * parse (S12: `message`, or `error.message`), which Pylon's docs do not show.
 */
export type ErrorBodyShape = 'pylon' | 'message' | 'nested';
/** How a contact's `custom_fields` is answered: keyed by slug (Pylon's read shape) or as the write shape's array. */
export type CustomFieldsShape = 'map' | 'array';

export interface FaultOptions {
  /** Probability (0–1) of answering 500, 502 or 503 (equally likely) instead of handling the request. */
  errorRate?: number;
  /** Probability of destroying the connection without an answer (the request is not applied). */
  dropRate?: number;
  /** Probability of waiting `slowMs` before handling the request. */
  slowRate?: number;
  slowMs?: number;
}

export interface EmulatorOptionsInput {
  host?: string;
  port?: number;
  tokens?: string[];
  rateLimits?: RatePreset;
  rateOverrides?: Partial<Record<EndpointKey, number>>;
  /** Length of a rate-limit "minute" in ms (default 60000; tests use 1000). */
  windowMs?: number;
  retryAfterHeader?: RetryAfterHeader;
  retryAfterFormat?: RetryAfterFormat;
  remainingHeader?: boolean;
  duplicateEmail?: DuplicateEmailPolicy;
  externalIdTaken?: ExternalIdTakenPolicy;
  validationStatus?: ValidationStatus;
  duplicateStatus?: DuplicateStatus;
  patchEmail?: PatchEmailMode;
  /** `/contacts/{id}` (GET, PATCH, DELETE) also takes a contact external id, as a third-party client says Pylon's does (S9). */
  contactExternalIds?: boolean;
  errorBody?: ErrorBodyShape;
  emailMatch?: 'insensitive' | 'sensitive';
  matchSecondaryEmails?: boolean;
  lastPageCursor?: LastPageCursor;
  hasNextPage?: HasNextPage;
  validation?: ValidationMode;
  emptyString?: EmptyStringMode;
  createEmail?: CreateEmailMode;
  /** What a successful PATCH /contacts/{id} answers. */
  patchAnswer?: WriteAnswer;
  /** What a successful POST /contacts answers. */
  createAnswer?: CreateAnswer;
  customFieldsShape?: CustomFieldsShape;
  /** Accept a custom portal-role slug in `portal_role` (stored as portal_role_id). */
  portalRoleSlugs?: boolean;
  /** Largest `limit` a list or search takes (Pylon's docs: 999); more gets a 400 naming it. */
  maxPageSize?: number;
  /** Most entries of `values` an `in`/`not_in` search filter takes (0 = no cap). */
  searchMaxValues?: number;
  /** New and changed contacts are invisible to search for this long (ms). */
  searchLagMs?: number;
  /** Largest request body taken; a larger one gets 413 (Payload Too Large), as a server or proxy in front of Pylon answers. */
  maxBodyBytes?: number;
  /** Contacts inserted and deleted while GET /contacts is walked: this many of each (0 = off). */
  listChurn?: number;
  /** GET /contacts in another order on every request (offset cursors): a walk of several pages misses some contacts and repeats others. */
  listShuffle?: boolean;
  /** Contacts created through the API are missing from GET /contacts for this long (ms): a list that lags behind writes. */
  listLagMs?: number;
  latencyMs?: number;
  jitterMs?: number;
  faults?: FaultOptions;
  /** PRNG seed: ids, jitter, random faults and --seed-random data repeat for the same seed. */
  seed?: number;
  seedFile?: string;
  seedRandom?: number;
  customFields?: CustomFieldDefinition[];
  accounts?: Account[];
  me?: Me;
  /** Clock for rate-limit windows (tests). */
  now?: () => number;
}

export interface EmulatorOptions {
  host: string;
  port: number;
  tokens: string[];
  rateLimits: RatePreset;
  /** Requests per window per endpoint; absent = unlimited. */
  limits: Partial<Record<EndpointKey, number>>;
  windowMs: number;
  retryAfterHeader: RetryAfterHeader;
  retryAfterFormat: RetryAfterFormat;
  remainingHeader: boolean;
  duplicateEmail: DuplicateEmailPolicy;
  externalIdTaken: ExternalIdTakenPolicy;
  validationStatus: ValidationStatus;
  duplicateStatus: DuplicateStatus;
  patchEmail: PatchEmailMode;
  contactExternalIds: boolean;
  errorBody: ErrorBodyShape;
  emailMatch: 'insensitive' | 'sensitive';
  matchSecondaryEmails: boolean;
  lastPageCursor: LastPageCursor;
  hasNextPage: HasNextPage;
  validation: ValidationMode;
  emptyString: EmptyStringMode;
  createEmail: CreateEmailMode;
  patchAnswer: WriteAnswer;
  createAnswer: CreateAnswer;
  customFieldsShape: CustomFieldsShape;
  portalRoleSlugs: boolean;
  maxPageSize: number;
  searchMaxValues: number;
  searchLagMs: number;
  maxBodyBytes: number;
  listChurn: number;
  listShuffle: boolean;
  listLagMs: number;
  latencyMs: number;
  jitterMs: number;
  faults: Required<FaultOptions>;
  seed: number;
  seedFile?: string;
  seedRandom: number;
  customFields: CustomFieldDefinition[];
  accounts: Account[];
  me: Me;
  now: () => number;
}

export const DEFAULT_TOKEN = 'pylon-emulator-token';
export const DEFAULT_WINDOW_MS = 60_000;

/** `spec`: the "Rate limit: N requests per minute" lines of Pylon's OpenAPI spec (the client's default pacing too). */
const SPEC_LIMITS: Record<EndpointKey, number> = { ...SPEC_RATES, import: 20, accountsSearch: 20, accountsCreate: 60 };

/** `tiered`: the 30/120/300 tiers of Pylon's rate-limit page, mapped as pylon-api.md §2 reads them. */
const TIERED_LIMITS: Record<EndpointKey, number> = {
  list: 300, get: 300, create: 30, patch: 120, delete: 30, search: 120, customFields: 300, accounts: 300, me: 300,
  import: 30, accountsSearch: 120, accountsCreate: 30,
};

export const RATE_PRESETS: Record<RatePreset, Partial<Record<EndpointKey, number>>> = {
  spec: SPEC_LIMITS,
  tiered: TIERED_LIMITS,
  off: {},
};

/** Option names as the CLI spells them, so a bad value names the flag to fix. */
const FLAG: Record<string, string> = {
  host: '--host',
  port: '--port',
  tokens: '--token',
  rateLimits: '--rate-limits',
  rateOverrides: '--rate',
  windowMs: '--window-ms',
  retryAfterHeader: '--retry-after-header',
  retryAfterFormat: '--retry-after-format',
  remainingHeader: '--remaining-header',
  duplicateEmail: '--duplicate-email',
  externalIdTaken: '--external-id-taken',
  validationStatus: '--validation-status',
  duplicateStatus: '--duplicate-status',
  patchEmail: '--patch-email',
  contactExternalIds: '--contact-external-ids',
  errorBody: '--error-body',
  emailMatch: '--email-match',
  matchSecondaryEmails: '--match-secondary-emails',
  lastPageCursor: '--last-page-cursor',
  hasNextPage: '--has-next-page',
  validation: '--validation',
  emptyString: '--empty-string',
  createEmail: '--create-email',
  patchAnswer: '--patch-answer',
  createAnswer: '--create-answer',
  customFieldsShape: '--custom-fields-shape',
  portalRoleSlugs: '--portal-role-slugs',
  maxPageSize: '--max-page-size',
  searchMaxValues: '--search-max-values',
  searchLagMs: '--search-lag-ms',
  maxBodyBytes: '--max-body-bytes',
  listChurn: '--list-churn',
  listShuffle: '--list-shuffle',
  listLagMs: '--list-lag-ms',
  latencyMs: '--latency-ms',
  jitterMs: '--jitter-ms',
  'faults.errorRate': '--fault-rate',
  'faults.dropRate': '--drop-rate',
  'faults.slowRate': '--slow-rate',
  'faults.slowMs': '--slow-ms',
  faults: '--fault-rate + --drop-rate',
  seed: '--random-seed',
  seedRandom: '--seed-random',
};

function oneOf<T extends string>(flag: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalidOption(FLAG[flag] ?? flag, `one of ${allowed.join(', ')}`, value);
}

function statusOf<T extends number>(flag: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  throw invalidOption(FLAG[flag] ?? flag, `one of ${allowed.join(', ')}`, value);
}

function numberIn(flag: string, value: unknown, min: number, max: number, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) throw invalidOption(FLAG[flag] ?? flag, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`, value);
  return value as number;
}

function bool(flag: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(FLAG[flag] ?? flag, 'true or false', value);
  return value;
}

export function resolveEmulatorOptions(input: EmulatorOptionsInput = {}): EmulatorOptions {
  const rateLimits = oneOf('rateLimits', input.rateLimits, ['spec', 'tiered', 'off'], 'off');
  const limits: Partial<Record<EndpointKey, number>> = {
    ...RATE_PRESETS[rateLimits],
    ...parseEndpointNumbers(input.rateOverrides, { flag: FLAG.rateOverrides!, unit: 'requests per window', integer: true, endpoints: EMULATOR_ENDPOINTS }),
  };
  const tokens = input.tokens ?? [DEFAULT_TOKEN];
  if (!Array.isArray(tokens) || tokens.length === 0 || tokens.some((t) => typeof t !== 'string' || t.trim() === '' || /\s/.test(t))) {
    throw invalidOption(FLAG.tokens, 'a non-empty list of tokens without spaces', Array.isArray(tokens) ? `${tokens.length} token(s)` : tokens);
  }
  const faults = input.faults ?? {};
  const resolved: EmulatorOptions = {
    host: typeof input.host === 'string' && input.host !== '' ? input.host : '127.0.0.1',
    port: numberIn('port', input.port, 0, 65535, 0),
    tokens: [...tokens],
    rateLimits,
    limits,
    windowMs: numberIn('windowMs', input.windowMs, 1, 86_400_000, DEFAULT_WINDOW_MS),
    retryAfterHeader: oneOf('retryAfterHeader', input.retryAfterHeader, ['retry-after', 'x-retry-after', 'both'], 'both'),
    retryAfterFormat: oneOf('retryAfterFormat', input.retryAfterFormat, ['seconds', 'date', 'past-date'], 'seconds'),
    remainingHeader: bool('remainingHeader', input.remainingHeader, true),
    duplicateEmail: oneOf('duplicateEmail', input.duplicateEmail, ['reject', 'reject-plain', 'allow', 'merge'], 'reject'),
    externalIdTaken: oneOf('externalIdTaken', input.externalIdTaken, ['reject', 'reject-plain', 'per-label'], 'reject'),
    validationStatus: statusOf('validationStatus', input.validationStatus, [400, 422], 400),
    duplicateStatus: statusOf('duplicateStatus', input.duplicateStatus, [400, 409, 422], 400),
    errorBody: oneOf('errorBody', input.errorBody, ['pylon', 'message', 'nested'], 'pylon'),
    contactExternalIds: bool('contactExternalIds', input.contactExternalIds, false),
    patchEmail: oneOf('patchEmail', input.patchEmail, ['replace', 'demote', 'add'], 'replace'),
    emailMatch: oneOf('emailMatch', input.emailMatch, ['insensitive', 'sensitive'], 'insensitive'),
    matchSecondaryEmails: bool('matchSecondaryEmails', input.matchSecondaryEmails, true),
    lastPageCursor: oneOf('lastPageCursor', input.lastPageCursor, ['empty', 'null', 'absent'], 'empty'),
    hasNextPage: oneOf('hasNextPage', input.hasNextPage, ['present', 'absent'], 'present'),
    validation: oneOf('validation', input.validation, ['strict', 'lenient'], 'strict'),
    emptyString: oneOf('emptyString', input.emptyString, ['clears', 'rejected', 'ignored'], 'clears'),
    createEmail: oneOf('createEmail', input.createEmail, ['optional', 'required'], 'optional'),
    patchAnswer: oneOf('patchAnswer', input.patchAnswer, ['contact', 'empty', 'no-content'], 'contact'),
    createAnswer: oneOf('createAnswer', input.createAnswer, ['contact', 'empty', 'no-content', 'empty-data', 'no-id'], 'contact'),
    customFieldsShape: oneOf('customFieldsShape', input.customFieldsShape, ['map', 'array'], 'map'),
    portalRoleSlugs: bool('portalRoleSlugs', input.portalRoleSlugs, false),
    maxPageSize: numberIn('maxPageSize', input.maxPageSize, 1, 999, 999),
    searchMaxValues: numberIn('searchMaxValues', input.searchMaxValues, 0, 1_000_000, 0),
    searchLagMs: numberIn('searchLagMs', input.searchLagMs, 0, 600_000, 0),
    maxBodyBytes: numberIn('maxBodyBytes', input.maxBodyBytes, 1, 64 * 1024 * 1024, 1024 * 1024),
    listChurn: numberIn('listChurn', input.listChurn, 0, 1_000_000, 0),
    listShuffle: bool('listShuffle', input.listShuffle, false),
    listLagMs: numberIn('listLagMs', input.listLagMs, 0, 600_000, 0),
    latencyMs: numberIn('latencyMs', input.latencyMs, 0, 600_000, 0),
    jitterMs: numberIn('jitterMs', input.jitterMs, 0, 600_000, 0),
    faults: {
      errorRate: numberIn('faults.errorRate', faults.errorRate, 0, 1, 0, false),
      dropRate: numberIn('faults.dropRate', faults.dropRate, 0, 1, 0, false),
      slowRate: numberIn('faults.slowRate', faults.slowRate, 0, 1, 0, false),
      slowMs: numberIn('faults.slowMs', faults.slowMs, 0, 600_000, 5_000),
    },
    seed: numberIn('seed', input.seed, 0, 2 ** 32 - 1, Math.floor(Math.random() * 2 ** 32)),
    seedFile: input.seedFile,
    seedRandom: numberIn('seedRandom', input.seedRandom, 0, 10_000_000, 0),
    customFields: input.customFields ?? DEFAULT_CUSTOM_FIELDS,
    accounts: input.accounts ?? DEFAULT_ACCOUNTS,
    me: input.me ?? DEFAULT_ME,
    now: input.now ?? Date.now,
  };
  if (resolved.faults.errorRate + resolved.faults.dropRate > 1) {
    throw invalidOption(FLAG.faults, 'a fault rate and drop rate adding up to at most 1', resolved.faults.errorRate + resolved.faults.dropRate);
  }
  return resolved;
}
