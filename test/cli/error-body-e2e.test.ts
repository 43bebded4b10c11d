/**
 * Error bodies in the shapes third-party clients read (emulator --error-body): `{message, code}` and
 * `{error: {message, code, exists_id}}`, besides Pylon's documented `{errors: [...]}`. With the nested shape the
 * report said "unexpected application/json response, not Pylon's error envelope" and lost the server's words, and
 * a duplicate's `exists_id`. Now every shape's message reaches the error report and stderr, its `exists_id` turns a
 * refused create into an update of that contact, and a bad token is PYLON_AUTH with the server's words.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { MSG } from '../../src/emulator/index.js';
import { envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

for (const shape of ['pylon', 'message', 'nested'] as const) {
  test(`--error-body ${shape}: the server's message in the report, exists_id followed, the token error explained`, async (t) => {
    const emulator = await startEmulator(t, { errorBody: shape });
    const dir = tempDir(t);
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, 'name,email\nVal,val@localhost\nRaced,raced@acme.example\n');
    // The raced row's contact appears between the lookup and its create: the create is refused with exists_id.
    let racer: string | undefined;
    const proxy = await startFaultProxy(t, emulator, (req) => {
      if (!racer && req.method === 'POST' && req.path === '/contacts' && req.body.includes('raced@')) racer = emulator.store.insert({ name: 'Racer', email: 'raced@acme.example' }).id;
      return undefined;
    });
    const run = await runCli(['import', file, '--lenient', '--json', '-q', '--no-undo', '--rate', FAST_RATE], { env: envFor(proxy) });
    t.is(run.code, 3, run.stderr);
    t.like(statsOf(run), { updated: 1, failed: 1, created: 0 });
    t.is(emulator.store.get(racer!)?.name, 'Raced', 'the contact exists_id named was updated');
    t.is(emulator.store.findAllByEmail('raced@acme.example').length, 1);
    const report = parse(readFileSync(join(dir, 'contacts.errors.csv')), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.is(report.length, 1);
    t.like(report[0], { _line: '2', _error_code: 'ROW_API_REJECTED', _http_status: '400' });
    t.true(report[0]._error_message.includes(MSG.invalidEmail('email', 'val@localhost')), report[0]._error_message);

    const denied = await runCli(['import', file, '--no-undo', '--rate', FAST_RATE], { env: envFor(emulator, 'not-the-token') });
    t.is(denied.code, 1, denied.stderr);
    t.regex(denied.stderr, /fatal \(PYLON_AUTH\): GET \/me failed with 401: Invalid API token!/);
  });
}
