import test from 'ava';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { columnsKey, recordHash } from '../../src/export/delta.js';
import { client, withEmulator } from '../helpers/with-emulator.js';
import { exportFrom, readCsv, readManifest, storeContacts, tempDir } from './helpers.js';

/** The `<hash> <id>` lines a state made before states named their hash kind would hold for this CSV export: sha256 record hashes. */
async function sha256Lines(csvPath: string, columns: string[]): Promise<string[]> {
  const key = columnsKey(columns);
  return (await readCsv(csvPath)).map((row) => `${recordHash(key, columns.map((c) => row[c] ?? '')).hex} ${row.id}`);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

test('a --state file of format 2 (sha256 record hashes, written before states named their hash) still gives the right delta, and the next state keeps its hash kind', async (t) => {
  await withEmulator({ seed: 61, seedRandom: 30 }, async (emulator) => {
    const dir = await tempDir();
    const state = join(dir, 'c.state');
    const first = await exportFrom(emulator, { output: join(dir, 'day1.csv'), state });
    t.true(first.complete);
    const [header, metaLine] = (await readFile(state, 'utf8')).split('\n');
    t.is(header, 'pylon-contacts-state 3');
    const meta = JSON.parse(metaLine!) as Record<string, unknown>;
    t.is(meta.rowHash, 'xxh64', 'a state without a baseline gets the current hash kind');

    // The same state as an earlier version wrote it: format 2, no rowHash, sha256 hashes, its own trailer.
    delete meta.rowHash;
    const lines = await sha256Lines(join(dir, 'day1.csv'), first.columns);
    const body = `pylon-contacts-state 2\n${JSON.stringify(meta)}\n${lines.map((l) => l + '\n').join('')}`;
    await writeFile(state, `${body}end ${lines.length} ${sha256(body)}\n`);

    const changed = storeContacts(emulator)[4]!.id;
    t.is((await client(emulator).patch(`/contacts/${changed}`, { name: 'Renamed After Upgrade' })).status, 200);
    const second = await exportFrom(emulator, { output: join(dir, 'day2.csv'), state });
    t.true(second.complete);
    t.like(second.delta, { new: 0, changed: 1, unchanged: 29, deleted: 0 }, 'only the renamed contact counts as changed, not every contact');
    t.deepEqual((await readCsv(join(dir, 'day2.csv'))).map((r) => r.id), [changed]);

    const text = await readFile(state, 'utf8');
    t.is(text.split('\n')[0], 'pylon-contacts-state 3');
    t.is((JSON.parse(text.split('\n')[1]!) as { rowHash: string }).rowHash, 'sha256', 'the new state is hashed as its baseline was');
    const unchangedLine = lines.find((l) => !l.endsWith(` ${changed}`))!;
    t.true(text.includes(`\n${unchangedLine}\n`), 'an unchanged contact keeps its sha256 hash');
    const third = await exportFrom(emulator, { output: join(dir, 'day3.csv'), state });
    t.like(third.delta, { new: 0, changed: 0, unchanged: 30, deleted: 0 });
  });
});

test('a --since manifest whose state has no rowHash (sha256 hashes) gives the right delta; a new manifest names its state’s hash', async (t) => {
  await withEmulator({ seed: 62, seedRandom: 25 }, async (emulator) => {
    const dir = await tempDir();
    const day1 = join(dir, 'day1.csv');
    const first = await exportFrom(emulator, { output: day1 });
    const manifestPath = `${day1}.manifest.json`;
    const manifest = await readManifest(manifestPath);
    t.is(manifest.state?.rowHash, 'xxh64');

    // Rewritten as an earlier version wrote it: sha256 hashes, no rowHash in the manifest.
    const statePath = join(dir, manifest.state!.path);
    const lines = await sha256Lines(day1, first.columns);
    const text = `pylon-contacts-state 1\n${lines.map((l) => l + '\n').join('')}`;
    await writeFile(statePath, text);
    const { rowHash: _dropped, ...oldState } = manifest.state!;
    await writeFile(manifestPath, JSON.stringify({ ...manifest, state: { ...oldState, sha256: sha256(text) } }, null, 2));

    const gone = storeContacts(emulator)[3]!.id;
    t.is((await client(emulator).delete(`/contacts/${gone}`)).status, 200);
    const second = await exportFrom(emulator, { output: join(dir, 'day2.csv'), since: manifestPath });
    t.true(second.complete);
    t.like(second.delta, { new: 0, changed: 0, unchanged: 24, deleted: 1 });
    t.is((await readManifest(`${join(dir, 'day2.csv')}.manifest.json`)).state?.rowHash, 'sha256');
    t.is((await readFile(join(dir, 'day2.csv.state'), 'utf8')).split('\n')[1], lines.find((l) => !l.endsWith(` ${gone}`))!, 'the next state keeps the sha256 hashes');

    await writeFile(manifestPath, JSON.stringify({ ...manifest, state: { ...oldState, sha256: sha256(text), rowHash: 'blake9' } }, null, 2));
    await t.throwsAsync(exportFrom(emulator, { output: join(dir, 'day3.csv'), since: manifestPath }), { message: /names a record hash this version does not know \("blake9"\)/ });
  });
});
