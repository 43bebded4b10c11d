import type { Argv, CommandModule } from 'yargs';
import type { ConnectionOptionsInput } from '../../config.js';
import { apiCommandFlags, connectionInput, type ApiCommandArgv } from '../shared-options.js';
import { resolve } from 'node:path';
import { contextOf } from '../args.js';
import { cwdOf, resolveFrom } from '../context.js';
import { refuseExistingPlan } from '../paths.js';
import { ConfigError } from '../../errors.js';
import { onInterrupt } from '../interrupt.js';
import { createProgress } from '../progress.js';
import { importExitCode, printImportSummary } from '../output.js';
import { resolveImportOptions, type ImportOptionsInput } from '../../import/options.js';
import { runImport, type ImportStats } from '../../import/run-import.js';
import { connect } from '../../pylon/connect.js';
import { fetchTarget, targetOf } from '../../update/target.js';
import { auditLogFlag, openAuditLog, recordRun } from '../audit.js';
import { planImport } from '../../update/plan-import.js';
import { redactCommand } from '../../audit/audit-log.js';
import type { SavedPlan } from '../../update/plan-file.js';

/** The import's flags: its options as the library takes them, with the file as a positional. */
export type ImportArgv = ApiCommandArgv &
  Omit<ImportOptionsInput, keyof ConnectionOptionsInput | 'input' | 'set' | 'undo' | 'cwd'> & { file: string; auditLog?: string; planOut?: string; force?: boolean };

/** Flags shared by `import` and `update` (everything about reading rows and writing reports). */
export function rowFlags<T>(yargs: Argv<T>) {
  return yargs
    .options(apiCommandFlags)
    .option('dry-run', { type: 'boolean', default: false, describe: 'Validate and look up only: write the plan, the API calls and the ETA, change nothing' })
    .option('errors', { type: 'string', describe: 'Error report path (re-importable CSV)', defaultDescription: '<input>.errors.csv' })
    .option('results', { type: 'string', describe: 'Write one line per row: _line, _action, _contact_id, email, _request_id (and the changes with --dry-run)' })
    .option('journal', { type: 'string', describe: 'Journal path used by --resume', defaultDescription: '.<input>.journal.jsonl beside the input' })
    .option('resume', { type: 'boolean', default: false, describe: 'Finish an interrupted run of the same file, without creating anything twice' })
    .option('delimiter', { type: 'string', describe: 'Field delimiter (, ; tab |); sniffed when omitted' })
    .option('encoding', { type: 'string', describe: 'Input encoding, e.g. windows-1252, latin1, utf16le (BOMs are detected)', defaultDescription: 'utf8' })
    .option('map', { type: 'string', describe: 'JSON file mapping other header names onto fields, e.g. {"Full Name": "name"}' })
    .option('ignore-unknown-columns', { type: 'boolean', default: false, describe: 'Ignore columns that map to no field instead of stopping' })
    .option('clear-token', { type: 'string', describe: 'A cell holding exactly this clears the field (e.g. #N/A); empty cells leave fields unchanged' })
    .option('lenient', { type: 'boolean', default: false, describe: "Send values that only the CLI's own checks refuse (email form, number/boolean/date formats, url, custom role slugs): for a Pylon that accepts them" })
    .option('on-duplicate', { type: 'string', choices: ['first', 'last', 'error'], default: 'first', describe: 'Rows with the same email in the file: keep the first, the last, or none' })
    .option('idempotency-key', { type: 'string', choices: ['none', 'external-id'], default: 'none', describe: 'external-id: each created contact carries an external id (label pylon-contacts, a hash of the file and the row\'s email), so Pylon refuses to create it twice' })
    .option('lookup', { type: 'string', choices: ['auto', 'search', 'list'], default: 'auto', describe: 'Find existing contacts by batched search, by reading the whole list once, or whichever costs fewer calls' })
    .option('lookup-batch', { type: 'number', default: 100, describe: 'Emails per search call' });
}

/** The import's options from its flags; relative paths (and the defaults made from them) resolve from `cwd`. */
export function importInput(argv: ImportArgv, env: NodeJS.ProcessEnv, cwd: string): ImportOptionsInput {
  const at = (path: string | undefined) => (path === undefined ? undefined : resolve(cwd, path));
  return {
    input: argv.file === '-' ? '-' : resolve(cwd, argv.file),
    cwd,
    ...connectionInput(argv, env),
    mode: argv.mode,
    dryRun: argv.dryRun,
    errors: at(argv.errors),
    results: at(argv.results),
    journal: at(argv.journal),
    resume: argv.resume,
    delimiter: argv.delimiter,
    encoding: argv.encoding,
    map: at(argv.map),
    ignoreUnknownColumns: argv.ignoreUnknownColumns,
    clearToken: argv.clearToken,
    lenient: argv.lenient,
    onDuplicate: argv.onDuplicate,
    idempotencyKey: argv.idempotencyKey,
    lookup: argv.lookup,
    lookupBatch: argv.lookupBatch,
    from: argv.from,
    format: argv.format,
    sheet: argv.sheet,
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

/** Flags of migrations from another helpdesk or CRM (issue 13). */
export function migrationFlags<T>(yargs: Argv<T>) {
  return yargs
    .option('from', { type: 'string', describe: 'Source preset: hubspot, salesforce, zendesk, intercom, freshdesk, front (maps in presets/; copy one and pass it with --map to edit it)' })
    .option('format', { type: 'string', choices: ['auto', 'csv', 'xlsx', 'json', 'ndjson'], describe: 'Input format', defaultDescription: 'from the extension (.xlsx, .json, .ndjson/.jsonl; else CSV)' })
    .option('sheet', { type: 'string', describe: 'XLSX: the sheet to read, by name or number', defaultDescription: 'the first sheet' })
    .option('default-country', { type: 'string', describe: 'ISO country code (GB, US, DE…) for phone numbers written without a country code; they are stored in E.164' })
    .option('on-bad-phone', { type: 'string', choices: ['drop', 'fail'], describe: 'A phone number that is not a valid number for its country: drop it from the contact (noted in the results) or fail the row', defaultDescription: 'drop' })
    .option('external-id-column', { type: 'string', describe: "Column holding the source system's id: kept as the contact's external id and matched on before the email" })
    .option('external-id-label', { type: 'string', describe: 'Label of that external id', defaultDescription: 'the preset name, or import' })
    .option('account-match', { type: 'string', choices: ['domain', 'name', 'external-id', 'off'], describe: "Associate contacts with accounts by the email's domain, a company-name column, or an account external-id column", defaultDescription: 'the preset\'s choice, else off' })
    .option('account-column', { type: 'string', describe: 'Column with the company name or account external id for --account-match name|external-id' })
    .option('account-overwrite', { type: 'boolean', describe: 'Let --account-match replace the account a contact already has (by default it is kept)' })
    .option('create-accounts', { type: 'boolean', describe: 'Create the accounts no domain or company name matched (the dry run lists them)' });
}

/** Runs an import-like job with progress, Ctrl-C handling and the summary; returns the stats. */
export async function runWithTerminal(
  argv: ApiCommandArgv,
  run: (hooks: {
    signal: AbortSignal;
    onProgress: (stats: ImportStats) => void;
    onNote: (message: string) => void;
    /** Ends the current progress display (before a prompt); the next update starts a new one. */
    endProgress: () => void;
  }) => Promise<ImportStats>,
  ctx: ReturnType<typeof contextOf>,
  rates: { create: number; patch: number; windowMs: number },
): Promise<ImportStats> {
  const interrupt = onInterrupt(ctx.stderr);
  const newProgress = () => createProgress({ stream: ctx.stderr, isTTY: ctx.isTTY, quiet: Boolean(argv.quiet), unit: 'rows' });
  let progress = newProgress();
  try {
    return await run({
      signal: interrupt.signal,
      endProgress: () => {
        progress.stop();
        progress = newProgress();
      },
      onNote: (message) => {
        if (!argv.quiet) ctx.stderr.write(`${message}\n`);
      },
      onProgress: (stats) => {
        const done = stats.created + stats.updated + stats.unchanged + stats.skipped + stats.failed;
        const writes = stats.created + stats.updated;
        const perRowSeconds = done > 0 ? (writes / done) * (rates.windowMs / 1000 / Math.min(rates.create, rates.patch)) : undefined;
        progress.update(done, { created: stats.created, updated: stats.updated, unchanged: stats.unchanged, skipped: stats.skipped, failed: stats.failed }, {
          etaSeconds: perRowSeconds === undefined ? undefined : Math.max(0, (stats.estimatedRows - done) * perRowSeconds),
          total: stats.estimatedRows,
        });
      },
    });
  } finally {
    progress.stop();
    interrupt.dispose();
  }
}

/**
 * yargs re-parses positionals as `--file <value>`, so a lone `-` is read as a flag
 * with no value: '' when typed as a string, `true` untyped. Left untyped, `true`
 * means `-` (stdin); anything else is a path.
 */
export function filePositional(value: unknown): string {
  return value === true ? '-' : String(value);
}

export const importCommand: CommandModule<object, ImportArgv> = {
  command: 'import <file>',
  describe: 'Create or update contacts from a CSV, XLSX, JSON or NDJSON file (- for stdin)',
  builder: (yargs) =>
    migrationFlags(rowFlags(yargs))
      .positional('file', { describe: 'CSV file (gzip is recognised and decompressed), XLSX, JSON array or NDJSON, or - for stdin', demandOption: true, coerce: filePositional })
      .option('mode', { type: 'string', choices: ['upsert', 'create', 'update'], default: 'upsert', describe: 'upsert: create or update by email; create: never update; update: never create' })
      .options(auditLogFlag)
      .option('plan-out', { type: 'string', describe: 'Save the changes to existing contacts as a plan for `apply` and write nothing (rows that would create contacts are refused); review it with `show`. An existing file is replaced only with --force' })
      .option('force', { type: 'boolean', default: false, describe: 'With --plan-out: replace an existing plan file' })
      .example('PYLON_API_TOKEN=… $0 import contacts.csv', 'Upsert contacts by email')
      .example('$0 import contacts.csv --dry-run --results plan.csv', 'See what would change, and how long it would take')
      .example('$0 import contacts.errors.csv', 'Import the fixed rows of an error report')
      .example('$0 import hubspot-export.xlsx --from hubspot --default-country US --dry-run', 'Preview a migration from HubSpot') as unknown as Argv<ImportArgv>,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    const options = resolveImportOptions({ ...importInput(argv, ctx.env, cwdOf(ctx)), ...(argv.planOut ? { dryRun: true } : {}) });
    if (argv.force && !argv.planOut) throw new ConfigError('CONFIG_INVALID_OPTION', '--force goes with --plan-out (it replaces an existing plan file).', { option: '--force' });
    if (argv.planOut) {
      const planOut = resolveFrom(ctx, argv.planOut);
      refuseExistingPlan(planOut, Boolean(argv.force));
      const client = connect(options.connection);
      let saved: SavedPlan | undefined;
      const stats = await runWithTerminal(
        argv,
        async (hooks) => {
          const r = await planImport(options, planOut, { ...hooks, client, stdin: ctx.stdin as never, command: redactCommand(ctx.args ?? [], options.connection.token) });
          saved = r.saved;
          return r.stats;
        },
        ctx,
        { ...options.connection.rates, windowMs: options.connection.rateWindowMs },
      ).finally(() => client.close());
      printImportSummary(stats, ctx, { json: false, verb: 'Import plan for', input: argv.file, target: saved?.target ?? targetOf(options.connection.baseUrl) });
      if (saved) {
        ctx.stderr.write(`Plan written to ${planOut}: ${saved.counts.changes} contacts change; hash ${saved.hash.slice(0, 12)}. Review it with \`pylon-contacts show ${argv.planOut}\`, then: pylon-contacts apply ${argv.planOut}\n`);
        if (argv.json) ctx.stdout.write(JSON.stringify({ planPath: argv.planOut, hash: saved.hash, counts: saved.counts, target: saved.target, createdAt: saved.createdAt }) + '\n');
      }
      ctx.exitCode = importExitCode(stats);
      return;
    }
    // A run that writes is recorded in the audit log: who (GET /me), where, what, when.
    const auditLog = options.dryRun ? undefined : openAuditLog(argv.auditLog, ctx);
    const startedAt = new Date();
    let target = targetOf(options.connection.baseUrl);
    const stats = await runWithTerminal(
      argv,
      async (hooks) => {
        if (auditLog) {
          const client = connect(options.connection);
          try {
            target = await fetchTarget(client, options.connection.baseUrl, hooks.signal);
          } finally {
            client.close();
          }
        }
        return runImport(options, { ...hooks, stdin: ctx.stdin as never });
      },
      ctx,
      { ...options.connection.rates, windowMs: options.connection.rateWindowMs },
    );
    printImportSummary(stats, ctx, { json: Boolean(argv.json), verb: options.dryRun ? 'Import plan for' : 'Import of', input: argv.file, target });
    ctx.exitCode = importExitCode(stats);
    if (auditLog) recordRun(auditLog, ctx, { token: options.connection.token, target, stats, exitCode: ctx.exitCode, startedAt });
  },
};
