/**
 * Issue 21: every shared flag is declared once, in one subsystem group, and each group's
 * parser carries every flag of the group into the typed options the engines take.
 */
import test from 'ava';
import yargs from 'yargs';
import type { Argv } from 'yargs';
import {
  connectionFromArgv,
  connectionOptions,
  forceOption,
  guardOptions,
  inputFormatOptions,
  inputFromArgv,
  inputOptions,
  mappingFromArgv,
  mappingOptions,
  migrationOptions,
  modeOptions,
  outputOptions,
  outputsFromArgv,
  planOutOption,
  summaryOptions,
  undoOption,
  writePolicyFromArgv,
  writePolicyOptions,
} from '../../src/cli/option-groups.js';
import { importCommand, importInput } from '../../src/cli/commands/import.js';

const groups: Record<string, Record<string, unknown>> = {
  connectionOptions,
  summaryOptions,
  inputOptions,
  inputFormatOptions,
  mappingOptions,
  migrationOptions,
  modeOptions,
  writePolicyOptions,
  guardOptions,
  forceOption,
  outputOptions,
  undoOption,
  planOutOption,
};

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** argv with a value no other flag has, for each of `flags` (the parsers copy values, whatever their type). */
function markedArgv(flags: readonly string[]): Record<string, string> {
  return Object.fromEntries(flags.map((flag) => [camel(flag), `value-of-${flag}`]));
}

/** The flags whose marked value did not reach `typed` (paths come back resolved, so a suffix counts). */
function lost(flags: readonly string[], typed: object): string[] {
  const values = Object.values(typed).filter((v): v is string => typeof v === 'string');
  return flags.filter((flag) => !values.some((v) => v === `value-of-${flag}` || v.endsWith(`/value-of-${flag}`)));
}

test('no flag is declared in two groups', (t) => {
  const owner = new Map<string, string>();
  const twice: string[] = [];
  for (const [group, flags] of Object.entries(groups)) {
    for (const flag of Object.keys(flags)) {
      if (owner.has(flag)) twice.push(`--${flag} in ${owner.get(flag)} and ${group}`);
      owner.set(flag, group);
    }
  }
  t.deepEqual(twice, []);
});

test("each group's parser carries every flag of the group into its typed options", (t) => {
  const cwd = '/work/somewhere';
  const connectionFlags = Object.keys(connectionOptions);
  t.deepEqual(lost(connectionFlags, connectionFromArgv(markedArgv(connectionFlags), {})), []);
  const inputFlags = [...Object.keys(inputOptions), ...Object.keys(inputFormatOptions)];
  const input = inputFromArgv({ ...markedArgv(inputFlags), file: 'rows.csv' }, cwd);
  t.deepEqual(lost(inputFlags, input), []);
  t.is(input.input, '/work/somewhere/rows.csv');
  t.is(inputFromArgv({ file: '-' }, cwd).input, '-', 'stdin stays stdin');
  const mappingFlags = [...Object.keys(mappingOptions), ...Object.keys(migrationOptions)];
  const mapping = mappingFromArgv(markedArgv(mappingFlags), cwd);
  t.deepEqual(lost(mappingFlags, mapping), []);
  t.is(mapping.map, '/work/somewhere/value-of-map', '--map resolves from the working directory');
  const policyFlags = [...Object.keys(writePolicyOptions), ...Object.keys(modeOptions)];
  t.deepEqual(lost(policyFlags, writePolicyFromArgv(markedArgv(policyFlags))), []);
  const outputFlags = Object.keys(outputOptions);
  const outputs = outputsFromArgv(markedArgv(outputFlags), cwd);
  t.deepEqual(lost(outputFlags, outputs), []);
  t.is(outputs.errors, '/work/somewhere/value-of-errors');
  t.is(outputs.cwd, cwd);
});

test('every flag of the import command reaches the import options, except the ones the command reads itself', (t) => {
  // The command's real builder on a fresh yargs: the flags exactly as `import` declares them.
  const built = (importCommand.builder as (y: Argv) => Argv)(yargs([]));
  const declared = Object.keys((built as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key).filter((key) => !/[A-Z]/.test(key));
  const ownFlags = new Set(['file', 'json', 'quiet', 'q', 'audit-log', 'plan-out', 'force', 'undo', 'help', 'version']);
  const engineFlags = declared.filter((flag) => !ownFlags.has(flag));
  t.true(engineFlags.length >= 30, `the import declares its flags (${engineFlags.length} found)`);
  const typed = importInput({ ...markedArgv(engineFlags), file: 'rows.csv' } as never, {}, '/tmp');
  t.deepEqual(lost(engineFlags, typed), []);
});
