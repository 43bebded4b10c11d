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
  t.deepEqual(bySearch.stats.uncertainByExternalId, { created: 2, updated: 0 });
  // The summary line itself says how many of its counts are uncertain, not only a warning below it.
  t.regex(bySearch.stderr, /^ {2}would create 2 \(2 uncertain: external ids search cannot find; --lookup list is exact\), would update 0, unchanged 1,/m);

  const byList = await run(['--dry-run', '--lookup', 'list']);
  t.like(byList.stats, { created: 1, updated: 1, unchanged: 1 });
  t.false(byList.stats.warnings.some((w) => /creates counted/.test(w)), 'the list finds contacts by external id: nothing to warn of');
  t.is(byList.stats.uncertainByExternalId, undefined, 'the list counts exactly');
  t.regex(byList.stderr, /^ {2}would create 1, would update 1, unchanged 1,/m);

  const real = await run(['--lookup', 'search']);
  t.like(real.stats, { created: 1, updated: 1, unchanged: 1 });
  t.is(emulator.store.get(moved.id)!.email, 'mo.new@corp.example');
  t.false(real.stats.warnings.some((w) => /creates counted/.test(w)), 'a real run does not warn');
});

test('a dry run by search says an update adding an external id another contact may hold is uncertain; the list predicts the refusal the real run gets', async (t) => {
  const emulator = await startEmulator(t, { externalIdTaken: 'reject' });
  const dir = tempDir(t);
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  emulator.store.insert({ name: 'Zed', email: 'zed@corp.example', external_ids: [{ external_id: '101', label: 'zendesk' }] });
  const ann = emulator.store.insert({ name: 'Ann', email: 'ann@corp.example' });
  const input = join(dir, 'ann.csv');
  writeFileSync(input, 'name,email,external_id,external_id_label\nAnn,ann@corp.example,101,hubspot\n');
  const run = async (extra: string[], code: number) => {
    const res = await runCli(['import', input, '--rate', FAST_RATE, '--json', '--no-undo', ...extra], { env, cwd: dir });
    t.is(res.code, code, res.stderr);
    return { stats: JSON.parse(res.stdout) as ImportStats, stderr: res.stderr };
  };

  const bySearch = await run(['--dry-run', '--lookup', 'search'], 0);
  t.like(bySearch.stats, { created: 0, updated: 1, uncertainByExternalId: { created: 0, updated: 1 } });
  t.regex(bySearch.stderr, /^ {2}would create 0, would update 1 \(1 uncertain: external ids search cannot find; --lookup list is exact\), unchanged 0,/m);
  t.true(bySearch.stats.warnings.some((w) => /^1 of the updates counted adds the row's external id to its contact, .* ROW_EXTERNAL_ID_TAKEN\. Run the dry run with --lookup list to count them exactly$/.test(w)));

  const byList = await run(['--dry-run', '--lookup', 'list'], 3);
  t.like(byList.stats, { updated: 0, failed: 1 });
  t.is(byList.stats.uncertainByExternalId, undefined);

  const real = await run(['--lookup', 'search'], 3);
  t.like(real.stats, { updated: 0, failed: 1 });
  t.is(real.stats.uncertainByExternalId, undefined, 'a real run is not uncertain');
  t.deepEqual(emulator.store.get(ann.id)!.external_ids ?? [], []);
});
