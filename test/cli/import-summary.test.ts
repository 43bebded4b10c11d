import test from 'ava';
import { printImportSummary } from '../../src/cli/output.js';
import { ENDPOINTS, type EndpointKey } from '../../src/config.js';
import { createImportStats } from '../../src/import/stats.js';
import { cliContext } from '../helpers/context.js';

/** The stats of a resumed run: the counts cover every row of the file, those replayed from the journal included. */
function resumedStats() {
  const stats = createImportStats({ calls: Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<EndpointKey, number>, dryRun: false, errorsPath: 'contacts.errors.csv' });
  Object.assign(stats, { total: 34, created: 20, updated: 3, unchanged: 2, skipped: 2, failed: 7, resumed: 24, durationMs: 1200, lookupStrategy: 'list' });
  return stats;
}

test('a resumed run says how many of the counted rows the earlier run did, apart from the outcome counts (not "failed 7 (24 from the earlier run)")', (t) => {
  const { ctx, out } = cliContext({}, '/');
  printImportSummary(resumedStats(), ctx, { json: false, verb: 'Import', input: 'contacts.csv' });
  t.regex(out.stderr, /^ {2}created 20, updated 3, unchanged 2, skipped 2, failed 7$/m);
  t.regex(out.stderr, /^ {2}of these, 24 rows were done by the earlier run \(their outcomes read back from its journal\) and 10 by this run$/m);
  t.notRegex(out.stderr, /failed 7 \(/);
});

test('a run that resumed nothing prints no such line', (t) => {
  const { ctx, out } = cliContext({}, '/');
  printImportSummary({ ...resumedStats(), resumed: 0 }, ctx, { json: false, verb: 'Import', input: 'contacts.csv' });
  t.notRegex(out.stderr, /earlier run/);
});

test('counts of one take the singular: "1 row read", "1 row — …" not processed, "1 contact not in the file"', (t) => {
  const { ctx, out } = cliContext({}, '/');
  printImportSummary({ ...resumedStats(), total: 1, resumed: 0, notProcessed: 1, syncRemovals: 1 }, ctx, { json: false, verb: 'Update', input: 'contacts.csv' });
  t.regex(out.stderr, /^Update contacts\.csv: done after .*, 1 row read and 1 contact not in the file \(--sync\)$/m);
  t.regex(out.stderr, /^ {2}not processed: 1 row — /m);
  t.notRegex(out.stderr, /\b1 rows\b|\b1 contacts\b/);
});

test('the drift line takes the singular for one contact: "1 contact changed since the plan and was left as it is"', (t) => {
  for (const [drifted, expected] of [
    [1, /^ {2}drifted: 1 contact changed since the plan and was left as it is \(ROW_DRIFTED in contacts\.errors\.csv\)$/m],
    [3, /^ {2}drifted: 3 contacts changed since the plan and were left as they are \(ROW_DRIFTED in contacts\.errors\.csv\)$/m],
  ] as const) {
    const { ctx, out } = cliContext({}, '/');
    printImportSummary({ ...resumedStats(), resumed: 0, drifted } as ReturnType<typeof resumedStats>, ctx, { json: false, verb: 'Apply', input: 'plan.json' });
    t.regex(out.stderr, expected);
  }
});
