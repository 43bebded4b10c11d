/**
 * The command-line flags, one group per subsystem, each flag declared here once: connection,
 * summary, input, mapping, write policy and outputs. A group is a yargs options object plus
 * the function that turns the parsed flags into that group's typed options
 * (src/import/options.ts, src/config.ts). Commands compose the groups they need; where a
 * command words a flag for its own context (apply's --errors names the plan), it spreads the
 * definition here and changes only the help text, so type, default and choices stay one.
 *
 * Which help section a flag shows under is src/cli/help.ts's GROUPS (by name); within the
 * ungrouped "Options:" section, help lists flags in the order a command adds them.
 */
import { resolve } from 'node:path';
import { invalidOption } from '../errors.js';
import type { Options } from 'yargs';
import type { ConnectionOptionsInput } from '../config.js';
import type { InputOptionsInput, MappingOptionsInput, OutputOptionsInput, WritePolicyOptionsInput } from '../import/options.js';

// ── Connection: where Pylon is and how hard to call it (resolved by src/config.ts) ──

export const connectionOptions = {
  'base-url': {
    type: 'string',
    describe: 'Pylon API base URL (env PYLON_BASE_URL). Plain http is refused except on loopback',
    defaultDescription: 'https://api.usepylon.com',
  },
  region: {
    type: 'string',
    choices: ['us', 'eu'],
    describe: 'Use the US or EU API host (refused with a --base-url or PYLON_BASE_URL naming another host)',
  },
  token: {
    type: 'string',
    describe: 'API token (env PYLON_API_TOKEN; prefer the env var: flags show up in ps). Never printed',
  },
  concurrency: {
    type: 'number',
    describe: 'Most requests in flight at once (export: above 1, the next page is fetched while this one is written)',
    default: 4,
  },
  rate: {
    type: 'string',
    describe: 'Client-side pacing per endpoint, requests per --rate-window (a minute by default), e.g. create=60,patch=60,search=20,list=60',
  },
  'rate-window': {
    type: 'number',
    describe: 'Length of the rate-limit window --rate counts in, ms (Pylon: a minute; match the emulator\'s --window-ms)',
    default: 60000,
  },
  timeout: {
    type: 'number',
    describe: 'Per-request timeout in milliseconds',
    default: 30000,
  },
} satisfies Record<string, Options>;

export interface ConnectionArgv {
  baseUrl?: string;
  region?: string;
  token?: string;
  concurrency?: number;
  rate?: string;
  rateWindow?: number;
  timeout?: number;
}

/** The connection group from its flags and the environment. */
export function connectionFromArgv(argv: ConnectionArgv, env: NodeJS.ProcessEnv): ConnectionOptionsInput {
  return {
    baseUrl: argv.baseUrl,
    region: argv.region,
    token: argv.token,
    env,
    concurrency: argv.concurrency,
    rate: argv.rate,
    rateWindowMs: argv.rateWindow,
    timeoutMs: argv.timeout,
  };
}

// ── Summary: how a command that talks to Pylon reports on the terminal (read by the command itself) ──

export const summaryOptions = {
  json: {
    type: 'boolean',
    describe: 'Print a machine-readable summary on stdout',
    default: false,
  },
  quiet: {
    type: 'boolean',
    alias: 'q',
    describe: 'No progress output on stderr (the summary is still printed)',
    default: false,
  },
} satisfies Record<string, Options>;

export interface SummaryArgv {
  json?: boolean;
  quiet?: boolean;
}

/** The flags of every command that talks to Pylon: the connection and the summary. */
export const apiCommandOptions = { ...connectionOptions, ...summaryOptions } satisfies Record<string, Options>;
export type ApiCommandArgv = ConnectionArgv & SummaryArgv;

// ── Input: how the rows are read (src/input/) ──

/** How any row file is read (CSV and the formats below). */
export const inputOptions = {
  delimiter: { type: 'string', describe: 'Field delimiter (, ; tab |); sniffed when omitted' },
  encoding: { type: 'string', describe: 'Encoding of a CSV or JSON input, e.g. windows-1252, latin1, utf16le (BOMs are detected)', defaultDescription: 'utf8' },
} satisfies Record<string, Options>;

/** Files other than CSV (import only: update reads CSV). */
export const inputFormatOptions = {
  format: { type: 'string', choices: ['auto', 'csv', 'xlsx', 'json', 'ndjson'], describe: 'Input format', defaultDescription: 'from the extension (.xlsx, .json, .ndjson/.jsonl; else CSV)' },
  sheet: { type: 'string', describe: 'XLSX: the sheet to read, by name or number', defaultDescription: 'the first sheet' },
} satisfies Record<string, Options>;

export type InputArgv = Omit<InputOptionsInput, 'input'> & { file: string };

/** The input group: the file (`-` is stdin; a path resolves from `cwd`) and how it is read. */
export function inputFromArgv(argv: InputArgv, cwd: string): InputOptionsInput {
  return {
    input: argv.file === '-' ? '-' : resolve(cwd, argv.file),
    delimiter: argv.delimiter,
    encoding: argv.encoding,
    format: argv.format,
    sheet: argv.sheet,
  };
}

// ── Mapping: how columns become Pylon fields ──

export const mappingOptions = {
  map: { type: 'string', describe: 'JSON file mapping other header names onto fields, e.g. {"Full Name": "name"}' },
  'ignore-unknown-columns': { type: 'boolean', default: false, describe: 'Ignore the file\'s columns that map to no field instead of stopping (a --set field is always checked)' },
  'clear-token': { type: 'string', describe: 'A cell holding exactly this clears the field (e.g. #N/A); empty cells leave fields unchanged' },
  lenient: { type: 'boolean', default: false, describe: "Send values that only the CLI's own checks refuse (email form, number/boolean/date formats, url, custom role slugs): for a Pylon that accepts them" },
} satisfies Record<string, Options>;

/** The mapping of migrations from another helpdesk or CRM (issue 13; import only). */
export const migrationOptions = {
  from: { type: 'string', describe: 'Source preset: hubspot, salesforce, zendesk, intercom, freshdesk, front (maps in presets/; copy one and pass it with --map to edit it)' },
  'default-country': { type: 'string', describe: 'ISO country code (GB, US, DE…) for phone numbers written without a country code (digits alone that are no number there are read as international: 447911123456); they are stored in E.164' },
  'on-bad-phone': { type: 'string', choices: ['drop', 'fail'], describe: 'A phone number that is not a valid number for its country: drop it from the contact (noted in the results) or fail the row', defaultDescription: 'drop' },
  'external-id-column': { type: 'string', describe: "Column holding the source system's id: kept as the contact's external id and matched on before the email" },
  'external-id-label': { type: 'string', describe: 'Label of that external id (or of a plain file\'s external_id column, where the file has no external_id_label): the system it comes from (e.g. zoho). Without one, every unlabelled import shares the label import, and the run warns', defaultDescription: 'the preset name, or import' },
  'account-match': { type: 'string', choices: ['domain', 'name', 'external-id', 'off'], describe: "Associate contacts with accounts by the email's domain, a company-name column, or an account external-id column", defaultDescription: 'the preset\'s choice, else off' },
  'account-column': { type: 'string', describe: 'Column with the company name or account external id for --account-match name|external-id' },
  'account-overwrite': { type: 'boolean', describe: 'Let --account-match replace the account a contact already has (by default it is kept)' },
  'create-accounts': { type: 'boolean', describe: 'Create the accounts no domain or company name matched (the dry run lists them)' },
} satisfies Record<string, Options>;

/** The mapping group's flags (`--set` is update's own: it is parsed there). */
export type MappingArgv = Omit<MappingOptionsInput, 'set'>;

/** The mapping group; the `--map` path resolves from `cwd`. */
export function mappingFromArgv(argv: MappingArgv, cwd: string): MappingOptionsInput {
  return {
    map: argv.map === undefined ? undefined : resolve(cwd, argv.map),
    ignoreUnknownColumns: argv.ignoreUnknownColumns,
    clearToken: argv.clearToken,
    lenient: argv.lenient,
    from: argv.from,
    defaultCountry: argv.defaultCountry,
    onBadPhone: argv.onBadPhone,
    externalIdColumn: argv.externalIdColumn,
    externalIdLabel: argv.externalIdLabel,
    accountMatch: argv.accountMatch,
    accountColumn: argv.accountColumn,
    accountOverwrite: argv.accountOverwrite,
    createAccounts: argv.createAccounts,
  };
}

// ── Write policy: what the run writes and how it finds what exists ──

/** Import only: update always runs in update mode. */
export const modeOptions = {
  mode: { type: 'string', choices: ['upsert', 'create', 'update'], default: 'upsert', describe: 'upsert: create or update by email; create: never update; update: never create' },
} satisfies Record<string, Options>;

export const writePolicyOptions = {
  'dry-run': { type: 'boolean', default: false, describe: 'Validate and look up only: write the plan, the API calls and the ETA, change nothing' },
  resume: { type: 'boolean', default: false, describe: 'Finish an interrupted run of the same file, without creating anything twice' },
  'on-duplicate': { type: 'string', choices: ['first', 'last', 'error'], default: 'first', describe: 'Rows with the same email in the file: keep the first or the last (the others fail as ROW_DUPLICATE_IN_FILE), or fail them all (error)' },
  'idempotency-key': { type: 'string', choices: ['none', 'external-id'], default: 'none', describe: 'external-id: each created contact carries an external id (label pylon-contacts, a hash of the file and the row\'s email), so Pylon refuses to create it twice' },
  lookup: { type: 'string', choices: ['auto', 'search', 'list'], default: 'auto', describe: 'Find existing contacts by batched search, by reading the whole list once, or whichever costs fewer calls' },
  'lookup-batch': { type: 'number', default: 100, describe: 'Emails per search call' },
} satisfies Record<string, Options>;

/** The guards before writing of update and apply (apply words them for its plan). */
export const guardOptions = {
  'max-changes': { type: 'number', describe: 'Abort with zero writes when more contacts than this would change (with --sync, the removals count too); a --plan-out plan records it for apply' },
  yes: { type: 'boolean', alias: 'y', default: false, describe: 'Do not ask for confirmation on a terminal' },
  'max-removals': { type: 'number', default: 10, describe: 'With --sync: stop with zero writes when more contacts than this would lose the value; a --plan-out plan records it for apply' },
} satisfies Record<string, Options>;

/** Override a guard or a saved plan (each command says which: drifted contacts, an existing plan file). */
export const forceOption = {
  force: { type: 'boolean', default: false, describe: 'Undo files: revert fields even where they changed since the run (otherwise ROW_DRIFTED); --plan-out: replace an existing plan file' },
} satisfies Record<string, Options>;

export type WritePolicyArgv = WritePolicyOptionsInput;

export function writePolicyFromArgv(argv: WritePolicyArgv): WritePolicyOptionsInput {
  return {
    mode: argv.mode,
    dryRun: argv.dryRun,
    resume: argv.resume,
    onDuplicate: argv.onDuplicate,
    idempotencyKey: argv.idempotencyKey,
    lookup: argv.lookup,
    lookupBatch: argv.lookupBatch,
  };
}

// ── Outputs: the files a writing run leaves beside Pylon (src/run/) ──

export const outputOptions = {
  errors: { type: 'string', describe: 'Error report path (re-importable CSV)', defaultDescription: '<input>.errors.csv' },
  results: { type: 'string', describe: 'Write one line per row, in the input\'s line order: _line, _action, _contact_id, email, _request_id (and the changes with --dry-run)' },
  journal: { type: 'string', describe: 'Journal path used by --resume', defaultDescription: '.<input>.journal.jsonl beside the input' },
} satisfies Record<string, Options>;

/** The undo file of update and apply (each says where its default goes). */
export const undoOption = {
  undo: { type: 'string', describe: 'Where to write the previous values (a regular file; apply it with `update <undo file>`); --no-undo writes none', defaultDescription: '<input>.undo.csv' },
} satisfies Record<string, Options>;

/** A plan for `apply` instead of writes (update's wording; import says what it refuses). */
export const planOutOption = {
  'plan-out': { type: 'string', describe: 'Write the plan (each contact, each field from → to, host, organisation) to this JSON file and change nothing (also with --dry-run); review it with `show`, apply it with `apply`. An existing file is replaced only with --force' },
} satisfies Record<string, Options>;

export type OutputArgv = Pick<OutputOptionsInput, 'errors' | 'results' | 'journal'>;

/** The outputs group: report paths resolve from `cwd`, which is also where stdin's defaults go. */
export function outputsFromArgv(argv: OutputArgv, cwd: string): OutputOptionsInput {
  const at = (flag: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    // `-` is stdout elsewhere (`export -`), but stdout here carries the summary and --json: refused, not a file named "-".
    if (path === '-') throw invalidOption(flag, 'a file path (this report is written to a file; stdout carries the summary and --json, so - is not taken)', path);
    return resolve(cwd, path);
  };
  return { errors: at('--errors', argv.errors), results: at('--results', argv.results), journal: at('--journal', argv.journal), cwd };
}
