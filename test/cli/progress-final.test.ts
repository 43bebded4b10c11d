/**
 * Progress ends at the true row count: the engine's last onProgress call comes when every
 * row has its outcome, with `estimatedRows` corrected to the rows read (the estimate from the
 * file's size was one over on a small file: "25/26 rows"), and a plain-text progress that printed
 * a line ends with one at that last count (the throttle had swallowed it).
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { resolveImportOptions, runImport, type ImportStats } from '../../src/index.js';
import { createProgress } from '../../src/cli/progress.js';
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
