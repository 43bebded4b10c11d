/**
 * No token while rehearsing against the emulator (a loopback base URL): the message says to use the token the
 * emulator prints, which is what works there; before, it said only to create one in Pylon. Against any other
 * host (the default, Pylon) it still says where Pylon's tokens are made.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

test('no token against the emulator names the token it prints; against Pylon, where tokens are made', async (t) => {
  const emulator = await startEmulator(t, { tokens: ['pylon-emulator-token'] });
  const dir = tempDir(t, 'pylon-no-token-');
  writeFileSync(join(dir, 'contacts.csv'), 'name,email\nAda,ada.notoken@example.com\n');
  for (const args of [['import', 'contacts.csv', '--dry-run'], ['export', 'x.csv']]) {
    const run = await runCli(args, { env: { PYLON_BASE_URL: emulator.url }, cwd: dir });
    t.is(run.code, 2, run.stderr);
    t.is(
      run.stderr,
      `pylon-contacts: No API token: set PYLON_API_TOKEN or pass --token. ${emulator.url} is a local server: against the emulator, use the token it prints (export PYLON_API_TOKEN=pylon-emulator-token, unless its --token names another).\n` +
        'pylon-contacts: error CONFIG_MISSING_TOKEN (exit 2; see docs/errors.md)\n',
    );
  }
  // The token it names is the one that works there.
  const ok = await runCli(['import', 'contacts.csv', '--dry-run', '--quiet'], { env: { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: 'pylon-emulator-token' }, cwd: dir });
  t.is(ok.code, 0, ok.stderr);
  t.is(writes(emulator), 0);
  const pylon = await runCli(['export', 'x.csv'], { cwd: dir });
  t.is(pylon.code, 2);
  t.regex(pylon.stderr, /^pylon-contacts: No API token: set PYLON_API_TOKEN or pass --token \(create one in Pylon under Settings → API Tokens\)\.\n/);
});
