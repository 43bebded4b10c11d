/**
 * `export --filter` and `update --where` read one grammar and are checked the same way before the
 * first search: a field or operator Pylon's search refuses is a usage error (exit 2) that writes
 * nothing, not a server 400 after the run began. The built CLI against the emulator.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

test('export --filter on a field Pylon cannot filter: exit 2 before any search, naming the fix, and no report or manifest written', async (t) => {
  const emulator = await startEmulator(t);
  emulator.store.insert({ name: 'Ada', email: 'ada@f.example' });
  const cases: Array<[string, RegExp]> = [
    ['portal_role=admin', /Invalid option `--filter`: cannot filter on "portal_role": Pylon's search cannot filter on portal_role/],
    ['custom.tier=gold', /Invalid option `--filter`: cannot filter on "custom.tier": custom fields are filtered by their bare slug: write tier/],
    ['Email~@f.example', /Invalid option `--filter`: cannot filter on "Email": did you mean email\?/],
  ];
  for (const [filter, message] of cases) {
    const dir = tempDir(t);
    const run = await runCli(['export', join(dir, 'out.csv'), '--filter', filter], { env: envFor(emulator), cwd: dir });
    t.is(run.code, 2, `${filter}: ${run.stderr}`);
    t.regex(run.stderr, message, filter);
    t.notRegex(run.stderr, /select the contacts with a file|update <file>/, 'export has no file to select with');
    t.deepEqual(readdirSync(dir), [], `${filter}: nothing written`);
  }
  t.is(emulator.stats().requests.search ?? 0, 0, 'no search was sent');
});
