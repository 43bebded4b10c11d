/**
 * Usage errors yargs lets through or words badly, checked for every command before yargs
 * validates it (src/cli/index.ts applies this to the command being run):
 *
 * - An option that takes one value, given more than once. yargs collects the values into an
 *   array and hands it on, where a path option then crashed ("path.replace is not a function")
 *   and `--columns` was silently joined. Only the options declared `array: true` may repeat
 *   (update's --set and --others, the emulator's --token); a list such as `--columns` is one
 *   value with commas. Switches (`--json`, `--dry-run`) are exempt: the last one given wins,
 *   so `--no-json` can override an earlier `--json`.
 * - A positional argument the command does not take (`export a.csv b.csv`), which strict mode
 *   reported as an unknown option `--b.csv`. A repeatable option takes one value each time it is
 *   given: yargs' arrays otherwise swallow every word after them, so `update a.csv --set
 *   portal_role=admin extra` reported `extra` as a bad --set value, and `update --set
 *   portal_role=admin a.csv` lost its file.
 * - A positional given twice, once as a word and once as its option (`export x.csv --file
 *   y.csv`): yargs keeps the word and drops the option's value without a word, so the run wrote
 *   x.csv while the user may have meant y.csv. Which one is meant cannot be guessed: both are named.
 * - A number option given text (`--concurrency abc`), which yargs turns into NaN, or nothing
 *   (`--concurrency ""`), which yargs turns into 0: the option's own check gets the text instead,
 *   refuses it, and says `got "abc"` or `got ""`, not `got NaN` or `got 0`.
 * - A value outside an option's choices, reported as the tool's other options are
 *   (Invalid option `--region`: expected one of us, eu, got "xx") instead of yargs' "Invalid values:".
 */
import type { Argv } from 'yargs';
import { mayBeToken } from '../config.js';
import { invalidOption } from '../errors.js';

/** How a repeated list option is written once, for the message. */
const ONE_VALUE_EXAMPLES: Readonly<Record<string, string>> = {
  columns: '--columns id,email,name',
  rate: '--rate create=60,patch=60',
  filter: "--filter 'email~@acme.com and portal_role=admin'",
};

/** The positionals of a command, in words: 'one file', 'one plan', or nothing. */
function takes(command: string, positionals: readonly string[]): string {
  if (positionals.length === 0) return `${command} takes options only`;
  return `${command} takes one ${positionals.join(' and one ')}; quote a path that holds spaces`;
}

/** The message for an option given `count` times. */
export function repeatedOptionMessage(key: string, count: number): string {
  const times = count === 2 ? 'twice' : `${count} times`;
  const example = ONE_VALUE_EXAMPLES[key];
  return `--${key} was given ${times}: give it once${example ? ` (a list goes in one value: ${example})` : ''}.`;
}

/**
 * The end of an extra-argument message when a word looks like a second --set value (`--set a=b
 * c=d`, which took two values before each --set took one): how to give it. Empty otherwise.
 */
export function setPairHint(words: readonly string[]): string {
  return words.some((word) => /^[^=\s]+=/.test(word)) ? '; each --set takes one field=value: repeat --set for another' : '';
}

/**
 * The values the command line gives a positional through its option (`--file y.csv`,
 * `--file=y.csv`), read from the words as typed: yargs overwrites them with the positional's word.
 */
function optionValues(words: readonly string[], key: string): string[] {
  const end = words.indexOf('--');
  const typed = end === -1 ? words : words.slice(0, end);
  const values: string[] = [];
  typed.forEach((word, i) => {
    if (word.startsWith(`--${key}=`)) values.push(word.slice(key.length + 3));
    else if (word === `--${key}` && i + 1 < typed.length && (typed[i + 1] === '-' || !typed[i + 1].startsWith('-'))) values.push(typed[i + 1]);
  });
  return values;
}

/** The text given to an option on the command line (`--port abc`, `--port=abc`, under any of its names), the last one if several. */
function typedValue(args: readonly string[], names: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    for (const name of names) {
      const flag = `${name.length === 1 ? '-' : '--'}${name}`;
      if (args[i] === flag) found = args[i + 1];
      else if (args[i]!.startsWith(`${flag}=`)) found = args[i]!.slice(flag.length + 1);
    }
  }
  return found;
}

/**
 * Adds the checks to a command's builder: `command` is its name, `positionals` the names in its
 * command string, `words` the command line as typed (without node and the script).
 */
export function refuseRepeatsAndExtras<T>(yargs: Argv<T>, command: string, positionals: readonly string[], words: readonly string[] = []): Argv<T> {
  // getOptions() is part of yargs' runtime API but missing from its type declarations.
  const options = (yargs as unknown as { getOptions(): unknown }).getOptions() as { key: Record<string, unknown>; array: string[]; boolean: string[]; number: string[]; alias: Record<string, string[]>; choices: Record<string, unknown[]> };
  const repeatable = new Set(options.array);
  const switches = new Set(options.boolean);
  // Options by the name users type (yargs also keys each in camelCase), positionals included: `--file` is one too.
  const single = Object.keys(options.key).filter((key) => !/[A-Z]/.test(key) && !repeatable.has(key) && !switches.has(key));
  for (const key of repeatable) yargs.nargs(key, 1);
  const numbers = single.filter((key) => options.number.includes(key));
  return yargs.middleware((argv) => {
    const parsed = argv as Record<string, unknown> & { _: Array<string | number>; '--'?: Array<string | number> };
    // With --help or --version yargs leaves the positionals in `_`: the text is printed whatever else was given.
    if (parsed.help === true || parsed.version === true) return;
    for (const key of single) {
      const value = parsed[key];
      if (!Array.isArray(value)) continue;
      if (positionals.includes(key)) throw new Error(`Unexpected extra argument: ${shownWord(String(value[value.length - 1]))} (${takes(command, positionals)}).`);
      // `--no-undo` is the value false: given with `--undo x` the two are not a repeat but a contradiction.
      if (value.includes(false) && value.some((v) => v !== false)) throw new Error(`--${key} and --no-${key} contradict each other: give one.`);
      if (value.every((v) => v === false)) throw new Error(repeatedOptionMessage(`no-${key}`, value.length));
      throw new Error(repeatedOptionMessage(key, value.length));
    }
    for (const key of positionals) {
      const value = parsed[key];
      const other = optionValues(words, key).find((given) => typeof value === 'string' && given !== value);
      if (other !== undefined) throw new Error(`Two ${key}s given: ${String(value)} and --${key} ${other} (${command} takes one ${key}: give it once, as a word or as --${key}).`);
    }
    // A number option given text (`--concurrency abc`) arrives as NaN, which its check then showed as "got NaN",
    // and one given nothing (`--concurrency ""`, `--port=`) arrives as 0, which passed as 0 where 0 is allowed
    // (--port, --max-removals) or was shown as "got 0": it gets the text back, so the check refuses it and says
    // what was typed.
    for (const key of numbers) {
      const names = [key, camelCase(key), ...(options.alias[key] ?? [])];
      const text = typedValue(words, names);
      const blank = parsed[key] === 0 && text !== undefined && text.trim() === '';
      if (!Number.isNaN(parsed[key]) && !blank) continue;
      if (text !== undefined) for (const name of names) parsed[name] = text;
    }
    // A value outside an option's choices, in the tool's words rather than yargs' "Invalid values: Argument: region, Given: …".
    for (const [key, choices] of Object.entries(options.choices)) {
      const value = parsed[key];
      if (value !== undefined && !choices.includes(value)) throw invalidOption(`--${key}`, `one of ${choices.join(', ')}`, value);
    }
    // `_` holds the command's name, then whatever no positional took; after `--`, everything is an argument too.
    const extras = [...parsed._.slice(1), ...(parsed['--'] ?? [])].map(String);
    if (extras.length > 0) {
      const pair = repeatable.has('set') ? setPairHint(extras) : '';
      throw new Error(`Unexpected extra argument${extras.length > 1 ? 's' : ''}: ${extras.map(shownWord).join(' ')} (${takes(command, positionals)}${pair}).`);
    }
  }, true);
}

/** An extra word as the message shows it: one that may be an API token (`import a.csv <token>`) by its length only. */
function shownWord(word: string): string {
  return mayBeToken(word) ? `a word of ${word.length} characters (not shown, as it may be an API token: pass one with --token or PYLON_API_TOKEN)` : word;
}

/** The camelCase key yargs adds for a dashed option (`page-size` → `pageSize`). */
function camelCase(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
