/**
 * Outputs naming devices: an output naming stdout (`/dev/stdout`, `/dev/fd/1`)
 * while stdout carries the export (`-`) or the `--json` summary, and two
 * outputs naming one device or FIFO, would be mixed line by line: refused
 * before the first request (exit 2). `/dev/null` takes several outputs, and
 * `--changes /dev/stdout` without `--json` writes the change log there.
 * Before, `--changes /dev/stdout --json` exited 0 with the change log and the
 * summary on one stream. Real CLI child processes against the emulator.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import test from 'ava';
import { AUDIT_STATE_DIR, BIN, FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import type { ExportStats } from '../../src/export/run-export.js';

const requests = (stats: { requests: Record<string, number> }) => Object.values(stats.requests).reduce((a, b) => a + b, 0);

test('an output naming stdout while stdout carries the export or --json, and two outputs on one device or FIFO: exit 2, no request', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 12 });
  const dir = tempDir(t, 'pylon-devices-');
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const refused: Array<[string[], RegExp]> = [
    [['c.csv', '--changes', '/dev/stdout', '--json'], /Invalid option `--changes`: \/dev\/stdout is stdout, where the --json summary also goes.*leave out --json/],
    [['c.csv', '--changes', '/dev/fd/1', '--json'], /Invalid option `--changes`: \/dev\/fd\/1 is stdout, where the --json summary also goes/],
    [['-', '--changes', '/dev/stdout'], /Invalid option `--changes`: \/dev\/stdout is stdout, where the export \(<file> -\) also goes/],
    [['/dev/stdout', '--json'], /Invalid option `<file>`: \/dev\/stdout is stdout, where the --json summary also goes/],
    [['c.csv', '--changes', '/dev/stderr', '--errors', '/dev/stderr'], /Invalid option `--changes`: \/dev\/stderr is where --errors \(\/dev\/stderr\) also goes/],
    [['c.csv', '--changes', fifo, '--errors', fifo], /Invalid option `--changes`: .*pipe is where --errors \(.*pipe\) also goes/],
  ];
  for (const [args, message] of refused) {
    const result = await runCli(['export', ...args, '--rate', FAST_RATE], { cwd: dir, env: envFor(emulator) });
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, message);
    // Nothing on stdout but, with --json, the error itself as one object (where the summary would have gone).
    if (args.includes('--json')) t.like(JSON.parse(result.stdout), { error: { code: 'CONFIG_INVALID_OPTION', exitCode: 2 } });
    else t.is(result.stdout, '', 'nothing on stdout');
    t.is(requests(emulator.stats()), 0, `${args.join(' ')}: no request reached Pylon`);
  }
});

test('/dev/null for several outputs with --json, and --changes /dev/stdout without --json: the run completes and stdout holds one stream', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 12 });
  const dir = tempDir(t, 'pylon-devices-ok-');
  const nulls = await runCli(['export', 'c.csv', '--changes', '/dev/null', '--errors', '/dev/null', '--rate', FAST_RATE, '--json'], { cwd: dir, env: envFor(emulator) });
  t.is(nulls.code, 0, nulls.stderr);
  t.is(nulls.stdout.trim().split('\n').length, 1, 'stdout is the summary alone');
  t.like(statsOf<ExportStats>(nulls), { complete: true, rows: 12 });

  // stdout a regular file, as in `pylon-contacts export … > changes.csv` (the helpers' children write to sockets, which /dev/stdout cannot open).
  const stdoutFile = join(dir, 'stdout.csv');
  const fd = openSync(stdoutFile, 'w');
  const child = spawn(process.execPath, [BIN, 'export', 'd.csv', '--changes', '/dev/stdout', '--rate', FAST_RATE, '--quiet'], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, XDG_STATE_HOME: AUDIT_STATE_DIR, ...envFor(emulator) }, stdio: ['ignore', fd, 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'close')) as [number | null];
  closeSync(fd);
  t.is(code, 0, stderr);
  const lines = readFileSync(stdoutFile, 'utf8').trim().split('\n');
  t.regex(lines[0]!, /^op,id,row_hash,valid_from,run_id$/);
  t.deepEqual(lines.slice(1).map((line) => line.split(',')[0]), Array(12).fill('insert'), 'stdout is the change log: one insert per contact');
});
