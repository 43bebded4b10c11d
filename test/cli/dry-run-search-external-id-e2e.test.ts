/**
 * A lookup by search cannot find a contact by its external id (Pylon's search filters on id, email,
 * name, account and custom fields only), so a row whose email changed in the source but whose
 * external id a contact holds is planned as a create, and the real run updates that contact after
 * Pylon refuses the create. Unknowable without a write: the dry run says so, in one warning (stderr
 * and --json), and names --lookup list, which counts it exactly.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import type { ImportStats } from '../../src/import/run-import.js';

test('a dry run by search warns that creates of rows with an external id may be updates; --lookup list counts them as the real run does', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const moved = emulator.store.insert({ name: 'Mo Ved', email: 'mo.old@corp.example', external_ids: [{ external_id: '0035g000001dCcf', label: 'salesforce' }] });
  emulator.store.insert({ name: 'Stay Put', email: 'stay@corp.example', external_ids: [{ external_id: '0035g000002dCcf', label: 'salesforce' }] });
  const input = join(dir, 'report.csv');
  writeFileSync(input, 'name,email,external_id,external_id_label\nMo Ved,mo.new@corp.example,0035g000001dCcf,salesforce\nStay Put,stay@corp.example,0035g000002dCcf,salesforce\nNew One,new@corp.example,0035g000003dCcf,salesforce\n');
  const run = async (extra: string[]) => {
    const res = await runCli(['import', input, '--rate', FAST_RATE, '--json', '--no-undo', ...extra], { env, cwd: dir });
    t.is(res.code, 0, res.stderr);
    return { stats: JSON.parse(res.stdout) as ImportStats, stderr: res.stderr };
  };

  const bySearch = await run(['--dry-run', '--lookup', 'search']);
  t.like(bySearch.stats, { created: 2, updated: 0, unchanged: 1 });
  const warning = bySearch.stats.warnings.filter((w) => /external id/.test(w));
  t.is(warning.length, 1, 'one warning');
  t.regex(warning[0]!, /^2 of the creates counted are rows with an external id, which a lookup by search cannot find: .* Run the dry run with --lookup list to count them exactly$/);
  t.regex(bySearch.stderr, /warning: 2 of the creates counted are rows with an external id/);

  const byList = await run(['--dry-run', '--lookup', 'list']);
  t.like(byList.stats, { created: 1, updated: 1, unchanged: 1 });
  t.false(byList.stats.warnings.some((w) => /creates counted/.test(w)), 'the list finds contacts by external id: nothing to warn of');

  const real = await run(['--lookup', 'search']);
  t.like(real.stats, { created: 1, updated: 1, unchanged: 1 });
  t.is(emulator.store.get(moved.id)!.email, 'mo.new@corp.example');
  t.false(real.stats.warnings.some((w) => /creates counted/.test(w)), 'a real run does not warn');
});
