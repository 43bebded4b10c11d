import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { refuseOutputsOn } from '../output/output-file.js';
import { ConfigError, invalidOption } from '../errors.js';
import { resolveConnectionOptions, resolveIntegerOption, type ConnectionOptions, type ConnectionOptionsInput } from '../config.js';
import type { ImportMode } from './plan.js';
import { BAD_PHONE_POLICIES, countryShape, type BadPhonePolicy } from './phone.js';
import { ACCOUNT_MATCHES, type AccountMatch } from './transform.js';
import { INPUT_FORMATS } from '../input/index.js';
import type { InputReadOptions } from '../input/open-input.js';

export type DuplicatePolicy = 'first' | 'last' | 'error';
export type LookupStrategy = 'auto' | 'search' | 'list';

/** Raw options of the input group (see InputOptions). */
export interface InputOptionsInput {
  input: string;
  delimiter?: string;
  encoding?: string;
  /** auto (from the extension), csv, xlsx, json, ndjson. */
  format?: string;
  /** XLSX: sheet name or 1-based number. */
  sheet?: string;
}

/** Raw options of the mapping group (see MappingOptions). */
export interface MappingOptionsInput {
  map?: string;
  ignoreUnknownColumns?: boolean;
  clearToken?: string;
  /** Send values the CLI's checks beyond Pylon's spec and docs would refuse (issue 15). */
  lenient?: boolean;
  /** Values applied to every row, by column (the update command's --set). */
  set?: Record<string, string>;
  // migrations (issue 13)
  /** A source preset: hubspot, salesforce, zendesk, intercom, freshdesk, front. */
  from?: string;
  /** ISO country for national phone numbers (GB, US, …). */
  defaultCountry?: string;
  /** drop (default): a number that cannot be stored is left out of its contact, with a note; fail: the row fails. */
  onBadPhone?: string;
  externalIdColumn?: string;
  externalIdLabel?: string;
  accountMatch?: string;
  accountColumn?: string;
  accountOverwrite?: boolean;
  createAccounts?: boolean;
}

/** Raw options of the write-policy group (see WritePolicyOptions). */
export interface WritePolicyOptionsInput {
  mode?: string;
  dryRun?: boolean;
  resume?: boolean;
  onDuplicate?: string;
  /** `external-id`: each create carries a deterministic external id, so Pylon refuses a second create of the row. */
  idempotencyKey?: string;
  lookup?: string;
  lookupBatch?: number;
}

/** Raw options of the outputs group (see OutputOptions). */
export interface OutputOptionsInput {
  errors?: string;
  results?: string;
  journal?: string;
  /**
   * Write the previous values of every changed contact here (the undo file; `update <undo file>` restores them).
   * Default: `<input>.undo.csv` beside a file input, as the CLI's; none for stdin or a dry run. `false`: none.
   */
  undo?: string | false;
  /** Base directory for default report paths when the input is stdin. */
  cwd?: string;
  /** The file that remembers which `""` clears each server does not take (clears.ts ServerMemory); none: this run only. */
  clearMemory?: string;
}

/** Raw import options: flags, environment and defaults, all optional; one group per subsystem. */
export interface ImportOptionsInput extends ConnectionOptionsInput, InputOptionsInput, MappingOptionsInput, WritePolicyOptionsInput, OutputOptionsInput {}

/** Where the rows come from and how they are read (src/input/: openInput takes this group). */
export interface InputOptions extends InputReadOptions {
  input: string;
}

/** How the columns become Pylon fields: `--map`, `--set`, the checks, and a migration's transform (issue 13). */
export interface MappingOptions {
  mapPath?: string;
  ignoreUnknownColumns: boolean;
  clearToken?: string;
  lenient: boolean;
  set: Record<string, string>;
  from?: string;
  /** Upper-cased ISO code; checked against libphonenumber's countries when the migration is prepared. */
  defaultCountry?: string;
  onBadPhone: BadPhonePolicy;
  externalIdColumn?: string;
  externalIdLabel?: string;
  accountMatch?: AccountMatch;
  accountColumn?: string;
  accountOverwrite: boolean;
  createAccounts: boolean;
}

/** What the run writes to Pylon and how it finds what exists (src/import/write-policy.ts, lookup.ts). */
export interface WritePolicyOptions {
  mode: ImportMode;
  dryRun: boolean;
  resume: boolean;
  onDuplicate: DuplicatePolicy;
  idempotencyKey: 'none' | 'external-id';
  lookup: LookupStrategy;
  lookupBatch: number;
}

/** The files the run writes beside Pylon (src/run/). */
export interface OutputOptions {
  errorsPath: string;
  resultsPath?: string;
  journalPath?: string;
  undoPath?: string;
  /**
   * The organisation (`GET /me`) recorded in each undo row, and the one what is learnt about the server is kept under
   * (servers.json); set by the commands that read it first, else read by the run.
   */
  undoOrganization?: string;
  /** Whether the results file has the dry run's `_changes` column (default: a dry run's has it). */
  resultsWithChanges?: boolean;
  /**
   * `update`'s real run: read each contact again by id just before its PATCH and fail it ROW_DRIFTED where a field it
   * changes no longer holds the value the lookup read (Pylon has no conditional PATCH; see write-policy.ts).
   */
  rereadBeforePatch?: boolean;
  /** Which `""` clears each server was seen not to take (clears.ts ServerMemory); undefined: remembered for the run only. */
  clearMemoryPath?: string;
  /** Options of the calling command that decide what is written too (update: --where, --sync, --others): its journal records them with the import's. */
  journalSettings?: Record<string, string>;
}

/** A resolved import: the connection and the four groups, each field declared once, in its group. */
export interface ImportOptions extends InputOptions, MappingOptions, WritePolicyOptions, OutputOptions {
  connection: ConnectionOptions;
}

const DELIMITERS: Record<string, string> = { ',': ',', ';': ';', '|': '|', tab: '\t', '\\t': '\t', '\t': '\t', comma: ',', semicolon: ';', pipe: '|' };

function oneOf<T extends string>(flag: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw invalidOption(flag, `one of ${choices.join(', ')}`, value);
  return value as T;
}

/** Turns raw options into complete, validated ones. The only place import defaults live. */
export function resolveImportOptions(input: ImportOptionsInput): ImportOptions {
  if (!input.input) throw invalidOption('<file>', 'a CSV file path or - for stdin', input.input ?? '');
  const fromStdin = input.input === '-';
  const base = fromStdin ? join(input.cwd ?? process.cwd(), 'stdin') : input.input.replace(/\.(csv|tsv|txt|xlsx|xlsm|json|ndjson|jsonl)$/i, '');
  let delimiter: string | undefined;
  if (input.delimiter !== undefined) {
    delimiter = DELIMITERS[input.delimiter] ?? (input.delimiter.length === 1 ? input.delimiter : undefined);
    if (!delimiter) throw invalidOption('--delimiter', 'one character, or tab/comma/semicolon/pipe', input.delimiter);
  }
  const resume = input.resume ?? false;
  const dryRun = input.dryRun ?? false;
  if (resume && dryRun) throw new ConfigError('CONFIG_INVALID_OPTION', 'Invalid options: --resume and --dry-run cannot be combined (a dry run writes no journal).', { option: '--resume' });
  if (resume && fromStdin && !input.journal) {
    throw new ConfigError('CONFIG_INVALID_OPTION', 'Invalid option `--resume`: stdin cannot be read again; save the input to a file and import that.', { option: '--resume' });
  }
  if (input.clearToken !== undefined && input.clearToken.trim() === '') throw invalidOption('--clear-token', 'a non-empty marker such as #N/A', input.clearToken);
  const connection = resolveConnectionOptions(input);
  const options: ImportOptions = {
    input: input.input,
    connection,
    mode: oneOf('--mode', input.mode, ['upsert', 'create', 'update'] as const, 'upsert'),
    dryRun,
    errorsPath: input.errors ?? `${base}.errors.csv`,
    resultsPath: input.results,
    journalPath: dryRun ? undefined : input.journal ?? (fromStdin ? undefined : join(dirname(base), `.${basename(base)}.journal.jsonl`)),
    resume,
    delimiter,
    encoding: input.encoding,
    mapPath: input.map,
    ignoreUnknownColumns: input.ignoreUnknownColumns ?? false,
    clearToken: input.clearToken,
    lenient: input.lenient ?? false,
    onDuplicate: oneOf('--on-duplicate', input.onDuplicate, ['first', 'last', 'error'] as const, 'first'),
    idempotencyKey: oneOf('--idempotency-key', input.idempotencyKey, ['none', 'external-id'] as const, 'none'),
    lookup: oneOf('--lookup', input.lookup, ['auto', 'search', 'list'] as const, 'auto'),
    lookupBatch: resolveIntegerOption('--lookup-batch', input.lookupBatch, 1, 999, 100),
    set: input.set ?? {},
    undoPath: input.undo === false || dryRun ? undefined : input.undo ?? (fromStdin ? undefined : `${input.input.replace(/\.gz$/i, '').replace(/\.(csv|tsv|txt|xlsx|xlsm|json|ndjson|jsonl)$/i, '')}.undo.csv`),
    clearMemoryPath: input.clearMemory,
    from: input.from,
    format: input.format === undefined ? undefined : oneOf('--format', input.format, INPUT_FORMATS, 'auto'),
    sheet: input.sheet,
    defaultCountry: countryShape(input.defaultCountry),
    onBadPhone: oneOf('--on-bad-phone', input.onBadPhone, BAD_PHONE_POLICIES, 'drop'),
    externalIdColumn: input.externalIdColumn,
    externalIdLabel: input.externalIdLabel,
    accountMatch: input.accountMatch === undefined ? undefined : oneOf('--account-match', input.accountMatch, ACCOUNT_MATCHES, 'off'),
    accountColumn: input.accountColumn,
    accountOverwrite: input.accountOverwrite ?? false,
    createAccounts: input.createAccounts ?? false,
  };
  if (!fromStdin) refuseOutputOnInput(options);
  return options;
}

/** The files a run writes may not be the input it reads (`output-file.ts` refuseOutputsOn). */
export function refuseOutputOnInput(options: Pick<ImportOptions, 'input' | 'errorsPath' | 'resultsPath' | 'journalPath' | 'undoPath'>): void {
  refuseOutputsOn(options.input, 'the input file this run reads', [
    ['--errors', options.errorsPath, 'error report'],
    ['--results', options.resultsPath, 'results file'],
    ['--journal', options.journalPath, 'journal'],
    ['--undo', options.undoPath, 'undo file'],
  ]);
}

/**
 * What decides the values a run writes, beyond its input and `--mode`, by flag:
 * recorded in its journal, and a `--resume` with other values is refused (journal.ts),
 * so a resumed run never finishes another run's changes with its own values.
 * Options that only decide how contacts are found or paced (--lookup, --rate) are not here.
 */
export function writeSettingsOf(options: ImportOptions): Record<string, string> {
  const settings: Record<string, string> = {};
  const add = (flag: string, value: string | boolean | undefined) => {
    if (value !== undefined && value !== false) settings[flag] = String(value);
  };
  for (const [column, value] of Object.entries(options.set)) add(`--set ${column}`, value);
  if (options.mapPath !== undefined) add('--map', `${resolvePath(options.mapPath)} (sha256 ${contentHash(options.mapPath)})`);
  add('--from', options.from);
  add('--clear-token', options.clearToken);
  add('--lenient', options.lenient);
  add('--ignore-unknown-columns', options.ignoreUnknownColumns);
  add('--on-duplicate', options.onDuplicate);
  add('--idempotency-key', options.idempotencyKey);
  add('--default-country', options.defaultCountry);
  add('--on-bad-phone', options.onBadPhone);
  add('--external-id-column', options.externalIdColumn);
  add('--external-id-label', options.externalIdLabel);
  add('--account-match', options.accountMatch);
  add('--account-column', options.accountColumn);
  add('--account-overwrite', options.accountOverwrite);
  add('--create-accounts', options.createAccounts);
  add('--format', options.format);
  add('--sheet', options.sheet);
  add('--delimiter', options.delimiter);
  add('--encoding', options.encoding);
  return { ...settings, ...options.journalSettings };
}

/** 12 hex digits of a file's sha256 (a map edited between a run and its --resume differs); unreadable: the run reports it. */
function contentHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);
  } catch {
    return 'unreadable';
  }
}
