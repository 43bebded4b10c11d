/**
 * Where a failed export says it stopped (`stopped at …` on stderr, `stoppedAt`
 * in `--json`): a list request that fails on page N names page N (not N+1),
 * with or without prefetch; a failure that is no page's (GET /custom-fields
 * before the walk, a load failing after every page was read) names no page
 * (before, `stopped at page 1` and `stopped at page <pages read + 1>`, a page
 * that was never requested). Real CLI child processes against the emulator.
 */
import test from 'ava';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';
import { createFaultProxy } from './fault-proxy.js';
import { failingMergeRun } from './helpers.js';
import type { ExportStats } from '../../src/export/run-export.js';

test('a list request failing on page N: stderr and --json name page N and its cursor, with and without prefetch', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 50 });
  const dir = tempDir(t, 'pylon-stop-page-');
  for (const [failing, concurrency] of [[3, '1'], [3, '4'], [1, '4'], [5, '4']] as const) {
    const proxy = await createFaultProxy(emulator.url, { fault: 'status=400', failPages: [failing] });
    t.teardown(() => proxy.close());
    const result = await runCli(['export', join(dir, 'c.csv'), '--page-size', '10', '--concurrency', concurrency, '--rate', FAST_RATE, '--json'], { env: envFor({ url: proxy.url }) });
    t.is(result.code, 1, result.stderr);
    t.is(proxy.pageRequests, failing, 'the walk stopped at the failing request');
    const stopped = statsOf<ExportStats>(result).stoppedAt!;
    t.like(stopped, { page: failing, pagesRead: failing - 1, code: 'PYLON_HTTP', status: 400 });
    t.is(stopped.cursor === '', failing === 1, 'the first page has no cursor');
    const where = failing === 1 ? 'page 1' : `page ${failing} \\(cursor ${stopped.cursor}\\)`;
    t.regex(result.stderr, new RegExp(`\\n  fatal \\(PYLON_HTTP\\), stopped at ${where}: GET /contacts failed with 400`), `page ${failing}, --concurrency ${concurrency}`);
  }
});

test('a failure that is no page: GET /custom-fields before the walk, an output that cannot be written during the walk, a load failing after every page: no page named', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 30 });
  const dir = tempDir(t, 'pylon-stop-none-');
  const proxy = await startFaultProxy(t, emulator, (req) => (req.path.startsWith('/custom-fields') ? 'status=400' : undefined));
  const fields = await runCli(['export', join(dir, 'c.csv'), '--rate', FAST_RATE, '--json'], { env: envFor(proxy) });
  t.is(fields.code, 1, fields.stderr);
  t.like(statsOf<ExportStats>(fields).stoppedAt, { page: null, pagesRead: 0, status: 400 });
  t.regex(fields.stderr, /\n {2}fatal \(PYLON_[A-Z_]+\), stopped before the first page: GET \/custom-fields failed with 400/);
  t.notRegex(fields.stderr, /stopped at page/);

  // An output written in place during the walk that fails (a full device): the outputs failed, not a page.
  const full = await runCli(['export', join(dir, 'e.csv'), '--changes', '/dev/full', '--page-size', '10', '--rate', FAST_RATE, '--json'], { env: envFor(emulator) });
  t.is(full.code, 1, full.stderr);
  const fullStop = statsOf<ExportStats>(full).stoppedAt!;
  t.like(fullStop, { page: null, code: 'OUTPUT_WRITE' });
  t.regex(full.stderr, /\n {2}fatal \(OUTPUT_WRITE\), stopped (before the first page|after \d+ pages? had been read): Cannot write the change log \(--changes\) \/dev\/full/);

  // A load whose merge fails once the walk has read every page.
  const load = await failingMergeRun(t, emulator, join(dir, 'd.csv'), join(dir, 'w.duckdb'));
  t.is(load.code, 1, load.stderr);
  const stopped = statsOf<ExportStats>(load).stoppedAt!;
  t.like(stopped, { page: null, code: 'LOAD_FAILED' });
  t.is(stopped.pagesRead, 3, 'every page of the 30 contacts was read');
  t.regex(load.stderr, new RegExp(`\\n  fatal \\(LOAD_FAILED\\), stopped after ${stopped.pagesRead} pages had been read: `));
  t.notRegex(load.stderr, /stopped at page/);
});
