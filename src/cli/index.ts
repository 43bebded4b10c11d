import { createRequire } from 'node:module';
import yargs from 'yargs';
import { commands } from './commands/index.js';
import type { CliContext } from './context.js';
import { ConfigError, ExitError, InternalError, PylonCliError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { redact } from '../config.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

/** Builds the yargs root. `context` travels to handlers through argv.__ctx. */
export function buildCli(argv: string[], context: CliContext) {
  return yargs(argv)
    .scriptName('pylon-contacts')
    .usage('$0 <command> [options]\n\nMove Pylon contacts in and out of CSV through the Pylon REST API.')
    .command(commands)
    .demandCommand(1, 'Name a command: import, export, update, apply, show, emulator or demo.')
    .recommendCommands()
    .strict()
    .fail(false)
    .version(version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Exit codes: 0 ok, 1 fatal (auth, network, server), 2 usage, 3 finished with failed rows, 130 interrupted.\nDocs: README.md')
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
  try {
    let helpOrVersion = false;
    let parseError: unknown;
    const cli = buildCli(argv, context);
    // With a parse callback yargs hands usage errors to the callback instead of
    // throwing, and gives us help/version text to print on our own stdout.
    await cli.parseAsync(argv, {}, (err, _parsed, output) => {
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
    if (!context.handlerStarted && !(error instanceof PylonCliError)) {
      // yargs validation: unknown flag or command, missing argument, bad choice
      const message = error instanceof Error ? error.message : String(error);
      say(`pylon-contacts: ${message}\nRun with --help for usage.`);
      return EXIT.USAGE;
    }
    return reportError(error, say);
  }
}

function findToken(argv: string[]): string | undefined {
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
