/**
 * A server (or a proxy in front of it) that takes smaller request bodies than this tool's 1 MiB answers a large write
 * 413 Payload Too Large: that row fails ROW_TOO_LARGE, once (never retried), and the run goes on with the other rows,
 * for a create (import) and a PATCH (update). The emulator's --max-body-bytes plays that server.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
const LONG = 'N'.repeat(3000);

for (const command of ['import', 'update'] as const) {
  test(`${command}: a write the server answers 413 fails its row ROW_TOO_LARGE and the run goes on`, async (t) => {
    const emulator = await startEmulator(t, { maxBodyBytes: 2000 });
    if (command === 'update') for (const name of ['ann', 'bob', 'cat']) emulator.store.insert({ name, email: `${name}@x.example` });
    const dir = tempDir(t, 'pylon-413-');
    const input = join(dir, 'rows.csv');
    writeFileSync(input, `email,name\nann@x.example,Ann\nbob@x.example,${LONG}\ncat@x.example,Cat\n`);
    const run = await runCli([command, input, '--json', '--rate', FAST_RATE, '--concurrency', '1', ...(command === 'update' ? ['--yes'] : [])], { env: envFor(emulator) });
    t.is(run.code, 3, run.stderr);
    const stats = statsOf(run);
    t.like(stats, { failed: 1, retries: 0, [command === 'import' ? 'created' : 'updated']: 2 });
    t.is((stats as { fatal?: unknown }).fatal, undefined);
    const errors = readCsv(join(dir, 'rows.errors.csv'));
    t.like(errors, [{ _line: '3', _error_code: 'ROW_TOO_LARGE', _http_status: '413' }]);
    t.regex(errors[0]!._error_message!, /413 Payload Too Large.*Shorten/);
    t.is(errors.length, 1);
  });
}
