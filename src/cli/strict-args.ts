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
 *   reported as an unknown option `--b.csv`.
 * - A number option given text (`--concurrency abc`), which yargs turns into NaN: the option's own
 *   check gets the text instead, and says `got "abc"`, not `got NaN`.
 * - A value outside an option's choices, reported as the tool's other options are
 *   (Invalid option `--region`: expected one of us, eu, got "xx") instead of yargs' "Invalid values:".
 */
import type { Argv } from 'yargs';
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
 * command string, `args` the command line as typed.
 */
export function refuseRepeatsAndExtras<T>(yargs: Argv<T>, command: string, positionals: readonly string[], args: readonly string[] = []): Argv<T> {
  // getOptions() is part of yargs' runtime API but missing from its type declarations.
  const options = (yargs as unknown as { getOptions(): unknown }).getOptions() as { key: Record<string, unknown>; array: string[]; boolean: string[]; number: string[]; alias: Record<string, string[]>; choices: Record<string, unknown[]> };
  const repeatable = new Set(options.array);
  const switches = new Set(options.boolean);
  // Options by the name users type (yargs also keys each in camelCase), positionals included: `--file` is one too.
  const single = Object.keys(options.key).filter((key) => !/[A-Z]/.test(key) && !repeatable.has(key) && !switches.has(key));
  const numbers = single.filter((key) => options.number.includes(key));
  return yargs.middleware((argv) => {
    const parsed = argv as Record<string, unknown> & { _: Array<string | number>; '--'?: Array<string | number> };
    // With --help or --version yargs leaves the positionals in `_`: the text is printed whatever else was given.
    if (parsed.help === true || parsed.version === true) return;
    for (const key of single) {
      const value = parsed[key];
      if (!Array.isArray(value)) continue;
      if (positionals.includes(key)) throw new Error(`Unexpected extra argument: ${String(value[value.length - 1])} (${takes(command, positionals)}).`);
      // `--no-undo` is the value false: given with `--undo x` the two are not a repeat but a contradiction.
      if (value.includes(false) && value.some((v) => v !== false)) throw new Error(`--${key} and --no-${key} contradict each other: give one.`);
      if (value.every((v) => v === false)) throw new Error(repeatedOptionMessage(`no-${key}`, value.length));
      throw new Error(repeatedOptionMessage(key, value.length));
    }
    // A number option given text (`--concurrency abc`) arrives as NaN, which its check then showed as "got NaN":
    // it gets the text back, so the check says what was typed.
    for (const key of numbers) {
      if (!Number.isNaN(parsed[key])) continue;
      const names = [key, camelCase(key), ...(options.alias[key] ?? [])];
      const text = typedValue(args, names);
      if (text !== undefined) for (const name of names) parsed[name] = text;
    }
    // A value outside an option's choices, in the tool's words rather than yargs' "Invalid values: Argument: region, Given: …".
    for (const [key, choices] of Object.entries(options.choices)) {
      const value = parsed[key];
      if (value !== undefined && !choices.includes(value)) throw invalidOption(`--${key}`, `one of ${choices.join(', ')}`, value);
    }
    // `_` holds the command's name, then whatever no positional took; after `--`, everything is an argument too.
    const extras = [...parsed._.slice(1), ...(parsed['--'] ?? [])].map(String);
    if (extras.length > 0) throw new Error(`Unexpected extra argument${extras.length > 1 ? 's' : ''}: ${extras.join(' ')} (${takes(command, positionals)}).`);
  }, true);
}

/** The camelCase key yargs adds for a dashed option (`page-size` → `pageSize`). */
function camelCase(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
