/**
 * An update that names a contact that had no name, then its undo file: the undo row holds `#N/A`
 * (the clear token) for the name, which Pylon's API cannot clear. The undo must never send it as
 * the name, and must not let it block the rest of the row: the name is left as it is, the other
 * fields are restored, and the row fails ROW_CANNOT_CLEAR saying so. The built CLI against an
 * emulator that accepts an empty name (--validation lenient), as a contact made elsewhere may have.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { TOKEN, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

test('undo of a contact that had no name: the name is left alone (never #N/A), its other fields are restored, the row says why', async (t) => {
  const emulator = await startEmulator(t, { validation: 'lenient' });
  const create = async (body: object) => {
    const res = await fetch(`${emulator.url}/contacts`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    t.is(res.status, 200);
    return ((await res.json()) as { data: { id: string } }).data.id;
  };
  const nameless = await create({ name: '', email: 'nameless@acme.example', portal_role: 'member' });
  const named = await create({ name: 'Ada', email: 'ada@acme.example', portal_role: 'member' });
  const dir = tempDir(t, 'pylon-undo-no-name-');
  const env = envFor(emulator);
  const input = join(dir, 'people.csv');
  writeFileSync(input, 'email\nnameless@acme.example\nada@acme.example\n');

  const run = await runCli(['update', input, '--set', 'name=Given', '--set', 'portal_role=admin', '--json', '-q'], { env });
  t.is(run.code, 0, run.stderr);
  const undoPath = join(dir, 'people.undo.csv');
  const undoRows = readCsv(undoPath);
  t.deepEqual(
    undoRows.map((r) => [r.id, r.name, r.portal_role]),
    [
      [nameless, '#N/A', 'member'],
      [named, 'Ada', 'member'],
    ],
  );

  // The dry run says what the real run does: both contacts change, the nameless one's row fails for its name.
  const dry = await runCli(['update', undoPath, '--dry-run'], { env });
  t.is(dry.code, 3, dry.stderr);
  t.regex(dry.stderr, /Undo plan: 2 contacts change, 0 unchanged, 1 row fails\./);
  t.like(emulator.store.get(nameless), { name: 'Given', portal_role: 'admin' }, 'the dry run wrote nothing');

  const undo = await runCli(['update', undoPath, '--json', '-q'], { env });
  t.is(undo.code, 3, undo.stderr);
  t.like(JSON.parse(undo.stdout.trim().split('\n').pop()!), { updated: 1, failed: 1, total: 2 });
  t.like(emulator.store.get(named), { name: 'Ada', portal_role: 'member' });
  // Not "#N/A", not "": the name stays as the run set it, and the role is back.
  t.like(emulator.store.get(nameless), { name: 'Given', portal_role: 'member' });
  const report = readCsv(join(dir, 'people.undo.errors.csv'));
  t.is(report.length, 1);
  t.like(report[0], { id: nameless, name: '#N/A', _line: '2', _error_code: 'ROW_CANNOT_CLEAR', _error_field: 'name' });
  t.is(report[0]._error_message, "Not restored: name held no value before the change, and Pylon's API cannot clear this field, so it is left as it is. The row's other fields were restored; to empty it, edit the contact in Pylon");

  // The report applied again: nothing else differs, nothing is sent, and the row still says why.
  const again = await runCli(['update', join(dir, 'people.undo.errors.csv'), '--json', '-q'], { env });
  t.is(again.code, 3, again.stderr);
  t.like(emulator.store.get(nameless), { name: 'Given', portal_role: 'member' });
});
