/**
 * Rows a killed run wrote are replayed from its journal on `--resume`, and they keep their contact: a later row of the
 * file naming that contact by another of its emails fails ROW_DUPLICATE_IN_FILE after the resume, as it does in an
 * uninterrupted run, instead of writing the contact again. The run is held at a known point (the second contact's
 * PATCH, at a stall proxy) with one row per chunk and one request at a time, so the later row is not yet read; it is
 * killed there and resumed through the same proxy. Outcomes and the store match an uninterrupted run's, for import and update.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Emulator } from '../../src/emulator/index.js';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';

const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>;
/** One row per chunk, one request at a time: the run held at a write has not read the rows after it. */
const HELD = ['--rate', FAST_RATE, '--concurrency', '1', '--lookup-batch', '1', '--lookup', 'list', '--json', '--timeout', '3000'];

function seed(emulator: Emulator) {
  const fay = emulator.store.insert({ name: 'Fay', email: 'fay@x.example', emails: ['fay@x.example', 'fay.old@x.example'], portal_role: 'member' });
  const gus = emulator.store.insert({ name: 'Gus', email: 'gus@x.example', portal_role: 'member' });
  return { fay, gus };
}

/** The store by email: what a run left behind, comparable across emulators. */
const stored = (emulator: Emulator) =>
  [...emulator.store.all()].map((c) => ({ email: c.email, emails: c.emails, name: c.name, portal_role: c.portal_role })).sort((a, b) => String(a.email).localeCompare(String(b.email)));

const cases = [
  { command: 'import', column: 'name', values: ['Fay A', 'Gus B', 'Fay C'] },
  { command: 'update', column: 'portal_role', values: ['admin', 'admin', 'no_access'] },
] as const;

for (const { command, column, values } of cases) {
  test(`${command} killed after its first row, then --resume: a later row naming that row's contact by its secondary email fails ROW_DUPLICATE_IN_FILE, as in an uninterrupted run`, async (t) => {
    const csv = `email,${column}\nfay@x.example,${values[0]}\ngus@x.example,${values[1]}\nfay.old@x.example,${values[2]}\n`;
    const extra = command === 'update' ? ['--yes'] : [];

    // The uninterrupted run, on an emulator of its own.
    const plain = await startEmulator(t);
    seed(plain);
    const plainDir = tempDir(t, 'pylon-resume-claims-');
    const plainInput = join(plainDir, 'rows.csv');
    writeFileSync(plainInput, csv);
    const whole = await runCli([command, plainInput, ...HELD, ...extra], { env: envFor(plain) });
    t.is(whole.code, 3, whole.stderr);
    const wholeErrors = readCsv(join(plainDir, 'rows.errors.csv'));
    t.like(wholeErrors, [{ _line: '4', _error_code: 'ROW_DUPLICATE_IN_FILE' }]);

    // The same run held at Gus's PATCH (Fay's row is written and journaled), killed, then resumed.
    const emulator = await startEmulator(t);
    const { gus } = seed(emulator);
    const dir = tempDir(t, 'pylon-resume-claims-');
    const input = join(dir, 'rows.csv');
    writeFileSync(input, csv);
    const stall = await stallProxy(t, emulator, (method, path) => method === 'PATCH' && path.startsWith(`/contacts/${gus.id}`));
    const env = envFor(stall);
    const held = spawnCli([command, input, ...HELD, ...extra], { env });
    await stall.reached;
    held.child.kill('SIGKILL');
    await held.result;
    stall.release({ drop: true });
    t.is(emulator.stats().requests.patch, 1, "only Fay's PATCH went through before the kill");

    const resumed = await runCli([command, input, ...HELD, ...extra, '--resume'], { env });
    t.is(resumed.code, 3, resumed.stderr);
    t.like(statsOf(resumed), { failed: 1 });
    const errors = readCsv(join(dir, 'rows.errors.csv'));
    t.deepEqual(errors.map((e) => [e._line, e._error_code]), wholeErrors.map((e) => [e._line, e._error_code]), 'the same rows fail, with the same codes');
    t.deepEqual(stored(emulator), stored(plain), 'the store is what the uninterrupted run left');
  });
}
