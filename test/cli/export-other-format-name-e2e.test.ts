/**
 * `export contacts.xlsx` (or `.json`, `.tsv`) wrote CSV under that name, exit 0: a spreadsheet then refused the
 * "workbook", a JSON reader the "array". Such a name is now refused before any call (exit 2), saying what to name
 * the file, and `--format` keeps the name for whoever wants it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

test('an export named for a format it does not write is refused with the name to use; --format keeps the name', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 3 });
  const dir = tempDir(t, 'pylon-export-name-');
  const env = envFor(emulator);
  const cases: Array<[string, RegExp]> = [
    ['contacts.xlsx', /^pylon-contacts: Cannot write contacts\.xlsx as \.xlsx: export writes CSV, NDJSON or Parquet, not a workbook: name the file \.csv .*or pass --format csv to keep this name\. Nothing was sent to Pylon\.\n/],
    ['contacts.json', /^pylon-contacts: Cannot write contacts\.json as \.json: export writes NDJSON \(one contact a line\), not a JSON array: name the file \.ndjson or \.jsonl, or pass --format ndjson to keep this name\./],
    ['contacts.tsv.gz', /^pylon-contacts: Cannot write contacts\.tsv\.gz as \.tsv: export writes comma-separated CSV, not tab-separated: name the file \.csv/],
  ];
  for (const [name, message] of cases) {
    const run = await runCli(['export', name], { env, cwd: dir });
    t.is(run.code, 2, `${name}: ${run.stderr}`);
    t.regex(run.stderr, message, name);
    t.regex(run.stderr, /pylon-contacts: error CONFIG_INVALID_OPTION \(exit 2; see docs\/errors\.md\)\n$/);
  }
  t.deepEqual(readdirSync(dir), [], 'nothing written');
  t.is(emulator.stats().requests.list ?? 0, 0, 'nothing sent');
  // Asked for by --format, the name is kept: NDJSON in contacts.json, one contact a line.
  const kept = await runCli(['export', 'contacts.json', '--format', 'ndjson', '--quiet'], { env, cwd: dir });
  t.is(kept.code, 0, kept.stderr);
  const lines = readFileSync(join(dir, 'contacts.json'), 'utf8').trim().split('\n');
  t.is(lines.length, 3);
  for (const line of lines) t.truthy((JSON.parse(line) as { id?: string }).id);
  // Other names are CSV, as before.
  const plain = await runCli(['export', 'contacts.txt', '--quiet'], { env, cwd: dir });
  t.is(plain.code, 0, plain.stderr);
  t.true(existsSync(join(dir, 'contacts.txt')));
  t.regex(readFileSync(join(dir, 'contacts.txt'), 'utf8'), /^id,name,email/);
});
