/**
 * A plain CSV with an `external_id` column and no `external_id_label` column:
 * --external-id-label names the system its ids come from. Before, the flag was
 * silently ignored there (only a migration's map or --external-id-column took
 * it) and every id went under `import`, where another system's file keyed the
 * same way rewrites these contacts. Without the flag the run says so before any
 * write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const WARNING = /the ids of the column external_id are stored under the external id label "import" \(the file has no external_id_label column\)/;

test('--external-id-label labels a plain file\'s external_id column; without it the run warns; a second system\'s id 123 never rewrites the first one\'s', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  const zoho = join(dir, 'zoho.csv');
  writeFileSync(zoho, 'external_id,name,email\n123,Yan Zoho,yan@zoho.example\n124,Zed Zoho,zed@zoho.example\n');
  const run = (file: string, args: string[]) => runCli(['import', file, '--rate', FAST_RATE, '--no-undo', '--json', ...args], { env, cwd: dir });

  // The dry run and the real run name the same label, and neither warns.
  const dry = await run(zoho, ['--external-id-label', 'zoho', '--dry-run']);
  t.is(dry.code, 0, dry.stderr);
  t.notRegex(dry.stderr, WARNING);
  const made = await run(zoho, ['--external-id-label', 'zoho']);
  t.is(made.code, 0, made.stderr);
  t.is(statsOf(made).created, statsOf(dry).created);
  const byEmail = (email: string) => [...emulator.store.all()].find((c) => c.email === email);
  t.deepEqual(byEmail('yan@zoho.example')?.external_ids, [{ external_id: '123', label: 'zoho' }]);

  // A second run of the same file writes nothing.
  const again = await run(zoho, ['--external-id-label', 'zoho']);
  t.is(again.code, 0, again.stderr);
  t.is(statsOf(again).unchanged, 2);

  // Another system's customer 123, labelled as its own: Yan is never rewritten.
  const helpscout = join(dir, 'helpscout.csv');
  writeFileSync(helpscout, 'external_id,name,email\n123,Xena Scout,xena@hs.example\n');
  const other = await run(helpscout, ['--external-id-label', 'helpscout']);
  t.not(other.code, 2, other.stderr);
  t.is(byEmail('yan@zoho.example')?.name, 'Yan Zoho');
  t.deepEqual(byEmail('yan@zoho.example')?.external_ids, [{ external_id: '123', label: 'zoho' }]);

  // Without the flag: the warning, before any write, and among the run's warnings; the ids go under `import`.
  const plain = join(dir, 'plain.csv');
  writeFileSync(plain, 'external_id,name,email\n900,Pat Plain,pat@plain.example\n');
  const unlabelled = await run(plain, []);
  t.is(unlabelled.code, 0, unlabelled.stderr);
  t.regex(unlabelled.stderr, new RegExp(`^warning: ${WARNING.source}`, 'm'));
  t.true(statsOf(unlabelled).warnings.some((w) => WARNING.test(w)));
  t.deepEqual(byEmail('pat@plain.example')?.external_ids, [{ external_id: '900', label: 'import' }]);

  // A file with its own label column: no warning, and its cells win.
  const labelled = join(dir, 'labelled.csv');
  writeFileSync(labelled, 'external_id,external_id_label,name,email\n901,crm,Lee Label,lee@label.example\n');
  const own = await run(labelled, []);
  t.is(own.code, 0, own.stderr);
  t.notRegex(own.stderr, WARNING);
  t.deepEqual(byEmail('lee@label.example')?.external_ids, [{ external_id: '901', label: 'crm' }]);
});
