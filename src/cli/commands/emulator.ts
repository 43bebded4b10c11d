/**
 * `pylon-contacts emulator`: serves the Pylon-compatible emulator until
 * SIGINT/SIGTERM. Prints the address on stderr and `PYLON_BASE_URL=…` on stdout.
 */
import type { Argv, CommandModule } from 'yargs';
import { counted } from '../../plural.js';
import { parseEndpointNumbers } from '../../rates.js';
import { DEFAULT_TOKEN, EMULATOR_ENDPOINTS, type EmulatorOptionsInput, type EndpointKey } from '../../emulator/options.js';
import { contextOf } from '../args.js';
import { isLoopbackHost, MIN_TOKEN_LENGTH } from '../../config.js';
import { ConfigError } from '../../errors.js';

export interface EmulatorArgv {
  host: string;
  port: number;
  token?: string[];
  seed?: string;
  seedRandom?: number;
  rateLimits: 'spec' | 'tiered' | 'off';
  rate?: string;
  windowMs?: number;
  retryAfterHeader: 'retry-after' | 'x-retry-after' | 'both';
  retryAfterFormat: 'seconds' | 'date' | 'past-date';
  remainingHeader: boolean;
  duplicateEmail: 'reject' | 'reject-plain' | 'allow' | 'merge';
  externalIdTaken: 'reject' | 'reject-plain' | 'per-label';
  validationStatus: 400 | 422;
  duplicateStatus: 400 | 409 | 422;
  patchEmail: 'replace' | 'demote' | 'add';
  contactExternalIds: boolean;
  errorBody: 'pylon' | 'message' | 'nested';
  emailMatch: 'insensitive' | 'sensitive';
  matchSecondaryEmails: boolean;
  lastPageCursor: 'empty' | 'null' | 'absent';
  hasNextPage: 'present' | 'absent';
  validation: 'strict' | 'lenient';
  emptyString: 'clears' | 'rejected' | 'ignored';
  createEmail: 'optional' | 'required';
  patchAnswer: 'contact' | 'empty' | 'no-content';
  createAnswer: 'contact' | 'empty' | 'no-content';
  customFieldsShape: 'map' | 'array';
  portalRoleSlugs: boolean;
  maxPageSize?: number;
  searchMaxValues?: number;
  searchLagMs?: number;
  maxBodyBytes?: number;
  listChurn?: number;
  listShuffle: boolean;
  listLagMs?: number;
  latencyMs?: number;
  jitterMs?: number;
  faultRate?: number;
  dropRate?: number;
  slowRate?: number;
  slowMs?: number;
  randomSeed?: number;
}

/** "list=600,create=30" → per-endpoint limits (requests per window). */
export function parseRateOverrides(text: string | undefined): Partial<Record<EndpointKey, number>> {
  return parseEndpointNumbers(text, { flag: '--rate', unit: 'requests per window', integer: true, pairs: true, endpoints: EMULATOR_ENDPOINTS });
}

export function emulatorOptionsFromArgv(argv: EmulatorArgv): EmulatorOptionsInput {
  // A token the CLI refuses (checkToken) would make an emulator no command can talk to: refused here the same way, never shown.
  for (const token of argv.token ?? []) {
    const length = [...token].length;
    if (length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(
        'CONFIG_INVALID_OPTION',
        `Invalid option \`--token\`: a token of ${length} character${length === 1 ? '' : 's'} is one the CLI refuses (an API token has at least ${MIN_TOKEN_LENGTH}), so no command could use this emulator. Give a token of ${MIN_TOKEN_LENGTH} characters or more, or leave --token out to use ${DEFAULT_TOKEN}.`,
        { option: '--token' },
      );
    }
  }
  return {
    host: argv.host,
    port: argv.port,
    tokens: argv.token?.length ? argv.token : [DEFAULT_TOKEN],
    seedFile: argv.seed,
    seedRandom: argv.seedRandom,
    rateLimits: argv.rateLimits,
    rateOverrides: parseRateOverrides(argv.rate),
    windowMs: argv.windowMs,
    retryAfterHeader: argv.retryAfterHeader,
    retryAfterFormat: argv.retryAfterFormat,
    remainingHeader: argv.remainingHeader,
    duplicateEmail: argv.duplicateEmail,
    externalIdTaken: argv.externalIdTaken,
    validationStatus: argv.validationStatus,
    duplicateStatus: argv.duplicateStatus,
    patchEmail: argv.patchEmail,
    contactExternalIds: argv.contactExternalIds,
    errorBody: argv.errorBody,
    emailMatch: argv.emailMatch,
    matchSecondaryEmails: argv.matchSecondaryEmails,
    lastPageCursor: argv.lastPageCursor,
    hasNextPage: argv.hasNextPage,
    validation: argv.validation,
    emptyString: argv.emptyString,
    createEmail: argv.createEmail,
    patchAnswer: argv.patchAnswer,
    createAnswer: argv.createAnswer,
    customFieldsShape: argv.customFieldsShape,
    portalRoleSlugs: argv.portalRoleSlugs,
    maxPageSize: argv.maxPageSize,
    searchMaxValues: argv.searchMaxValues,
    searchLagMs: argv.searchLagMs,
    maxBodyBytes: argv.maxBodyBytes,
    listChurn: argv.listChurn,
    listShuffle: argv.listShuffle,
    listLagMs: argv.listLagMs,
    latencyMs: argv.latencyMs,
    jitterMs: argv.jitterMs,
    faults: { errorRate: argv.faultRate, dropRate: argv.dropRate, slowRate: argv.slowRate, slowMs: argv.slowMs },
    seed: argv.randomSeed,
  };
}

/**
 * How to reach an emulator that listens beyond loopback: the CLI sends its token over plain http to
 * a loopback address only (resolveBaseUrl), so another machine goes through a tunnel. Nothing to say
 * for a loopback host.
 */
export function reachHint(host: string, port: number, url: string): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  const tunnel = (target: string) => `forward a local port to it (ssh -L ${port}:${target}:${port} <this machine>) and use PYLON_BASE_URL=http://127.0.0.1:${port} there`;
  if (host === '0.0.0.0' || host === '::') {
    return `Listening on every interface (--host ${host}); PYLON_BASE_URL below is this machine's loopback address, because the CLI sends its token over plain http to loopback only. From another machine, ${tunnel('127.0.0.1')}.`;
  }
  return `The CLI sends its token over plain http to loopback only, so it refuses ${url}: listen on 127.0.0.1 (the default) or 0.0.0.0 to use it from this machine; from another, ${tunnel(host.includes(':') ? `[${host}]` : host)}.`;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export const emulatorCommand: CommandModule<object, EmulatorArgv> = {
  command: 'emulator',
  describe: 'Run a local Pylon-compatible API (contacts, custom fields, accounts, /me) for tests and demos',
  builder: (yargs: Argv) =>
    yargs
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on; with 0.0.0.0 (every interface) PYLON_BASE_URL still names 127.0.0.1: the CLI sends a token over plain http to loopback only' })
      .option('port', { type: 'number', default: 4010, describe: 'Port (0 picks a free one)' })
      .option('token', { type: 'string', array: true, describe: `Accepted API token(s), at least 4 characters each (as the CLI needs); repeat for several`, defaultDescription: DEFAULT_TOKEN })
      .option('seed', { type: 'string', describe: 'Seed contacts from a .json or .csv file (the import/export columns)' })
      .option('seed-random', { type: 'number', describe: 'Add N random contacts (1,000,000 takes seconds)' })
      .option('rate-limits', { choices: ['spec', 'tiered', 'off'] as const, default: 'spec' as const, describe: 'Rate-limit preset: spec 60/min (search 20, delete 10), tiered 30/120/300, off' })
      .option('rate', { type: 'string', describe: 'Per-endpoint overrides, requests per window, e.g. list=600,create=30' })
      .option('window-ms', { type: 'number', describe: 'Length of a rate-limit "minute" in ms', defaultDescription: '60000' })
      .option('retry-after-header', { choices: ['retry-after', 'x-retry-after', 'both'] as const, default: 'both' as const, describe: 'Header(s) a 429 carries' })
      .option('retry-after-format', { choices: ['seconds', 'date', 'past-date'] as const, default: 'seconds' as const, describe: "How Retry-After states the wait: seconds, an HTTP date that far ahead, or past-date (an HTTP date an hour ago, as a server whose clock is behind sends); X-Retry-After is always seconds" })
      .option('remaining-header', { type: 'boolean', default: true, describe: 'Send X-Rate-Limit-Remaining on limited endpoints' })
      .option('external-id-taken', { choices: ['reject', 'reject-plain', 'per-label'] as const, default: 'reject' as const, describe: 'A contact external id another contact holds: reject (400 + exists_id), reject-plain (400 without exists_id) or per-label (unique per label and id only; unknown: all offered)' })
      .option('duplicate-email', { choices: ['reject', 'reject-plain', 'allow', 'merge'] as const, default: 'reject' as const, describe: 'Create with an email already in use: reject (400 + exists_id), reject-plain (400 without exists_id), allow (a second contact) or merge (200 with the existing contact, the body applied to it) (unknown: all offered)' })
      .option('validation-status', { choices: [400, 422] as const, default: 400 as const, describe: 'Status of a validation refusal (bad field, bad JSON): 400 (the spec) or 422 (unknown: both offered)' })
      .option('duplicate-status', { choices: [400, 409, 422] as const, default: 400 as const, describe: 'Status of a duplicate refusal (email, external id): 400 (the spec), 409 or 422 (unknown: all offered)' })
      .option('patch-email', { choices: ['replace', 'demote', 'add'] as const, default: 'replace' as const, describe: "email on PATCH: replace the primary (the old one is gone), demote (the old primary stays as a secondary) or add (joins as a secondary; the primary stays) (unknown: all offered)" })
      .option('contact-external-ids', { type: 'boolean', default: false, describe: 'GET, PATCH and DELETE /contacts/{id} also take a contact external id (a third-party client says Pylon does; the spec says by id only)' })
      .option('error-body', { choices: ['pylon', 'message', 'nested'] as const, default: 'pylon' as const, describe: "Error bodies: pylon ({errors: [...], code, request_id}, the docs), message ({message, code, request_id}) or nested ({error: {message, code}, request_id}), as third-party clients read them" })
      .option('email-match', { choices: ['insensitive', 'sensitive'] as const, default: 'insensitive' as const, describe: 'Case rule of email search and duplicate checks' })
      .option('match-secondary-emails', { type: 'boolean', default: true, describe: 'Whether email filters and duplicate checks see secondary emails' })
      .option('last-page-cursor', { choices: ['empty', 'null', 'absent'] as const, default: 'empty' as const, describe: 'pagination.cursor on the last page: "", null or no key' })
      .option('has-next-page', { choices: ['present', 'absent'] as const, default: 'present' as const, describe: 'pagination.has_next_page on every page (the schema) or left out' })
      .option('validation', { choices: ['strict', 'lenient'] as const, default: 'strict' as const, describe: "strict: the emulator's own format checks; lenient: only what Pylon's spec and docs state" })
      .option('empty-string', { choices: ['clears', 'rejected', 'ignored'] as const, default: 'clears' as const, describe: '"" on avatar_url, portal_role_id, primary_phone_number: clears (third-party live probe), rejected (400) or ignored' })
      .option('create-email', { choices: ['optional', 'required'] as const, default: 'optional' as const, describe: 'email on POST /contacts: optional (spec, newer docs) or required (older docs revision)' })
      .option('patch-answer', { choices: ['contact', 'empty', 'no-content'] as const, default: 'contact' as const, describe: 'A successful PATCH /contacts/{id} answers: contact (the spec), empty (200 {} without data) or no-content (204)' })
      .option('create-answer', { choices: ['contact', 'empty', 'no-content', 'empty-data', 'no-id'] as const, default: 'contact' as const, describe: 'A successful POST /contacts answers: contact (the spec), empty (200 {} without data), no-content (204), empty-data (200 {"data": {}}) or no-id (the contact without its id)' })
      .option('custom-fields-shape', { choices: ['map', 'array'] as const, default: 'map' as const, describe: "A contact's custom_fields as answered: map (keyed by slug, the spec) or array ([{slug, value}], the write shape)" })
      .option('portal-role-slugs', { type: 'boolean', default: false, describe: 'Accept a custom role slug in portal_role (older docs revision); kept as portal_role_id' })
      .option('max-page-size', { type: 'number', describe: 'Largest limit a list or search takes (Pylon: 999); more gets 400 "limit must be between 1 and N"', defaultDescription: '999' })
      .option('search-max-values', { type: 'number', describe: 'Most values an in/not_in search filter takes; more gets a 400 (0 = no cap)', defaultDescription: '0' })
      .option('search-lag-ms', { type: 'number', describe: 'New and changed contacts are invisible to search for this long', defaultDescription: '0' })
      .option('max-body-bytes', { type: 'number', describe: 'Largest request body taken; a larger one gets 413 Payload Too Large', defaultDescription: '1048576' })
      .option('list-churn', { type: 'number', describe: 'While GET /contacts is walked, insert and delete this many contacts each (newest-first list, offset cursors)', defaultDescription: '0' })
      .option('list-lag-ms', { type: 'number', describe: 'Contacts created through the API are missing from GET /contacts for this long (a list that lags behind writes)', defaultDescription: '0' })
      .option('list-shuffle', { type: 'boolean', default: false, describe: 'GET /contacts in another order on every request (offset cursors): a walk of several pages misses some contacts' })
      .option('latency-ms', { type: 'number', describe: 'Added to every answer', defaultDescription: '0' })
      .option('jitter-ms', { type: 'number', describe: 'Random extra latency, uniform 0..N ms', defaultDescription: '0' })
      .option('fault-rate', { type: 'number', describe: 'Probability of a 500/502/503 instead of handling a request', defaultDescription: '0' })
      .option('drop-rate', { type: 'number', describe: 'Probability of closing the connection without answering', defaultDescription: '0' })
      .option('slow-rate', { type: 'number', describe: 'Probability of a slow answer', defaultDescription: '0' })
      .option('slow-ms', { type: 'number', describe: 'Delay of a slow answer', defaultDescription: '5000' })
      .option('random-seed', { type: 'number', describe: 'PRNG seed: ids, jitter, faults and --seed-random data repeat', defaultDescription: 'random' })
      .example('$0 emulator --seed samples/seed.json', 'Serve the demo org on http://127.0.0.1:4010')
      .example('$0 emulator --port 0 --rate-limits off --seed-random 100000', 'A big store on a free port, no limits')
      .example('$0 emulator --rate-limits spec --window-ms 1000 --fault-rate 0.05', 'Fast "minutes" and 5% server errors') as unknown as Argv<EmulatorArgv>,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    const { createEmulator } = await import('../../emulator/index.js');
    const emulator = await createEmulator(emulatorOptionsFromArgv(argv));
    const limits = emulator.options.rateLimits === 'off' && Object.keys(emulator.options.limits).length === 0 ? 'off' : emulator.options.rateLimits;
    // The default token is a public constant; a token given with --token is never echoed.
    const token = emulator.token === DEFAULT_TOKEN ? DEFAULT_TOKEN : 'as given with --token';
    ctx.stderr.write(`Pylon emulator listening at ${emulator.url} (token: ${token}; ${counted(emulator.store.size, 'contact')}; rate limits ${limits})\n`);
    const hint = reachHint(argv.host, emulator.port, emulator.url);
    if (hint) ctx.stderr.write(`${hint}\n`);
    ctx.stdout.write(`PYLON_BASE_URL=${emulator.url}\n`);
    const signal = await untilSignal();
    ctx.stderr.write(`${signal}: stopping the emulator\n`);
    await emulator.close();
    ctx.exitCode = 0;
  },
};
