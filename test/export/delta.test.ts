import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { client, withEmulator } from '../helpers/with-emulator.js';
import { createFaultProxy } from './fault-proxy.js';
import { exportFrom, filesIn, readCsv, readManifest, storeContacts, tempDir } from './helpers.js';

test('delta after creates, updates and deletes: only new and changed rows, the deleted ids, a full new state', async (t) => {
  await withEmulator({ seed: 21, seedRandom: 120 }, async (emulator) => {
    const api = client(emulator);
    const dir = await tempDir();
    const day1 = join(dir, 'day1.csv');
    const first = await exportFrom(emulator, { output: day1, pageSize: 25 });
    t.true(first.complete);
    t.is(first.delta, null);

    const before = storeContacts(emulator);
    const created = [];
    for (const n of [1, 2, 3]) created.push((await api.post('/contacts', { name: `New ${n}`, email: `new${n}@delta.example` })).body.data.id as string);
    const renamed = before[5]!.id;
    const retiered = before[77]!.id;
    t.is((await api.patch(`/contacts/${renamed}`, { name: 'Renamed Person' })).status, 200);
    t.is((await api.patch(`/contacts/${retiered}`, { custom_fields: [{ slug: 'notes', value: 'changed today' }] })).status, 200);
    const deleted = [before[0]!.id, before[119]!.id];
    for (const id of deleted) t.is((await api.delete(`/contacts/${id}`)).status, 200);

    const day2 = join(dir, 'day2.csv');
    const second = await exportFrom(emulator, { output: day2, pageSize: 25, since: `${day1}.manifest.json` });
    t.true(second.complete);
    t.like(second.delta, { new: 3, changed: 2, unchanged: 120 - 2 - 2, deleted: 2, deletedPath: `${day2}.deleted.csv` });
    t.is(second.rows, 5);
    t.is(second.contactsRead, 121);
    const rows = await readCsv(day2);
    t.deepEqual(rows.map((r) => r.id).sort(), [...created, renamed, retiered].sort());
    t.is(rows.find((r) => r.id === renamed)!.name, 'Renamed Person');
    t.is(rows.find((r) => r.id === retiered)!['custom.notes'], 'changed today');
    t.deepEqual((await readCsv(`${day2}.deleted.csv`)).map((r) => r.id).sort(), [...deleted].sort());

    const manifest = await readManifest(`${day2}.manifest.json`);
    t.like(manifest, { complete: true, rows: 5, contactsRead: 121 });
    t.like(manifest.delta, { since: 'day1.csv.manifest.json', sinceStartedAt: first.startedAt, new: 3, changed: 2, unchanged: 116, deleted: 2, deletedFile: 'day2.csv.deleted.csv' });
    t.like(manifest.state, { path: 'day2.csv.state', entries: 121 }, 'the new state covers every contact, not only the written ones');

    // Nothing changed since day 2: an empty delta (header only), no deletions.
    const day3 = join(dir, 'day3.csv');
    const third = await exportFrom(emulator, { output: day3, since: `${day2}.manifest.json` });
    t.like(third.delta, { new: 0, changed: 0, unchanged: 121, deleted: 0 });
    t.is((await readFile(day3, 'utf8')).split('\n').filter(Boolean).length, 1);
    t.is(await readFile(`${day3}.deleted.csv`, 'utf8'), 'id\n');
  });
});

test('a failed delta publishes nothing and keeps the baseline: the next run still sees every change (at least once)', async (t) => {
  await withEmulator({ seed: 22, seedRandom: 40 }, async (emulator) => {
    const api = client(emulator);
    const dir = await tempDir();
    const out = join(dir, 'nightly.csv');
    const manifestPath = `${out}.manifest.json`;
    await exportFrom(emulator, { output: out, pageSize: 10 });
    const baselineState = await readFile(`${out}.state`, 'utf8');
    const newId = (await api.post('/contacts', { name: 'Late Arrival', email: 'late@delta.example' })).body.data.id as string;

    const proxy = await createFaultProxy(emulator.url, { failFromPage: 2, fault: 'status=500' });
    try {
      const failed = await exportFrom(emulator, { output: out, pageSize: 10, since: manifestPath, baseUrl: proxy.url });
      t.false(failed.complete);
    } finally {
      await proxy.close();
    }
    t.is(await readFile(`${out}.state`, 'utf8'), baselineState, 'the baseline state is untouched');
    t.false((await filesIn(dir)).includes('nightly.csv.deleted.csv'));
    // The previous complete manifest stays as it was; the failed run's facts go beside it.
    t.like(await readManifest(manifestPath), { complete: true, status: 'complete' });
    const failedManifest = await readManifest(`${manifestPath}.failed.json`);
    t.like(failedManifest, { complete: false, status: 'failed' });
    t.like(failedManifest.state, { path: 'nightly.csv.state', entries: 40 }, 'the failed manifest points at the baseline');

    const retry = await exportFrom(emulator, { output: out, pageSize: 10, since: manifestPath });
    t.true(retry.complete);
    t.like(retry.delta, { new: 1, changed: 0, deleted: 0 });
    t.deepEqual((await readCsv(out)).map((r) => r.id), [newId]);
    t.false((await filesIn(dir)).includes('nightly.csv.manifest.json.failed.json'), 'a complete run removes the failed record');
  });
});

test('changing the columns makes every contact count as changed, with a warning', async (t) => {
  await withEmulator({ seed: 23, seedRandom: 10 }, async (emulator) => {
    const dir = await tempDir();
    const a = join(dir, 'a.csv');
    await exportFrom(emulator, { output: a, columns: 'id,email' });
    const b = await exportFrom(emulator, { output: join(dir, 'b.csv'), columns: 'id,email,name', since: `${a}.manifest.json` });
    t.like(b.delta, { new: 0, changed: 10, unchanged: 0, deleted: 0 });
    t.is(b.warnings.length, 1);
    t.regex(b.warnings[0]!, /columns differ/);
  });
});

test('--since refuses a different filter, a tampered state, and a manifest that is not one', async (t) => {
  await withEmulator({ seed: 24, seedRandom: 10 }, async (emulator) => {
    const dir = await tempDir();
    const a = join(dir, 'a.csv');
    await exportFrom(emulator, { output: a });

    const filtered = await t.throwsAsync(exportFrom(emulator, { output: join(dir, 'b.csv'), since: `${a}.manifest.json`, filter: 'email~@acme.example' }));
    t.regex(filtered!.message, /^Invalid option `--since`: .* was made with no --filter; a delta needs the same filter/);

    await writeFile(join(dir, 'not-a-manifest.json'), '{"hello": 1}');
    const wrong = await t.throwsAsync(exportFrom(emulator, { output: join(dir, 'b.csv'), since: join(dir, 'not-a-manifest.json') }));
    t.regex(wrong!.message, /is not a pylon-contacts export manifest/);

    const missing = await t.throwsAsync(exportFrom(emulator, { output: join(dir, 'b.csv'), since: join(dir, 'nope.json') }));
    t.regex(missing!.message, /cannot read .*nope\.json \(ENOENT\)/);

    const state = await readFile(`${a}.state`, 'utf8');
    await writeFile(`${a}.state`, state.replace(/^[0-9a-f]{16}/m, '0000000000000000'));
    const tampered = await t.throwsAsync(exportFrom(emulator, { output: join(dir, 'b.csv'), since: `${a}.manifest.json` }));
    t.regex(tampered!.message, /does not match the sha256 in the manifest/);
    t.is(tampered!.name, 'ConfigError');
    t.false((await filesIn(dir)).some((f) => f.startsWith('b.csv')), 'nothing was written');
  });
});
