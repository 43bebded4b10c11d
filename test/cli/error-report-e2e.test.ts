/**
 * The error report imports again as it is (docs/import.md): what a failed row held comes back
 * without loss, and never turns into garbled text or a wrong id in Pylon on the second import.
 * The built CLI in a child process against the emulator on a real socket.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const importArgs = (file: string, ...args: string[]) => ['import', file, '--json', '-q', '--rate', FAST_RATE, ...args];

test('a Latin-1 byte in a UTF-8 file: the report shows it read as windows-1252, and importing the report as it is stores the text, not U+FFFD or mojibake', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'mixedutf.csv');
  writeFileSync(file, Buffer.concat([Buffer.from('name,email\nRenée Utf,renee2@enc.com\nJos'), Buffer.from([0xe9]), Buffer.from(' Latin,jose2@enc.com\n')]));
  const first = await runCli(importArgs(file), { env: envFor(emulator) });
  t.is(first.code, 3, first.stderr);
  t.like(statsOf(first), { total: 2, created: 1, failed: 1 });
  const reportPath = join(dir, 'mixedutf.errors.csv');
  const report = readFileSync(reportPath);
  t.false(report.includes(Buffer.from('\uFFFD')), 'no byte is replaced by U+FFFD');
  t.regex(report.toString('utf8'), /^José Latin,jose2@enc\.com,3,ROW_ENCODING,,"Line 3 holds bytes that are not valid UTF-8 .*read as windows-1252 in the error report: name ""José Latin""; check that value/m);

  const again = await runCli(importArgs(reportPath), { env: envFor(emulator) });
  t.is(again.code, 0, again.stderr);
  t.like(statsOf(again), { total: 1, created: 1, failed: 0, warnings: [] });
  t.is(emulator.store.findByEmail('jose2@enc.com')?.name, 'José Latin');
  t.is(emulator.store.findByEmail('renee2@enc.com')?.name, 'Renée Utf');
});

test('a UTF-8 file holding a literal U+FFFD is UTF-8: the row imports as written, with no encoding warning', async (t) => {
  const emulator = await startEmulator(t);
  const file = join(tempDir(t), 'fffd.csv');
  writeFileSync(file, 'name,email\nRenée \uFFFD Utf,fffd@enc.com\nJosé,jose@enc.com\n', 'utf8');
  const result = await runCli(importArgs(file), { env: envFor(emulator) });
  t.is(result.code, 0, result.stderr);
  t.like(statsOf(result), { total: 2, created: 2, failed: 0, warnings: [] });
  t.is(emulator.store.findByEmail('fffd@enc.com')?.name, 'Renée \uFFFD Utf');
  t.is(emulator.store.findByEmail('jose@enc.com')?.name, 'José');
});
