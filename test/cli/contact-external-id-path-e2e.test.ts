/**
 * A server whose `/contacts/{id}` also takes a contact external id (a third-party client says Pylon's does; the
 * spec says by id only: emulator --contact-external-ids). A row's id that no contact has (a deleted contact's,
 * another organisation's) but another contact holds as an external id named that other contact: the import and
 * update renamed it and reported the row updated. Now the answer's id is checked: the row fails ROW_NOT_FOUND and
 * the other contact is untouched, in an import, an update and an apply of a saved plan.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const FAST = ['--rate', FAST_RATE, '--json', '-q'];
const report = (path: string) => parse(readFileSync(path), { columns: true, bom: true }) as Array<Record<string, string>>;

test('--contact-external-ids: an id no contact has, held by another contact as an external id, fails ROW_NOT_FOUND in import, update and apply; that contact is untouched', async (t) => {
  const emulator = await startEmulator(t, { contactExternalIds: true });
  const ann = emulator.store.insert({ name: 'Ann', email: 'ann@acme.example' });
  const bob = emulator.store.insert({ name: 'Bob', email: 'bob@acme.example', external_ids: [{ external_id: 'c0ffee00-dead-4000-8000-000000000001', label: 'old-org' }] });
  const bobBefore = structuredClone(bob);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const file = join(dir, 'ids.csv');
  writeFileSync(file, `id,name\nc0ffee00-dead-4000-8000-000000000001,Renamed\n${ann.id},Ann Renamed\n`);

  const imported = await runCli(['import', file, ...FAST, '--no-undo'], { env });
  t.is(imported.code, 3, imported.stderr);
  t.like(statsOf(imported), { updated: 1, failed: 1 });
  t.like(report(join(dir, 'ids.errors.csv')), [{ _line: '2', _error_code: 'ROW_NOT_FOUND', _error_field: 'id' }]);
  t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the import left the external id\'s holder alone');
  t.is(emulator.store.get(ann.id)?.name, 'Ann Renamed');

  writeFileSync(file, `id,name\nc0ffee00-dead-4000-8000-000000000001,Again\n`);
  const updated = await runCli(['update', file, ...FAST, '--no-undo', '--errors', join(dir, 'u.errors.csv')], { env, cwd: dir });
  t.is(updated.code, 3, updated.stderr);
  t.like(report(join(dir, 'u.errors.csv')), [{ _error_code: 'ROW_NOT_FOUND', _error_field: 'id' }]);
  t.deepEqual(emulator.store.get(bob.id), bobBefore, 'the update left it alone');

  // A plan made while Ann existed; she is deleted and her id becomes another contact's external id before the apply.
  writeFileSync(file, `id,name\n${ann.id},Ann Planned\n`);
  const planPath = join(dir, 'plan.json');
  const planned = await runCli(['update', file, ...FAST, '--plan-out', planPath], { env, cwd: dir });
  t.is(planned.code, 0, planned.stderr);
  emulator.store.delete(ann.id);
  const cy = emulator.store.insert({ name: 'Cy', email: 'cy@acme.example', external_ids: [{ external_id: ann.id, label: 'old-org' }] });
  const cyBefore = structuredClone(cy);
  const applied = await runCli(['apply', planPath, ...FAST, '--errors', join(dir, 'a.errors.csv')], { env, cwd: dir });
  t.is(applied.code, 3, applied.stderr);
  t.like(report(join(dir, 'a.errors.csv')), [{ _error_code: 'ROW_NOT_FOUND' }]);
  t.deepEqual(emulator.store.get(cy.id), cyBefore, 'the apply left it alone');
});
