/**
 * A choice mistyped (`--mode upsret`, `--format parquett`, `--from hubspt`, `--on-duplicate frist`) is refused as
 * before (exit 2, before any call) and now names the choice it is a slip from, as an unknown flag or command
 * does. A value near no choice, or as near two (`--region ue`: us or eu), gets no guess.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

test('a mistyped choice names the choice it is a slip from; a far-off or ambiguous one gets none', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-choice-typo-');
  writeFileSync(join(dir, 'contacts.csv'), 'name,email\nAda,ada.choice@example.com\n');
  const env = envFor(emulator);
  const cases: Array<[string[], string]> = [
    [['import', 'contacts.csv', '--mode', 'upsret'], 'Invalid option `--mode`: expected one of upsert, create, update, got "upsret" (did you mean upsert?)'],
    [['import', 'contacts.csv', '--on-duplicate', 'frist'], 'Invalid option `--on-duplicate`: expected one of first, last, error, got "frist" (did you mean first?)'],
    [['import', 'contacts.csv', '--from', 'hubspt', '--dry-run'], 'Invalid option `--from`: expected one of freshdesk, front, hubspot, intercom, salesforce, zendesk, got "hubspt" (did you mean hubspot?)'],
    // A preset's file name, as docs/migrate.md lists them (hubspot-de.json): the source it belongs to.
    [['import', 'contacts.csv', '--from', 'hubspot-de', '--dry-run'], 'Invalid option `--from`: expected one of freshdesk, front, hubspot, intercom, salesforce, zendesk, got "hubspot-de" (did you mean hubspot? it picks its preset for the file\'s language or kind from the header)'],
    [['import', 'contacts.csv', '--from', 'salesforce-report', '--dry-run'], 'Invalid option `--from`: expected one of freshdesk, front, hubspot, intercom, salesforce, zendesk, got "salesforce-report" (did you mean salesforce? it picks its preset for the file\'s language or kind from the header)'],
    [['export', 'x.parquet', '--format', 'parquett'], 'Invalid option `--format`: expected one of csv, ndjson, parquet, got "parquett" (did you mean parquet?)'],
    [['import', 'contacts.csv', '--mode', 'xyzzy'], 'Invalid option `--mode`: expected one of upsert, create, update, got "xyzzy"'],
    [['export', 'x.csv', '--region', 'ue'], 'Invalid option `--region`: expected one of us, eu, got "ue"'],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, { env: args.includes('--region') ? { PYLON_API_TOKEN: env.PYLON_API_TOKEN! } : env, cwd: dir });
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.is(run.stderr.split('\n')[0], `pylon-contacts: ${message}`, args.join(' '));
    t.notRegex(run.stderr, /\n\s+at /);
  }
  t.is(writes(emulator), 0);
});
