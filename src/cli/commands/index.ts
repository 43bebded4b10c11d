import type { CommandModule } from 'yargs';

/**
 * The commands, loaded lazily: the root knows each one's name and one-line description,
 * and imports a command's module (and so its engine, got, parsers…) only when that command
 * is the one being run. `pylon-contacts --help` loads yargs and nothing else.
 * Add new commands here, with the module that holds their builder and handler.
 */
export interface LazyCommand {
  /** The name as typed, and any aliases. */
  readonly names: readonly string[];
  /** The yargs command string ('import <file>'); must match the module's. */
  readonly command: string;
  readonly describe: string;
  readonly load: () => Promise<CommandModule<object, any>>;
}

export const lazyCommands: readonly LazyCommand[] = [
  {
    names: ['import'],
    command: 'import <file>',
    describe: 'Create or update contacts from a CSV, XLSX, JSON or NDJSON file (- for stdin)',
    load: async () => (await import('./import.js')).importCommand,
  },
  {
    names: ['export'],
    command: 'export [file]',
    describe: 'Write every contact (or a --filter subset) to CSV, NDJSON, Parquet or a database table; - or no file for stdout',
    load: async () => (await import('./export.js')).exportCommand,
  },
  {
    names: ['update'],
    command: 'update [file]',
    describe: 'Change fields (e.g. the portal role) of existing contacts, with a preview, a guard and an undo file',
    load: async () => (await import('./update.js')).updateCommand,
  },
  {
    names: ['apply'],
    command: 'apply <plan>',
    describe: 'Apply a plan saved by --plan-out exactly: contacts changed since the plan are left as they are',
    load: async () => (await import('./apply.js')).applyCommand,
  },
  {
    names: ['show'],
    command: 'show <plan>',
    describe: 'Print what a saved plan will do: each contact before → after, removals apart, totals, target, age and the ETA',
    load: async () => (await import('./show.js')).showCommand,
  },
  {
    names: ['emulator'],
    command: 'emulator',
    describe: 'Run a local Pylon-compatible API (contacts, custom fields, accounts, /me) for tests and rehearsals',
    load: async () => (await import('./emulator.js')).emulatorCommand,
  },
  {
    names: ['demo'],
    command: 'demo',
    describe: 'Run the import, export and update end to end against a local emulator (no token needed)',
    load: async () => (await import('./demo.js')).demoCommand,
  },
];

/** The command modules for one run: the named command in full, the others as name and description only (for help and suggestions). */
export async function commandsFor(name: string | undefined): Promise<CommandModule<object, any>[]> {
  return Promise.all(
    lazyCommands.map(async (entry) =>
      name !== undefined && entry.names.includes(name)
        ? await entry.load()
        : ({ command: entry.command, describe: entry.describe, handler: () => undefined } satisfies CommandModule<object, any>),
    ),
  );
}
