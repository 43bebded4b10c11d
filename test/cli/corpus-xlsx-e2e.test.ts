/**
 * The corpus's Excel-typed cells (issue 18): exports saved as .xlsx by Excel,
 * written here with SheetJS into a temp dir: numeric id cells (one ≥ 10^15, one
 * in a thousands format, one with 20 digits the workbook already rounded), a
 * date cell, a number with a thousands format, phones stored as numbers (a UK
 * mobile that lost its leading 0), text with trailing spaces, a blank row, one
 * email twice in different case, a deleted record (boolean cell). Each is
 * imported by dry run then for real through the built CLI; every stored field
 * is compared, then a re-run (0 writes) and a re-run after the source changed
 * emails (0 creates).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as XLSX from '@e965/xlsx';
import test, { type ExecutionContext } from 'ava';
import type { Contact } from '../../src/pylon/types.js';
import { REPO, startEmulator, tempDir, writes } from '../helpers/cli.js';
import { counts, importFile, storedFields, type StoredFields } from '../helpers/corpus.js';

type Cell = string | number | boolean | null;

/** A workbook as Excel writes it: cells typed, number formats on the cells named in `formats` ("B2": "#,##0"). */
function workbook(path: string, rows: Cell[][], formats: Record<string, string>): string {
  const ws = XLSX.utils.aoa_to_sheet(rows);
  for (const [ref, format] of Object.entries(formats)) ws[ref]!.z = format;
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, ws, 'Export');
  writeFileSync(path, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  return path;
}

type Expected =
  | { line: number; created: StoredFields; custom?: Record<string, unknown> }
  | { line: number; skipped: RegExp }
  | { line: number; failed: string; message?: RegExp };

interface XlsxSource {
  name: string;
  from: string[];
  rows: (email: (local: string, domain: string) => string) => Cell[][];
  formats: Record<string, string>;
  expected: Expected[];
  /** Rows whose address is at a domain the changed-emails run moves. */
  moved: number;
}

// 45598 is Excel's serial day for 2 November 2024.
const SOURCES: XlsxSource[] = [
  {
    name: 'hubspot',
    // A copy of the HubSpot preset with two custom fields added, as docs/migrate.md tells a user to do.
    from: ['--map', 'MAP'],
    rows: (email) => [
      ['Record ID', 'First Name', 'Last Name', 'Email', 'Phone Number', 'Mobile Phone Number', 'Country/Region', 'Associated Company', 'Number of Employees', 'Renewal Date'],
      [3600123456789012, 'Priya ', 'Raman', email('priya.raman', 'acme'), 2015550123, null, 'United States', 'Acme Inc', 1250, 45598],
      [51002, 'Grace', 'Okafor ', email('grace.okafor', 'globex'), null, 7400123456, 'United Kingdom', 'Globex Corporation', 40, 45599],
      [null, null, null, null, null, null, null, null, null, null],
      [51003, 'Wei', 'Chen', email('Wei.Chen', 'Globex'), '+44 7400 123457', null, 'GB', 'Globex Corporation', null, null],
      [51004, 'Wei', 'Chen', email('wei.chen', 'globex'), null, null, 'GB', 'Globex Corporation', null, null],
      [12345678901234567890, 'Noor', 'Haddad', email('noor.haddad', 'initech'), 2015550124, null, 'United States', 'Initech', null, null],
      [51006, 'Omar', 'Said', email('omar.said', 'initech'), 2015550125, null, 'US', 'Initech', 2500, 45600],
    ],
    formats: { I2: '#,##0', J2: 'm/d/yyyy', A3: '#,##0', J3: 'm/d/yyyy', I8: '#,##0', J8: 'd/m/yyyy' },
    expected: [
      { line: 2, created: { name: 'Priya Raman', email: 'priya.raman@acme.example', phones: ['12015550123'], externalIds: [['hubspot', '3600123456789012']], account: 'Acme Inc' }, custom: { seats: '1250', renewal_date: '2024-11-02' } },
      { line: 3, created: { name: 'Grace Okafor', email: 'grace.okafor@globex.example', phones: ['447400123456'], externalIds: [['hubspot', '51002']], account: 'Globex Corporation' }, custom: { seats: '40', renewal_date: '2024-11-03' } },
      { line: 5, created: { name: 'Wei Chen', email: 'Wei.Chen@Globex.example', phones: ['447400123457'], externalIds: [['hubspot', '51003']], account: 'Globex Corporation' } },
      { line: 6, failed: 'ROW_DUPLICATE_IN_FILE', message: /line 5 \(same email/ },
      { line: 7, failed: 'ROW_XLSX_LOST_DIGITS', message: /^Column Record ID holds the number 1\.2345678901234567E\+19: .*format the column as text in the source and export it again$/ },
      { line: 8, created: { name: 'Omar Said', email: 'omar.said@initech.example', phones: ['12015550125'], externalIds: [['hubspot', '51006']], account: 'Initech' }, custom: { seats: '2500', renewal_date: '2024-11-04' } },
    ],
    moved: 2,
  },
  {
    name: 'salesforce',
    from: ['--from', 'salesforce'],
    rows: (email) => [
      ['Id', 'FirstName', 'LastName', 'Email', 'Phone', 'MobilePhone', 'MailingCountry', 'Account.Name', 'IsDeleted', 'CreatedDate'],
      ['0035g00000QxC1AAAV', 'Hannah', 'Schmidt ', email('hannah.schmidt', 'acme'), 2015550126, null, 'United States', 'Acme Inc', false, 45598],
      ['0035g00000QxC2AAAV', 'Sofia', 'Lindqvist', email('sofia.lindqvist', 'globex'), 7400123458, null, 'United Kingdom', 'Globex Corporation', false, 45598],
      ['0035g00000QxC3AAAV', 'Kenji ', 'Watanabe', email('KENJI.WATANABE', 'initech'), null, '+81 90-1234-5678', 'Japan', 'Initech', false, 45599],
      ['0035g00000QxC4AAAV', 'Kenji', 'Watanabe', email('kenji.watanabe', 'initech'), null, null, 'Japan', 'Initech', false, 45599],
      [null, null, null, null, null, null, null, null, null, null],
      ['0035g00000QxC6AAAV', 'Old', 'Record', email('old.record', 'acme'), 2015550127, null, 'United States', 'Acme Inc', true, 45000],
    ],
    formats: { J2: 'm/d/yyyy', J3: 'm/d/yyyy', J4: 'm/d/yyyy', J5: 'm/d/yyyy', J7: 'm/d/yyyy' },
    expected: [
      { line: 2, created: { name: 'Hannah Schmidt', email: 'hannah.schmidt@acme.example', phones: ['12015550126'], externalIds: [['salesforce', '0035g00000QxC1AAAV']], account: 'Acme Inc' } },
      { line: 3, created: { name: 'Sofia Lindqvist', email: 'sofia.lindqvist@globex.example', phones: ['447400123458'], externalIds: [['salesforce', '0035g00000QxC2AAAV']], account: 'Globex Corporation' } },
      { line: 4, created: { name: 'Kenji Watanabe', email: 'KENJI.WATANABE@initech.example', phones: ['819012345678'], externalIds: [['salesforce', '0035g00000QxC3AAAV']], account: 'Initech' } },
      { line: 5, failed: 'ROW_DUPLICATE_IN_FILE', message: /line 4 \(same email/ },
      { line: 7, skipped: /deleted in Salesforce/ },
    ],
    moved: 2,
  },
];

/** The user's copy of presets/hubspot.json with the two custom fields of their organisation added. */
function hubspotMapWithCustomFields(dir: string): string {
  const preset = JSON.parse(readFileSync(join(REPO, 'presets', 'hubspot.json'), 'utf8'));
  preset.fields['custom.seats'] = 'Number of Employees';
  preset.fields['custom.renewal_date'] = 'Renewal Date';
  const path = join(dir, 'hubspot-with-custom-fields.json');
  writeFileSync(path, JSON.stringify(preset, null, 2));
  return path;
}

function customOf(contact: Contact | undefined, slugs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const slug of slugs) {
    const value = contact?.custom_fields?.[slug] as { value?: unknown } | undefined;
    out[slug] = value?.value ?? value;
  }
  return out;
}

const atDomain = (local: string, domain: string) => `${local}@${domain}.example`;
const changedDomain = (local: string, domain: string) => (/^(acme|initech)$/i.test(domain) ? `${local}@${domain}-corp.example` : atDomain(local, domain));

async function check(t: ExecutionContext, source: XlsxSource) {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const from = source.from.map((a) => (a === 'MAP' ? hubspotMapWithCustomFields(dir) : a));
  const input = workbook(join(dir, `${source.name}-export.xlsx`), source.rows(atDomain), source.formats);
  const run = (file: string, extra: string[] = []) => importFile(t, emulator, file, from, extra);

  const dry = await run(input, ['--dry-run']);
  t.is(writes(emulator), 0, 'the dry run writes nothing');
  const real = await run(input);
  t.deepEqual(counts(real.stats), counts(dry.stats), 'dry-run counts equal the real run');
  const byLine = (rows: typeof real.results) => rows.map((r) => [r._line, r._action]).sort((a, b) => Number(a[0]) - Number(b[0]));
  t.deepEqual(byLine(dry.results), byLine(real.results), 'the dry run plans each row as the real run does');
  const created = source.expected.filter((e) => 'created' in e).length;
  t.is(real.stats.created, created);
  t.is(emulator.store.size, created);
  t.is(real.results.length, source.expected.length, 'one result per data row; the blank row is none');

  const table: string[] = [];
  for (const row of source.expected) {
    const result = real.results.find((r) => Number(r._line) === row.line);
    const error = real.errors.find((r) => Number(r._line) === row.line);
    if ('created' in row) {
      t.is(result?._action, 'created', `line ${row.line}`);
      const stored = emulator.store.get(result?._contact_id ?? '');
      t.deepEqual(stored && storedFields(emulator, stored), row.created, `line ${row.line}`);
      if (row.custom) t.deepEqual(customOf(stored, Object.keys(row.custom)), row.custom, `line ${row.line}: the date and thousands-format cells`);
      table.push(`${source.name}.xlsx:${row.line} → ${JSON.stringify(stored && storedFields(emulator, stored))}${row.custom ? ` ${JSON.stringify(customOf(stored, Object.keys(row.custom)))}` : ''}`);
    } else if ('skipped' in row) {
      t.is(result?._action, 'skipped', `line ${row.line}`);
      t.regex(result?._message ?? '', row.skipped);
      table.push(`${source.name}.xlsx:${row.line} → skipped: ${result?._message}`);
    } else {
      t.is(result?._action, 'failed', `line ${row.line}`);
      t.is(error?._error_code, row.failed, `line ${row.line}`);
      if (row.message) t.regex(error?._error_message ?? '', row.message);
      table.push(`${source.name}.xlsx:${row.line} → ${error?._error_code}: ${error?._error_message}`);
    }
  }
  t.log(table.join('\n'));

  const before = writes(emulator);
  const again = await run(input);
  t.is(writes(emulator) - before, 0, 'a second run of the same file sends no write');
  t.is(again.stats.unchanged, created);

  const changed = await run(workbook(join(dir, `${source.name}-changed.xlsx`), source.rows(changedDomain), source.formats));
  t.is(changed.stats.created, 0, 'matched by (label, id): no contact created');
  t.is(changed.stats.updated, source.moved);
  t.is(emulator.store.size, created);
  t.log(`${source.name}.xlsx: dry run ${JSON.stringify(counts(dry.stats))}; real ${JSON.stringify(counts(real.stats))}; re-run ${JSON.stringify(counts(again.stats))}, 0 writes; changed emails ${JSON.stringify(counts(changed.stats))}`);
}

for (const source of SOURCES) {
  test(`corpus ${source.name} saved as .xlsx (Excel-typed cells): dry run = real run, every stored field, a re-run writes nothing, changed emails create nothing`, (t) => check(t, source));
}
