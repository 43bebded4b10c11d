/**
 * What `--help` shows beyond each option's own line: option groups, the environment
 * variables, where the docs are. Applied to every command's builder by the root
 * (src/cli/index.ts), so a command module declares its options and nothing more.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { mayBeToken } from '../config.js';
import { editDistance } from '../edit-distance.js';
import { DUCKDB_SETTINGS } from '../export/load/duckdb-settings.js';

/** Option groups, in the order help shows them; an option in none stays under "Options:". */
const GROUPS: ReadonlyArray<readonly [title: string, keys: readonly string[]]> = [
  ['Connection:', ['base-url', 'region', 'token', 'concurrency', 'rate', 'rate-window', 'timeout']],
  ['Input:', ['delimiter', 'encoding', 'format', 'sheet', 'on-duplicate', 'lookup', 'lookup-batch', 'mode']],
  ['Mapping:', ['map', 'from', 'ignore-unknown-columns', 'clear-token', 'lenient', 'default-country', 'external-id-column', 'external-id-label', 'account-match', 'account-column', 'account-overwrite', 'create-accounts', 'set', 'where', 'others', 'columns', 'filter', 'typed']],
  ['Outputs:', ['errors', 'results', 'journal', 'undo', 'manifest', 'changes', 'to', 'gzip', 'bom', 'excel-safe', 'success-marker', 'run-id', 'json', 'quiet', 'audit-log', 'plan-out', 'out']],
  ['Safety:', ['dry-run', 'resume', 'yes', 'max-changes', 'max-removals', 'max-age', 'force', 'sync', 'hard-delete', 'allow-schema-change']],
];

/**
 * The export reads no input and maps no columns: its options are grouped by what they decide
 * (which contacts, in which format, written where), not under the import's headings.
 */
const EXPORT_GROUPS: typeof GROUPS = [
  ['Connection:', ['base-url', 'region', 'token', 'concurrency', 'rate', 'rate-window', 'timeout']],
  ['Selection:', ['filter', 'columns', 'since', 'state', 'page-size', 'recheck']],
  ['Format:', ['format', 'typed', 'gzip', 'bom', 'excel-safe']],
  ['Outputs:', ['errors', 'manifest', 'changes', 'to', 'success-marker', 'run-id', 'json', 'quiet']],
  ['Safety:', ['max-pages', 'hard-delete', 'allow-schema-change']],
];

const COMMAND_GROUPS: Readonly<Record<string, typeof GROUPS>> = { export: EXPORT_GROUPS };

/** Puts the command's options into its groups (only the ones it has), and makes every option that takes a value demand one. */
export function guideOptions<T>(yargs: Argv<T>, positionals: readonly string[], known: string[] = [], command?: string): Argv<T> {
  // getOptions() is part of yargs' runtime API but missing from its type declarations.
  const options = (yargs as unknown as { getOptions(): unknown }).getOptions() as { key: Record<string, unknown>; string: string[]; number: string[]; array: string[]; boolean: string[] };
  const keys = Object.keys(options.key);
  known.push(...keys);
  const declared = new Set(keys);
  for (const [title, keys] of (command !== undefined ? COMMAND_GROUPS[command] : undefined) ?? GROUPS) {
    const present = keys.filter((key) => declared.has(key));
    if (present.length > 0) yargs.group(present, title);
  }
  // A flag that needs a value, given without one (`--concurrency` at the end, or followed by another flag), is a usage error.
  const valued = [...options.string, ...options.number].filter((key) => !options.array.includes(key) && !positionals.includes(key) && declared.has(key));
  for (const key of new Set(valued)) yargs.requiresArg(key);
  return yargs;
}

/** The folder of the Markdown docs that ship in the package (next to dist/ after any install). */
export const DOCS_DIR = fileURLToPath(new URL('../../docs/', import.meta.url));

const ENVIRONMENT_VARIABLES: ReadonlyArray<readonly [string, string]> = [
  ['PYLON_API_TOKEN', 'API token (safer than --token, which ps shows); never printed'],
  ['PYLON_BASE_URL', 'API base URL (--base-url; default https://api.usepylon.com)'],
  ['PYLON_AUDIT_LOG', 'audit log of the runs that write (--audit-log)'],
  ['PYLON_DUCKDB_MEMORY_LIMIT', `DuckDB memory cap of a --to duckdb: load (default ${DUCKDB_SETTINGS.memory_limit})`],
  ['XDG_STATE_HOME', 'state folder $XDG_STATE_HOME/pylon-contacts (audit log, servers.json)'],
  ['PYLON_CONTACTS_DEBUG', 'print the stack of an unexpected error'],
];

/** The root help's Environment section: the descriptions in one column, two spaces after the longest name. */
export const ENVIRONMENT = (() => {
  const width = Math.max(...ENVIRONMENT_VARIABLES.map(([name]) => name.length)) + 2;
  return ['Environment:', ...ENVIRONMENT_VARIABLES.map(([name, text]) => `  ${name.padEnd(width)}${text}`)].join('\n');
})();

/** Each command's exit codes (src/cli/exit-codes.ts; docs/errors.md gives every code) and its docs pages, ending its --help. */
const COMMAND_EXITS: Readonly<Record<string, readonly [string, string]>> = {
  import: ['0 done, 1 fatal (token, network, server), 2 usage (nothing sent), 3 finished with failed rows (see the error report), 130 interrupted (--resume finishes it)', 'import.md, migrate.md'],
  update: ['0 done, 1 fatal or stopped by a guard (--max-changes), 2 usage (nothing sent), 3 finished with failed or drifted rows, 130 interrupted (--resume finishes it)', 'ops.md'],
  apply: ['0 done, 1 fatal or stopped by a guard, 2 usage or a refused plan (nothing sent), 3 finished with drifted or failed rows, 130 interrupted (--resume finishes it)', 'ops.md'],
  show: ['0 shown, 2 not a plan or no such file', 'ops.md'],
  export: ['0 complete, 1 fatal (nothing published), 2 usage (nothing sent), 3 finished but uncertain (records not written, see the report, or the list still changing), 130 interrupted (nothing published)', 'export.md, warehouse.md'],
  emulator: ['0 stopped by Ctrl-C or SIGTERM, 2 a bad flag or a port in use', 'emulator.md'],
  demo: ['0 every step as expected, 1 a step that was not, 130 interrupted', 'emulator.md'],
};

/** The last lines of a command's --help: its exit codes and where its docs are. */
export function commandEpilogue(command: string): string | undefined {
  const entry = COMMAND_EXITS[command];
  if (!entry) return undefined;
  return `Exit codes: ${entry[0]}.\nDocs: ${DOCS_DIR} (${entry[1]}; every error code and exit code in errors.md).`;
}

/** What to say when a command's file is missing (`pylon-contacts import`). */
const MISSING_FILE: Readonly<Record<string, string>> = {
  import: 'Name the file to import (CSV, XLSX, JSON or NDJSON; - for stdin), e.g. pylon-contacts import contacts.csv --dry-run.',
  apply: 'Name the plan to apply, e.g. pylon-contacts apply plan.json (make one with pylon-contacts update admins.csv --set portal_role=admin --plan-out plan.json).',
  show: 'Name the plan to show, e.g. pylon-contacts show plan.json (make one with pylon-contacts update admins.csv --set portal_role=admin --plan-out plan.json).',
};

/** Options a command does not have that users look for in it, and what to use instead. */
const ELSEWHERE: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  apply: { 'dry-run': 'apply has no dry run: the plan is the preview; pylon-contacts show <plan> prints what apply will do' },
  export: { resume: 'an export has nothing to resume: run it again; a run that stops publishes no partial output, and the previous one stays as it was' },
};

/** The known option nearest to an unknown one, when it is near enough to be a typo (`dryrun` → `dry-run`). */
export function nearestOption(unknown: string, known: readonly string[]): string | undefined {
  const plain = (name: string) => name.toLowerCase().replaceAll('-', '');
  let best: { name: string; cost: number } | undefined;
  // yargs also knows each option in camelCase; suggest the spelling users type.
  // A one-letter alias (-q) is no spelling to suggest for a longer name, nor a one-letter slip a near miss of anything.
  if (unknown.length === 1) return undefined;
  for (const name of known.filter((n) => !/[A-Z]/.test(n) && n.length > 1)) {
    const cost = Math.min(editDistance(unknown.toLowerCase(), name.toLowerCase()), editDistance(plain(unknown), plain(name)));
    if (!best || cost < best.cost) best = { name, cost };
  }
  return best && best.cost <= Math.max(1, Math.floor(best.name.length / 4)) ? best.name : undefined;
}

/**
 * The message for a first word that names no command: the nearest command when it is near enough
 * to be a typo (`imprt`), else the list of them.
 */
export function unknownCommandMessage(word: string, commands: readonly string[]): string {
  let best: { name: string; cost: number } | undefined;
  for (const name of commands) {
    const cost = editDistance(word.toLowerCase(), name);
    if (!best || cost < best.cost) best = { name, cost };
  }
  const shown = word.length > 40 ? `${word.slice(0, 40)}…` : word;
  if (best && best.cost <= Math.max(1, Math.floor(best.name.length / 3))) return `Unknown command ${shown}. Did you mean ${best.name}?`;
  // A token pasted before the command is not repeated: no redaction knows it.
  if (mayBeToken(word)) return `Unknown command: the first word (${word.length} characters) is not shown, as it may be an API token (pass one with --token or PYLON_API_TOKEN). Commands: ${commands.join(', ')}.`;
  return `Unknown command ${shown}. Commands: ${commands.join(', ')}.`;
}

/**
 * A yargs usage error as the user should read it: a flag without its value names the flag,
 * an unknown flag gets the nearest known one.
 */
export function explainUsageError(message: string, known: readonly string[], command?: string, words: readonly string[] = [], cwd = process.cwd()): string {
  const missing = /^Not enough arguments following: (.+)$/.exec(message);
  if (missing) return `--${missing[1]} needs a value (see --help for what it takes).`;
  if (/^Not enough non-option arguments/.test(message) && command !== undefined && command in MISSING_FILE) {
    // `import --dryrun contacts.csv`: the mistyped flag took the file as its value, so yargs found no file;
    // name the flag, as it is named when it follows the file.
    const typo = unknownFlags(words, known);
    if (typo.length > 0) {
      const flag = words.find((word) => /^--?[^-=]/.test(word) && word.replace(/^--?/, '') === typo.at(-1));
      const taken = flag === undefined ? undefined : words[words.indexOf(flag) + 1];
      const unknown = explainUsageError(`Unknown arguments: ${typo.join(', ')}`, known, command);
      if (taken === undefined || taken.startsWith('-')) return unknown;
      // The word is named only when it is a file: a value typed after a mistyped --token is a secret.
      return `${unknown} It took ${existsSync(resolve(cwd, taken)) ? taken : 'the word after it'} as its value, so no file was named.`;
    }
    // A command run without its file: say which file, with an example, rather than count arguments.
    return MISSING_FILE[command]!;
  }
  // `pylon-contacts --versoin`: no command, and a slip of a root flag (--version, --help); name it before asking for a
  // command. A command's flag (`--dry-run`, `--json`) is no slip: only the command is missing.
  if (/^Name a command/.test(message)) {
    const typo = unknownFlags(words, known).filter((name) => nearestOption(name, known) !== undefined);
    if (typo.length > 0) return `${explainUsageError(`Unknown arguments: ${typo.join(', ')}`, known, command)} ${message}`;
  }
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    const listed = unknown[1].split(', ');
    // yargs also lists the camelCase copy it made of each dashed name (--dry-runn, --dryRunn): one is what the user typed.
    const names = listed.filter((name) => !/[A-Z]/.test(name) || !listed.includes(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)));
    const hints = names.map((name) => {
      const flag = `${name.length === 1 ? '-' : '--'}${name}`;
      const instead = command !== undefined ? ELSEWHERE[command]?.[name] : undefined;
      if (instead) return `${flag} (${instead})`;
      const near = nearestOption(name, known);
      return near ? `${flag} (did you mean --${near}?)` : flag;
    });
    return `Unknown option${names.length > 1 ? 's' : ''}: ${hints.join(', ')}.`;
  }
  return message;
}

/** The names of the flags in `words` (before a `--`) that are not among the known options, nor a known switch negated with `no-`. */
function unknownFlags(words: readonly string[], known: readonly string[]): string[] {
  const names: string[] = [];
  for (const word of words) {
    if (word === '--') break;
    if (!word.startsWith('-') || word === '-') continue;
    const name = word.replace(/^--?/, '').split('=')[0]!;
    if (known.includes(name) || (name.startsWith('no-') && known.includes(name.slice(3)))) continue;
    names.push(name);
  }
  return names;
}
