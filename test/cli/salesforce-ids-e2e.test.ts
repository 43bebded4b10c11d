/** The built CLI on Salesforce ids: one record whatever the case of its 18-character id; an id of no Salesforce form fails its row. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

test('--from salesforce: a lower-cased 18-character id updates the contact of its record (no id rewrite, no second contact); a 14-character id fails with ROW_INVALID_EXTERNAL_ID', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const first = join(dir, 'first.csv');
  writeFileSync(first, 'Contact ID,First Name,Last Name,Email\n0035g00000QxA3CAAV,Ada,Byron,ada@old.example\n');
  const base = ['--from', 'salesforce', '--rate', FAST_RATE, '--journal', join(dir, 'j.jsonl'), '--json'];
  const res1 = await runCli(['import', first, ...base, '--errors', join(dir, 'e1.csv')], { env: envFor(emulator) });
  t.is(res1.code, 0, res1.stderr);
  // The same record as a spreadsheet lower-cased it, and a new email; a Data Loader export of it upper-cased.
  const second = join(dir, 'second.csv');
  writeFileSync(second, 'Contact ID,First Name,Last Name,Email\n0035g00000qxa3caav,Ada,Byron,ada@new.example\n0035g00000QxA3,Bea,Short,bea@x.example\n');
  const res2 = await runCli(['import', second, ...base, '--errors', join(dir, 'e.csv')], { env: envFor(emulator) });
  t.is(res2.code, 3, res2.stderr);
  t.like(JSON.parse(res2.stdout), { total: 2, created: 0, updated: 1, failed: 1 });
  const loader = join(dir, 'loader.csv');
  writeFileSync(loader, 'Id,FirstName,LastName,Email\n0035G00000QXA3CAAV,Ada,Lovelace,ada@new.example\n');
  const res3 = await runCli(['import', loader, ...base, '--errors', join(dir, 'e3.csv')], { env: envFor(emulator) });
  t.is(res3.code, 0, res3.stderr);
  t.like(JSON.parse(res3.stdout), { total: 1, created: 0, updated: 1, failed: 0 });
  const stored = [...emulator.store.all()];
  t.deepEqual(stored.map((c) => [c.name, c.email, c.external_ids]), [['Ada Lovelace', 'ada@new.example', [{ external_id: '0035g00000QxA3CAAV', label: 'salesforce' }]]]);
  const errors = readFileSync(join(dir, 'e.csv'), 'utf8');
  t.regex(errors, /^0035g00000QxA3,Bea,Short,bea@x\.example,3,ROW_INVALID_EXTERNAL_ID,Contact ID,"Column Contact ID: ""0035g00000QxA3"" is not a Salesforce id \(15 or 18 letters and digits/m);
});
