import { counted } from '../../plural.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import {
  apiCommandOptions,
  forceOption,
  planOutOption,
  connectionFromArgv,
  inputFormatOptions,
  inputFromArgv,
  inputOptions,
  mappingFromArgv,
  mappingOptions,
  migrationOptions,
  modeOptions,
  outputOptions,
  undoOption,
  outputsFromArgv,
  writePolicyFromArgv,
  writePolicyOptions,
  type ApiCommandArgv,
  type InputArgv,
  type MappingArgv,
  type OutputArgv,
  type WritePolicyArgv,
} from '../option-groups.js';
import { contextOf } from '../args.js';
import { cwdOf, resolveFrom } from '../context.js';
import { checkUndoPath, refuseExistingPlan } from '../paths.js';
import { checkInputPath } from '../../input/open-input.js';
import { ConfigError, invalidOption } from '../../errors.js';
import { apiFailure, interruptedBy } from '../../run/run-control.js';
import { interruptedAtStart, stoppedAtStart } from '../../import/stats.js';
import { onInterrupt } from '../interrupt.js';
import { createProgress, rowProgressFigures } from '../progress.js';
import { importExitCode, printImportSummary } from '../output.js';
import { resolveImportOptions, type ImportOptionsInput } from '../../import/options.js';
import { runImport, type ImportStats } from '../../import/run-import.js';
import { connect } from '../../pylon/connect.js';
import { fetchTarget, targetOf } from '../../update/target.js';
import { auditLogFlag, guardedByAuditLog, openAuditLog, recordRun } from '../audit.js';
import { planImport } from '../../update/plan-import.js';
import { redactCommand, stateFolder } from '../../audit/audit-log.js';
import type { SavedPlan } from '../../update/plan-file.js';
import { limitHeapGrowth } from '../heap.js';

/** The import's flags: its options as the library takes them, with the file as a positional. */
export type ImportArgv = ApiCommandArgv &
  InputArgv &
  MappingArgv &
  WritePolicyArgv &
  OutputArgv & { auditLog?: string; planOut?: string; force?: boolean; undo?: string | false };

/** Flags shared by `import` and `update`: the connection and summary, and the groups that read rows and write reports. */
export function rowFlags<T>(yargs: Argv<T>) {
  return yargs.options(apiCommandOptions).options(writePolicyOptions).options(outputOptions).options(inputOptions).options(mappingOptions);
}

/** The import's options from its flags, group by group; relative paths (and the defaults made from them) resolve from `cwd`. */
export function importInput(argv: ImportArgv, env: NodeJS.ProcessEnv, cwd: string): ImportOptionsInput {
  return {
    ...connectionFromArgv(argv, env),
    ...inputFromArgv(argv, cwd),
    ...mappingFromArgv(argv, cwd),
    ...writePolicyFromArgv(argv),
    ...outputsFromArgv(argv, cwd),
    clearMemory: join(stateFolder(env), 'servers.json'),
  };
}

/** Flags of migrations from another helpdesk or CRM (issue 13): other file formats and the migration's mapping. */
export function migrationFlags<T>(yargs: Argv<T>) {
  return yargs.options(inputFormatOptions).options(migrationOptions);
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
  limitHeapGrowth();
  // A second Ctrl-C waits for the stop too: the journal, summary and audit record of the writes made are kept.
  const interrupt = onInterrupt(ctx.stderr, { finishStop: true });
  const newProgress = () => createProgress({ stream: ctx.stderr, isTTY: ctx.isTTY, quiet: Boolean(argv.quiet), unit: 'rows' });
  let progress = newProgress();
  // The ETA's measured rate counts from the start of the current display (a prompt in between is not the run's pace).
  let started = Date.now();
  try {
    return await run({
      signal: interrupt.signal,
      endProgress: () => {
        progress.stop();
        progress = newProgress();
        started = Date.now();
      },
      onNote: (message) => {
        if (!argv.quiet) ctx.stderr.write(`${message}\n`);
      },
      onProgress: (stats) => {
        const done = stats.created + stats.updated + stats.unchanged + stats.skipped + stats.failed;
        const figures = rowProgressFigures({ done, created: stats.created, updated: stats.updated, estimatedRows: stats.estimatedRows, elapsedSeconds: (Date.now() - started) / 1000, rates });
        // A plan (a dry run, or an update's pass before its question) writes nothing: its counts are what would be done.
        const would = stats.dryRun;
        progress.update(done, { [would ? 'would create' : 'created']: stats.created, [would ? 'would update' : 'updated']: stats.updated, unchanged: stats.unchanged, skipped: stats.skipped, failed: stats.failed }, figures);
      },
    });
  } finally {
    progress.stop();
    interrupt.dispose();
  }
}

/** The undo file's name without `.undo.csv`: the input's without its extension, or `pylon-import-<time>` for stdin. */
function undoBase(file: string, stamp: string): string {
  if (file === '-') return `pylon-import-${stamp}`;
  return file.replace(/\.(gz)$/i, '').replace(/\.(csv|tsv|txt|xlsx|xlsm|json|ndjson|jsonl)$/i, '');
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
      .options(modeOptions)
      .option('undo', { ...undoOption.undo, describe: 'Where to write the previous values of every existing contact the import changes (a regular file; `update <undo file>` restores them; created contacts are not in it: see --results); --no-undo writes none', defaultDescription: '<input>.undo.csv (pylon-import-<time>.undo.csv for stdin)' })
      .options(auditLogFlag)
      .option('plan-out', { ...planOutOption['plan-out'], describe: 'Save the changes to existing contacts as a plan for `apply` and write nothing (rows that would create contacts are refused); review it with `show`. An existing file is replaced only with --force' })
      .option('force', { ...forceOption.force, describe: 'With --plan-out: replace an existing plan file' })
      .example('PYLON_API_TOKEN=… $0 import contacts.csv', 'Upsert contacts by email')
      .example('$0 import contacts.csv --dry-run --results plan.csv', 'See what would change, and how long it would take')
      .example('$0 import contacts.errors.csv', 'Import the fixed rows of an error report')
      .example('$0 update contacts.undo.csv', 'Restore the contacts the import changed (fields changed since are left as they are)')
      .example('$0 import hubspot-export.xlsx --from hubspot --default-country US --dry-run', 'Preview a migration from HubSpot') as unknown as Argv<ImportArgv>,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    if (argv.undo === '') throw invalidOption('--undo', 'a file path (or --no-undo to write none)', argv.undo);
    // The undo file (as for update): beside the input, or for stdin in the working directory. A dry run or a plan writes none.
    const writes = !argv.dryRun && !argv.planOut;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const undo = argv.undo === false || !writes ? false : resolveFrom(ctx, argv.undo ?? `${undoBase(argv.file, stamp)}.undo.csv`);
    const options = resolveImportOptions({ ...importInput(argv, ctx.env, cwdOf(ctx)), undo, ...(argv.planOut ? { dryRun: true } : {}) });
    // A mistyped input is named as such, before the outputs beside it (whose folder is then missing too).
    if (argv.file !== '-') checkInputPath(resolveFrom(ctx, argv.file));
    if (undo !== false) checkUndoPath(undo);
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
        ctx.stderr.write(`Plan written to ${planOut}: ${counted(saved.counts.changes, 'contact')} ${saved.counts.changes === 1 ? 'changes' : 'change'}; hash ${saved.hash.slice(0, 12)}. Review it with \`pylon-contacts show ${argv.planOut}\`, then: pylon-contacts apply ${argv.planOut}\n`);
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
        // The organisation (GET /me) is also what the server memory (servers.json) is kept under: a dry run reads it too,
        // as the real run does, on a client of its own (so neither counts it among the run's calls).
        if (auditLog || (options.dryRun && options.clearMemoryPath)) {
          const client = connect(options.connection);
          try {
            target = await fetchTarget(client, options.connection.baseUrl, hooks.signal);
          } catch (error) {
            // Ctrl-C before the first row: the summary and exit 130, as for a Ctrl-C later (no journal was begun yet).
            if (interruptedBy(error, hooks.signal)) return interruptedAtStart(client, options.dryRun, startedAt.getTime());
            // A wrong token or a host down: the run's summary (and --json's stats) say so, with the code, as for a stop later.
            const fatal = apiFailure(error);
            if (fatal === undefined) throw error;
            return stoppedAtStart(client, options.dryRun, fatal, startedAt.getTime());
          } finally {
            client.close();
          }
        }
        // runImport keeps the undo file through its lifecycle (a resume keeps the interrupted run's path, rows rebuilt from the journal).
        // Each write is checked against the audit log's disk first: a run that could keep no record stops before it writes more.
        return runImport({ ...options, connection: guardedByAuditLog(options.connection, auditLog), undoOrganization: target.organization?.id }, { ...hooks, stdin: ctx.stdin as never });
      },
      ctx,
      { ...options.connection.rates, windowMs: options.connection.rateWindowMs },
    );
    // Asked for an undo file and changed no contact: none was written, and the summary says so as every command's does.
    if (options.undoPath !== undefined && stats.updated === 0 && stats.undoPath && !existsSync(stats.undoPath)) stats.undoPath = undefined;
    printImportSummary(stats, ctx, { json: Boolean(argv.json), verb: options.dryRun ? 'Import plan for' : 'Import of', input: argv.file, target, createdApart: options.undoPath !== undefined, noUndoNeeded: options.undoPath !== undefined });
    ctx.exitCode = importExitCode(stats);
    if (auditLog) recordRun(auditLog, ctx, { token: options.connection.token, target, stats, exitCode: ctx.exitCode, startedAt });
  },
};
