import type { Argv, CommandModule } from 'yargs';
import { contextOf } from '../args.js';
import { resolveFrom } from '../context.js';
import { connectionOptions } from '../option-groups.js';
import { EXIT } from '../exit-codes.js';
import { resolveBaseUrl, resolveIntegerOption, resolveRates } from '../../config.js';
import { checkPlanTarget, readPlanFile } from '../../update/plan-file.js';
import { targetOf } from '../../update/target.js';
import { renderPlanReview, reviewPlan } from '../../update/plan-review.js';

interface ShowArgv {
  plan: string;
  baseUrl?: string;
  region?: string;
  rate?: string;
  rateWindow?: number;
  readBatch?: number;
  json?: boolean;
}

/**
 * `pylon-contacts show <plan>`: what a saved plan will do, for a reviewer. No
 * token and no call: the plan is read and checked (a plan that was edited or cut
 * short is refused, exit 2), and when a host is named (--base-url, --region or
 * PYLON_BASE_URL) a plan made for another one is refused too.
 */
export const showCommand: CommandModule<object, ShowArgv> = {
  command: 'show <plan>',
  describe: 'Print what a saved plan will do: each contact before → after, removals apart, totals, target, age and the ETA',
  builder: (yargs) =>
    yargs
      .positional('plan', { type: 'string', describe: 'The plan file (JSON) written by update or import --plan-out', demandOption: true })
      .options({
        'base-url': { ...connectionOptions['base-url'], describe: 'Refuse the plan when it was made for another host (env PYLON_BASE_URL)' },
        region: { ...connectionOptions.region, describe: 'Like --base-url, with the US or EU API host' },
        rate: { ...connectionOptions.rate, describe: 'The pacing `apply` will use, for the ETA (as apply --rate)' },
        'rate-window': connectionOptions['rate-window'],
        'read-batch': { type: 'number', default: 100, describe: 'Contacts apply reads per search call, for the ETA (as apply --read-batch)' },
        json: { type: 'boolean', default: false, describe: 'Print the review as JSON on stdout' },
      })
      .example('$0 show plan.json', 'Review a plan before applying it')
      .example('$0 show plan.json --json | jq .totals', 'The kinds of change and their counts') as unknown as Argv<ShowArgv>,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    const rates = resolveRates(argv.rate);
    const rateWindowMs = resolveIntegerOption('--rate-window', argv.rateWindow, 100, 3_600_000, 60_000);
    const readBatch = resolveIntegerOption('--read-batch', argv.readBatch, 1, 999, 100);
    const path = resolveFrom(ctx, argv.plan);
    const plan = await readPlanFile(path);
    const now = Date.now();
    // Only a host the user named is checked: without one, the default host would refuse every emulator plan.
    if (argv.baseUrl !== undefined || argv.region !== undefined || ctx.env.PYLON_BASE_URL) {
      const baseUrl = resolveBaseUrl({ baseUrl: argv.baseUrl, region: argv.region, env: ctx.env });
      checkPlanTarget(plan, targetOf(baseUrl), { now, maxAgeMs: Number.POSITIVE_INFINITY, path: argv.plan });
    }
    const review = reviewPlan(plan, { path: argv.plan, now, rates, rateWindowMs, readBatch });
    if (argv.json) ctx.stdout.write(JSON.stringify(review) + '\n');
    else ctx.stdout.write(renderPlanReview(review));
    ctx.exitCode = EXIT.OK;
  },
};
