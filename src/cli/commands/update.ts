import { existsSync } from 'node:fs';
import { askToConfirm } from '../confirm.js';
import type { Argv, CommandModule } from 'yargs';
import { contextOf } from '../args.js';
import { importExitCode, printImportSummary } from '../output.js';
import { filePositional, importInput, rowFlags, runWithTerminal, type ImportArgv } from './import.js';
import { resolveImportOptions } from '../../import/options.js';
import { runUpdate, type UpdatePlan } from '../../update/run-update.js';
import { UNDO_CLEAR_TOKEN } from '../../import/run-import.js';
import { connect, noteLongWaits } from '../../pylon/connect.js';
import { parseFilterExpression } from '../../pylon/filter-expr.js';
import { ConfigError, invalidOption } from '../../errors.js';
import { PORTAL_ROLES } from '../../pylon/types.js';
import { EXIT } from '../exit-codes.js';
import { whereJournalPath, whereRunKey } from '../../run/run-state.js';
import { describeTarget, targetOf } from '../../update/target.js';
import { checkSyncSpec } from '../../update/sync.js';
import type { SavedPlan } from '../../update/plan-file.js';
import { redactCommand } from '../../audit/audit-log.js';
import { auditLogFlag, guardedByAuditLog, openAuditLog, recordRun } from '../audit.js';
import { forceOption, guardOptions, mappingOptions, planOutOption, undoOption, writePolicyOptions } from '../option-groups.js';
import { cwdOf, resolveFrom, type CliContext } from '../context.js';
import { checkUndoPath, refuseExistingPlan } from '../paths.js';
import { checkInputPath } from '../../input/open-input.js';
import { setPairHint } from '../strict-args.js';
import { sweepDeadPartialsIn } from '../../output/output-file.js';
import { dirname } from 'node:path';
import { describeSeconds, pacedSeconds, type EndpointKey } from '../../rates.js';
import { counted } from '../../plural.js';

interface UpdateArgv extends ImportArgv {
  set?: string[];
  where?: string;
  maxChanges?: number;
  yes?: boolean;
  undo?: string | false;
  planOut?: string;
  sync?: boolean;
  others?: string[];
  maxRemovals?: number;
  force?: boolean;
  auditLog?: string;
}

function parseSet(values: string[] | undefined, flag = '--set'): Record<string, string> {
  const set: Record<string, string> = {};
  for (const item of values ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw invalidOption(flag, 'field=value, e.g. portal_role=member', item);
    const column = item.slice(0, i).trim();
    if (column in set) throw invalidOption(flag, 'each field once', item);
    set[column] = item.slice(i + 1);
  }
  return set;
}

/**
 * A `--set portal_role=` value is the same for every contact: one that is not a portal role is a usage error before any
 * call, not a failed row per contact with an error report saying to fix the rows. `--lenient` sends it as written.
 */
function checkRole(pairs: Record<string, string>, flag: string, lenient: boolean | undefined): void {
  const key = Object.keys(pairs).find((name) => name.trim().toLowerCase() === 'portal_role');
  const value = key === undefined ? '' : pairs[key]!.trim();
  if (value === '' || lenient || (PORTAL_ROLES as readonly string[]).includes(value.toLowerCase())) return;
  throw invalidOption(flag, `portal_role set to ${PORTAL_ROLES.slice(0, -1).join(', ')} or ${PORTAL_ROLES.at(-1)} (a custom role: portal_role_id=<its id>; --lenient sends another value as written)`, `${key}=${pairs[key!]}`);
}

/** The error reports named by an update's start time (`pylon-update-<time>.errors.csv`, and its `--sync` removals'). */
const STAMPED_REPORT = /^pylon-update-\d{4}-\d\d-\d\dT[\d-]+Z\.errors(\.removals)?\.csv$/;

function describePlan(plan: UpdatePlan): string {
  const lines: string[] = [];
  if (plan.target) lines.push(`Target: ${describeTarget(plan.target)}`);
  // A plan stopped part way (Ctrl-C, a fatal error) counts only the rows it reached.
  const verb = `${plan.undo ? 'Undo plan' : 'Plan'}${plan.stats.interrupted || plan.stats.fatal ? ` so far (stopped after ${counted(plan.stats.total, 'row')})` : ''}`;
  lines.push(`${verb}: ${counted(plan.changes, 'contact')} ${plan.changes === 1 ? 'changes' : 'change'}, ${plan.stats.unchanged.toLocaleString('en-US')} unchanged, ${plan.stats.skipped > 0 ? `${plan.stats.skipped.toLocaleString('en-US')} skipped, ` : ''}${counted(plan.stats.failed, 'row')} ${plan.stats.failed === 1 ? 'fails' : 'fail'}.`);
  lines.push(...transitionLines(plan.transitions));
  const drifted = (plan.stats as { drifted?: number }).drifted ?? 0;
  if (plan.undo && drifted > 0) {
    lines.push(`  ${counted(drifted, 'contact')} changed since the run and ${drifted === 1 ? 'is left as it is' : 'are left as they are'} (ROW_DRIFTED; --force reverts them anyway)`);
  }
  if (plan.removals) {
    lines.push(`Removals (--sync): ${counted(plan.removals.length, 'contact')} not in the file ${plan.removals.length === 1 ? 'changes' : 'change'}${plan.removals.length > 0 ? ':' : ''}`);
    lines.push(...transitionLines(plan.removalTransitions ?? []));
    for (const r of plan.removals.slice(0, 10)) lines.push(`    ${r.email ?? r.id}`);
    if (plan.removals.length > 10) lines.push(`    … and ${plan.removals.length - 10} more (all in the plan written with --plan-out)`);
  }
  return lines.join('\n') + '\n';
}

function transitionLines(transitions: UpdatePlan['transitions']): string[] {
  const lines = transitions.slice(0, 15).map((t) => `  ${t.column}: ${JSON.stringify(t.from)} → ${JSON.stringify(t.to)}  × ${t.count.toLocaleString('en-US')}`);
  if (transitions.length > 15) lines.push(`  … and ${transitions.length - 15} more kinds of change`);
  return lines;
}

function confirmPlan(ctx: CliContext, plan: UpdatePlan, pace: Pace, signal: AbortSignal): Promise<boolean> {
  const removals = plan.removals?.length ?? 0;
  const count = `${counted(plan.changes, 'contact')}${removals > 0 ? ` (and ${counted(removals, 'removal')})` : ''}`;
  // The real run looks each row up again (one search per --lookup-batch) and sends one PATCH per change, each after a GET
  // that reads the contact again (its own bucket, as the dry run counts it): the slower of the two paces the run.
  const writes = plan.changes + removals;
  const eta = pacedSeconds({ search: Math.ceil(plan.stats.total / pace.lookupBatch), get: writes, patch: writes }, pace.rates, pace.windowMs);
  return askToConfirm(ctx, `Apply these changes to ${count}${plan.target ? ` on ${plan.target.host}` : ''}, about ${describeSeconds(eta)} at the paced rate? Type yes to continue: `, signal);
}

interface Pace {
  rates: Readonly<Record<EndpointKey, number>>;
  windowMs: number;
  lookupBatch: number;
}

export const updateCommand: CommandModule<object, UpdateArgv> = {
  command: 'update [file]',
  describe: 'Change fields (e.g. the portal role) of existing contacts, with a preview, a guard and an undo file',
  builder: (yargs) =>
    rowFlags(yargs)
      // update never creates a contact, so a create's idempotency key has nothing to do: not offered (still taken, for scripts shared with import).
      .option('idempotency-key', { ...writePolicyOptions['idempotency-key'], hidden: true })
      .positional('file', { describe: 'CSV with an email or id column (- for stdin); omit with --where', coerce: (v: unknown) => (v === undefined ? undefined : filePositional(v)) })
      .option('set', { type: 'string', array: true, describe: 'field=value applied to every selected contact (repeatable), e.g. portal_role=member or custom.tier=gold' })
      .option('where', { type: 'string', describe: 'Select contacts through search instead of a file, e.g. "email~@acme.com", "email in a|b", expressions joined with " and " (no "or")' })
      .options(guardOptions)
      .options(undoOption)
      // Undo files write empty values as this marker, so update clears with it unless told otherwise.
      .option('clear-token', { ...mappingOptions['clear-token'], default: UNDO_CLEAR_TOKEN, describe: 'A cell holding exactly this clears the field (undo files use it for values that were empty)' })
      .options(planOutOption)
      .option('sync', { type: 'boolean', default: false, describe: 'The file is the whole list of who holds the --set values: everyone else holding them gets --others' })
      .option('others', { type: 'string', array: true, describe: 'With --sync: field=value given to contacts not in the file that hold the --set value (repeatable), e.g. portal_role=member' })
      .options(forceOption)
      .options(auditLogFlag)
      .example('$0 update admins.csv --set portal_role=admin --max-changes 500', 'Make every listed email an admin, at most 500 changes')
      .example('$0 update --where "email~@acme.com" --set portal_role=no_access --dry-run', 'Preview removing portal access for an account')
      .example('$0 update admins.undo.csv', 'Undo the previous change (fields changed since are left as they are)')
      .example('$0 update admins.csv --set portal_role=admin --plan-out plan.json', 'Save the plan for review; apply it with `apply plan.json`')
      .example('$0 update admins.csv --set portal_role=admin --sync --others portal_role=member', 'Exactly the listed contacts are admins; other admins become members') as unknown as Argv<UpdateArgv>,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    if (!argv.file && !argv.where) throw new ConfigError('CONFIG_INVALID_OPTION', 'Name the file of contacts to update (CSV, XLSX, JSON or NDJSON; - for stdin), or select them with --where, e.g. pylon-contacts update admins.csv --set portal_role=admin --dry-run.', { option: '--where' });
    // The file may be a word meant for something else (`--where … --set a=b extra`): name it.
    if (argv.file && argv.where) throw new ConfigError('CONFIG_INVALID_OPTION', `Unexpected extra argument: ${argv.file} (update takes a file or --where, not both${setPairHint([argv.file])}).`, { option: '--where' });
    const set = parseSet(argv.set);
    // The selection holds only id and email: without --set there would be nothing to change.
    if (argv.where && Object.keys(set).length === 0) {
      throw new ConfigError('CONFIG_INVALID_OPTION', '--where selects contacts; say what to change with --set field=value (e.g. --set portal_role=member).', { option: '--set' });
    }
    // The selection's own email column finds each contact: one address for every selected contact cannot be set (an address is one contact's).
    if (argv.where && Object.keys(set).some((key) => key.toLowerCase() === 'email' || key.toLowerCase() === 'emails')) {
      throw new ConfigError('CONFIG_INVALID_OPTION', `--set ${Object.keys(set).find((key) => /^emails?$/i.test(key))} cannot go with --where: every selected contact would get the same address, which only one contact can hold. To change addresses, list them in a file (id,email: one row per contact) and run pylon-contacts update <file> --dry-run.`, { option: '--set' });
    }
    const where = argv.where === undefined ? undefined : parseFilterExpression(argv.where);
    if (argv.maxChanges !== undefined && (!Number.isInteger(argv.maxChanges) || argv.maxChanges < 0)) {
      throw invalidOption('--max-changes', 'a whole number of contacts, 0 or more', argv.maxChanges);
    }
    const others = parseSet(argv.others, '--others');
    checkRole(set, '--set', argv.lenient);
    checkRole(others, '--others', argv.lenient);
    if (argv.sync) {
      if (!argv.file || argv.file === '-') throw new ConfigError('CONFIG_INVALID_OPTION', '--sync needs the whole list as a file: it cannot be combined with --where or stdin.', { option: '--sync' });
      checkSyncSpec({ set, others });
    } else if (argv.others) {
      throw new ConfigError('CONFIG_INVALID_OPTION', '--others goes with --sync.', { option: '--others' });
    }
    if (!Number.isInteger(argv.maxRemovals) || argv.maxRemovals! < 0) throw invalidOption('--max-removals', 'a whole number of contacts, 0 or more', argv.maxRemovals);
    const planOut = argv.planOut === undefined ? undefined : resolveFrom(ctx, argv.planOut);
    if (planOut !== undefined) refuseExistingPlan(planOut, Boolean(argv.force));
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    // Default outputs go beside the input, or for stdin and --where into the working directory.
    const fileBase = resolveFrom(ctx, argv.file && argv.file !== '-' ? argv.file.replace(/\.(csv|tsv|txt)$/i, '') : `pylon-update-${stamp}`);
    if (argv.undo === '') throw invalidOption('--undo', 'a file path (or --no-undo to write none)', argv.undo);
    const undo = argv.undo === false ? false : resolveFrom(ctx, argv.undo ?? `${fileBase}.undo.csv`);
    // A --where run keeps a journal too, named by its query and values: --resume finds it.
    const writes = !argv.dryRun && !planOut;
    const base = resolveImportOptions({ ...importInput({ ...argv, file: argv.file ?? '-' }, ctx.env, cwdOf(ctx)), mode: 'update', set, dryRun: true, resume: false });
    // A mistyped input is named as such, before the outputs beside it (whose folder is then missing too).
    if (argv.file && argv.file !== '-') checkInputPath(resolveFrom(ctx, argv.file));
    if (undo !== false && !argv.dryRun && !planOut) checkUndoPath(undo);
    const journal = argv.journal ?? (where && writes ? whereJournalPath(cwdOf(ctx), whereRunKey(where, set, base.connection.baseUrl)) : undefined);
    const options = resolveImportOptions({
      ...importInput({ ...argv, file: argv.file ?? '-', journal }, ctx.env, cwdOf(ctx)),
      mode: 'update',
      set,
      undo,
      errors: argv.errors === undefined ? `${fileBase}.errors.csv` : resolveFrom(ctx, argv.errors),
    });
    // An update of stdin or --where names its error report by its start time: a killed run's partial of it is never
    // met again by name (its --resume writes under a new one), so the dead ones are swept from the folder here.
    if (argv.errors === undefined && !(argv.file && argv.file !== '-')) await sweepDeadPartialsIn(dirname(fileBase), STAMPED_REPORT);
    const auditLog = writes ? openAuditLog(argv.auditLog, ctx) : undefined;
    const startedAt = new Date();
    // A long wait Pylon asks for is said on the run's notes (set once the run has them).
    let onNote: ((message: string) => void) | undefined;
    // Each write is checked against the audit log's disk first: a run that could keep no record stops before it writes more.
    const client = connect(guardedByAuditLog(options.connection, auditLog), { onEvent: noteLongWaits((message) => onNote?.(message)) });
    let plan: UpdatePlan | undefined;
    let saved: SavedPlan | undefined;
    const result = await runWithTerminal(
      argv,
      async (hooks) => {
        onNote = hooks.onNote;
        const r = await runUpdate(
          {
            import: options,
            where,
            whereExpression: argv.where,
            maxChanges: argv.maxChanges,
            planOut,
            command: redactCommand(ctx.args ?? [], options.connection.token),
            sync: argv.sync ? { others, maxRemovals: argv.maxRemovals! } : undefined,
            force: argv.force,
          },
          {
            ...hooks,
            client,
            stdin: ctx.stdin as never,
            onPlanReady: (p) => {
              plan = p;
              hooks.onProgress(p.stats);
              hooks.endProgress();
              ctx.stderr.write(describePlan(p));
            },
            confirm:
              ctx.isTTY && !argv.yes && !argv.dryRun && !planOut
                ? (p) => confirmPlan(ctx, p, { rates: options.connection.rates, windowMs: options.connection.rateWindowMs, lookupBatch: options.lookupBatch }, hooks.signal)
                : undefined,
          },
        );
        saved = r.saved;
        return r.stats ?? r.plan.stats;
      },
      ctx,
      { ...options.connection.rates, windowMs: options.connection.rateWindowMs },
    ).finally(() => client.close());
    const target = plan?.target ?? targetOf(options.connection.baseUrl);
    const input = argv.file ?? `contacts where ${argv.where}`;
    if (saved) {
      ctx.stderr.write(
        `Plan written to ${argv.planOut}: ${counted(saved.counts.changes, 'contact')} ${saved.counts.changes === 1 ? 'changes' : 'change'}${argv.sync ? `, ${counted(saved.counts.removals, 'removal')}` : ''}, for ${describeTarget(saved.target)}; hash ${saved.hash.slice(0, 12)}.\n` +
          `  Review it with: pylon-contacts show ${argv.planOut}\n  then: pylon-contacts apply ${argv.planOut}   (refused after --max-age, default 24 h, or if edited)\n`,
      );
      // Over --max-changes: the plan is kept for review, and the verdict a dry run gives is given here too (exit 1).
      if (result.wouldStop) {
        ctx.stderr.write(`  guard: ${result.wouldStop.message} The plan records --max-changes ${argv.maxChanges}: apply refuses it unless given a larger --max-changes.\n`);
      }
      // The rows that failed are not in the plan: the error report is where they are (exit 3).
      if (result.failed > 0) ctx.stderr.write(`  ${counted(result.failed, 'row')} failed and ${result.failed === 1 ? 'is' : 'are'} not in the plan; error report: ${result.errorsPath} (fix the rows, then make the plan again)\n`);
      if (argv.json) {
        ctx.stdout.write(JSON.stringify({ planPath: argv.planOut, hash: saved.hash, counts: saved.counts, target: saved.target, createdAt: saved.createdAt, ...(result.failed > 0 ? { errorsPath: result.errorsPath } : {}), ...(result.wouldStop ? { wouldStop: result.wouldStop } : {}) }) + '\n');
      }
      ctx.exitCode = result.wouldStop ? EXIT.FATAL : result.failed > 0 ? EXIT.PARTIAL : EXIT.OK;
      return;
    }
    // A run that changed no contact wrote no undo file: the summary says so, as every command's does, instead of naming none.
    if (result.updated === 0 && result.undoPath && !existsSync(result.undoPath)) result.undoPath = undefined;
    printImportSummary(result, ctx, {
      // With --no-undo the run keeps no record of what it wrote: nothing to say about an undo file (as import).
      noUndoNeeded: argv.undo !== false,
      json: Boolean(argv.json),
      verb: result.dryRun && !result.planning ? 'Update plan for' : 'Update of',
      input,
      target,
      // Only an undo file is applied as a plan (drift checked). Its error report keeps the rows as written: applied again, it retries exactly them.
      ...(plan?.undo ? { undoRetry: `pylon-contacts update ${result.errorsPath}` } : {}),
    });
    // No plan: a failure (or Ctrl-C) before one was made; the stats say which.
    ctx.exitCode = plan === undefined && !result.interrupted ? EXIT.FATAL : importExitCode(result);
    if (auditLog && !result.dryRun && plan !== undefined) {
      recordRun(auditLog, ctx, { token: options.connection.token, target, stats: result, exitCode: ctx.exitCode, startedAt });
    }
  },
};
