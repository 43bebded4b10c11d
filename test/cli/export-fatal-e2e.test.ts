/**
 * An export stopped before its first page (a wrong token, a host that does not answer) gives its
 * error code as the other commands' fatal lines do: `fatal (PYLON_AUTH), stopped before the first
 * page: …` on stderr and `fatal.code` in --json (import's `fatal (PYLON_AUTH): …` and `fatal`).
 * Before, the line had no code and --json no `fatal`. The built CLI in a child process.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { contactsCsv, runCli, startEmulator, tempDir, TOKEN } from '../helpers/cli.js';

test('export stopped before the first page: the code in the human line and fatal.code in --json, as import gives them', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const wrongToken = { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: 'tok-wrong-export-fatal' };
  const auth = await runCli(['export', join(dir, 'a.csv'), '--json'], { env: wrongToken });
  t.is(auth.code, 1, auth.stderr);
  t.regex(auth.stderr, /\n {2}fatal \(PYLON_AUTH\), stopped before the first page: GET \/custom-fields failed with 401: /);
  t.like(JSON.parse(auth.stdout), { complete: false, fatal: { code: 'PYLON_AUTH' }, stoppedAt: { code: 'PYLON_AUTH', page: null } });
  t.regex(JSON.parse(auth.stdout).fatal.message, /^GET \/custom-fields failed with 401/);

  // Nothing listens on port 9: a wrong host.
  const noHost = await runCli(['export', join(dir, 'b.csv'), '--json', '--timeout', '1000'], { env: { PYLON_BASE_URL: 'http://127.0.0.1:9', PYLON_API_TOKEN: TOKEN } });
  t.is(noHost.code, 1, noHost.stderr);
  t.regex(noHost.stderr, /\n {2}fatal \(PYLON_NETWORK\), stopped before the first page: GET \/custom-fields failed: could not connect/);
  t.like(JSON.parse(noHost.stdout), { complete: false, fatal: { code: 'PYLON_NETWORK' } });

  // The same wrong token in an import, for the shape both follow.
  const input = join(dir, 'in.csv');
  writeFileSync(input, contactsCsv(1));
  const imported = await runCli(['import', input, '--json'], { env: wrongToken });
  t.is(imported.code, 1, imported.stderr);
  t.regex(imported.stderr, /\n {2}fatal \(PYLON_AUTH\): /);
  t.like(JSON.parse(imported.stdout), { fatal: { code: 'PYLON_AUTH' } });
});

test('a complete export has no fatal', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 3 });
  const dir = tempDir(t);
  const ok = await runCli(['export', join(dir, 'c.csv'), '--json'], { env: { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: TOKEN } });
  t.is(ok.code, 0, ok.stderr);
  const stats = JSON.parse(ok.stdout);
  t.true(stats.complete);
  t.false('fatal' in stats);
  t.notRegex(ok.stderr, /fatal/);
});

test('an export to stdout stopped before its first byte says nothing was written, not that stdout holds a partial export', async (t) => {
  const emulator = await startEmulator(t);
  const run = await runCli(['export', '-'], { env: { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: 'tok-wrong-export-stdout' } });
  t.is(run.code, 1, run.stderr);
  t.is(run.stdout, '', 'stdout received nothing');
  t.regex(run.stderr, /^ {2}nothing was written to stdout$/m);
  t.notRegex(run.stderr, /partial export/);
});
