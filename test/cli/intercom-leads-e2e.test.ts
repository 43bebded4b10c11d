/** The built CLI on Intercom leads (no User ID): the way the docs and the error message give never rewrites a user's contact. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, REPO, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

test('an Intercom lead that shares a user\'s email: the preset fails it (ROW_EXTERNAL_ID_MISSING, naming --mode create); the copy without externalId with --mode create skips it, and creates a new lead', async (t) => {
  const emulator = await startEmulator(t);
  const liam = emulator.store.insert({ name: 'Liam Walsh', email: 'liam.walsh@acme.example', external_ids: [{ external_id: '00123', label: 'intercom' }] });
  const before = structuredClone(emulator.store.get(liam.id));
  const dir = tempDir(t);
  const input = join(dir, 'people.csv');
  writeFileSync(input, 'Name,Email,User ID,role\nLiam Walsh (lead),liam.walsh@acme.example,,lead\nMia Chen,mia.chen@acme.example,,lead\n');
  const preset = await runCli(['import', input, '--from', 'intercom', '--rate', FAST_RATE, '--errors', join(dir, 'e.csv'), '--journal', join(dir, 'j.jsonl'), '--json'], { env: envFor(emulator) });
  t.is(preset.code, 3, preset.stderr);
  const errors = readFileSync(join(dir, 'e.csv'), 'utf8');
  t.regex(errors, /ROW_EXTERNAL_ID_MISSING,User ID,"No external id \(intercom\) in this row: .*import such rows with --mode create and a copy of the preset without ""externalId""/);
  t.notRegex(errors, /or import such rows with a map without "externalId"/);

  // What docs/migrate.md says to do with leads.
  const map = JSON.parse(readFileSync(join(REPO, 'presets', 'intercom.json'), 'utf8'));
  delete map.externalId;
  writeFileSync(join(dir, 'intercom-leads.json'), JSON.stringify(map));
  const leads = await runCli(['import', input, '--map', join(dir, 'intercom-leads.json'), '--mode', 'create', '--rate', FAST_RATE, '--errors', join(dir, 'e2.csv'), '--journal', join(dir, 'j2.jsonl'), '--results', join(dir, 'r.csv'), '--json'], { env: envFor(emulator) });
  t.is(leads.code, 0, leads.stderr);
  t.like(JSON.parse(leads.stdout), { total: 2, created: 1, updated: 0, skipped: 1, failed: 0 });
  t.deepEqual(emulator.store.get(liam.id), before, "the user's contact is not rewritten");
  t.is(emulator.store.findByEmail('mia.chen@acme.example')?.name, 'Mia Chen');
});
