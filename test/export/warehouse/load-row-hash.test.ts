import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { columnsKey, recordHash } from '../../../src/export/delta.js';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readCsv, storeContacts, tempDir } from '../helpers.js';

const url = (table: string) => `${PG_URL}#${table}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A table as an older version left it: every `_row_hash` a sha256 record hash
 * (and, unless `keepState` is false, its kept state saying so). Built by
 * turning a first night's state file into the format-2 state an older version
 * wrote (sha256 hashes) and loading a new table with it as the baseline.
 * Returns the `id → sha256 hash` the table holds.
 */
async function sha256Table(emulator: Parameters<typeof exportFrom>[0], dir: string, table: string): Promise<Map<string, string>> {
  const state = join(dir, 'old.state');
  const csv = join(dir, 'day1.csv');
  const first = await exportFrom(emulator, { output: csv, state });
  const [, metaLine] = (await readFile(state, 'utf8')).split('\n');
  const meta = JSON.parse(metaLine!) as Record<string, unknown>;
  delete meta.rowHash;
  const key = columnsKey(first.columns);
  const lines = (await readCsv(csv)).map((row) => `${recordHash(key, first.columns.map((c) => row[c] ?? '')).hex} ${row.id}`);
  const body = `pylon-contacts-state 2\n${JSON.stringify(meta)}\n${lines.map((l) => l + '\n').join('')}`;
  await writeFile(state, `${body}end ${lines.length} ${sha256(body)}\n`);
  const loaded = await exportFrom(emulator, { to: url(table), state, runId: 'old-version' });
  if (!loaded.complete) throw new Error(`setup load failed: ${loaded.stoppedAt?.message}`);
  return new Map(lines.map((l) => [l.slice(17), l.slice(0, 16)]));
}

async function rowHashes(table: string): Promise<Map<string, string>> {
  return withPg(async (db) => new Map((await db.query(`SELECT id, _row_hash FROM "${table}"`)).rows.map((r: { id: string; _row_hash: string }) => [r.id, r._row_hash])));
}

pgTest(`postgres: a new --state path on a table an older version filled (sha256 _row_hash) compares in the kind the table's kept state names: only the changed row is updated${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 73, seedRandom: 30 }, async (emulator) => {
    const dir = await tempDir();
    const table = uniqueTable('contacts');
    const old = await sha256Table(emulator, dir, table);
    t.deepEqual(await rowHashes(table), old, 'set-up: the table holds sha256 record hashes');

    const changed = storeContacts(emulator)[3]!.id;
    t.is((await client(emulator).patch(`/contacts/${changed}`, { name: 'Renamed Before The New State' })).status, 200);
    const newState = join(dir, 'new.state');
    const night = await exportFrom(emulator, { to: url(table), state: newState, runId: 'new-state-path' });
    t.true(night.complete);
    t.like(night.load, { inserted: 0, updated: 1, unchanged: 29, deleted: 0 }, 'the unchanged contacts are not rewritten');
    // The new path has no file: the table's kept state (the same pipeline's) is the baseline, and the summary says so (missing-state-file.test.ts).
    t.is(night.warnings.length, 1, night.warnings.join(' | '));
    t.regex(night.warnings[0]!, /^the --state file .*new\.state does not exist, so this run's delta and change log are against the state kept in .* \(run old-version\)/);
    const after = await rowHashes(table);
    for (const [id, hash] of old) if (id !== changed) t.is(after.get(id), hash, `row ${id} keeps its sha256 hash`);
    t.not(after.get(changed), old.get(changed));
    const written = await withPg(async (db) => (await db.query(`SELECT id FROM "${table}" WHERE _run_id = 'new-state-path'`)).rows.map((r: { id: string }) => r.id));
    t.deepEqual(written, [changed], 'the database says only the changed row was written');
    t.is((JSON.parse((await readFile(newState, 'utf8')).split('\n')[1]!) as { rowHash: string }).rowHash, 'sha256', 'the new state file is in the table’s kind');

    const next = await exportFrom(emulator, { to: url(table), state: newState, runId: 'next' });
    t.like(next.load, { inserted: 0, updated: 0, unchanged: 30, deleted: 0 });
  });
});

pgTest(`postgres: a table with no kept state naming its hash kind: the rows whose hash differs are rewritten once and the summary says why${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 74, seedRandom: 20 }, async (emulator) => {
    const dir = await tempDir();
    const table = uniqueTable('contacts');
    await sha256Table(emulator, dir, table);
    // An older version that kept no state in the database (only this table's rows go: the other test shares the database).
    await withPg(async (db) => {
      await db.query(`DELETE FROM _pylon_state WHERE table_name = $1`, [table]);
      await db.query(`DELETE FROM _pylon_state_parts WHERE table_name = $1`, [table]);
    });
    const night = await exportFrom(emulator, { to: url(table), state: join(dir, 'new.state'), runId: 'no-kept-state' });
    t.true(night.complete);
    t.like(night.load, { inserted: 0, updated: 20, unchanged: 0, deleted: 0 });
    t.deepEqual(night.warnings, [
      `20 rows of ${table} were rewritten and counted as updated: the table has no kept state saying how its _row_hash values were made, so they were compared as xxh64 hashes (rows an older version hashed with sha256 differ once; later nights compare in the kind this load kept)`,
    ]);
    const next = await exportFrom(emulator, { to: url(table), state: join(dir, 'new.state'), runId: 'after' });
    t.like(next.load, { inserted: 0, updated: 0, unchanged: 20, deleted: 0 });
    t.deepEqual(next.warnings, []);
  });
});
