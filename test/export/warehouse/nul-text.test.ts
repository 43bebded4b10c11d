/**
 * A NUL character (U+0000) in a contact's text: PostgreSQL's text and jsonb
 * cannot hold it, so one such name in a million failed the whole load every
 * night (`invalid byte sequence for encoding "UTF8": 0x00`). A PostgreSQL
 * load now stores U+FFFD in its place (text, text[] and jsonb columns), says
 * so once with how many contacts, and its values digest is of the text as
 * the table stores it; the second night, nothing changed, writes nothing.
 * DuckDB's VARCHAR holds the NUL (through the Parquet staging), so DuckDB and
 * the files keep it as it is. Real PostgreSQL, real DuckDB, the emulator.
 */
import test, { type ExecutionContext } from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readCsv, readManifest, tempDir } from '../helpers.js';
import { duckRows, selectList, valuesSha256 } from './table-check.js';

type Rows = (columns: Parameters<typeof selectList>[0]) => Promise<Array<Record<string, unknown>>>;

const COLUMNS = 'id,name,emails,phone_numbers,custom.notes,external_ids';
const NUL_WARNING = /held a NUL character/;

async function nulNights(t: ExecutionContext, to: string, rows: Rows, stored: string) {
  await withEmulator({ seed: 84, seedRandom: 12 }, async (emulator) => {
    const [a, b, c] = [emulator.store.at(2)!.id, emulator.store.at(4)!.id, emulator.store.at(6)!.id];
    emulator.store.update(a, { name: 'Nul\u0000Name', emails: ['nul@example.com', 'second\u0000@example.com'], phone_numbers: ['+1\u0000555'] } as never);
    emulator.store.update(b, { customFields: [{ slug: 'notes', value: 'note \u0000 here' }] } as never);
    emulator.store.update(c, { external_ids: [{ external_id: 'crm-\u0000-1', label: 'c\u0000rm' }] } as never);
    const dir = await tempDir();
    const night = (runId: string) =>
      exportFrom(emulator, { output: join(dir, `c-${runId}.csv`), to, manifest: join(dir, `${runId}.json`), changes: join(dir, `changes-${runId}.csv`), runId, columns: COLUMNS });

    const first = await night('n1');
    t.true(first.complete, first.stoppedAt?.message);
    const manifest = await readManifest(join(dir, 'n1.json'));
    const columns = manifest.schema!.columns;
    const table = await rows(columns);
    const row = (id: string) => table.find((r) => r.id === id)!;
    t.is(row(a).name, `Nul${stored}Name`);
    t.deepEqual(row(a).emails, ['nul@example.com', `second${stored}@example.com`]);
    t.deepEqual(row(a).phone_numbers, [`+1${stored}555`]);
    t.is(row(b).custom_notes, `note ${stored} here`);
    t.deepEqual(row(c).external_ids, [{ external_id: `crm-${stored}-1`, label: `c${stored}rm` }]);
    t.is(valuesSha256(columns, table), manifest.values!.sha256, 'the values digest is the table\'s');
    t.is(manifest.values!.rows, table.length);
    // The file keeps the NUL, whatever the target.
    t.is((await readCsv(join(dir, 'c-n1.csv'))).find((r) => r.id === a)!.name, 'Nul\u0000Name');
    const said = first.warnings.filter((w) => NUL_WARNING.test(w));
    if (stored === '\u0000') t.deepEqual(said, [], first.warnings.join(' | '));
    else {
      t.is(said.length, 1, `said once: ${first.warnings.join(' | ')}`);
      t.regex(said[0]!, /^the text of 3 contacts this load wrote \(contact [0-9a-f-]{36} first\)/);
    }

    // Night 2, nothing changed in Pylon: nothing staged, written or logged, and the digest is still the table's.
    const second = await night('n2');
    t.true(second.complete, second.stoppedAt?.message);
    t.like(second.load, { staged: 'changes', inserted: 0, updated: 0, deleted: 0 });
    t.like(second.delta, { new: 0, changed: 0, deleted: 0 });
    t.deepEqual(second.warnings.filter((w) => NUL_WARNING.test(w)), [], 'nothing written, nothing said');
    t.is((await readFile(join(dir, 'changes-n2.csv'), 'utf8')).trim().split('\n').length, 1, 'an empty change log');
    const again = await rows(columns);
    t.deepEqual(again.map((r) => r._run_id).filter((r) => r !== 'n1'), [], 'every row as night 1 wrote it');
    t.is(valuesSha256(columns, again), (await readManifest(join(dir, 'n2.json'))).values!.sha256);
  });
}

test('duckdb: a NUL in a name, an email, a phone number, a text field and an external id is kept as it is; the digest equals the table\'s', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  await nulNights(t, `duckdb:${file}`, (columns) => duckRows(file, `SELECT ${selectList(columns, 'duckdb')}, _run_id FROM contacts`), '\u0000');
});

pgTest(`postgres: a NUL in a name, an email, a phone number, a text field and an external id is stored as U+FFFD, said once; the digest equals the table's; a second night writes nothing${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('nul');
  await nulNights(t, `${PG_URL}#${table}`, (columns) => withPg(async (c) => (await c.query(`SELECT ${selectList(columns, 'postgres')}, _run_id FROM "${table}"`)).rows), '\ufffd');
});
