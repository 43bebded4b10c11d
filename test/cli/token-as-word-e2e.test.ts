/**
 * An API token pasted where the command or the file goes (`pylon-contacts <token> import a.csv`, `import <token>`),
 * with no --token or PYLON_API_TOKEN that redaction could know it by: the messages said `Unknown command <token>`
 * and `Input file not found: /folder/<token>`, printing the secret. Now a word that may be a token (20 characters
 * or more, letters and digits, no path or extension) is given by its length; a command's typo and a file's name
 * are still named.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { closedPort, runCli, tempDir } from '../helpers/cli.js';

const SECRET = 'pk4f9c2a7b1e8d3c6f5a0b9e7d';

test('a token typed as the command or as the file is not printed; other words still are', async (t) => {
  const dir = tempDir(t, 'pylon-token-word-');
  writeFileSync(join(dir, 'contacts.csv'), 'name,email\nAnn,ann@example.com\n');
  // The environment's token is another one: redaction does not know the word typed. Nothing listens on the base URL.
  const env = { PYLON_BASE_URL: `http://127.0.0.1:${await closedPort()}`, PYLON_API_TOKEN: 'tok-env-not-the-word' };
  const hidden: Array<[string[], RegExp]> = [
    [[SECRET], /^pylon-contacts: Unknown command: the first word \(26 characters\) is not shown, as it may be an API token \(pass one with --token or PYLON_API_TOKEN\)\. Commands: import, /],
    [[SECRET, 'import', 'contacts.csv'], /^pylon-contacts: Unknown command: the first word \(26 characters\) is not shown/],
    [['import', SECRET], /^pylon-contacts: Input file not found: the name given \(26 characters\) is no file in .+; it is not shown, as it may be an API token/],
    [['import', '--dry-run', SECRET, '--json'], /^pylon-contacts: Input file not found: the name given \(26 characters\)/],
    [['apply', SECRET], /^pylon-contacts: Plan file not found: the name given \(26 characters\)/],
    // Typed after the file, as if it were --token's value.
    [['import', 'contacts.csv', SECRET], /^pylon-contacts: Unexpected extra argument: a word of 26 characters \(not shown, as it may be an API token: pass one with --token or PYLON_API_TOKEN\) \(import takes one file/],
    [['export', 'out.csv', SECRET], /^pylon-contacts: Unexpected extra argument: a word of 26 characters/],
  ];
  for (const [args, message] of hidden) {
    const run = await runCli(args, { env, cwd: dir });
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, message);
    t.false(`${run.stdout}${run.stderr}`.includes(SECRET), args.join(' '));
    t.regex(run.stderr, /pylon-contacts: error (CONFIG_INVALID_OPTION|INPUT_NOT_FOUND) \(exit 2; see docs\/errors\.md\)\n$/);
  }
  // Words that are no token keep their names and suggestions.
  const shown: Array<[string[], RegExp]> = [
    [['frobnicate'], /^pylon-contacts: Unknown command frobnicate\. Commands: /],
    [['imprt', 'contacts.csv'], /^pylon-contacts: Unknown command imprt\. Did you mean import\?/],
    [['import', 'contact.csv'], /Input file not found: .*contact\.csv \(did you mean .*contacts\.csv\?\)/],
    [['import', 'contacts_export_2026_12_06.csv'], /Input file not found: .*contacts_export_2026_12_06\.csv \(no file of that name/],
    [['export', 'x.csv', 'y.csv'], /^pylon-contacts: Unexpected extra argument: y\.csv \(export takes one file/],
  ];
  for (const [args, message] of shown) {
    const run = await runCli(args, { env, cwd: dir });
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, message);
  }
});
