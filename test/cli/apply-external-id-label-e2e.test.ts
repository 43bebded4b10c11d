/**
 * An import's plan adds or replaces the source system's external id: each change records the label
 * (the system) the id goes under. `apply` sent it with no label, so the id was stored under the
 * default label `import` (a Zendesk id beside, not in place of, the contact's Zendesk id), the import
 * run again found no contact holding (zendesk, id) and refused its rows, and a contact given another
 * id under that label since the plan was not seen as changed. `show` did not name the label either.
 * Now `show` prints it, `apply` sets the id under it, checks the id held under it against the plan,
 * and its undo file records the label, so the undo puts back exactly the ids of before.
 * Against a server keeping external ids per label, whose GET/PATCH /contacts/{id} also take a
 * contact external id (non-default switches).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { client } from '../helpers/with-emulator.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
const ext = (pairs: Array<[string, string]>) => pairs.map(([label, id]) => ({ external_id: id, label }));

test('apply of an import plan sets each external id under the plan\'s label, finds one changed under it since, and its undo restores the ids of before', async (t) => {
  const emulator = await startEmulator(t, { externalIdTaken: 'per-label', contactExternalIds: true });
  const a = emulator.store.create({ name: 'A', email: 'a@acme.example', external_ids: ext([['hubspot', '456']]) }).id;
  const b = emulator.store.create({ name: 'B', email: 'b@acme.example', external_ids: ext([['zendesk', '100']]) }).id;
  const c = emulator.store.create({ name: 'C', email: 'c@acme.example' }).id;
  const dir = tempDir(t, 'pylon-apply-ext-label-');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const input = join(dir, 'zendesk.csv');
  writeFileSync(input, 'external_id,external_id_label,email,name\n457,zendesk,a@acme.example,A\n101,zendesk,b@acme.example,B\n458,zendesk,c@acme.example,C\n');
  const planPath = join(dir, 'plan.json');
  const planned = await runCli(['import', input, '--lookup', 'list', '--plan-out', planPath, ...FAST], { env });
  t.is(planned.code, 0, planned.stderr);

  const shown = await runCli(['show', planPath], { env });
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /external_id \(label "zendesk"\): \(empty\) → "457"/, 'the reviewer sees which system the id is set under');
  t.regex(shown.stdout, /external_id \(label "zendesk"\): "100" → "101"/);

  // Since the plan: C was given another Zendesk id.
  t.is((await client(emulator).patch(`/contacts/${c}`, { external_ids: ext([['zendesk', '999']]) })).status, 200);

  const applied = await runCli(['apply', planPath, '--yes', '--json', ...FAST], { env });
  t.is(applied.code, 3, applied.stderr);
  t.like(statsOf<{ updated: number; failed: number; drifted: number }>(applied), { updated: 2, failed: 1, drifted: 1 });
  t.deepEqual(emulator.store.get(a)?.external_ids, ext([['hubspot', '456'], ['zendesk', '457']]));
  t.deepEqual(emulator.store.get(b)?.external_ids, ext([['zendesk', '101']]), 'the Zendesk id replaced, not joined by a second one under "import"');
  t.deepEqual(emulator.store.get(c)?.external_ids, ext([['zendesk', '999']]), 'the contact changed since the plan is left as it is');
  const errors = readCsv(join(dir, 'plan.errors.csv'));
  t.like(errors, [{ id: c, _error_code: 'ROW_DRIFTED', _error_field: 'external_id', external_id: '458', external_id_label: 'zendesk' }]);
  t.regex(errors[0]._error_message, /external_id is now "999", the plan expected ""/);

  // The import run again: the applied rows are its contacts' (nothing to write); the drifted one is refused as the import would.
  const again = await runCli(['import', input, '--lookup', 'list', '--dry-run', '--json', ...FAST], { env });
  t.like(statsOf<{ updated: number; unchanged: number; created: number }>(again), { updated: 1, unchanged: 2, created: 0 });

  // The undo file records the label: the undo takes off exactly the id added and puts back the one replaced.
  const undo = readCsv(join(dir, 'plan.undo.csv'));
  t.deepEqual(undo.map((r) => [r.id, r.external_id, r.external_id_label]), [[a, '#N/A', 'zendesk'], [b, '100', 'zendesk']]);
  const undone = await runCli(['update', join(dir, 'plan.undo.csv'), '--yes', '--json', '--no-undo', ...FAST], { env });
  t.is(undone.code, 0, undone.stderr);
  t.deepEqual(emulator.store.get(a)?.external_ids, ext([['hubspot', '456']]));
  t.deepEqual(emulator.store.get(b)?.external_ids, ext([['zendesk', '100']]));
  t.deepEqual(emulator.store.get(c)?.external_ids, ext([['zendesk', '999']]));
});
