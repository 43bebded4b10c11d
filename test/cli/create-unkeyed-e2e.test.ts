/**
 * `--mode create` takes rows with no email (docs/errors.md ROW_EMAIL_REQUIRED),
 * but a row with no email, id or external id can never be found again: a second
 * run of the file creates it a second time (black-box testing). The dry run and
 * the real run say so, counting those rows; rows with an external id column are
 * found by it and are not created twice.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startEmulator, tempDir } from '../helpers/cli.js';
import { importFile } from '../helpers/corpus.js';

const warningOf = (stats: object) => ((stats as { warnings?: string[] }).warnings ?? []).find((w) => w.includes('no email, id or external id'));

test('--mode create: rows with nothing to match them by are counted in a warning, in the dry run and the real run', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'walk-ins.csv');
  writeFileSync(input, ['name,email', 'Walk In,', 'Has Mail,has@walkins.example', 'Walk Out,', ''].join('\n'));
  const dry = await importFile(t, emulator, input, [], ['--mode', 'create', '--dry-run']);
  t.regex(warningOf(dry.stats) ?? '', /^2 rows have no email, id or external id: nothing can find their contacts again, so every run of this file creates them anew \(a second run would duplicate them\)/);
  const real = await importFile(t, emulator, input, [], ['--mode', 'create']);
  t.is(real.stats.created, 3);
  t.is(warningOf(real.stats), warningOf(dry.stats));
  // What the warning says: the second run creates the two walk-ins again (the row with an email is found and skipped).
  const again = await importFile(t, emulator, input, [], ['--mode', 'create']);
  t.like(again.stats, { created: 2, skipped: 1 });
  t.is(emulator.store.size, 5);
});

test('--mode create with an external id column: rows without an email are found by their id, so a second run creates nothing and nothing is warned about', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = join(dir, 'walk-ins.csv');
  writeFileSync(input, ['name,email,legacy id', 'Walk In,,w1', 'Has Mail,has@walkins.example,h1', ''].join('\n'));
  const args = ['--mode', 'create', '--external-id-column', 'legacy id', '--external-id-label', 'legacy'];
  const real = await importFile(t, emulator, input, [], args);
  t.is(real.stats.created, 2);
  t.is(warningOf(real.stats), undefined);
  const again = await importFile(t, emulator, input, [], args);
  t.like(again.stats, { created: 0, skipped: 2 });
  t.is(emulator.store.size, 2);
});
