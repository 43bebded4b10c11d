import { createRequire } from 'node:module';
import type { Argv, CommandModule } from 'yargs';
import yargs from './yargs.js';
import { commandsFor, lazyCommands } from './commands/index.js';
import { commandEpilogue, DOCS_DIR, ENVIRONMENT, explainUsageError, guideOptions, unknownCommandMessage } from './help.js';
import type { CliContext } from './context.js';
import { ConfigError, ExitError, InternalError, PylonCliError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { refuseRepeatsAndExtras } from './strict-args.js';
import { redact } from '../config.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

/** The first word that is not a flag: the command the user asked for, if any. */
function commandName(argv: readonly string[]): string | undefined {
  return argv.find((arg) => !arg.startsWith('-'));
}

/**
 * The first word as the user meant it, where yargs reads it otherwise: `help <command>` (yargs
 * takes only a trailing `help`, and suggested a command for the word `help`), `version` (yargs
 * knows only --version; strict mode called the word an unknown option --version) and a word that
 * names no command (strict mode reported it as an unknown option). Only the very first argument
 * is read: a word after a flag may be that flag's value. Returns the argv to parse; an unknown
 * command throws the usage error.
 */
async function readCommandWord(argv: string[]): Promise<string[]> {
  const names = lazyCommands.flatMap((command) => command.names);
  argv = await commandFirst(argv, names);
  const [first] = argv;
  if (first === undefined || first.startsWith('-')) return argv;
  if (first === 'version') return ['--version'];
  if (first === 'help') {
    // `help` names its topic wherever the flags sit (`help --json import`); bare `help` is yargs' root help.
    const second = argv.slice(1).find((arg) => !arg.startsWith('-'));
    if (second === undefined) return ['--help'];
    if (second === 'help' || second === 'version') return ['--help'];
    if (!names.includes(second)) throw new Error(unknownCommandMessage(second, names));
    return [second, '--help'];
  }
  if (!names.includes(first)) throw new Error(unknownCommandMessage(first, names));
  return argv;
}

/**
 * Options typed before the command word (`--dry-run import contacts.csv`) moved after it, where
 * the command reads them: yargs would read the command word as the value of the option before it
 * and report the file as an unknown option. The command word is the first argument that names a
 * command (or `help`) and is not the value of the option before it: in `--columns export export
 * out.csv` the first `export` is the value of --columns, as the command's own options say. The
 * arguments before it keep their order, so an option's value stays with it.
 */
async function commandFirst(argv: string[], names: readonly string[]): Promise<string[]> {
  if (argv[0] === undefined || !argv[0].startsWith('-')) return argv;
  const words = [...names, 'help'];
  // Read by the options of every command named on the line: in `--table import export out.csv` the
  // option before `import` is export's, and which command is meant is what this works out.
  const takesValue = new Set<string>();
  for (const name of new Set(argv.filter((arg) => names.includes(arg)))) for (const option of await valueOptionsOf(name)) takesValue.add(option);
  for (let at = 1; at < argv.length; at += 1) {
    if (!words.includes(argv[at]!) || isValueAt(argv, at, takesValue)) continue;
    return [argv[at]!, ...argv.slice(at + 1), ...argv.slice(0, at)];
  }
  return argv;
}

/** Whether argv[at] is the value of an option before it: a known option that takes one, written without `=`. */
function isValueAt(argv: readonly string[], at: number, takesValue: ReadonlySet<string>): boolean {
  for (let i = 0; i < at; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg.includes('=')) continue;
    if (takesValue.has(arg.replace(/^--?/, ''))) {
      if (i + 1 === at) return true;
      i += 1;
    }
  }
  return false;
}

/** The names and aliases of a command's options that take a value (not boolean or count), from its builder. */
async function valueOptionsOf(name: string): Promise<Set<string>> {
  const lazy = lazyCommands.find((command) => command.names.includes(name));
  if (!lazy) return new Set();
  const { builder } = await lazy.load();
  const root = yargs([]);
  const built = typeof builder === 'function' ? (builder(root) as Argv) : root.options(builder ?? {});
  // getOptions is yargs' own (not in its types): the keys, and which of them are boolean or count.
  const options = (built as unknown as { getOptions(): unknown }).getOptions() as { key: Record<string, unknown>; boolean: string[]; count: string[]; alias: Record<string, string[]> };
  const flags = new Set([...options.boolean, ...options.count].flatMap((key) => [key, ...(options.alias[key] ?? [])]));
  return new Set(Object.keys(options.key).filter((key) => !flags.has(key)));
}

/** The names of a command's positionals, from its command string ('import <file>' → ['file']). */
function positionalsOf(command: CommandModule['command']): string[] {
  const text = Array.isArray(command) ? command[0] : String(command ?? '');
  return [...text.matchAll(/[<[]([\w-]+)[\]>]/g)].map((m) => m[1]);
}

/**
 * A command's module with the root's conventions applied to its options: help groups, values
 * required, each single-valued option given at most once and no extra positional. `words` is the
 * command line as typed.
 */
function guided(module: CommandModule<object, any>, known: string[], words: readonly string[]): CommandModule<object, any> {
  const { builder } = module;
  const positionals = positionalsOf(module.command);
  const name = String(module.command).split(' ')[0];
  return {
    ...module,
    builder: (yargs) => {
      const built = refuseRepeatsAndExtras(guideOptions(typeof builder === 'function' ? (builder(yargs) as Argv) : yargs.options(builder ?? {}), positionals, known, name), name, positionals, words);
      const epilogue = commandEpilogue(name);
      return epilogue === undefined ? built : built.epilogue(epilogue);
    },
  };
}

/**
 * `import -- --odd.csv`: yargs fills no positional from the words after `--`, so the file named there was
 * "no file named" (or, for export, an extra argument). The `--` is dropped and a word after it that starts
 * with a dash is given as `./<word>`, the same file, which no parser reads as a flag; `-` (stdin) stays.
 */
function endOfOptions(words: string[]): string[] {
  const end = words.indexOf('--');
  if (end < 1 || words[0]!.startsWith('-')) return words;
  return [...words.slice(0, end), ...words.slice(end + 1).map((word) => (word.startsWith('-') && word !== '-' ? `./${word}` : word))];
}

/** Builds the yargs root. `context` travels to handlers through argv.__ctx. */
export async function buildCli(argv: string[], context: CliContext, known: string[] = []) {
  const named = commandName(argv);
  known.push('help', 'version');
  const commands = (await commandsFor(named)).map((module) => (named !== undefined && String(module.command).split(' ')[0] === named ? guided(module, known, argv) : module));
  return yargs(argv)
    .scriptName('pylon-contacts')
    .usage(
      '$0 <command> [options]\n\n' +
        'Move Pylon contacts in and out through the Pylon REST API: import CSV, XLSX, JSON or NDJSON (or migrate from another helpdesk), export to files or a database table, change fields with plan, apply and undo, and rehearse any of it against a local Pylon-compatible emulator.',
    )
    .command(commands)
    .demandCommand(1, 'Name a command: import, export, update, apply, show, emulator or demo.')
    .recommendCommands()
    .strict()
    .fail(false)
    .version(version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .example('$0 demo', 'Every journey end to end against a local emulator, no token needed')
    .example('$0 import contacts.csv --dry-run', 'Import: preview, then run again without --dry-run')
    .example('$0 import hubspot.xlsx --from hubspot --dry-run', 'Migrate from another helpdesk or CRM')
    .example('$0 export contacts.parquet --changes changes.ndjson', 'Nightly export for a warehouse (or --to postgresql://…)')
    .example('$0 update --where "email~@acme.example" --set portal_role=admin --plan-out roles.plan', 'Ops change as a plan; then apply roles.plan; its undo file undoes it')
    .example('$0 emulator --port 4010', 'Rehearse: run any command against the URL and token it prints')
    .epilogue(
      `${ENVIRONMENT}\n\n` +
        'Exit codes: 0 ok, 1 fatal (auth, network, server), 2 usage, 3 finished with failed rows, 130 interrupted.\n' +
        `Docs: ${DOCS_DIR} (import.md, migrate.md, ops.md, export.md, warehouse.md, connecting.md, emulator.md, errors.md, errors-emulator.md, development.md); \`$0 <command> --help\` for a command's options.`,
    )
    .middleware((args) => {
      // Global middleware runs after validation, just before the handler: from
      // here on, an error is the command's own, not a usage error.
      context.handlerStarted = true;
      (args as Record<string, unknown>).__ctx = context;
    })
    .parserConfiguration({ 'strip-dashed': false });
}

/** Runs the CLI and returns the exit code. Never throws, never calls process.exit. */
export async function runCli(argv: string[], context: CliContext): Promise<number> {
  context.run ??= runCli;
  context.cwd ??= process.cwd();
  const token = context.env.PYLON_API_TOKEN;
  const say = (text: string) => context.stderr.write(redact(text, token ?? findToken(argv)) + '\n');
  context.args = argv;
  // The options of the command being run, filled in as yargs builds it: for "did you mean" on an unknown flag.
  const knownOptions: string[] = [];
  // The command line as parsed: argv with any options typed before the command word moved after it.
  let words: string[] | undefined;
  try {
    let helpOrVersion = false;
    let parseError: unknown;
    words = endOfOptions(await readCommandWord(argv));
    const cli = await buildCli(words, context, knownOptions);
    // With a parse callback yargs hands usage errors to the callback instead of
    // throwing, and gives us help/version text to print on our own stdout.
    await cli.parseAsync(words, {}, (err, _parsed, output) => {
      if (err) parseError = err;
      else if (output) {
        helpOrVersion = true;
        context.stdout.write(output + '\n');
      }
    });
    if (parseError) throw parseError;
    if (helpOrVersion) return EXIT.OK;
    return context.exitCode;
  } catch (error) {
    const json = wantsJson(words ?? argv);
    if (!context.handlerStarted && !(error instanceof PylonCliError)) {
      // yargs validation: unknown flag or command, missing argument, bad choice
      const message = explainUsageError(error instanceof Error ? error.message : String(error), knownOptions, commandName(words ?? argv), words ?? argv, context.cwd);
      say(`pylon-contacts: ${message}\nRun with --help for usage.`);
      say(codeLine('CONFIG_INVALID_OPTION', EXIT.USAGE));
      if (json) writeJsonError(context, 'CONFIG_INVALID_OPTION', message, EXIT.USAGE, token);
      return EXIT.USAGE;
    }
    const exitCode = reportError(error, say);
    // A script branches on the code (docs/errors.md): name it on stderr, and with --json on stdout as well, for
    // the errors that stop a run before its summary (a usage or configuration error, a refused plan, a guard, a
    // declined confirmation). Errors a summary already reports (`fatal (CODE)`, `stoppedAt.code`) end as ExitError
    // without a message, and print nothing more here.
    if (error instanceof PylonCliError && error.message && !(error instanceof InternalError)) {
      say(codeLine(error.code, exitCode));
      if (json) writeJsonError(context, error.code, error.message, exitCode, token);
    }
    return exitCode;
  }
}

/** The last stderr line of an error that stops a run: its stable code and the exit code, for scripts and for docs/errors.md. */
function codeLine(code: string, exitCode: number): string {
  return `pylon-contacts: error ${code} (exit ${exitCode}; see docs/errors.md)`;
}

/** `--json` given on the command line (before a `--` that ends the options). */
function wantsJson(argv: readonly string[]): boolean {
  for (const word of argv) {
    if (word === '--') return false;
    if (word === '--json' || word === '--json=true') return true;
  }
  return false;
}

/** With --json, an error that stops a run is one JSON object on stdout, so a script reads its code there as it reads a summary's. */
function writeJsonError(context: CliContext, code: string, message: string, exitCode: number, token: string | undefined): void {
  context.stdout.write(redact(JSON.stringify({ error: { code, message, exitCode } }), token ?? findToken(context.args ?? [])) + '\n');
}

function findToken(argv: readonly string[]): string | undefined {
  const i = argv.findIndex((a) => a === '--token' || a.startsWith('--token='));
  if (i === -1) return undefined;
  return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
}

function reportError(error: unknown, say: (text: string) => void): number {
  if (error instanceof ExitError) {
    if (error.message) say(`pylon-contacts: ${error.message}`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    say(`pylon-contacts: ${error.message}`);
    return EXIT.USAGE;
  }
  if (error instanceof InternalError) {
    say(`pylon-contacts: internal error: ${error.message}\nThis is a bug in pylon-contacts; please report it with the command you ran.`);
    return EXIT.FATAL;
  }
  if (error instanceof PylonCliError) {
    say(`pylon-contacts: ${error.message}`);
    return EXIT.FATAL;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  say(`pylon-contacts: unexpected error: ${message}\nThis is a bug in pylon-contacts; please report it with the command you ran.`);
  if (process.env.PYLON_CONTACTS_DEBUG && error instanceof Error && error.stack) say(error.stack);
  return EXIT.FATAL;
}
