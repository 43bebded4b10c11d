/**
 * The delta counts of a loading night without a change log or --state (the
 * baseline is the state kept in the table) agree with the load: the summary
 * and the manifest said `deleted 0` while the load marked the contacts gone
 * since the last night.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { client } from '../../helpers/with-emulator.js';

test('a loading night without a change log counts the deleted contacts in its delta (summary and manifest) as the load does', async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 15 });
  const dir = tempDir(t, 'pylon-delta-count-');
  const night = (file: string) => runCli(['export', file, '--to', `duckdb:${join(dir, 'w.duckdb')}`, '--rate', FAST_RATE, '--quiet', '--json'], { cwd: dir, env: envFor(emulator) });
  const first = await night('a.csv');
  t.is(first.code, 0, first.stderr);
  const api = client({ url: emulator.url, token: TOKEN });
  const ids = ((await api.get('/contacts?limit=999')).body.data as Array<{ id: string }>).map((c) => c.id);
  for (const id of ids.slice(0, 3)) t.is((await api.delete(`/contacts/${id}`)).status, 200);

  const second = await night('b.csv');
  t.is(second.code, 0, second.stderr);
  const summary = JSON.parse(second.stdout);
  t.like(summary.load, { deleted: 3, unchanged: 12 });
  t.like(summary.delta, { new: 0, changed: 0, unchanged: 12, deleted: 3 });
  // The deleted ids are published too, as a --state night publishes them (table-state-deletions.test.ts).
  t.like(JSON.parse(readFileSync(join(dir, 'b.csv.manifest.json'), 'utf8')).delta, { unchanged: 12, deleted: 3, deletedFile: 'b.csv.deleted.csv' });
  t.deepEqual(readFileSync(join(dir, 'b.csv.deleted.csv'), 'utf8').trim().split('\n').slice(1).sort(), ids.slice(0, 3).sort());
  t.regex(second.stderr, /delta since the state kept in .*: new 0, changed 0, unchanged 12, deleted 3/);
});
