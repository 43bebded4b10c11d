/**
 * The bundled yargs measures text with scripts/string-width-fast.mjs: its own count for ASCII and a
 * few typographic marks, string-width for anything else. Here its counts are checked against
 * string-width's, and the built command's help (dist/bin.js, an esbuild bundle) against the help of the
 * sources with the unbundled yargs, word for word.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import stringWidth from 'string-width';
// @ts-expect-error: a plain .mjs build script without type declarations
import { NARROW_MARKS, simpleWidth } from '../../scripts/string-width-fast.mjs';
import { BIN, REPO, SOURCE_BIN } from '../helpers/cli.js';

const run = promisify(execFile);

test('its width equals string-width for ASCII, control characters, newlines and each typographic mark', (t) => {
  const samples = [
    '',
    'pylon-contacts import <file>',
    'line one\nline two\n\n  indented',
    'tab\there',
    '\u0000\u0007\u001f\u007f',
    ...[...(NARROW_MARKS as string)].map((mark) => `before ${mark} after`),
    NARROW_MARKS as string,
    Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join(''),
  ];
  for (const sample of samples) t.is(simpleWidth(sample), stringWidth(sample), JSON.stringify(sample));
});

test('anything else is left to string-width: emoji, wide and combining characters, escape sequences, wide ambiguous marks', (t) => {
  for (const sample of ['📦 done', '日本語', 'e\u0301', '\u001b[1mbold\u001b[22m', 'naïve']) t.is(simpleWidth(sample), undefined, sample);
  t.is(simpleWidth('a → b', { ambiguousIsNarrow: false }), undefined);
});

const HELP_CASES: Array<{ args: string[]; env?: Record<string, string> }> = [
  { args: ['--help'] },
  { args: ['--version'] },
  { args: ['--help'], env: { LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' } },
  ...['import', 'export', 'update', 'apply', 'show', 'emulator', 'demo'].map((command) => ({ args: [command, '--help'] })),
  { args: ['import', 'x.csv', '--dryrun'] },
  { args: ['imprt'] },
];

test('the built command (yargs bundled) prints the same help, version and usage errors as the sources with yargs from node_modules', async (t) => {
  t.timeout(120_000);
  const outcome = async (argv: string[], env: Record<string, string> | undefined) => {
    const result = await run(process.execPath, argv, { cwd: REPO, env: { ...process.env, PYLON_API_TOKEN: '', ...env, COLUMNS: '100' } }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    return result;
  };
  const results = await Promise.all(
    HELP_CASES.map(({ args, env }) => Promise.all([outcome([BIN, ...args], env), outcome([...SOURCE_BIN, ...args], env)])),
  );
  HELP_CASES.forEach(({ args, env }, i) => t.deepEqual(results[i]![0], results[i]![1], `${args.join(' ')} ${env ? JSON.stringify(env) : ''}`));
  t.regex(results[2]![0].stdout, /Optionen:/, 'the German locale file is found from the bundle');
  // The comparison means something only if the build did bundle yargs.
  t.true(readFileSync(join(REPO, 'dist', 'cli', 'yargs.js'), 'utf8').includes('function YargsFactory'), 'dist/cli/yargs.js holds yargs itself');
  t.true(readFileSync(BIN, 'utf8').includes('function YargsFactory'), 'dist/bin.js holds yargs itself');
});
