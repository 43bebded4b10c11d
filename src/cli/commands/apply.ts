import { counted } from '../../plural.js';
import { askToConfirm } from '../confirm.js';
import type { Argv, CommandModule } from 'yargs';
import { contextOf } from '../args.js';
import { apiCommandOptions, connectionFromArgv, forceOption, guardOptions, outputOptions, outputsFromArgv, undoOption, writePolicyOptions, type ApiCommandArgv } from '../option-groups.js';
import { importExitCode, printImportSummary } from '../output.js';
import { runWithTerminal } from './import.js';
import { ExitError } from '../../errors.js';
import { connect, noteLongWaits } from '../../pylon/connect.js';
import { DEFAULT_MAX_REMOVALS, resolveApplyOptions, type ApplyOptionsInput } from '../../update/apply-options.js';
import { checkPlanTarget, formatAge, readPlanFile, type SavedPlan } from '../../update/plan-file.js';
import { describeTarget, fetchTarget, targetOf, type RunTarget } from '../../update/target.js';
import { apiFailure, interruptedBy } from '../../run/run-control.js';
import { interruptedAtStart, stoppedAtStart } from '../../import/stats.js';
import { applyJournalKey, runApply, type ApplyStats } from '../../update/apply.js';
import { holdJournal, type JournalHold } from '../../run/journal.js';
import { withUndoRun } from '../../run/undo-run.js';
import { auditLogFlag, guardedByAuditLog, openAuditLog, recordRun } from '../audit.js';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { ConfigError, invalidOption } from '../../errors.js';
import { cwdOf, resolveFrom } from '../context.js';
import { checkUndoPath } from '../paths.js';
import { describeSeconds, pacedSeconds } from '../../rates.js';
import { applyCalls } from '../../update/plan-review.js';
import { checkWritable } from '../../output/output-file.js';

type ApplyArgv = ApiCommandArgv & Omit<ApplyOptionsInput, keyof import('../../config.js').ConnectionOptionsInput | 'undo'> & { yes?: boolean; auditLog?: string; undo?: string | false; only?: string };

/**
 * `--only <error report>`: the plan's contacts whose rows in that report are
 * ROW_DRIFTED (its `id` column), so `apply --force --only` overrides exactly the
 * contacts an earlier apply left alone, and no other.
 */
function driftedIds(path: string): Set<string> {
  let rows: Array<Record<string, string>>;
  try {
    rows = parse(readFileSync(path), { columns: true, bom: true, skip_empty_lines: true, relax_column_count: true }) as Array<Record<string, string>>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `Cannot read --only ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory: name the error report of an earlier apply' : (error as Error).message}`, { option: '--only', cause: error });
  }
  if (rows.length > 0 && (!('id' in rows[0]) || !('_error_code' in rows[0]))) {
    throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`--only\`: ${path} is not an error report of apply (no id and _error_code columns).`, { option: '--only' });
  }
  return new Set(rows.filter((r) => r._error_code === 'ROW_DRIFTED' && r.id).map((r) => r.id));
}

/** The plan's header: what this run applies (`applied`: with --only, the report's contacts of the plan, not all of them). */
function describeSavedPlan(plan: SavedPlan, now: number, applied: readonly SavedPlan['changes'][number][]): string {
  const picked = new Set(applied);
  const changes = plan.changes.filter((c) => picked.has(c)).length;
  const removals = plan.removals.filter((c) => picked.has(c)).length;
  const of = applied.length < plan.changes.length + plan.removals.length ? ` (--only: of the plan's ${plan.counts.changes.toLocaleString('en-US')}${plan.sync ? ` and ${plan.counts.removals.toLocaleString('en-US')}` : ''})` : '';
  const lines = [
    `Plan ${plan.hash.slice(0, 12)}, made ${formatAge(now - Date.parse(plan.createdAt))} ago (${plan.createdAt}) by pylon-contacts ${plan.tool.version}: ${plan.command}`,
    `Target: ${describeTarget(plan.target)}`,
    `  ${counted(changes, 'contact')} ${changes === 1 ? 'changes' : 'change'}${plan.sync ? `, ${counted(removals, 'removal')} (--sync)` : ''}${of}`,
  ];
  const kinds = new Map<string, number>();
  for (const c of applied) for (const ch of c.changes) kinds.set(`${ch.column}: ${JSON.stringify(ch.from)} → ${JSON.stringify(ch.to)}`, (kinds.get(`${ch.column}: ${JSON.stringify(ch.from)} → ${JSON.stringify(ch.to)}`) ?? 0) + 1);
  for (const [k, n] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`  ${k}  × ${n.toLocaleString('en-US')}`);
  return lines.join('\n') + '\n';
}


export const applyCommand: CommandModule<object, ApplyArgv> = {
  command: 'apply <plan>',
  describe: 'Apply a plan saved by `update --plan-out` or `import --plan-out` exactly: contacts changed since the plan are left as they are (ROW_DRIFTED)',
  builder: (yargs) =>
    yargs
      .options(apiCommandOptions)
      .positional('plan', { type: 'string', describe: 'The plan file (JSON) written by update or import --plan-out', demandOption: true })
      .option('force', { ...forceOption.force, describe: 'Apply to contacts whose values changed since the plan too' })
      .option('max-age', { type: 'string', default: '24h', describe: 'Refuse a plan older than this: a number with s, m, h or d (30s, 90m, 24h, 2d); a bare number is hours' })
      // The shared flags below, worded for a plan instead of an input file.
      .option('max-changes', { ...guardOptions['max-changes'], describe: 'Abort with zero writes when the plan changes more contacts than this (its --sync removals included); replaces the --max-changes the plan was made with', defaultDescription: "the plan's" })
      .option('max-removals', { ...guardOptions['max-removals'], default: undefined, describe: 'Abort with zero writes when the plan removes the value from more contacts than this (--sync); replaces the --max-removals the plan was made with', defaultDescription: "the plan's, else 10" })
      .option('yes', guardOptions.yes)
      .option('undo', { ...undoOption.undo, describe: 'Where to write the values each PATCH replaced (a regular file; apply it with `update <undo file>`); --no-undo writes none', defaultDescription: '<plan>.undo.csv' })
      .option('only', { type: 'string', describe: 'Apply only to the ROW_DRIFTED contacts of this error report of an earlier apply (with --force: override exactly those); it is never replaced: see --errors' })
      .option('errors', { ...outputOptions.errors, describe: 'Error report path (ROW_DRIFTED rows with the live and planned values); may not be the --only file', defaultDescription: '<plan>.errors.csv; <only>.errors.csv when that is the --only file' })
      .option('results', { ...outputOptions.results, describe: 'Write one line per contact: _line, _action, _contact_id, email, _request_id' })
      .option('journal', { ...outputOptions.journal, defaultDescription: '.<plan>.journal.jsonl beside the plan' })
      .option('resume', { ...writePolicyOptions.resume, describe: 'Finish an interrupted apply of the same plan' })
      .option('read-batch', { type: 'number', default: 100, describe: 'Contacts whose live values are read per search call' })
      .options(auditLogFlag)
      .example('$0 apply plan.json', 'Apply a reviewed plan; contacts changed since are skipped (exit 3)')
      .example('$0 apply plan.json --max-age 72h --yes', 'Apply a plan up to three days old without asking') as unknown as Argv<ApplyArgv>,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    if (argv.undo === '') throw invalidOption('--undo', 'a file path (or --no-undo to write none)', argv.undo);
    const { errors, results, journal } = outputsFromArgv(argv, cwdOf(ctx));
    const options = resolveApplyOptions({
      ...argv,
      ...connectionFromArgv(argv, ctx.env),
      plan: resolveFrom(ctx, argv.plan),
      undo: argv.undo === false || argv.undo === undefined ? undefined : resolveFrom(ctx, argv.undo),
      errors,
      results,
      journal,
      only: argv.only === undefined ? undefined : resolveFrom(ctx, argv.only),
    });
    const undoWanted = argv.undo !== false;
    if (undoWanted) checkUndoPath(options.undoPath);
    const plan = await readPlanFile(options.planPath);
    // Another host, or a plan too old, shows without any call: refused before GET /me carries the token there (exit 2).
    // The organisation needs GET /me: it is checked once the target is read.
    checkPlanTarget(plan, targetOf(options.connection.baseUrl), { now: Date.now(), maxAgeMs: options.maxAgeMs, maxAge: options.maxAge, path: options.planPath });
    const only = options.onlyPath === undefined ? undefined : driftedIds(options.onlyPath);
    const contacts = [...plan.changes, ...plan.removals].filter((c) => !only || only.has(c.id));
    // The summary names what the run applied: with --only, the report's contacts of the plan, not the whole plan.
    const applied = argv.only === undefined ? argv.plan : `${argv.plan} --only ${argv.only}`;
    // Every output is proved writable before the first call (OUTPUT_UNWRITABLE, exit 2).
    await checkWritable([
      { path: options.errorsPath, option: '--errors' },
      ...(undoWanted ? [{ path: options.undoPath, option: '--undo' }] : []),
      { path: options.journalPath, option: '--journal' },
      ...(options.resultsPath ? [{ path: options.resultsPath, option: '--results' }] : []),
    ]);
    // Another run of this plan at work, a re-run beside an unfinished one, or a resume of nothing, of another plan,
    // host or --force: exit 2 before any call. From here on the journal is on disk: a stop at any point leaves it for --resume.
    const hold: JournalHold = holdJournal(options.journalPath);
    let signal: AbortSignal | undefined;
    try {
      // The contacts this run applies (--only: the report's), as runApply keys the journal: a resume meets the same key.
      hold.begin(applyJournalKey({ source: { path: options.planPath, hash: plan.hash }, contacts, connection: options.connection, force: options.force }), options.resume);
    } catch (error) {
      hold.release();
      throw error;
    }
    const auditLog = openAuditLog(argv.auditLog, ctx);
    const startedAt = new Date();
    // A long wait Pylon asks for is said on the run's notes (set once the run has them).
    let onNote: ((message: string) => void) | undefined;
    // Each write is checked against the audit log's disk first: a run that could keep no record stops before it writes more.
    const client = connect(guardedByAuditLog(options.connection, auditLog), { onEvent: noteLongWaits((message) => onNote?.(message)) });
    // The target is read once the run's Ctrl-C handling is set up (in runWithTerminal): a Ctrl-C while GET /me is
    // unanswered ends with the summary and exit 130, the journal kept for --resume, as a Ctrl-C later does.
    let target = targetOf(options.connection.baseUrl);
    // Stopped before the target was read (a wrong token, a host down, Ctrl-C): the summary names no undo file.
    let stoppedAtFirstCall = false;
    try {
      const stats = (await runWithTerminal(
        argv,
        async (hooks) => {
          onNote = hooks.onNote;
          signal = hooks.signal;
          try {
            target = await fetchTarget(client, options.connection.baseUrl, hooks.signal);
          } catch (error) {
            // A wrong token or a host down: the run's summary (and --json's stats) say so, with the code, as for a stop later.
            const fatal = apiFailure(error);
            if (fatal === undefined && !interruptedBy(error, hooks.signal)) throw error;
            stoppedAtFirstCall = true;
            // The journal was begun above: Ctrl-C keeps it for --resume; a failure leaves it unused, and it goes.
            return fatal ? stoppedAtStart(client, false, fatal, startedAt.getTime()) : { ...interruptedAtStart(client, false, startedAt.getTime(), options.journalPath), total: contacts.length, notProcessed: contacts.length };
          }
          checkPlanTarget(plan, target, { now: Date.now(), maxAgeMs: options.maxAgeMs, maxAge: options.maxAge, path: options.planPath });
          ctx.stderr.write(describeSavedPlan(plan, Date.now(), contacts));
          // --max-changes counts every contact the plan changes, its --sync removals included (--max-removals guards those alone too).
          const changing = plan.counts.changes + plan.removals.length;
          // The plan's own --max-changes (given when it was made) holds unless apply is given one explicitly.
          const maxChanges = options.maxChanges ?? plan.guard?.maxChanges;
          if (maxChanges !== undefined && changing > maxChanges) {
            const split = plan.removals.length > 0 ? ` (${plan.counts.changes} of the file's, ${counted(plan.removals.length, '--sync removal')})` : '';
            const whose = options.maxChanges === undefined ? `the plan's --max-changes ${maxChanges} (given when it was made; apply it with a larger --max-changes to allow more)` : `--max-changes ${maxChanges}`;
            throw new ExitError(1, `Stopped before writing anything: the plan changes ${counted(changing, 'contact')}${split}, more than ${whose}.`, 'RUN_GUARD');
          }
          // Likewise --max-removals: the plan's own (update --sync --plan-out records it), else 10.
          const maxRemovals = options.maxRemovals ?? plan.guard?.maxRemovals ?? DEFAULT_MAX_REMOVALS;
          if (plan.removals.length > maxRemovals) {
            const whose = options.maxRemovals === undefined && plan.guard?.maxRemovals !== undefined ? `the plan's --max-removals ${maxRemovals} (given when it was made; apply it with a larger --max-removals to allow more)` : `--max-removals ${maxRemovals}`;
            throw new ExitError(1, `Stopped before writing anything: the plan removes the value from ${counted(plan.removals.length, 'contact')}, more than ${whose}.`, 'RUN_GUARD');
          }
          if (only) {
            const what = `${contacts.length.toLocaleString('en-US')} of the plan's contacts (its ROW_DRIFTED rows)`;
            ctx.stderr.write(`--only ${argv.only}: ${options.resume ? `finishing the interrupted apply of ${what}` : what}\n`);
          }
          if (options.errorsMoved) {
            ctx.stderr.write(`  this run's error report: ${options.errorsPath} (the default, ${options.errorsMoved.from}, is the file --only reads, which a run never replaces)\n`);
          }
          const total = contacts.length;
          const eta = pacedSeconds(applyCalls(total, options.readBatch), options.connection.rates, options.connection.rateWindowMs);
          const question = `Apply this plan to ${counted(total, 'contact')} on ${target.host}, about ${describeSeconds(eta)} at the paced rate? Type yes to continue: `;
          // A Ctrl-C at the question is an answer, as a no is: nothing was written, the journal goes.
          const ask = () =>
            askToConfirm(ctx, question, hooks.signal).catch((error: unknown) => {
              hold.discardUnused();
              throw error;
            });
          if (total > 0 && ctx.isTTY && !argv.yes && !(await ask())) {
            throw new ExitError(1, 'Stopped before writing anything: not confirmed.', 'RUN_GUARD');
          }
          return withUndoRun({ asked: undoWanted ? options.undoPath : undefined, resume: options.resume, journalPath: options.journalPath, journalBegun: hold.created, onNote: hooks.onNote }, (undoPath) =>
            runApply(
              {
                source: { path: options.planPath, hash: plan.hash },
                contacts,
                connection: options.connection,
                force: options.force,
                errorsPath: options.errorsPath,
                resultsPath: options.resultsPath,
                undoPath,
                organizationId: target.organization?.id,
                journalPath: options.journalPath,
                resume: options.resume,
                readBatch: options.readBatch,
              },
              { client, signal: hooks.signal, onNote: hooks.onNote, onProgress: hooks.onProgress, journalHold: hold },
            ),
          );
        },
        ctx,
        { ...options.connection.rates, windowMs: options.connection.rateWindowMs },
      )) as ApplyStats;
      // A run that changed no contact wrote no undo file: the summary says so instead of naming one.
      if (stats.undoPath && !existsSync(stats.undoPath)) stats.undoPath = undefined;
      printImportSummary(stats, ctx, {
        noUndoNeeded: undoWanted && !stoppedAtFirstCall,
        json: Boolean(argv.json),
        verb: 'Apply of',
        input: applied,
        target,
        driftHint: `pylon-contacts apply ${argv.plan} --force --only ${options.errorsPath} (a new undo file is written)`,
      });
      ctx.exitCode = importExitCode(stats);
      recordRun(auditLog, ctx, { token: options.connection.token, target, stats, exitCode: ctx.exitCode, startedAt, planHash: plan.hash, extraFiles: { plan: options.planPath } });
    } finally {
      client.close();
      // A journal this run created and never wrote to goes (a guard or the confirmation stopped it), unless Ctrl-C did.
      hold.release({ keep: signal?.aborted === true });
    }
  },
};
