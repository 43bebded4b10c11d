/**
 * A binary file given to import (the export's own Parquet, a workbook named .csv, an old .xls): a usage error
 * (exit 2) naming the format and what to do, not "NUL bytes: try --encoding utf16le" or "not JSON".
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import * as XLSX from '@e965/xlsx';
import { envFor, FAST_RATE, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { binaryFormatOf } from '../../src/csv/binary.js';

test('importing the export\'s own Parquet file says Parquet is not an import format, whatever its name or --format', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Ada', email: 'ada@x.example' });
  const dir = tempDir(t);
  const env = envFor(emulator);
  const parquet = join(dir, 'contacts.parquet');
  const exported = await runCli(['export', parquet, '--rate', FAST_RATE], { env, cwd: dir });
  t.is(exported.code, 0, exported.stderr);
  copyFileSync(parquet, join(dir, 'contacts.ndjson'));
  for (const [input, extra] of [[parquet, []], [join(dir, 'contacts.ndjson'), []], [parquet, ['--format', 'xlsx']], [parquet, ['--encoding', 'utf16le']]] as const) {
    const res = await runCli(['import', input, '--dry-run', ...extra], { env, cwd: dir });
    t.is(res.code, 2, res.stderr);
    t.regex(res.stderr, /is (not an XLSX workbook but )?a Parquet file: Parquet is not an import format \(import reads CSV, XLSX, JSON and NDJSON\): export as CSV or NDJSON instead/);
    t.notRegex(res.stderr, /NUL bytes|utf16le|not JSON|\n\s+at /);
  }
});

test('an XLSX workbook named .csv is a ZIP archive: the message says to name it .xlsx or pass --format xlsx', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['name', 'email'], ['Ada', 'ada@x.example']]), 'S');
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  const res = await runCli(['import', input, '--dry-run'], { env: envFor(emulator), cwd: dir });
  t.is(res.code, 2, res.stderr);
  t.regex(res.stderr, /contacts\.csv is a ZIP archive: if it is an XLSX workbook, name it \.xlsx or pass --format xlsx/);
  t.is((await runCli(['import', input, '--dry-run', '--format', 'xlsx'], { env: envFor(emulator), cwd: dir })).code, 0);
});

test('binary signatures: Parquet, ZIP, old Office, xz, zstd, PDF, SQLite; never a text file starting alike', (t) => {
  const bytes = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : Uint8Array.from(s));
  t.is(binaryFormatOf(bytes('PAR1\x15\x04'))?.what, 'a Parquet file');
  t.is(binaryFormatOf(bytes([0x50, 0x4b, 0x03, 0x04, 0x14]))?.what, 'a ZIP archive');
  t.is(binaryFormatOf(bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))?.what, 'an old Excel (.xls) workbook or another Office file');
  t.is(binaryFormatOf(bytes([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))?.what, 'an xz archive');
  t.is(binaryFormatOf(bytes([0x28, 0xb5, 0x2f, 0xfd, 0x00]))?.what, 'a zstd archive');
  t.is(binaryFormatOf(bytes('%PDF-1.7'))?.what, 'a PDF document');
  t.is(binaryFormatOf(bytes('SQLite format 3\x00'))?.what, 'an SQLite database');
  for (const text of ['name,email\n', 'PAR', 'PARt,email\n', '[{"a":1}]', 'email\n', 'SQL']) t.is(binaryFormatOf(bytes(text)), undefined, text);
});
