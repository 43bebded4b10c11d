/**
 * A server that answers a contact's `custom_fields` in the write shape, an array
 * of `{slug, value}` / `{slug, values}` (`--custom-fields-shape array`), instead
 * of Pylon's map: the export still writes the values, and importing that export
 * again changes nothing.
 */
import test from 'ava';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];

test('--custom-fields-shape array: export writes custom.* from the array, and its re-import is all unchanged (no writes)', async (t) => {
  const emulator = await startEmulator(t, { customFieldsShape: 'array' });
  seedContacts(emulator.store, 24);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const out = join(dir, 'out.csv');
  const exported = await runCli(['export', out, ...FAST], { env, cwd: dir });
  t.is(exported.code, 0, exported.stderr);
  const rows = readCsv(out);
  const byEmail = new Map(rows.map((r) => [r.email, r]));
  for (const c of emulator.store.all()) {
    const row = byEmail.get(c.email!)!;
    t.is(row['custom.tier'] ?? '', c.custom_fields?.tier?.value ?? '', `${c.email} tier`);
    t.is(row['custom.seats'] ?? '', c.custom_fields?.seats?.value ?? '', `${c.email} seats`);
    t.is(row['custom.interests'] ?? '', (c.custom_fields?.interests?.values ?? []).join(';'), `${c.email} interests`);
  }
  t.true(rows.some((r) => r['custom.tier'] !== ''), 'some values were exported');

  const before = writes(emulator);
  const again = await runCli(['import', out, ...FAST], { env, cwd: dir });
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /created 0, updated 0, unchanged 24/);
  t.is(writes(emulator), before, 'no writes');
});
