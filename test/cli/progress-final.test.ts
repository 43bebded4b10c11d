/**
 * Progress ends at the true row count: the engine's last onProgress call comes when every
 * row has its outcome, with `estimatedRows` corrected to the rows read (the estimate from the
 * file's size was one over on a small file: "25/26 rows"), and a plain-text progress that printed
 * a line ends with one at that last count (the throttle had swallowed it).
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { resolveImportOptions, runImport, type ImportStats } from '../../src/index.js';
import * as XLSX from '@e965/xlsx';
import { createProgress, rowProgressFigures } from '../../src/cli/progress.js';
import { FAST_RATE, TOKEN, contactsCsv, startEmulator, tempDir } from '../helpers/cli.js';

const done = (s: ImportStats) => s.created + s.updated + s.unchanged + s.skipped + s.failed;

test('runImport: the last onProgress call reports every row, against the true total', async (t) => {
  const emulator = await startEmulator(t);
  const input = join(tempDir(t), 'contacts.csv');
  writeFileSync(input, contactsCsv(25));
  const calls: Array<{ done: number; estimatedRows: number }> = [];
  const stats = await runImport(resolveImportOptions({ input, baseUrl: emulator.url, token: TOKEN, env: {}, rate: FAST_RATE }), {
    onProgress: (s) => calls.push({ done: done(s), estimatedRows: s.estimatedRows }),
  });
  t.is(stats.created, 25);
  t.deepEqual(calls.at(-1), { done: 25, estimatedRows: 25 });
  t.is(stats.estimatedRows, 25);
});

test('plain-text progress that printed a line ends with a line at the last count', async (t) => {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const progress = createProgress({ stream, isTTY: false, quiet: false, unit: 'rows', intervalMs: 20 });
  await sleep(40); // past the interval: the next update prints
  progress.update(3, { created: 3 }, { total: 26 });
  progress.update(25, { created: 25 }, { total: 25 }); // within the interval: held back
  progress.stop();
  const lines = out.trim().split('\n');
  t.is(lines.length, 2, out);
  t.regex(lines[0], /^progress: 3\/26 rows/);
  t.regex(lines[1], /^progress: 25\/25 rows, .*created 25/);

  // A run too short to print any line prints none at its end either.
  let quiet = '';
  const other = new PassThrough().on('data', (d: Buffer) => (quiet += d.toString()));
  const short = createProgress({ stream: other, isTTY: false, quiet: false, unit: 'rows', intervalMs: 60_000 });
  short.update(25, { created: 25 }, { total: 25 });
  short.stop();
  t.is(quiet, '');
});

test('plain-text progress does not print its last count twice (a final update with the counts it just printed)', async (t) => {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const progress = createProgress({ stream, isTTY: false, quiet: false, unit: 'rows', intervalMs: 200 });
  await sleep(400); // past the interval: the next update prints
  progress.update(25, { created: 20, updated: 5 }, { total: 25, etaSeconds: 0 });
  progress.update(25, { created: 20, updated: 5 }, { total: 25, etaSeconds: 0 }); // the engine's closing call: same counts
  progress.stop();
  const lines = out.trim().split('\n');
  t.is(lines.length, 1, out);
  t.regex(lines[0]!, /^progress: 25\/25 rows, [\d.]+\/s, created 20, updated 5, ETA 0s$/);
});

const MINUTE = { windowMs: 60_000 };

test('rowProgressFigures: the ETA is the rows left at the measured rate when --rate allows faster (an update paced at patch=3000, doing 45 rows a second)', (t) => {
  // 300 rows done in 6.67 s (45/s), all updates, 137 left; --rate patch=3000 (50/s), create at its default 60 a minute.
  const figures = rowProgressFigures({ done: 300, created: 0, updated: 300, estimatedRows: 437, elapsedSeconds: 300 / 45, rates: { create: 60, patch: 3000, ...MINUTE } });
  t.is(figures.total, 437);
  t.is(Math.round(figures.etaSeconds!), Math.round(137 / 45), 'not 137 rows at the create rate (2m17s)');
  // apply --rate patch=6000 (100/s), a third of the rows patched, the rest unchanged, 187 rows a second: 1,000 left is about 5 s, not hours.
  const apply = rowProgressFigures({ done: 2_001, created: 0, updated: 667, estimatedRows: 3_001, elapsedSeconds: 2_001 / 187, rates: { create: 60, patch: 6000, ...MINUTE } });
  t.is(Math.round(apply.etaSeconds!), Math.round(1_000 / 187));
});

test('rowProgressFigures: the ETA is the --rate pacing when it is slower than the rate so far, counting creates at the create rate and unchanged rows as free', (t) => {
  // 100 rows in 1 s (a burst), half created, half unchanged; create=60 a minute: 1 s per create.
  const figures = rowProgressFigures({ done: 100, created: 50, updated: 0, estimatedRows: 300, elapsedSeconds: 1, rates: { create: 60, patch: 6000, ...MINUTE } });
  t.is(figures.etaSeconds, 200 * 0.5);
});

test('rowProgressFigures: an estimate below the rows done is no total (and no ETA), never "569/10 rows"', (t) => {
  t.deepEqual(rowProgressFigures({ done: 569, created: 569, updated: 0, estimatedRows: 10, elapsedSeconds: 10, rates: { create: 60, patch: 60, ...MINUTE } }), { total: undefined });
  t.deepEqual(rowProgressFigures({ done: 5, created: 5, updated: 0, estimatedRows: 0, elapsedSeconds: 1, rates: { create: 60, patch: 60, ...MINUTE } }), { total: undefined });
  t.is(rowProgressFigures({ done: 0, created: 0, updated: 0, estimatedRows: 10, elapsedSeconds: 0, rates: { create: 60, patch: 60, ...MINUTE } }).total, 10);
});

test('runImport of an XLSX: every progress report has the sheet\'s row count as its total, never fewer than the rows done', async (t) => {
  const emulator = await startEmulator(t);
  const input = join(tempDir(t), 'contacts.xlsx');
  const rows = [['name', 'email'], ...Array.from({ length: 600 }, (_, i) => [`Person ${i}`, `x${i}@xlsx.example`])];
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), 'Contacts');
  writeFileSync(input, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  const calls: Array<{ done: number; estimatedRows: number }> = [];
  const stats = await runImport(resolveImportOptions({ input, baseUrl: emulator.url, token: TOKEN, env: {}, rate: FAST_RATE }), {
    onProgress: (s) => calls.push({ done: done(s), estimatedRows: s.estimatedRows }),
  });
  t.is(stats.created, 600);
  t.true(calls.length > 0);
  t.deepEqual(calls.filter((c) => c.estimatedRows !== 600), [], 'the sheet\'s 600 rows from the first report on');
});

/** 25 contacts written in the odd ways files come: every progress report's total is the 25 rows, from the first report on (it was 26, the line count, header included). */
const ODD_FILES: ReadonlyArray<[string, string, (rows: string[][]) => string | Buffer]> = [
  ['plain', 'contacts.csv', (rows) => rows.map((r) => r.join(',')).join('\n') + '\n'],
  ['CRLF line ends, a BOM and blank lines at the end', 'contacts.csv', (rows) => '\ufeff' + rows.map((r) => r.join(',')).join('\r\n') + '\r\n\r\n,,\r\n'],
  ['line breaks inside quoted cells', 'contacts.csv', (rows) => rows.map((r, i) => (i === 0 ? r.join(',') : `"${r[0]}\nsecond line\r\nthird","${r[1]}"`)).join('\n')],
  ['no line end after the last row', 'contacts.csv', (rows) => rows.map((r) => r.join(',')).join('\n')],
  ['gzip', 'contacts.csv.gz', (rows) => gzipSync(rows.map((r) => r.join(',')).join('\n') + '\n\n')],
  ['a pretty-printed JSON array', 'contacts.json', (rows) => JSON.stringify(rows.slice(1).map(([name, email]) => ({ name, email })), null, 2)],
  ['NDJSON with a blank line at the end', 'contacts.ndjson', (rows) => rows.slice(1).map(([name, email]) => JSON.stringify({ name, email })).join('\n') + '\n\n'],
];
for (const [what, name, write] of ODD_FILES) {
  test(`runImport of a 25-row file (${what}): every progress report's total is 25`, async (t) => {
    const emulator = await startEmulator(t);
    const input = join(tempDir(t), name);
    writeFileSync(input, write([['name', 'email'], ...Array.from({ length: 25 }, (_, i) => [`Person ${i}`, `odd${i}@rows.example`])]));
    const calls: Array<{ done: number; estimatedRows: number }> = [];
    const stats = await runImport(resolveImportOptions({ input, baseUrl: emulator.url, token: TOKEN, env: {}, rate: FAST_RATE }), {
      onProgress: (s) => calls.push({ done: done(s), estimatedRows: s.estimatedRows }),
    });
    t.like(stats, { total: 25, created: 25, failed: 0 });
    t.true(calls.length > 0);
    t.deepEqual(calls.filter((c) => c.estimatedRows !== 25), [], 'the 25 rows from the first report on');
    t.deepEqual([...emulator.store.all()].map((c) => c.email).sort(), Array.from({ length: 25 }, (_, i) => `odd${i}@rows.example`).sort());
  });
}

test('runImport --on-duplicate last of a file past the 64 KiB the estimate reads: its pre-scan read every row, and every progress report counts against them', async (t) => {
  const emulator = await startEmulator(t);
  const input = join(tempDir(t), 'contacts.csv');
  // 1,500 rows of about 90 bytes, each name holding a quoted line break: 3,001 lines, 1,500 rows.
  const rows = Array.from({ length: 1_500 }, (_, i) => `"Person ${i}\n${'x'.repeat(60)}",big${i}@rows.example`);
  writeFileSync(input, `name,email\n${rows.join('\n')}\n`);
  const calls: Array<{ done: number; estimatedRows: number }> = [];
  const stats = await runImport(resolveImportOptions({ input, baseUrl: emulator.url, token: TOKEN, env: {}, rate: FAST_RATE, dryRun: true, onDuplicate: 'last' }), {
    onProgress: (s) => calls.push({ done: done(s), estimatedRows: s.estimatedRows }),
  });
  t.like(stats, { total: 1_500, created: 1_500 });
  t.true(calls.length > 0);
  t.deepEqual(calls.filter((c) => c.estimatedRows !== 1_500), [], 'the 1,500 rows from the first report on');
});
