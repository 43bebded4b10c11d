import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CountryCode } from 'libphonenumber-js/max';
import type { PylonClient } from '../pylon/api.js';
import { PylonApiError } from '../pylon/errors.js';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, invalidOption, nearestChoice } from '../errors.js';
import { resolveFormat, type InputItem, type InputSource } from '../input/index.js';
import type { Input } from '../input/open-input.js';
import { readMapFile } from '../input/map-file.js';
import { normalizeHeader, parseMapping, type ColumnMapping } from './columns.js';
import { DEFAULT_EXTERNAL_ID_LABEL } from './lookup-key.js';
import { createSettledResolver, describeNearMatches, emptyAccountStats, indexAccounts, loadAccounts, loadDomainParser, type AccountMatchStats } from './accounts.js';
import { loadPhoneNumbers, resolveCountry, type BadPhonePolicy } from './phone.js';
import {
  compileTransform,
  isTransformMap,
  parseTransformMap,
  renameMapToTransform,
  columnFinder,
  type AccountMatch,
  type AccountResolver,
  type CompiledTransform,
  type TransformMap,
} from './transform.js';

/**
 * A plain file's `external_id` column without an `external_id_label` column and without --external-id-label: its ids
 * are stored under `import`, as in unlabelledExternalIdWarning. Undefined otherwise.
 */
function plainUnlabelledWarning(options: MigrationOptions, header: readonly string[], rename: Record<string, string | null> | undefined): string | undefined {
  if (options.externalIdLabel !== undefined) return undefined;
  const names = new Set(header.map((h) => (rename && h in rename ? rename[h] : h)).filter((h): h is string => typeof h === 'string').map((h) => h.trim().toLowerCase()));
  if (!names.has('external_id') || names.has('external_id_label')) return undefined;
  return unlabelledText('the column external_id', ' (the file has no external_id_label column)', ', or an external_id_label column');
}

/** The warning of an import whose ids (`ids`) go under `import`; `why` and `orLabel` add what a plain file has besides the flag. */
function unlabelledText(ids: string, why = '', orLabel = ''): string {
  return (
    `the ids of ${ids} are stored under the external id label "${DEFAULT_EXTERNAL_ID_LABEL}"${why}, which every import without a label shares: ` +
    `another system's file imported the same way updates these contacts wherever its ids are the same (its customer 123 is then this file's record 123). ` +
    `Name the system the ids come from with --external-id-label <system> (e.g. --external-id-label zoho)${orLabel}, in every run of this source`
  );
}

/**
 * The external ids of a run that names no label (no --external-id-label, and a map with no `externalId.label` and no
 * `source`) are stored under `import`, the label every such import shares: another system's file keyed the same way
 * then updates these contacts wherever its ids are the same (Help Scout customer 123 rewrites Zoho record 123), with no
 * conflict to stop it. Undefined when a label is given, or the run carries no external id.
 */
function unlabelledExternalIdWarning(options: MigrationOptions, map: TransformMap): string | undefined {
  const column = options.externalIdColumn ?? map.externalId?.column;
  if (column === undefined || (options.externalIdLabel ?? (map.externalId?.unlabelled ? undefined : map.externalId?.label) ?? map.source) !== undefined) return undefined;
  return unlabelledText(options.externalIdColumn !== undefined ? `--external-id-column ${JSON.stringify(column)}` : `the map's externalId column ${JSON.stringify(column)}`);
}

/**
 * Everything a migration adds in front of the import, decided once before any
 * write: the source preset (`--from`) or a transforming `--map`, the input
 * format, phone numbers (`--default-country`), the source id as an external id,
 * and the account association (which reads `GET /accounts` once). The result is
 * a transform for the input source; the rest of the import does not change.
 *
 * It reads nothing on its own: the header comes from the run's rows pass (the
 * same opening of the file the rows then come from), and the `--create-accounts`
 * scan is another pass of the run's one opened input (`openInput()`), so a
 * migration opens, spools or parses its input once, like any import.
 */

export interface MigrationOptions {
  mode: 'upsert' | 'create' | 'update';
  from?: string;
  mapPath?: string;
  /** `--format` (the rest of how the input is read belongs to the opened input). */
  format?: string;
  /** An ISO code (shape-checked by the options; checked against libphonenumber's countries here). */
  defaultCountry?: string;
  onBadPhone?: BadPhonePolicy;
  externalIdColumn?: string;
  externalIdLabel?: string;
  accountMatch?: AccountMatch;
  accountColumn?: string;
  accountOverwrite?: boolean;
  /** Create the accounts no contact's domain or company name matched (a dry run lists them). */
  createAccounts?: boolean;
  dryRun?: boolean;
}

/** The run's input as a migration sees it: the opened input and the rows pass the run reads its header from. */
export interface MigrationInput {
  input: Pick<Input, 'path' | 'rows'>;
  /** The run's rows pass: its `sourceHeader()` is the header as read. */
  pass: Pick<InputSource, 'sourceHeader'>;
}

export interface Migration {
  /** False when the run is a plain CSV import the classic way (the rename `--map` applies as before). */
  active: boolean;
  /** Set when active: the transform compiled against each pass's source header. */
  transform?: (sourceHeader: string[]) => CompiledTransform;
  /** The preset or map used (for notes). */
  source?: string;
  accountStats?: AccountMatchStats;
  /** The plain rename `--map` (read here, once) when the run is not a migration. */
  rename?: ColumnMapping;
  /** Lines for the end of the run (account matching figures). */
  summary(): string[];
  /** For the run's warnings: columns of the file that look like phones or emails and are not read. */
  warnings?: string[];
  /**
   * `--create-accounts`: a pass over the rows creates (in a dry run, lists) the accounts no row matched, for the rows
   * `written` says will be written (the run's own row checks: validation, duplicates); resolves to how many. Called
   * before the rows pass, which then associates the contacts with them.
   */
  createAccounts?: (written: (item: InputItem) => boolean) => Promise<number>;
  /** The accounts `createAccounts` created, by id → name: the run says which of them only rows that failed were for. */
  createdAccounts?: ReadonlyMap<string, string>;
  /**
   * Says whether the row the rows pass read last is written (or failed on its account): only then does what its
   * account match saw count in the summary. Called once per row, after the row's checks and before the next row is read.
   */
  settle?(kept: boolean): void;
}

/** Column names that say they hold a phone number, or an email address (a column the map leaves unread is then data lost). */
const PHONE_COLUMN = /^(?:(?:work|home|business|other|main|mobile|cell|direct)\s+)?(?:phone|mobile|cell|telephone|tel)(?:\s*(?:number|no\.?|\d+))?$/i;
const EMAIL_COLUMN = /^(?:(?:work|home|business|other|personal|secondary|additional)\s+)?e-?mail(?:\s*(?:address(?:es)?|\d+))?$/i;

/**
 * What a preset or transforming map leaves of the file, said in every run: the
 * optional columns it names that the file lacks, and the file's columns it does
 * not read (a note, one line); and, as warnings, unread columns that look like
 * phone numbers or emails: an export of another system (Zoho's Phone and Mobile
 * under HubSpot's labels) would otherwise lose them without a word.
 */
function describeColumns(compiled: CompiledTransform, header: readonly string[], who: string, file: string): { note: string; warnings: string[] } {
  const list = (names: readonly string[]) => `${names.slice(0, 20).map((n) => JSON.stringify(n)).join(', ')}${names.length > 20 ? `, and ${names.length - 20} more` : ''}`;
  const unread = header.filter((h, i) => !compiled.columnsRead.has(i) && normalizeHeader(h) !== '' && !normalizeHeader(h).startsWith('_'));
  const parts = [
    compiled.columnsAbsent.length > 0 ? `not in the file, left out: ${list(compiled.columnsAbsent)}` : `every column it names is in the file`,
    unread.length > 0 ? `columns of the file it does not read (not imported): ${list(unread)}` : `it reads every column of the file`,
  ];
  const warnings: string[] = [];
  for (const [test, kind, field] of [[PHONE_COLUMN, 'phone numbers', 'fields.phone_numbers'], [EMAIL_COLUMN, 'email addresses', 'fields.emails']] as const) {
    const look = unread.filter((h) => test.test(normalizeHeader(h)));
    if (look.length === 0) continue;
    const one = look.length === 1;
    warnings.push(
      `column${one ? '' : 's'} ${list(look)} of the file look${one ? 's' : ''} like ${kind}, but ${who} does not read ${one ? 'it' : 'them'}: ${one ? 'its' : 'their'} values are not imported. ` +
        `If the file is not the export ${who} is for, import it with the right --from; otherwise copy ${file}, add ${one ? 'the column' : 'the columns'} to ${field} and pass it with --map`,
    );
  }
  return { note: `${who}: ${parts.join('; ')}`, warnings };
}

const PRESET_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'presets');

export interface Preset {
  name: string;
  file: string;
  map: TransformMap;
}

let presetCache: Preset[] | undefined;

/** Every shipped preset (`presets/*.json`); a source may have several (HubSpot labels and internal names). */
export async function listPresets(dir = PRESET_DIR): Promise<Preset[]> {
  if (presetCache && dir === PRESET_DIR) return presetCache;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const presets: Preset[] = [];
  for (const f of files) {
    const file = join(dir, f);
    const map = parseTransformMap(await readMapFile(file, '--from'), file);
    presets.push({ name: map.source ?? f.replace(/\.json$/, ''), file, map });
  }
  if (dir === PRESET_DIR) presetCache = presets;
  return presets;
}

/**
 * The fingerprint labels a header lacks: compared as every column is (case ignored), or in exact
 * case when the preset says so (`fingerprintCase: "exact"`), so another system's export with the
 * same words in another case (Zoho CRM's `Record Id`) is not taken for HubSpot's (`Record ID`).
 */
export function missingFingerprint(map: TransformMap, header: readonly string[]): string[] {
  const find = columnFinder(header, '', true, map.aliases);
  if (map.fingerprintCase !== 'exact') return (map.fingerprint ?? []).filter((c) => find(c, '') === -1);
  const names = new Set(header.map(normalizeHeader));
  const aliases = new Map(Object.entries(map.aliases ?? {}).map(([c, labels]) => [normalizeHeader(c), labels]));
  return (map.fingerprint ?? []).filter((c) => ![c, ...(aliases.get(normalizeHeader(c)) ?? [])].some((label) => names.has(normalizeHeader(label))));
}

/** How well a header fits a preset: the share of its fingerprint present (1 = all). */
export function fingerprintScore(map: TransformMap, header: readonly string[]): number {
  if (!map.fingerprint?.length) return 0;
  return 1 - missingFingerprint(map, header).length / map.fingerprint.length;
}

/** The preset whose fingerprint the header carries completely (the longest such fingerprint), if any. */
export function detectPreset(presets: readonly Preset[], header: readonly string[]): Preset | undefined {
  let best: Preset | undefined;
  for (const p of presets) {
    if (fingerprintScore(p.map, header) === 1 && (!best || p.map.fingerprint!.length > best.map.fingerprint!.length)) best = p;
  }
  return best;
}

export async function prepareMigration(
  options: MigrationOptions,
  { input, pass }: MigrationInput,
  client: PylonClient,
  hooks: {
    signal?: AbortSignal;
    onNote?: (message: string) => void;
    /** Called before each write the journal does not record (an account --create-accounts creates): the run's journal stays for --resume. */
    onWrite?: () => void;
    /** How long to wait before each look for an account whose create lost its answer (the request timeout: a slow create lands within it). */
    recheckMs?: number;
  } = {},
): Promise<Migration> {
  const note = (m: string) => hooks.onNote?.(m);
  let transformMap: TransformMap | undefined;
  let rename: Record<string, string | null> | undefined;
  let source: string | undefined;
  if (options.mapPath) {
    const value = await readMapFile(options.mapPath);
    if (isTransformMap(value)) {
      transformMap = parseTransformMap(value, options.mapPath);
      source = options.mapPath;
    } else rename = parseMapping(value, options.mapPath);
  }
  const format = resolveFormat(input.path, options.format);
  const presets = await listPresets();
  const header = await pass.sourceHeader();

  if (options.from !== undefined) {
    if (transformMap) throw new ConfigError('CONFIG_INVALID_OPTION', 'Invalid options: --from and a transforming --map cannot be combined; the map replaces the preset (copy the preset and edit it)', { option: '--from' });
    const candidates = presets.filter((p) => p.name === options.from!.toLowerCase());
    if (candidates.length === 0) {
      const names = [...new Set(presets.map((p) => p.name))];
      throw new ConfigError('CONFIG_UNKNOWN_PRESET', `Invalid option \`--from\`: expected one of ${names.join(', ')}, got ${JSON.stringify(options.from)}${nearFrom(options.from, names)}`, { option: '--from' });
    }
    const chosen = candidates.reduce((a, b) => (fingerprintScore(b.map, header) > fingerprintScore(a.map, header) ? b : a));
    if (fingerprintScore(chosen.map, header) < 1) throw noPresetFits(options.from, candidates, presets, header);
    transformMap = chosen.map;
    source = chosen.file;
    note(`--from ${chosen.name}: map ${chosen.file}${candidates.length > 1 ? ` (${chosen.map.description ?? ''})` : ''}`);
  } else if (!transformMap) {
    const detected = detectPreset(presets, header);
    if (detected) {
      note(
        `The header looks like a ${detected.name} export (${detected.map.fingerprint!.join(', ')}): import it with --from ${detected.name}, ` +
          `or copy ${detected.file}, edit it and pass it with --map.`,
      );
    }
  }

  const active =
    transformMap !== undefined ||
    format !== 'csv' ||
    options.defaultCountry !== undefined ||
    options.externalIdColumn !== undefined ||
    (options.accountMatch !== undefined && options.accountMatch !== 'off');
  if (!active) {
    const unlabelled = plainUnlabelledWarning(options, header, rename);
    if (unlabelled) note(`warning: ${unlabelled}`);
    // Said at once, before any write, and again among the run's warnings (and --json's).
    const warnings = unlabelled ? [unlabelled] : undefined;
    return rename ? { active: false, rename, warnings, summary: () => [] } : { active: false, warnings, summary: () => [] };
  }
  await loadPhoneNumbers();
  const defaultCountry: CountryCode | undefined = resolveCountry(options.defaultCountry);

  const map = transformMap ?? renameMapToTransform(header, rename ?? undefined);

  // Account association: the flag, else the map's (presets: their company column, else the email's domain).
  let match = options.accountMatch ?? map.account?.match ?? 'off';
  const mapColumn = map.account?.columns?.find((c) => columnFinder(header, '', true, map.aliases)(c, '') !== -1) ?? map.account?.column;
  let column = options.accountColumn ?? (options.accountMatch === undefined || options.accountMatch === map.account?.match ? mapColumn : undefined);
  if (options.accountMatch === undefined && map.account && match !== 'domain' && column && columnFinder(header, '', true, map.aliases)(column, '') === -1) {
    note(`accounts: no ${(map.account.columns ?? [column]).map((c) => JSON.stringify(c)).join(' or ')} column in the file; matching accounts by the email's domain instead (--account-match to choose)`);
    match = 'domain';
    column = undefined;
  }
  if (!transformMap) {
    // A plain file: the columns --account-column and --external-id-column name are consumed, not imported as fields.
    const consumed = new Set([column, options.externalIdColumn].filter((c): c is string => c !== undefined).map((c) => c.trim().toLowerCase()));
    for (const [target, spec] of Object.entries(map.fields)) {
      if (spec?.kind === 'copy' && consumed.has(spec.from.trim().toLowerCase()) && !(rename && Object.keys(rename).some((k) => k.trim().toLowerCase() === spec.from.trim().toLowerCase()))) delete map.fields[target];
    }
  }
  // Only a list column's cell is split (all of the account's columns when the map names none).
  const splitColumns = map.account?.splitColumns?.map((c) => c.trim().toLowerCase());
  const listColumn = column !== undefined && (splitColumns === undefined || splitColumns.includes(column.trim().toLowerCase()));
  let accountStats: AccountMatchStats | undefined;
  let resolver: ReturnType<typeof createSettledResolver> | undefined;
  let createAccounts: Migration['createAccounts'];
  const createdAccounts = new Map<string, string>();
  if (options.createAccounts && match !== 'domain' && match !== 'name') {
    throw invalidOption('--create-accounts', '--account-match domain or name (accounts are created from a domain or a company name)', match);
  }
  const compileWith = (sourceHeader: string[], accounts: AccountResolver | undefined) =>
    compileTransform(map, sourceHeader, {
      source: source ?? (format === 'csv' ? '--map' : `the ${format.toUpperCase()} input`),
      requireName: options.mode !== 'update',
      // A plain file (XLSX, JSON, or a CSV with --default-country…) is checked as a CSV is: by the run's column check (an
      // unknown column, such as a title row read as the header, or no email column), not as a map the user never wrote.
      plainFile: transformMap === undefined,
      defaultCountry,
      onBadPhone: options.onBadPhone,
      externalIdColumn: options.externalIdColumn,
      externalIdLabel: options.externalIdLabel,
      account: match === 'off' ? undefined : { match, column, overwrite: options.accountOverwrite, split: listColumn ? map.account?.split : undefined },
      accounts,
    });
  // Compiled once now: a map naming a missing column stops the run before any call or write.
  const checked = compileWith(header, match === 'off' ? undefined : () => undefined);
  let warnings: string[] = [];
  if (transformMap) {
    const described = describeColumns(checked, header, options.from !== undefined ? `the ${transformMap.source ?? options.from} preset` : `the map ${source}`, source ?? '');
    note(described.note);
    warnings = described.warnings;
  }
  const unlabelled = unlabelledExternalIdWarning(options, map);
  if (unlabelled) {
    // Said at once, before any write, and again in the summary's warnings (and --json's).
    note(`warning: ${unlabelled}`);
    warnings.push(unlabelled);
  }
  if (match !== 'off') {
    await loadDomainParser();
    const accounts = await loadAccounts(client, hooks.signal);
    const index = indexAccounts(accounts);
    note(`accounts: ${accounts.length} read; matching contacts to them by ${match === 'domain' ? "the email's domain (free-mail domains excluded)" : match === 'name' ? `company name (column ${column})` : `external id (column ${column})`}; a contact's existing account is ${options.accountOverwrite ? 'replaced' : 'kept'}`);
    const extra = new Map<string, string>();
    if (options.createAccounts && (match === 'domain' || match === 'name')) {
      // A first pass finds the domains or names no account has, among the rows that will be written (the run's preparer
      // says which: a row failing validation or a duplicate check names none); they are created (or, in a dry run, listed)
      // before any contact is written.
      createAccounts = async (written) => {
        const scan = emptyAccountStats();
        const scanResolver = createSettledResolver(index, { match, nearDomain: true }, scan);
        const scanPass = input.rows((h) => compileWith(h, scanResolver.resolve));
        try {
          for await (const item of scanPass) scanResolver.settle(written(item));
        } finally {
          scanPass.close();
        }
        const created: string[] = [];
        const uncertain = new Map<string, PylonApiError>();
        for (const [key, wanted] of scan.missing) {
          if (options.dryRun) extra.set(key, `(new account ${JSON.stringify(wanted.name)})`);
          else {
            if (!client.createAccount) throw new ConfigError('CONFIG_INVALID_OPTION', '--create-accounts: this client cannot create accounts', { option: '--create-accounts' });
            hooks.onWrite?.();
            try {
              const res = await client.createAccount(
                { name: wanted.name, ...(wanted.domain ? { domains: [wanted.domain], primary_domain: wanted.domain } : {}) },
                { signal: hooks.signal },
              );
              extra.set(key, res.data.id);
              createdAccounts.set(res.data.id, wanted.name);
            } catch (error) {
              // The answer was lost (a timeout, a dropped connection): the account may exist. It is looked for below, never created twice.
              if (!(error instanceof PylonApiError && error.maybeApplied)) throw error;
              note(`accounts: creating ${JSON.stringify(wanted.name)} may have been applied (${error.message}); looking for it in the account list`);
              uncertain.set(key, error);
            }
          }
          created.push(`${JSON.stringify(wanted.name)} (${wanted.rows} row${wanted.rows === 1 ? '' : 's'})`);
        }
        if (uncertain.size > 0) await findUncertainAccounts(client, match, uncertain, extra, hooks);
        const near = describeNearMatches(scan);
        if (near) note(near);
        if (created.length > 0 || options.dryRun) note(`accounts: ${options.dryRun ? 'would create' : 'created'} ${created.length} account${created.length === 1 ? '' : 's'}${created.length > 0 ? `: ${created.join(', ')}` : ''}`);
        return created.length;
      };
    }
    accountStats = emptyAccountStats();
    resolver = createSettledResolver(index, { match, extra, nearDomain: options.createAccounts === true }, accountStats);
  }
  const compile = (sourceHeader: string[]) => compileWith(sourceHeader, resolver?.resolve);
  return {
    active: true,
    transform: compile,
    source,
    accountStats,
    warnings,
    createAccounts,
    createdAccounts,
    settle: (kept) => resolver?.settle(kept),
    summary() {
      if (!accountStats) return [];
      const s = accountStats;
      const missing = [...s.missing.entries()].sort((a, b) => b[1].rows - a[1].rows);
      const lines = [`accounts: ${s.matched} ${s.matched === 1 ? 'row' : 'rows'} matched an account, ${s.noMatch} matched none, ${s.freeMail} at free-mail domains (not associated), ${s.ambiguous} ambiguous (failed)`];
      const near = options.createAccounts ? undefined : describeNearMatches(s); // with --create-accounts, noted before the creates
      if (near) lines.push(near);
      // The hint names only what --create-accounts would create: a name it would match to an account by the email's domain is said apart.
      const toCreate = missing.filter(([, m]) => m.near === undefined);
      const toMatch = missing.filter(([, m]) => m.near !== undefined);
      if (toCreate.length > 0) lines.push(`accounts: no account for ${toCreate.slice(0, 10).map(([, m]) => `${JSON.stringify(m.name)} (${m.rows})`).join(', ')}${toCreate.length > 10 ? `, and ${toCreate.length - 10} more` : ''} (--create-accounts creates them)`);
      if (toMatch.length > 0) {
        const items = toMatch.slice(0, 10).map(([, m]) => `${JSON.stringify(m.name)} (${m.rows}) → ${JSON.stringify(m.near!.account.name)} ${m.near!.account.id} (${m.near!.why})`);
        lines.push(`accounts: with --create-accounts, these would be associated with an existing account, not created: ${items.join(', ')}${toMatch.length > 10 ? `, and ${toMatch.length - 10} more` : ''}`);
      }
      return lines;
    },
  };
}

/**
 * Accounts whose create lost its answer, looked for in the account list (by the key they were created
 * for: the loose company name, or the domain) at once, then twice more a request timeout apart: one that
 * landed is used. One still missing stops the run with the create's error; the journal stays, and
 * --resume reads the account list again (a create that landed late is found then, not made twice).
 */
async function findUncertainAccounts(
  client: PylonClient,
  match: 'domain' | 'name',
  uncertain: Map<string, PylonApiError>,
  extra: Map<string, string>,
  hooks: { signal?: AbortSignal; onNote?: (message: string) => void; recheckMs?: number },
): Promise<void> {
  for (let round = 0; round < 3 && uncertain.size > 0; round++) {
    // At once (a dropped answer), then a timeout apart (a create still on its way).
    if (round > 0) await delay(hooks.recheckMs ?? 0, undefined, { signal: hooks.signal });
    const index = indexAccounts(await loadAccounts(client, hooks.signal));
    for (const key of [...uncertain.keys()]) {
      const found = (match === 'name' ? index.byLooseName : index.byDomain).get(key);
      if (found?.length !== 1) continue;
      extra.set(key, found[0]!.id);
      uncertain.delete(key);
      hooks.onNote?.(`accounts: found ${JSON.stringify(found[0]!.name)} (${found[0]!.id}): its create had landed`);
    }
  }
  const [first] = uncertain.values();
  if (first) throw first;
}

/** The usage error for a header that fits none of the chosen source's presets: the closest one, what it misses, and a preset of another source the header fits. */
function noPresetFits(from: string, candidates: readonly Preset[], presets: readonly Preset[], header: readonly string[]): ConfigError {
  const missing = (p: Preset) => missingFingerprint(p.map, header);
  const closest = [...candidates].sort((a, b) => missing(a).length - missing(b).length)[0]!;
  // A label the file has in another case only: say so, or "not in the file" reads as a mistake of ours.
  const find = columnFinder(header, '', true, closest.map.aliases);
  const otherCase = missing(closest)
    .filter((c) => find(c, '') !== -1)
    .map((c) => `the file's ${JSON.stringify(header[find(c, '')])} is not ${JSON.stringify(c)}: this preset compares its labels in exact case, as ${closest.name} writes them, so another system's export is not taken for one of ${closest.name}'s`);
  const other = detectPreset(presets, header);
  const lines = [
    `The file's header matches no ${from} preset. Closest: ${closest.map.description ?? closest.file} (${closest.file}), which needs ${missing(closest).map((c) => JSON.stringify(c)).join(', ')}, not in the file${otherCase.length > 0 ? ` (${otherCase.join('; ')})` : ''}.`,
    candidates.length > 1 ? `The ${from} presets: ${candidates.map((p) => p.map.description ?? p.file).join('; ')}.` : '',
    other && other.name !== from.toLowerCase() ? `The header looks like a ${other.name} export: try --from ${other.name}.` : '',
    `Check the export (its language and columns), or copy a preset, edit it and pass it with --map. The file's columns: ${header.slice(0, 20).map((h) => JSON.stringify(h)).join(', ')}${header.length > 20 ? ', …' : ''}`,
  ];
  return new ConfigError('CONFIG_BAD_MAPPING', lines.filter((l) => l !== '').join(' '), { option: '--from' });
}

/** ` (did you mean hubspot?)` for a preset name mistyped (`hubspt`), else nothing. */
function nearFrom(value: string, names: readonly string[]): string {
  // A preset's file name (`hubspot-de`, `salesforce-report`, `freshdesk-labels`): --from takes its source, which
  // picks the file by the header.
  const source = names.find((name) => value.toLowerCase().startsWith(`${name}-`));
  if (source) return ` (did you mean ${source}? it picks its preset for the file's language or kind from the header)`;
  const near = nearestChoice(value, names);
  return near ? ` (did you mean ${near}?)` : '';
}
