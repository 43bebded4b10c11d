import { createInterface } from 'node:readline/promises';
import type { Argv, CommandModule } from 'yargs';
import { contextOf } from '../args.js';
import { importExitCode, printImportSummary } from '../output.js';
import { filePositional, importInput, rowFlags, runWithTerminal, type ImportArgv } from './import.js';
import { resolveImportOptions } from '../../import/options.js';
import { runUpdate, type UpdatePlan } from '../../update/run-update.js';
import { UNDO_CLEAR_TOKEN } from '../../import/run-import.js';
import { connect } from '../../pylon/connect.js';
import { parseFilterExpression } from '../../pylon/filter-expr.js';
import { ConfigError, ExitError, invalidOption } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { whereJournalPath, whereRunKey } from '../../update/run-state.js';
import type { CliContext } from '../context.js';

interface UpdateArgv extends ImportArgv {
  set?: string[];
  where?: string;
  maxChanges?: number;
  yes?: boolean;
  undo?: string;
}

function parseSet(values: string[] | undefined): Record<string, string> {
  const set: Record<string, string> = {};
  for (const item of values ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw invalidOption('--set', 'field=value, e.g. portal_role=member', item);
    const column = item.slice(0, i).trim();
    if (column in set) throw invalidOption('--set', 'each field once', item);
    set[column] = item.slice(i + 1);
  }
  return set;
}

function describePlan(plan: UpdatePlan): string {
  const lines = [`Plan: ${plan.changes.toLocaleString('en-US')} contacts change, ${plan.stats.unchanged.toLocaleString('en-US')} unchanged, ${plan.stats.failed.toLocaleString('en-US')} rows fail.`];
  for (const t of plan.transitions.slice(0, 15)) {
    lines.push(`  ${t.column}: ${JSON.stringify(t.from)} → ${JSON.stringify(t.to)}  × ${t.count.toLocaleString('en-US')}`);
  }
  if (plan.transitions.length > 15) lines.push(`  … and ${plan.transitions.length - 15} more kinds of change`);
  return lines.join('\n') + '\n';
}

/**
 * Asks on the terminal. Only "yes"/"y" goes on; end of input answers no, and
 * Ctrl-C stops like an interrupted run (nothing was written yet).
 */
async function askToConfirm(ctx: CliContext, plan: UpdatePlan, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr, terminal: false });
  try {
    const answer = await new Promise<string | undefined>((resolve, reject) => {
      rl.once('close', () => resolve(undefined));
      rl.question(`Apply these changes to ${plan.changes.toLocaleString('en-US')} contacts? Type yes to continue: `, { signal }).then(resolve, reject);
    });
    const word = answer?.trim().toLowerCase();
    return word === 'yes' || word === 'y';
  } catch (error) {
    if (signal.aborted) throw new ExitError(EXIT.INTERRUPTED, 'Stopped before writing anything: interrupted.', 'RUN_ABORTED');
    throw error;
  } finally {
    rl.close();
  }
}

export const updateCommand: CommandModule<object, UpdateArgv> = {
  command: 'update [file]',
  describe: 'Change fields (e.g. the portal role) of existing contacts, with a preview, a guard and an undo file',
  builder: (yargs) =>
    rowFlags(yargs)
      .positional('file', { describe: 'CSV with an email or id column (- for stdin); omit with --where', coerce: (v: unknown) => (v === undefined ? undefined : filePositional(v)) })
      .option('set', { type: 'string', array: true, describe: 'field=value applied to every selected contact (repeatable), e.g. portal_role=member or custom.tier=gold' })
      .option('where', { type: 'string', describe: 'Select contacts through search instead of a file, e.g. "email~@acme.com" or "account_id=…"' })
      .option('max-changes', { type: 'number', describe: 'Abort with zero writes when more contacts than this would change' })
      .option('yes', { type: 'boolean', alias: 'y', default: false, describe: 'Do not ask for confirmation on a terminal' })
      .option('undo', { type: 'string', describe: 'Where to write the previous values (apply it with `update <undo file>`)', defaultDescription: '<input>.undo.csv' })
      .option('clear-token', { type: 'string', default: UNDO_CLEAR_TOKEN, describe: 'A cell holding exactly this clears the field (undo files use it for values that were empty)' })
      .example('$0 update admins.csv --set portal_role=admin --max-changes 500', 'Make every listed email an admin, at most 500 changes')
      .example('$0 update --where "email~@acme.com" --set portal_role=no_access --dry-run', 'Preview removing portal access for an account')
      .example('$0 update admins.undo.csv', 'Undo the previous change') as unknown as Argv<UpdateArgv>,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    if (!argv.file && !argv.where) throw new ConfigError('CONFIG_INVALID_OPTION', 'Name a CSV file, or select contacts with --where.', { option: '--where' });
    if (argv.file && argv.where) throw new ConfigError('CONFIG_INVALID_OPTION', 'Use a file or --where, not both.', { option: '--where' });
    const set = parseSet(argv.set);
    // The selection holds only id and email: without --set there would be nothing to change.
    if (argv.where && Object.keys(set).length === 0) {
      throw new ConfigError('CONFIG_INVALID_OPTION', '--where selects contacts; say what to change with --set field=value (e.g. --set portal_role=member).', { option: '--set' });
    }
    const where = argv.where === undefined ? undefined : parseFilterExpression(argv.where);
    if (argv.maxChanges !== undefined && (!Number.isInteger(argv.maxChanges) || argv.maxChanges < 0)) {
      throw invalidOption('--max-changes', 'a whole number of contacts, 0 or more', argv.maxChanges);
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const fileBase = argv.file && argv.file !== '-' ? argv.file.replace(/\.(csv|tsv|txt)$/i, '') : `pylon-update-${stamp}`;
    // A --where run keeps a journal too, named by its query and values: --resume finds it.
    const journal = argv.journal ?? (where && !argv.dryRun ? whereJournalPath(process.cwd(), whereRunKey(where, set)) : undefined);
    const options = resolveImportOptions({
      ...importInput({ ...argv, file: argv.file ?? '-', journal }, ctx.env),
      mode: 'update',
      set,
      undo: argv.undo ?? `${fileBase}.undo.csv`,
      errors: argv.errors ?? `${fileBase}.errors.csv`,
    });
    const client = connect(options.connection);
    let plan: UpdatePlan | undefined;
    const result = await runWithTerminal(
      argv,
      async (hooks) => {
        const r = await runUpdate(
          { import: options, where, maxChanges: argv.maxChanges },
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
            confirm: ctx.isTTY && !argv.yes && !argv.dryRun ? (p) => askToConfirm(ctx, p, hooks.signal) : undefined,
          },
        );
        return r.stats ?? r.plan.stats;
      },
      ctx,
      { ...options.connection.rates, windowMs: options.connection.rateWindowMs },
    ).finally(() => client.close());
    printImportSummary(result, ctx, { json: Boolean(argv.json), verb: result.dryRun ? 'Update plan for' : 'Update of', input: argv.file ?? `contacts where ${argv.where}` });
    ctx.exitCode = plan === undefined ? EXIT.FATAL : importExitCode(result);
  },
};
