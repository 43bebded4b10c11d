/**
 * An output or a DuckDB database in a folder that does not exist is a usage
 * error (exit 2) found before the first call: the emulator receives no
 * request. Before, `--to duckdb:/no/such/dir/w.duckdb` read Pylon first and
 * failed at the load's open (LOAD_CONNECT, exit 1). Real CLI child processes.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';

const requests = (stats: { requests: Record<string, number> }) => Object.values(stats.requests).reduce((a, b) => a + b, 0);

test('a DuckDB file, --state, --changes or --manifest in a missing folder: exit 2 naming it, no request sent, nothing created', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 5 });
  const dir = tempDir(t, 'pylon-missing-folder-');
  const missing = join(dir, 'no', 'such');
  const cases: Array<[string[], RegExp]> = [
    [['--to', `duckdb:${join(missing, 'w.duckdb')}`], /Invalid option `--to`: expected a DuckDB file in an existing folder \(.*no\/such does not exist\)/],
    [['--to', `duckdb:${join(missing, 'w.duckdb')}#raw.people`, '--state', join(dir, 'c.state')], /Invalid option `--to`: .*no\/such does not exist/],
    // The outputs say what the import's do (OUTPUT_UNWRITABLE, docs/errors.md).
    [['--state', join(missing, 'c.state')], /Cannot write .*no\/such\/c\.state \(--state\): its folder does not exist\. Nothing was sent to Pylon; create the folder \(mkdir -p .*no\/such\), or pass --state a file in a folder that exists\./],
    [['--changes', join(missing, 'c.csv')], /Cannot write .*no\/such\/c\.csv \(--changes\): its folder does not exist/],
    [['--manifest', join(missing, 'm.json')], /Cannot write .*no\/such\/m\.json \(--manifest\): its folder does not exist/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(['export', join(dir, 'out.csv'), ...args, '--rate', FAST_RATE, '--quiet'], { env: envFor(emulator) });
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, message);
    t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
    t.is(requests(emulator.stats()), 0, `${args.join(' ')}: no request reached Pylon`);
  }
  // A relative path is named as typed, as every other message names it.
  const relative = await runCli(['export', 'out.csv', '--to', 'duckdb:no/such/w.duckdb', '--rate', FAST_RATE, '--quiet'], { cwd: dir, env: envFor(emulator) });
  t.is(relative.code, 2, relative.stderr);
  t.true(relative.stderr.includes('Invalid option `--to`: expected a DuckDB file in an existing folder (no/such does not exist)'), relative.stderr);
  t.false(relative.stderr.includes(dir), `no absolute path in: ${relative.stderr}`);
  t.false(existsSync(join(dir, 'no')), 'no folder was made');
  t.false(existsSync(join(dir, 'out.csv')));

  // The data file itself: named in words, not as `<file>`; a file where a folder should be says so.
  writeFileSync(join(dir, 'afile'), 'x');
  const outputs: Array<[string, RegExp]> = [
    [join(missing, 'x.csv'), /Cannot write .*no\/such\/x\.csv \(the output file\): its folder does not exist\. Nothing was sent to Pylon; create the folder \(mkdir -p .*no\/such\), or name a file in a folder that exists\./],
    [join(dir, 'afile', 'x.csv'), /Cannot write .*afile\/x\.csv \(the output file\): a part of the path is not a folder\./],
  ];
  for (const [output, message] of outputs) {
    const result = await runCli(['export', output, '--rate', FAST_RATE, '--quiet'], { env: envFor(emulator) });
    t.is(result.code, 2, result.stderr);
    t.regex(result.stderr, message);
    t.notRegex(result.stderr, /<file>|Invalid option/);
  }
  t.is(requests(emulator.stats()), 0);

  // A file where the folder should be is refused the same way.
  mkdirSync(join(dir, 'f'));
  const file = join(dir, 'plain');
  writeFileSync(file, 'x');
  const notFolder = await runCli(['export', join(dir, 'out.csv'), '--to', `duckdb:${join(file, 'w.duckdb')}`, '--quiet'], { env: envFor(emulator) });
  t.is(notFolder.code, 2, notFolder.stderr);
  t.regex(notFolder.stderr, /plain is not a folder/);
  t.is(requests(emulator.stats()), 0);

  // The same target in a folder that exists loads.
  const loaded = await runCli(['export', join(dir, 'out.csv'), '--to', `duckdb:${join(dir, 'f', 'w.duckdb')}`, '--rate', FAST_RATE, '--quiet'], { env: envFor(emulator) });
  t.is(loaded.code, 0, loaded.stderr);
  t.true(existsSync(join(dir, 'f', 'w.duckdb')));
});
