import type { Argv, CommandModule } from 'yargs';
import { counted } from '../../plural.js';
import { redact, type ConnectionOptionsInput } from '../../config.js';
import { resolveExportOptions, type ExportOptionsInput } from '../../export/options.js';
import { isSpecialFile } from '../../output/output-file.js';
import { runExport, type ExportStats } from '../../export/run-export.js';
import { contextOf } from '../args.js';
import { cwdOf, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { onInterrupt } from '../interrupt.js';
import { createProgress, formatDuration } from '../progress.js';
import { apiCommandOptions, connectionFromArgv, type ApiCommandArgv } from '../option-groups.js';

/** The export's flags: its options as the library takes them, with the file as a positional. */
export type ExportArgv = ApiCommandArgv &
  Omit<ExportOptionsInput, keyof ConnectionOptionsInput | 'output' | 'columns' | 'json' | 'now' | 'rowGroupSize'> & { file?: string; columns?: string };

export function exportInput(argv: ExportArgv, env: NodeJS.ProcessEnv, cwd?: string): ExportOptionsInput {
  return {
    cwd,
    output: argv.file,
    ...connectionFromArgv(argv, env),
    format: argv.format,
    gzip: argv.gzip,
    bom: argv.bom,
    excelSafe: argv.excelSafe,
    columns: argv.columns,
    filter: argv.filter,
    manifest: argv.manifest,
    errors: argv.errors,
    since: argv.since,
    state: argv.state,
    pageSize: argv.pageSize,
    maxPages: argv.maxPages,
    typed: argv.typed,
    allowSchemaChange: argv.allowSchemaChange,
    changes: argv.changes,
    to: argv.to,
    hardDelete: argv.hardDelete,
    successMarker: argv.successMarker,
    runId: argv.runId,
    recheck: argv.recheck,
    json: argv.json,
  };
}

/** 0 complete, 3 complete but some records could not be written or the list changed unverifiably, 130 interrupted, 1 failed. */
export function exportExitCode(stats: ExportStats): number {
  if (stats.complete) return stats.recordErrors > 0 || stats.listCheck.verdict === 'unverified' ? EXIT.PARTIAL : EXIT.OK;
  return stats.interrupted ? EXIT.INTERRUPTED : EXIT.FATAL;
}

const n = (value: number) => value.toLocaleString('en-US');
const count = (value: number, noun: string) => `${n(value)} ${noun}${value === 1 ? '' : 's'}`;

/** How emptyStats names a load-only run's output (no file). */
const NO_FILE = /^\(no file; .*\)$/;

/** stdout, or a device or FIFO written in place: what it received cannot be taken back. */
const writtenInPlace = (stats: ExportStats) => stats.output === '-' || (!NO_FILE.test(stats.output) && isSpecialFile(stats.output));
const targetOf = (stats: ExportStats) => (stats.output === '-' ? 'stdout' : stats.output);

/**
 * The headline's counts. A run that did not complete published nothing: its rows went to temporary files (or the
 * load's staging) that were discarded with the rolled-back transaction, so it must not say rows were written, only
 * stdout (or a device), which cannot be taken back, received them.
 */
function headlineCounts(stats: ExportStats): string {
  const pages = `in ${count(stats.pages, 'page')}`;
  if (stats.complete) return `${count(stats.rows, 'row')} written from ${count(stats.contactsRead, 'contact')} ${pages}`;
  if (writtenInPlace(stats)) return `${count(stats.rows, 'row')} written to ${targetOf(stats)} from ${count(stats.contactsRead, 'contact')} ${pages}`;
  return `${count(stats.contactsRead, 'contact')} read ${pages}; ${count(stats.rows, 'row')} staged and discarded, none published`;
}

/** What a run that did not complete left where: the targets as they were, and the only files it wrote (named on the lines below). */
function nothingPublished(stats: ExportStats): string {
  // A run that stopped before its first byte (a bad token, say) left stdout or the device empty: nothing to discard.
  if (writtenInPlace(stats)) return stats.bytes === 0 ? `  nothing was written to ${targetOf(stats)}` : `  ${targetOf(stats)} received a partial export: discard it`;
  const wrote = [stats.errorsPath ? 'its error report' : undefined, stats.manifestPath ? 'the manifest of this failed run' : undefined].filter((s) => s !== undefined);
  const kept = NO_FILE.test(stats.output) ? 'nothing was loaded: the table is as it was' : 'nothing was published: the previous file and any loaded table are as they were';
  return `  ${kept}${wrote.length > 0 ? `; this run wrote only ${wrote.join(' and ')}` : ''}`;
}

export function formatExportSummary(stats: ExportStats): string {
  const target = targetOf(stats);
  const state = stats.complete ? 'complete' : stats.interrupted ? 'interrupted' : 'FAILED';
  const calls = Object.entries(stats.calls)
    .filter(([, count]) => count > 0)
    .map(([endpoint, count]) => `${endpoint} ${n(count)}`)
    .join(', ');
  const lines = [
    `Export to ${target}: ${state} after ${formatDuration(stats.durationMs / 1000)}, ${headlineCounts(stats)}`,
    `  API calls: ${calls || 'none'}; retries ${n(stats.retries)}, rate-limited ${n(stats.rateLimited)}`,
  ];
  if (stats.delta) {
    const d = stats.delta;
    lines.push(`  delta since ${d.since}: new ${n(d.new)}, changed ${n(d.changed)}, unchanged ${n(d.unchanged)}, deleted ${d.deleted === null ? 'not counted (the run stopped first)' : n(d.deleted)}${d.deletedPath ? ` (ids in ${d.deletedPath})` : ''}`);
  }
  if (stats.load) {
    const l = stats.load;
    lines.push(`  loaded into ${l.target}: inserted ${n(l.inserted)}, updated ${n(l.updated)}, unchanged ${n(l.unchanged)}, deleted ${n(l.deleted)}`);
  }
  if (stats.changes) lines.push(`  change log ${stats.changes.path}: insert ${n(stats.changes.insert)}, update ${n(stats.changes.update)}, delete ${n(stats.changes.delete)}`);
  if (stats.schemaFiles.length > 0) lines.push(`  schema ${stats.schemaHash?.slice(0, 12)}: ${stats.schemaFiles.join(', ')}`);
  if (stats.recordErrors > 0) lines.push(`  ${counted(stats.recordErrors, 'record')} could not be written${stats.errorsPath ? `: see ${stats.errorsPath}` : ''}`);
  if (stats.complete && stats.sha256) lines.push(`  sha256 ${stats.sha256}, ${n(stats.bytes)} bytes`);
  if (stats.stoppedAt) {
    const s = stats.stoppedAt;
    // A page is named only when the failure was that page's (its request or its answer); otherwise how far the walk got.
    const where = s.page !== null ? `at page ${n(s.page)}${s.cursor ? ` (cursor ${s.cursor})` : ''}` : s.pagesRead === 0 ? 'before the first page' : `after ${n(s.pagesRead)} page${s.pagesRead === 1 ? '' : 's'} had been read`;
    // A failure names its code, as the other commands' fatal lines do; an interruption is said by its message.
    lines.push(`  ${stats.fatal ? `fatal (${stats.fatal.code}), ` : ''}stopped ${where}: ${s.message}`);
    lines.push(nothingPublished(stats));
    if (stats.errorsPath) lines.push(`  error report: ${stats.errorsPath}`);
    // The way on: an export keeps no journal, so there is no --resume to suggest (import's summary suggests one).
    if (stats.interrupted) lines.push('  to finish: run the same command again (an export starts over; it has nothing to resume)');
  }
  const check = stats.listCheck;
  if (check.repeated > 0 || check.walks > 1) {
    lines.push(`  list ${check.verdict} after ${check.walks} walk${check.walks === 1 ? '' : 's'}: ${counted(check.repeated, 'row')} met again (written once), ${n(check.addedByRecheck)} added by a recheck; ${check.note}`);
  }
  if (stats.manifestPath) lines.push(`  manifest: ${stats.manifestPath}`);
  for (const warning of stats.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n') + '\n';
}

function printExportSummary(stats: ExportStats, ctx: CliContext, options: { json: boolean; token: string }) {
  ctx.stderr.write(redact(formatExportSummary(stats), options.token));
  if (options.json) ctx.stdout.write(redact(JSON.stringify(stats), options.token) + '\n');
}

export const exportCommand: CommandModule<object, ExportArgv> = {
  command: 'export [file]',
  describe: 'Write every contact (or a --filter subset) to CSV, NDJSON, Parquet or a database table; - or no file for stdout',
  builder: (yargs) =>
    yargs
      .options(apiCommandOptions)
      .positional('file', {
        type: 'string',
        describe:
          'Output file (.csv, .ndjson, .jsonl, optionally .gz; .parquet), or - for stdout; may hold {date}, {time}, {run_id}. A templated path is a partition of a dataset: it gets the data file and _SUCCESS only; the manifest, state, report and schema sidecars go beside the dataset root (lake/contacts/dt={date}/c.parquet → lake/contacts._meta/dt=…/c.parquet.manifest.json)',
        defaultDescription: 'stdout; none with --to',
      })
      .option('format', { type: 'string', choices: ['csv', 'ndjson', 'parquet'], describe: 'Output format', defaultDescription: 'from the file name, else csv' })
      .option('typed', { type: 'boolean', describe: 'NDJSON with numbers, booleans and lists as JSON types and warehouse column names (Parquet is always typed)', defaultDescription: 'false' })
      .option('gzip', { type: 'boolean', describe: 'Gzip the output', defaultDescription: 'true when the name ends in .gz' })
      .option('bom', { type: 'boolean', default: false, describe: 'Start the CSV with a UTF-8 BOM (Excel)' })
      .option('excel-safe', { type: 'boolean', default: false, describe: "Escape cells starting with = + - @ tab or CR with a leading ' (formula injection); such a file no longer re-imports unchanged" })
      .option('columns', { type: 'string', describe: 'Comma-separated columns to write, in this order (e.g. id,email,custom.tier); external_ids, account_external_ids and integration_user_ids only when named', defaultDescription: 'the default set, in the documented order' })
      .option('filter', { type: 'string', describe: 'Export a subset through search: email~@acme.com, account_id=…, field in a|b, joined with " and " (no "or"), or a JSON filter' })
      .option('manifest', { type: 'string', describe: 'Manifest path (rows, pages, API calls, sha256, columns, times, complete)', defaultDescription: '<file>.manifest.json (templated: under <dataset root>._meta/); none for stdout' })
      .option('errors', { type: 'string', describe: 'Error report path (failed pages, unwritable records)', defaultDescription: '<file>.errors.csv' })
      .option('since', { type: 'string', describe: 'Delta: the manifest of an earlier export; write only new or changed contacts, and the ids gone since in <file>.deleted.csv' })
      .option('state', { type: 'string', describe: 'Delta against the last committed run: read this state file when it exists (first run: every contact is new), replace it only when the whole run is committed; one run at a time (<state>.lock: a second run with the same file meanwhile is refused, exit 2); one fixed path for every night (instead of --since), not inside the dataset root of a templated file unless its name starts with _ or . (lake/contacts.state for lake/contacts/dt={date}/…). With --to the state is also kept in the table\'s database, and a load without --state uses that (so does one whose --state file does not exist, when that state is this pipeline\'s)' })
      .option('allow-schema-change', { type: 'boolean', describe: 'Go on when a column was dropped or changed type against the previous manifest (typed output and loads)', defaultDescription: 'false' })
      .option('changes', { type: 'string', describe: 'Change log: one row per insert, update, delete since the last run (the --state file, --since manifest or state kept in the --to table; every contact an insert without one) (op,id,row_hash,valid_from,run_id); .ndjson for NDJSON' })
      .option('to', { type: 'string', describe: 'Load into duckdb:<file>[#table] or postgresql://…[#table] (table default contacts): insert new, update changed, mark removed; without --state the table\'s kept state is the baseline, so a file output is a delta with the ids gone since in <file>.deleted.csv' })
      .option('hard-delete', { type: 'boolean', describe: 'With --to: delete removed contacts instead of setting _deleted_at', defaultDescription: 'false' })
      .option('success-marker', { type: 'boolean', describe: 'Write _SUCCESS beside the manifest, last', defaultDescription: 'true when the path has a template' })
      .option('run-id', { type: 'string', describe: 'The run id ({run_id}, change log, _run_id)', defaultDescription: 'start time and a random suffix' })
      .option('page-size', { type: 'number', default: 999, describe: 'Contacts per request (1–999)' })
      .option('recheck', { type: 'string', choices: ['auto', 'always', 'never'], default: 'auto', describe: 'Walk the list again when contacts were added or deleted during the export (auto: when an id came back), always, or never; the manifest says what it could verify' })
      .option('max-pages', { type: 'number', default: 100_000, describe: 'Stop with an error after this many pages (runaway-loop guard)' })
      .example('PYLON_API_TOKEN=… $0 export contacts.csv', 'Every contact, atomically, with contacts.csv.manifest.json')
      .example('$0 export contacts.ndjson.gz', 'NDJSON, gzipped')
      .example("$0 export acme.csv --filter 'email~@acme.com' --columns id,name,email", 'A subset, three columns')
      .example('$0 export today.csv --since yesterday.csv.manifest.json', 'Only what changed, plus today.csv.deleted.csv')
      .example("$0 export 'lake/contacts/dt={date}/contacts-{run_id}.csv' --state lake/contacts.state --changes 'lake/changes/dt={date}/changes-{run_id}.csv'", 'Nightly: what changed since the last committed night, whichever night that was; a file per run')
      .example("$0 export 'contacts/dt={date}/contacts.parquet'", 'Typed Parquet in a dated partition, schema sidecars, _SUCCESS last')
      .example('$0 export --to duckdb:warehouse.duckdb', 'Load (merge) into the table contacts of a DuckDB file') as unknown as Argv<ExportArgv>,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    const options = resolveExportOptions(exportInput(argv, ctx.env, cwdOf(ctx)));
    const interrupt = onInterrupt(ctx.stderr);
    const progress = createProgress({ stream: ctx.stderr, isTTY: ctx.isTTY, quiet: Boolean(argv.quiet), unit: 'contacts' });
    let stats: ExportStats;
    let walked: ExportStats | undefined;
    const MERGE_STEPS = ['staged', 'updated', 'inserted', 'deleted'];
    try {
      stats = await runExport(options, {
        signal: interrupt.signal,
        stdout: ctx.stdout,
        onNote: (message) => {
          if (!argv.quiet) ctx.stderr.write(`${message}\n`);
        },
        onProgress: (s) => {
          walked = s;
          progress.update(s.contactsRead, { pages: s.pages, written: s.rows });
        },
        // The merge after the walk: each statement that finishes shows with its count.
        onCommitting: (what) => interrupt.committing(what),
        onMergeStep: (step, counts) =>
          progress.update(walked?.contactsRead ?? 0, { pages: walked?.pages ?? 0, written: walked?.rows ?? 0, 'merge steps done (of 4)': MERGE_STEPS.indexOf(step) + 1, ...(counts.updated === undefined ? {} : { updated: counts.updated }), ...(counts.inserted === undefined ? {} : { inserted: counts.inserted }), ...(counts.deleted === undefined ? {} : { 'marked deleted': counts.deleted }) }),
      });
    } finally {
      progress.stop();
      interrupt.dispose();
    }
    // A signal during the COMMIT stopped nothing: the summary says the run completed all the same.
    const late = interrupt.interruptedDuring;
    if (late && !stats.interrupted) stats.warnings.push(`${late.signal} came while ${late.what} was under way, every output already in place: it was not stopped, and the run completed`);
    printExportSummary(stats, ctx, { json: Boolean(argv.json), token: options.connection.token });
    ctx.exitCode = exportExitCode(stats);
  },
};
