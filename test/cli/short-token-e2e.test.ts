/**
 * A token too short to be real (a placeholder like `--token x`, a cut-off paste) is refused before
 * any call, as a usage error that says how long it is and never shows it. Before, a token of one to
 * three characters was sent and never masked: redaction skipped it, so it could appear in any
 * message, report or audit record that happened to contain its letters.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { createPylonClient } from '../../src/pylon/client.js';
import { resolveExportOptions } from '../../src/export/options.js';
import { contactsCsv, runCli, startEmulator, tempDir } from '../helpers/cli.js';

test('a token shorter than 4 characters: exit 2 before any call, its length named, nothing written', async (t) => {
  const emulator = await startEmulator(t, { tokens: ['x', 'ab', 'abc', 'abcd'] });
  const dir = tempDir(t);
  const file = join(dir, 'contacts.csv');
  writeFileSync(file, contactsCsv(2));
  const runs = [
    { args: ['import', file, '--token', 'x'], env: { PYLON_BASE_URL: emulator.url }, shown: '--token', length: '1 character long' },
    { args: ['import', file, '--json'], env: { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: 'abc' }, shown: 'PYLON_API_TOKEN', length: '3 characters long' },
    { args: ['export', join(dir, 'out.csv')], env: { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: 'ab' }, shown: 'PYLON_API_TOKEN', length: '2 characters long' },
    { args: ['update', '--where', 'email~@example.com', '--set', 'portal_role=admin', '--dry-run', '--token', 'abc'], env: { PYLON_BASE_URL: emulator.url }, shown: '--token', length: '3 characters long' },
  ];
  for (const { args, env, shown, length } of runs) {
    const result = await runCli(args, { env, cwd: dir });
    t.is(result.code, 2, result.stderr);
    // With --json the error is one JSON object on stdout as well (its code for scripts); without it, stdout is empty.
    if (args.includes('--json')) t.like(JSON.parse(result.stdout), { error: { code: 'CONFIG_INVALID_OPTION', exitCode: 2 } });
    else t.is(result.stdout, '');
    t.is(result.stderr.trim().split('\n')[0], `pylon-contacts: The API token (${shown}) is ${length}: an API token has at least 4, so this is not one (a placeholder or a cut-off paste?). Nothing was sent. Copy the whole token from Pylon (Settings → API Tokens); against the emulator, use the token it prints.`);
  }
  t.is(Object.values(emulator.stats().requests).reduce((a, b) => a + b, 0), 0, 'no request reached the server');
  t.deepEqual(readdirSync(dir), ['contacts.csv'], 'no output, report or manifest written');
  // Four characters is a token like any other (another Pylon-compatible server may give short ones), masked like any other.
  const ok = await runCli(['export', join(dir, 'out.csv'), '--quiet'], { env: { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: 'abcd' } });
  t.is(ok.code, 0, ok.stderr);
});

test('library: resolveExportOptions and createPylonClient refuse a short token with a ConfigError', (t) => {
  t.throws(() => resolveExportOptions({ output: 'x.csv', baseUrl: 'http://127.0.0.1:4010', token: 'ab', env: {} }), { name: 'ConfigError', code: 'CONFIG_INVALID_OPTION', message: /^The API token \(--token\) is 2 characters long/ });
  t.throws(() => createPylonClient({ baseUrl: 'http://127.0.0.1:4010', token: 'a' }), { name: 'ConfigError', message: /^The API token is 1 character long/ });
});

test('emulator --token shorter than 4 characters: exit 2 before listening, naming the length and never the token', async (t) => {
  const dir = tempDir(t);
  const result = await runCli(['emulator', '--port', '0', '--token', 'good-token', '--token', 'xy'], { cwd: dir });
  t.is(result.code, 2, result.stderr);
  t.is(result.stdout, '');
  t.is(result.stderr.trim().split('\n')[0], 'pylon-contacts: Invalid option `--token`: a token of 2 characters is one the CLI refuses (an API token has at least 4), so no command could use this emulator. Give a token of 4 characters or more, or leave --token out to use pylon-emulator-token.');
  t.notRegex(result.stderr, /listening/);
});
