/**
 * A file named after `--` (the shell's "end of options"), even one whose name starts with a dash: yargs fills no
 * positional from the words after `--`, so `import -- --odd.csv` answered "Name the file to import" and
 * `export -- --out.csv` "Unexpected extra argument", though each named its file. Now the file after `--` is the
 * command's file: imported, written, as named. A word too many after `--` is still an extra argument.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, runCli, startEmulator, tempDir, TOKEN } from '../helpers/cli.js';

test('a file named after --, its name starting with a dash, is imported and exported as named', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-end-of-options-');
  const env = envFor(emulator);
  writeFileSync(join(dir, '--odd.csv'), 'name,email\nDash Ann,dash.ann@example.com\nDash Bo,dash.bo@example.com\n');

  const planned = await runCli(['import', '--dry-run', '--', '--odd.csv'], { env, cwd: dir });
  t.is(planned.code, 0, planned.stderr);
  t.regex(planned.stderr, /would create 2,/);

  const imported = await runCli(['import', '--', '--odd.csv'], { env, cwd: dir });
  t.is(imported.code, 0, imported.stderr);
  const stored = [...emulator.store.all()].filter((c) => c.email?.startsWith('dash.')).map((c) => `${c.name} <${c.email}>`).sort();
  t.deepEqual(stored, ['Dash Ann <dash.ann@example.com>', 'Dash Bo <dash.bo@example.com>']);

  const exported = await runCli(['export', '--columns', 'name,email', '--', '--out.csv'], { env, cwd: dir });
  t.is(exported.code, 0, exported.stderr);
  t.true(existsSync(join(dir, '--out.csv')));
  t.regex(readFileSync(join(dir, '--out.csv'), 'utf8'), /^name,email\n(.*\n)*Dash Ann,dash\.ann@example\.com\n/);

  // A second word after -- is still one too many; stdin '-' after -- is stdin.
  const extra = await runCli(['export', 'x.csv', '--', 'y.csv'], { env, cwd: dir });
  t.is(extra.code, 2);
  t.regex(extra.stderr, /Unexpected extra argument: y\.csv/);
  const stdin = await runCli(['import', '--dry-run', '--', '-'], { env, cwd: dir, stdin: 'name,email\nDash Cy,dash.cy@example.com\n' });
  t.is(stdin.code, 0, stdin.stderr);
  t.regex(stdin.stderr, /would create 1,/);
  for (const run of [planned, imported, exported, extra, stdin]) {
    t.false(`${run.stdout}${run.stderr}`.includes(TOKEN));
    t.notRegex(run.stderr, /\n\s+at /);
  }
});
