/**
 * The library writes the undo file the CLI writes: `runImport(resolveImportOptions({ input }))`
 * keeps the previous values of the contacts it changes in `<input>.undo.csv`, never replaces an
 * earlier one (`-2`), and writes none for `undo: false`, a dry run, or a run that changed nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'csv-parse/sync';
import { resolveImportOptions, runImport } from '../../src/index.js';
import { FAST_RATE, TOKEN, startEmulator, tempDir } from '../helpers/cli.js';

test('runImport writes <input>.undo.csv by default, never replaces it, and writes none with undo: false or --dry-run', async (t) => {
  const emulator = await startEmulator(t);
  for (let i = 0; i < 5; i++) emulator.store.insert({ name: `Old ${i}`, email: `p${i}@example.com` });
  const dir = tempDir(t);
  const input = join(dir, 'people.csv');
  const write = (prefix: string) => writeFileSync(input, ['name,email', ...Array.from({ length: 5 }, (_, i) => `${prefix} ${i},p${i}@example.com`)].join('\n') + '\n');
  const options = (extra = {}) => resolveImportOptions({ input, baseUrl: emulator.url, token: TOKEN, env: {}, rate: FAST_RATE, ...extra });

  write('New');
  t.is(options({ dryRun: true }).undoPath, undefined);
  const dry = await runImport(options({ dryRun: true }));
  t.like(dry, { updated: 5, undoPath: undefined });
  t.false(existsSync(join(dir, 'people.undo.csv')), 'a dry run writes no undo file');

  const first = await runImport(options());
  t.like(first, { updated: 5, undoPath: join(dir, 'people.undo.csv') });
  const rows = parse(readFileSync(join(dir, 'people.undo.csv')), { columns: true, bom: true }) as Array<Record<string, string>>;
  t.deepEqual(rows.map((r) => r.name).sort(), ['Old 0', 'Old 1', 'Old 2', 'Old 3', 'Old 4']);

  write('Newer');
  const second = await runImport(options());
  t.like(second, { updated: 5, undoPath: join(dir, 'people.undo-2.csv') });
  t.deepEqual((parse(readFileSync(join(dir, 'people.undo.csv')), { columns: true, bom: true }) as Array<Record<string, string>>).map((r) => r.name).sort(), ['Old 0', 'Old 1', 'Old 2', 'Old 3', 'Old 4'], 'the first undo file is kept');

  write('Newest');
  const none = await runImport(options({ undo: false }));
  t.like(none, { updated: 5, undoPath: undefined });
  t.false(existsSync(join(dir, 'people.undo-3.csv')));
});
