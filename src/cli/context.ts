import { resolve } from 'node:path';

/**
 * What a command handler needs from the process, passed in so tests can run the
 * CLI in-process. Handlers set `exitCode`; src/bin.ts hands it to the process as
 * `process.exitCode` and lets the event loop end. Nothing calls process.exit.
 */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (progress bars, confirmation prompts). */
  isTTY: boolean;
  stdin: NodeJS.ReadableStream;
  exitCode: number;
  /** Set once argv passed validation and a handler runs. */
  handlerStarted?: boolean;
  /** The arguments the CLI was run with (audit records; secrets are removed before they are written). */
  args?: readonly string[];
  /**
   * The folder relative paths and every default output path (error reports,
   * results, journals, undo files) resolve from. `runCli` sets it to the
   * process's folder when the caller did not: tests pass a temporary one.
   */
  cwd?: string;
  /** Runs another command line in this process (the demo's steps). Set by `runCli`, so commands need not import it. */
  run?: (argv: string[], context: CliContext) => Promise<number>;
}

export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
    stdin: process.stdin,
    exitCode: 0,
    cwd: process.cwd(),
  };
}

/** The context's working directory (see `CliContext.cwd`). */
export function cwdOf(ctx: CliContext): string {
  return ctx.cwd ?? process.cwd();
}

/** `path` as the user meant it: relative paths from the context's working directory. */
export function resolveFrom(ctx: CliContext, path: string): string {
  return resolve(cwdOf(ctx), path);
}
