/**
 * The kind of the export error report's line for a failure that is no page's:
 * an output that cannot be written during the walk (`OUTPUT_WRITE`) and a load
 * whose merge fails once every page was read (`LOAD_FAILED`) are `output`
 * lines that name no page (before, the first was a `page` line and both named
 * page <pages read + 1>, a page that was never requested). Real CLI child
 * processes against the emulator; the report is read back from its file.
 */
import test from 'ava';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { failingMergeRun, readCsv } from './helpers.js';
import type { ExportStats } from '../../src/export/run-export.js';

test('an output that cannot be written during the walk (--changes /dev/full): one `output` line, no page, no cursor', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 30 });
  const dir = tempDir(t, 'pylon-report-kind-');
  const out = join(dir, 'c.csv');
  const result = await runCli(['export', out, '--changes', '/dev/full', '--page-size', '10', '--rate', FAST_RATE, '--json'], { env: envFor(emulator) });
  t.is(result.code, 1, result.stderr);
  t.is(statsOf<ExportStats>(result).stoppedAt?.code, 'OUTPUT_WRITE');
  const report = await readCsv(`${out}.errors.csv`);
  t.is(report.length, 1, JSON.stringify(report));
  t.like(report[0], { kind: 'output', page: '', cursor: '', http_status: '', request_id: '', code: 'OUTPUT_WRITE' });
  t.regex(report[0]!.message, /\/dev\/full/);
});

test('a load whose merge fails after every page was read: one `output` line, no page, no cursor', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 30 });
  const dir = tempDir(t, 'pylon-report-kind-load-');
  const out = join(dir, 'd.csv');
  const load = await failingMergeRun(t, emulator, out, join(dir, 'w.duckdb'));
  t.is(load.code, 1, load.stderr);
  const stopped = statsOf<ExportStats>(load).stoppedAt!;
  t.like(stopped, { code: 'LOAD_FAILED', pagesRead: 3 });
  const report = await readCsv(`${out}.errors.csv`);
  t.is(report.length, 1, JSON.stringify(report));
  t.like(report[0], { kind: 'output', page: '', cursor: '', http_status: '', request_id: '', code: 'LOAD_FAILED' });
  t.is(report[0]!.message, stopped.message);
});
