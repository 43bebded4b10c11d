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
import { exportFrom, failingMergeRun, readCsv, tempDir as exportTempDir } from './helpers.js';
import { withEmulator } from '../helpers/with-emulator.js';
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
  t.not(stopped.cursor, '', 'the summary keeps where the walk was: the last page\'s cursor');
  const report = await readCsv(`${out}.errors.csv`);
  t.is(report.length, 1, JSON.stringify(report));
  t.like(report[0], { kind: 'output', page: '', cursor: '', http_status: '', request_id: '', code: 'LOAD_FAILED' });
  t.is(report[0]!.message, stopped.message);
});

test('an interrupt while the outputs are committed: one `interrupted` line with no page and no cursor; the summary keeps where the walk was, as for an output failure', async (t) => {
  await withEmulator({ seed: 95, seedRandom: 30 }, async (emulator) => {
    const dir = await exportTempDir();
    const out = join(dir, 'c.csv');
    const controller = new AbortController();
    // The load's merge runs after every page was read, while the outputs are being committed: Ctrl-C arrives there.
    const stats = await exportFrom(emulator, { output: out, pageSize: 10, to: `duckdb:${join(dir, 'w.duckdb')}` }, { signal: controller.signal, onMergeStep: () => controller.abort() });
    t.true(stats.interrupted);
    t.like(stats.stoppedAt, { code: 'RUN_ABORTED', page: null, pagesRead: 3 });
    t.not(stats.stoppedAt!.cursor, '', 'the last page\'s cursor');
    const report = await readCsv(`${out}.errors.csv`);
    t.is(report.length, 1, JSON.stringify(report));
    t.like(report[0], { kind: 'interrupted', page: '', cursor: '', code: 'RUN_ABORTED' });
    t.regex(report[0]!.message, /while the outputs were being committed/);
  });
});
