/**
 * The README's nightly recipe loads without --state: the baseline of each
 * night's delta is the state kept in the table. Its deletions must reach the
 * lake as a --state night's do (`<file>.deleted.csv` beside the manifest,
 * named by `delta.deletedFile`); they were counted in the manifest but never
 * published, so a reader of the lake never learnt of them.
 */
import test from 'ava';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { client } from '../../helpers/with-emulator.js';
import { resolveFrom } from '../../../src/export/manifest.js';
import { duckRows } from './table-check.js';

test('a loading night whose baseline is the table\'s kept state publishes its deleted ids in the lake, and the manifest points at them', async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 20 });
  const dir = tempDir(t, 'pylon-table-deletions-');
  const night = () =>
    runCli(['export', 'lake/contacts/dt={date}/contacts-{run_id}.parquet', '--to', 'duckdb:lake/wh.duckdb', '--rate', FAST_RATE, '--quiet', '--json'], { cwd: dir, env: envFor(emulator) });
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
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  t.like(manifest, { complete: true, delta: { deleted: 2 } });
  t.not(manifest.delta.deletedFile, null, 'the manifest names the deleted ids');
  const deletedFile = resolveFrom(manifestPath, manifest.delta.deletedFile);
  t.true(existsSync(deletedFile));
  t.regex(deletedFile, /lake\/contacts\._meta\/dt=\d{4}-\d{2}-\d{2}\/contacts-[^/]+\.parquet\.deleted\.csv$/, 'beside the manifest, outside the dataset root');
  const rows = parse(readFileSync(deletedFile, 'utf8'), { columns: true }) as Array<{ id: string }>;
  t.deepEqual(rows.map((r) => r.id).sort(), [...gone].sort());
  // The tombstones are those the table marked.
  const marked = await duckRows<{ id: string }>(join(dir, 'lake/wh.duckdb'), 'SELECT id FROM contacts WHERE _deleted_at IS NOT NULL ORDER BY id');
  t.deepEqual(marked.map((r) => r.id), [...gone].sort());
  // The partition holds data files and _SUCCESS only.
  const partition = readdirSync(join(dir, 'lake/contacts'))[0]!;
  t.true(readdirSync(join(dir, 'lake/contacts', partition)).every((name) => name === '_SUCCESS' || name.endsWith('.parquet')));
});
