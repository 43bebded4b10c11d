/**
 * `demo --out` follows the rule of every other output: the folder is made if it does not exist,
 * but only inside a folder that does. Before, any folder tree was created (a mistyped path several
 * levels deep was built and filled), and an --out that is a file crashed with "unexpected error:
 * EEXIST". Both are OUTPUT_UNWRITABLE now, exit 2, before the emulator starts, nothing written.
 * The built CLI in a child process.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { runCli, tempDir } from '../helpers/cli.js';

test('demo --out in a folder that does not exist: exit 2, the missing folder named, nothing created', async (t) => {
  const cwd = tempDir(t, 'pylon-demo-out-');
  const result = await runCli(['demo', '--out', 'typo/deep/out'], { cwd, env: {}, timeoutMs: 300_000 });
  t.is(result.code, 2, result.stderr.slice(-2000));
  t.is(result.stderr, 'pylon-contacts: Cannot write to typo/deep/out (--out): the folder it goes in, typo/deep, does not exist. Check the path, or create that folder first. Nothing was written.\npylon-contacts: error OUTPUT_UNWRITABLE (exit 2; see docs/errors.md)\n');
  t.deepEqual(readdirSync(cwd), [], 'no folder made');
});

test('demo --out that is a file: exit 2, said so, the file left alone', async (t) => {
  const cwd = tempDir(t, 'pylon-demo-out-');
  writeFileSync(join(cwd, 'notes.txt'), 'mine\n');
  const result = await runCli(['demo', '--out', 'notes.txt'], { cwd, env: {}, timeoutMs: 300_000 });
  t.is(result.code, 2, result.stderr.slice(-2000));
  t.is(result.stderr, 'pylon-contacts: Cannot write to notes.txt (--out): it is a file, not a folder. Name a folder. Nothing was written.\npylon-contacts: error OUTPUT_UNWRITABLE (exit 2; see docs/errors.md)\n');
  t.deepEqual(readdirSync(cwd), ['notes.txt']);
});

test('demo --out below a file: exit 2, said so', async (t) => {
  const cwd = tempDir(t, 'pylon-demo-out-');
  mkdirSync(join(cwd, 'runs'));
  writeFileSync(join(cwd, 'runs', 'f'), '');
  const result = await runCli(['demo', '--out', 'runs/f/out'], { cwd, env: {}, timeoutMs: 300_000 });
  t.is(result.code, 2, result.stderr.slice(-2000));
  t.is(result.stderr, 'pylon-contacts: Cannot write to runs/f/out (--out): the folder it goes in, runs/f, is a file, not a folder. Check the path, or create that folder first. Nothing was written.\npylon-contacts: error OUTPUT_UNWRITABLE (exit 2; see docs/errors.md)\n');
});

test('demo --out given as an absolute path is shown as typed, not as a path relative to the working directory', async (t) => {
  const cwd = tempDir(t, 'pylon-demo-out-');
  const elsewhere = tempDir(t, 'pylon-demo-elsewhere-');
  const out = join(elsewhere, 'missing', 'out');
  const result = await runCli(['demo', '--out', out], { cwd, env: {}, timeoutMs: 300_000 });
  t.is(result.code, 2, result.stderr.slice(-2000));
  t.is(result.stderr, `pylon-contacts: Cannot write to ${out} (--out): the folder it goes in, ${join(elsewhere, 'missing')}, does not exist. Check the path, or create that folder first. Nothing was written.\npylon-contacts: error OUTPUT_UNWRITABLE (exit 2; see docs/errors.md)\n`);
});
