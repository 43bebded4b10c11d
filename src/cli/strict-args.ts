/**
 * Two usage errors yargs lets through or words badly, checked for every command before yargs
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
 */
import type { Argv } from 'yargs';

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

/** Adds the checks to a command's builder: `command` is its name, `positionals` the names in its command string. */
export function refuseRepeatsAndExtras<T>(yargs: Argv<T>, command: string, positionals: readonly string[]): Argv<T> {
  // getOptions() is part of yargs' runtime API but missing from its type declarations.
  const options = (yargs as unknown as { getOptions(): unknown }).getOptions() as { key: Record<string, unknown>; array: string[]; boolean: string[] };
  const repeatable = new Set(options.array);
  const switches = new Set(options.boolean);
  // Options by the name users type (yargs also keys each in camelCase), positionals included: `--file` is one too.
  const single = Object.keys(options.key).filter((key) => !/[A-Z]/.test(key) && !repeatable.has(key) && !switches.has(key));
  return yargs.middleware((argv) => {
    const args = argv as Record<string, unknown> & { _: Array<string | number>; '--'?: Array<string | number> };
    // With --help or --version yargs leaves the positionals in `_`: the text is printed whatever else was given.
    if (args.help === true || args.version === true) return;
    for (const key of single) {
      const value = args[key];
      if (!Array.isArray(value)) continue;
      if (positionals.includes(key)) throw new Error(`Unexpected extra argument: ${String(value[value.length - 1])} (${takes(command, positionals)}).`);
      // `--no-undo` is the value false: given with `--undo x` the two are not a repeat but a contradiction.
      if (value.includes(false) && value.some((v) => v !== false)) throw new Error(`--${key} and --no-${key} contradict each other: give one.`);
      if (value.every((v) => v === false)) throw new Error(repeatedOptionMessage(`no-${key}`, value.length));
      throw new Error(repeatedOptionMessage(key, value.length));
    }
    // `_` holds the command's name, then whatever no positional took; after `--`, everything is an argument too.
    const extras = [...args._.slice(1), ...(args['--'] ?? [])].map(String);
    if (extras.length > 0) throw new Error(`Unexpected extra argument${extras.length > 1 ? 's' : ''}: ${extras.join(' ')} (${takes(command, positionals)}).`);
  }, true);
}
