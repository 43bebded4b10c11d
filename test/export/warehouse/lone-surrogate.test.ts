/**
 * A contact's name holding an unpaired UTF-16 surrogate (Pylon's JSON can
 * carry `\ud800`). Every output stores it as U+FFFD (UTF-8 cannot hold the
 * half), but the manifest's values digest hashed the JSON line with the
 * `\ud800` escape, so it differed from the digest of the loaded table. The
 * run now hashes the text as stored, and warns once that it was replaced.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { duckRows, selectList, valuesSha256 } from './table-check.js';

type Rows = (columns: Parameters<typeof selectList>[0]) => Promise<Array<Record<string, unknown>>>;

async function loneSurrogate(t: ExecutionContext, to: string, rows: Rows) {
  await withEmulator({ seed: 81, seedRandom: 12 }, async (emulator) => {
    const [a, b] = [emulator.store.at(2)!.id, emulator.store.at(4)!.id];
    emulator.store.update(a, { name: 'Half \ud800 Pair' });
    emulator.store.update(b, { name: 'Other \udfff Half' });
    const dir = await tempDir();
    const manifestPath = join(dir, 'n1.json');
    const stats = await exportFrom(emulator, { to, manifest: manifestPath, runId: 'n1' });
    t.true(stats.complete, stats.stoppedAt?.message);
    const manifest = await readManifest(manifestPath);
    const columns = manifest.schema!.columns;
    const table = await rows(columns);
    t.is(table.find((r) => r.id === a)!.name, 'Half \ufffd Pair', 'the table stores U+FFFD');
    t.is(valuesSha256(columns, table), manifest.values!.sha256, 'the manifest\'s values digest is the table\'s');
    const said = stats.warnings.filter((w) => w.includes('unpaired UTF-16 surrogate'));
    t.is(said.length, 1, `one warning: ${stats.warnings.join(' | ')}`);
    t.regex(said[0]!, new RegExp(`contact ${a}`));
  });
}

test('duckdb: a lone surrogate in a name: the values digest equals the table\'s, and the run warns once', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  await loneSurrogate(t, `duckdb:${file}`, (columns) => duckRows(file, `SELECT ${selectList(columns, 'duckdb')} FROM contacts`));
});

pgTest(`postgres: a lone surrogate in a name: the values digest equals the table's, and the run warns once${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('surrogate');
  await loneSurrogate(t, `${PG_URL}#${table}`, (columns) => withPg(async (c) => (await c.query(`SELECT ${selectList(columns, 'postgres')} FROM "${table}"`)).rows));
});

/**
 * The same half in an id list (an external id, an integration user id): PostgreSQL's jsonb refuses a `\ud800` escape (as it refuses
 * `\u0000`), so the load failed. The load now stores U+FFFD there too, as text columns do, warns once, and the values digest is the table's.
 */
async function loneSurrogateInIds(t: ExecutionContext, to: string, rows: Rows) {
  await withEmulator({ seed: 82, seedRandom: 12 }, async (emulator) => {
    const [a, b] = [emulator.store.at(2)!.id, emulator.store.at(4)!.id];
    emulator.store.update(a, { external_ids: [{ external_id: 'crm-\ud800-1', label: 'crm' }] } as never);
    emulator.store.update(b, { integration_user_ids: [{ id: 'u-\udfff', source: 'slack\ud801' }] } as never);
    const dir = await tempDir();
    const manifestPath = join(dir, 'n1.json');
    const stats = await exportFrom(emulator, { to, manifest: manifestPath, runId: 'n1', columns: 'id,name,external_ids,integration_user_ids' });
    t.true(stats.complete, stats.stoppedAt?.message);
    const manifest = await readManifest(manifestPath);
    const columns = manifest.schema!.columns;
    const table = await rows(columns);
    t.is(valuesSha256(columns, table), manifest.values!.sha256, 'the manifest\'s values digest is the table\'s');
    t.true(JSON.stringify(table.find((r) => r.id === a)!.external_ids).includes('crm-\ufffd-1'), `the table stores U+FFFD: ${JSON.stringify(table.find((r) => r.id === a))}`);
    t.true(JSON.stringify(table.find((r) => r.id === b)!.integration_user_ids).includes('slack\ufffd'));
    const said = stats.warnings.filter((w) => w.includes('unpaired UTF-16 surrogate'));
    t.is(said.length, 1, `one warning: ${stats.warnings.join(' | ')}`);
  });
}

test('duckdb: a lone surrogate in an id list: the values digest equals the table\'s, and the run warns once', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  await loneSurrogateInIds(t, `duckdb:${file}`, (columns) => duckRows(file, `SELECT ${selectList(columns, 'duckdb')} FROM contacts`));
});

pgTest(`postgres: a lone surrogate in a jsonb id list: stored as U+FFFD, the values digest equals the table's, and the run warns once${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('surrogateids');
  await loneSurrogateInIds(t, `${PG_URL}#${table}`, (columns) => withPg(async (c) => (await c.query(`SELECT ${selectList(columns, 'postgres')} FROM "${table}"`)).rows));
});
