/**
 * A contact deleted between the lookup and its PATCH (Pylon answers the PATCH 404): the row fails
 * ROW_NOT_FOUND with a sentence saying what happened, not ROW_API_REJECTED with Pylon's "Contact not found!".
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { contactsCsv, envFor, FAST_RATE, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

test('import: a PATCH answered 404 (the contact was deleted during the run) fails its row ROW_NOT_FOUND, and the other rows are updated', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const first = join(dir, 'first.csv');
  writeFileSync(first, contactsCsv(3, 'gone'));
  t.is((await runCli(['import', first, '--no-undo', '--rate', FAST_RATE], { env: envFor(emulator) })).code, 0);
  // The same contacts with new names; the first PATCH finds its contact deleted just before it arrives.
  const file = join(dir, 'renamed.csv');
  writeFileSync(file, contactsCsv(3, 'gone').replace(/Person /g, 'Renamed '));
  let deleted: string | undefined;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (method !== 'PATCH' || deleted) return undefined;
    deleted = decodeURIComponent(path.split('/').pop()!);
    emulator.store.delete(deleted);
    return undefined;
  });
  const run = await runCli(['import', file, '--json', '--no-undo', '--rate', FAST_RATE, '--concurrency', '1'], { env: envFor(proxy) });
  t.is(run.code, 3, run.stderr);
  t.like(statsOf(run), { updated: 2, failed: 1 });
  const report = parse(readFileSync(join(dir, 'renamed.errors.csv')), { columns: true, bom: true }) as Array<Record<string, string>>;
  t.like(report, [{ _error_code: 'ROW_NOT_FOUND', _error_field: 'email' }]);
  t.regex(report[0]!._error_message!, new RegExp(`Contact ${deleted} no longer exists: it was deleted while the run was going`));
});
