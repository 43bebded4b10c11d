/**
 * A mistyped flag typed before the file (`import --dryrun contacts.csv`): yargs reads the file as the flag's
 * value and finds no file. The message names the mistyped flag and its nearest spelling, as it does when the
 * flag follows the file, and says the file was taken as its value; before, it asked to "Name the file to
 * import" of a command line that named one. A word that names no file is not echoed (after a mistyped --token it
 * is the token). A one-letter slip (`-x`) is not offered `--q`. With no command at all, a mistyped root flag
 * (`--versoin`) is named too, before the command is asked for.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

test('a mistyped flag before the file is named, with its nearest spelling, not reported as a missing file', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-flag-typo-');
  writeFileSync(join(dir, 'contacts.csv'), 'name,email\nAda,ada@example.com\n');
  writeFileSync(join(dir, 'plan.json'), '{}');
  const cases: Array<[string[], RegExp]> = [
    [['import', '--dryrun', 'contacts.csv'], /^pylon-contacts: Unknown option: --dryrun \(did you mean --dry-run\?\)\. It took contacts\.csv as its value, so no file was named\.\n/],
    [['show', '--jsn', 'plan.json'], /^pylon-contacts: Unknown option: --jsn \(did you mean --json\?\)\. It took plan\.json as its value, so no file was named\.\n/],
    [['apply', '--dryrun', 'plan.json'], /^pylon-contacts: Unknown option: --dryrun\. It took plan\.json as its value, so no file was named\.\n/],
    [['import', '-x', 'contacts.csv'], /^pylon-contacts: Unknown option: -x\. It took contacts\.csv as its value, so no file was named\.\n/],
    [['import', 'contacts.csv', '-x'], /^pylon-contacts: Unknown option: -x\.\n/],
    // A word that is no file is not echoed: after a mistyped --token it is the secret.
    [['import', '--tokn', 'tok-typed-after-a-typo-5e1f'], /^pylon-contacts: Unknown option: --tokn \(did you mean --token\?\)\. It took the word after it as its value, so no file was named\.\n/],
    // No command at all, and a mistyped root flag: the flag is named before the command is asked for.
    [['--versoin'], /^pylon-contacts: Unknown option: --versoin \(did you mean --version\?\)\. Name a command: import, export, update, apply, show, emulator or demo\.\n/],
    [[], /^pylon-contacts: Name a command: import, export, update, apply, show, emulator or demo\.\n/],
    [['--dry-run'], /^pylon-contacts: Name a command: import, export, update, apply, show, emulator or demo\.\n/],
    // Without a typo, a command without its file still asks for one.
    [['import', '--dry-run'], /^pylon-contacts: Name the file to import \(CSV, XLSX, JSON or NDJSON; - for stdin\)/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, { env: envFor(emulator), cwd: dir });
    t.is(run.code, 2, args.join(' '));
    t.regex(run.stderr, message, args.join(' '));
    t.regex(run.stderr, /pylon-contacts: error CONFIG_INVALID_OPTION \(exit 2; see docs\/errors\.md\)\n$/, args.join(' '));
    t.notRegex(run.stderr, /\n\s+at /, args.join(' '));
    t.false(run.stderr.includes('tok-typed-after-a-typo-5e1f') || run.stdout.includes('tok-typed-after-a-typo-5e1f'), args.join(' '));
  }
  t.is(writes(emulator), 0);
});
