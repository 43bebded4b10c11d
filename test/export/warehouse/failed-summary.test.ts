/**
 * The summary of a load that fails. It said "FAILED … 1 rows written from 500
 * contacts" on the line above "nothing was written at the target": the one
 * changed row had gone only into the staging that the rollback discarded, and
 * the run had written its error report and a failed manifest after all. Now a
 * run that did not complete says its rows were staged and discarded, and names
 * what it did write; counts of one are singular.
 *
 * The merge fails for real: a NOT NULL set on the table by hand, and one
 * contact whose avatar Pylon no longer has. Real CLI child processes, a real
 * DuckDB file.
 */
import test from 'ava';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { duckRows } from './table-check.js';

test('a failed load does not claim rows written: it says 1 row was staged and discarded, and what it wrote', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 500 });
  const dir = tempDir(t, 'pylon-failed-summary-');
  const db = join(dir, 'w.duckdb');
  for (let i = 0; i < 500; i++) emulator.store.update(emulator.store.at(i)!.id, { avatar_url: 'https://example.com/a.png' });
  const night = (file: string[]) => runCli(['export', ...file, '--state', 'c.state', '--to', `duckdb:${db}`, '--rate', FAST_RATE], { cwd: dir, env: envFor(emulator) });
  const first = await night(['c.csv']);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, /complete after \d+(?:m\d+s|h\d+m|s), 500 rows written from 500 contacts in 1 page\n/);

  await duckRows(db, 'ALTER TABLE contacts ALTER COLUMN avatar_url SET NOT NULL');
  const changed = emulator.store.at(0)!.id;
  emulator.store.update(changed, { avatar_url: null });

  const failed = await night(['c.csv']);
  t.is(failed.code, 1, failed.stderr);
  t.regex(failed.stderr, /NOT NULL constraint failed/);
  t.regex(failed.stderr, /^Export to c\.csv: FAILED after \d+(?:m\d+s|h\d+m|s), 500 contacts read in 1 page; 1 row staged and discarded, none published\n/m);
  t.notRegex(failed.stderr, /rows? written/);
  t.regex(failed.stderr, /\n {2}nothing was published: the previous file and any loaded table are as they were; this run wrote only its error report and the manifest of this failed run\n {2}error report: c\.csv\.errors\.csv\n/);
  t.regex(failed.stderr, /\n {2}manifest: c\.csv\.manifest\.json\.failed\.json\n/);
  t.deepEqual(await duckRows(db, `SELECT avatar_url FROM contacts WHERE id = '${changed}'`), [{ avatar_url: 'https://example.com/a.png' }], 'the table is as it was');

  // A load without a file: nothing was loaded, and no file is spoken of.
  const loadOnly = await night([]);
  t.is(loadOnly.code, 1, loadOnly.stderr);
  t.regex(loadOnly.stderr, /^Export to \(no file; duckdb:.*\): FAILED after \d+(?:m\d+s|h\d+m|s), 500 contacts read in 1 page; 1 row staged and discarded, none published\n/m);
  t.regex(loadOnly.stderr, /\n {2}nothing was loaded: the table is as it was/);
  t.notRegex(loadOnly.stderr, /rows? written|previous file/);
});
