/**
 * The README's nightly recipe loads without --state: the baseline of each
 * night's delta is the state kept in the table. Its deletions must reach the
 * lake as a --state night's do (`<file>.deleted.csv` beside the manifest,
 * named by `delta.deletedFile`); they were counted in the manifest but never
 * published, so a reader of the lake never learnt of them. The manifest's
 * `delta.since` names that table and the run that kept the state (it was the
 * description of the table made relative as if it were a path).
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { client } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { resolveFrom } from '../../../src/export/manifest.js';
import { duckRows } from './table-check.js';

/** Two nights of the README's recipe into `target`, two contacts deleted between them; checks the second night's lake files; returns the ids deleted. */
async function twoNights(t: ExecutionContext, target: string, table: string, dir: string): Promise<string[]> {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 20 });
  const night = () => runCli(['export', 'lake/contacts/dt={date}/contacts-{run_id}.parquet', '--to', target, '--rate', FAST_RATE, '--quiet', '--json'], { cwd: dir, env: envFor(emulator) });
  const first = await night();
  t.is(first.code, 0, first.stderr);
  t.is(JSON.parse(first.stdout).delta, null, 'the first night has no baseline');

  const api = client({ url: emulator.url, token: TOKEN });
  const ids = ((await api.get('/contacts?limit=999')).body.data as Array<{ id: string }>).map((c) => c.id);
  const gone = [ids[2]!, ids[7]!];
  for (const id of gone) t.is((await api.delete(`/contacts/${id}`)).status, 200);

  const second = await night();
  t.is(second.code, 0, second.stderr);
  const summary = JSON.parse(second.stdout) as { manifestPath: string; delta: { deleted: number; deletedPath: string | null } };
  t.is(summary.delta.deleted, 2);
  const manifestPath = join(dir, summary.manifestPath);
  const text = readFileSync(manifestPath, 'utf8');
  const manifest = JSON.parse(text);
  t.like(manifest, { complete: true, delta: { deleted: 2 } });
  // Not a path: the table (as load.target names it, password hidden) and the run whose load kept the state.
  t.deepEqual(manifest.delta.since, { table: manifest.load.target, runId: JSON.parse(first.stdout).runId });
  t.true(manifest.delta.since.table.endsWith(`#${table}`));
  const password = target.startsWith('postgresql:') ? new URL(target).password : '';
  if (password !== '') t.false(text.includes(password), 'the password is nowhere in the manifest');

  t.not(manifest.delta.deletedFile, null, 'the manifest names the deleted ids');
  const deletedFile = resolveFrom(manifestPath, manifest.delta.deletedFile);
  t.true(existsSync(deletedFile));
  t.regex(deletedFile, /lake\/contacts\._meta\/dt=\d{4}-\d{2}-\d{2}\/contacts-[^/]+\.parquet\.deleted\.csv$/, 'beside the manifest, outside the dataset root');
  const rows = parse(readFileSync(deletedFile, 'utf8'), { columns: true, bom: true }) as Array<{ id: string }>;
  t.deepEqual(rows.map((r) => r.id).sort(), [...gone].sort());
  // The partition holds data files and _SUCCESS only.
  const partition = readdirSync(join(dir, 'lake/contacts'))[0]!;
  t.true(readdirSync(join(dir, 'lake/contacts', partition)).every((name) => name === '_SUCCESS' || name.endsWith('.parquet')));
  return gone.sort();
}

test('duckdb: a loading night whose baseline is the table\'s kept state publishes its deleted ids in the lake; the manifest points at them and names the table', async (t) => {
  const dir = tempDir(t, 'pylon-table-deletions-');
  const gone = await twoNights(t, 'duckdb:lake/wh.duckdb', 'contacts', dir);
  // The tombstones are those the table marked.
  const marked = await duckRows<{ id: string }>(join(dir, 'lake/wh.duckdb'), 'SELECT id FROM contacts WHERE _deleted_at IS NOT NULL ORDER BY id');
  t.deepEqual(marked.map((r) => r.id), gone);
});

pgTest(`postgresql: the same, with a password in the URL that the manifest never shows${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('table_deletions');
  const dir = tempDir(t, 'pylon-table-deletions-pg-');
  const gone = await twoNights(t, `${PG_URL}#${table}`, table, dir);
  const marked = await withPg(async (c) => (await c.query(`SELECT id FROM "${table}" WHERE _deleted_at IS NOT NULL ORDER BY id`)).rows as Array<{ id: string }>);
  t.deepEqual(marked.map((r) => r.id), gone);
});
