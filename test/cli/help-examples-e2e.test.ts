/**
 * Every `Examples:` line of every --help, run as written against an emulator (the built CLI in a
 * child process, in a folder holding the files the examples name): none may be refused as a usage
 * error (exit 2). An example once contradicted the tool (`export --state` inside the dataset root).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { REPO, envFor, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';

/** The commands whose --help has examples: every one. */
const COMMANDS = ['import', 'export', 'update', 'apply', 'show', 'emulator', 'demo'];

/** The examples of a help text, each unwrapped into one command line. */
export function examplesOf(help: string): string[] {
  const section = help.split('\nExamples:\n')[1]?.split('\n\n')[0];
  if (section === undefined) return [];
  const lines = section.split('\n');
  // The descriptions start in one column: the first run of two or more spaces after a command.
  const column = /^ {2}\S.*? {2,}(?=\S)/.exec(lines[0]!)?.[0].length ?? 0;
  const examples: string[] = [];
  for (const line of lines) {
    const command = line.slice(0, column).trim();
    if (command === '') continue;
    if (/^(PYLON_\w+=\S+ )?pylon-contacts /.test(command)) examples.push(command);
    else examples[examples.length - 1] += ' ' + command;
  }
  return examples;
}

/** A command line split as a shell splits it: words, '…' and "…" quoting; a `|` ends it. */
function words(line: string): { env: Record<string, string>; args: string[] } {
  const out: string[] = [];
  for (const match of line.matchAll(/'([^']*)'|"([^"]*)"|(\|)|(\S+)/g)) {
    if (match[3]) break;
    out.push(match[1] ?? match[2] ?? match[4]!);
  }
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(out[0]!)) {
    const [name, value] = out.shift()!.split('=', 2);
    env[name!] = value!;
  }
  if (out.shift() !== 'pylon-contacts') throw new Error(`not a pylon-contacts command: ${line}`);
  return { env, args: out };
}

test('the examples parser unwraps a wrapped example and its shell quoting', (t) => {
  const row = (command: string, description = '') => `  ${command.padEnd(40)}${description}`.trimEnd();
  const help = [
    'Usage', '', 'Examples:',
    row('pylon-contacts export', 'Nightly: what'),
    row("'a/dt={date}/x.csv' --state", 'changed'),
    row('s.state'),
    row('pylon-contacts show p.json | jq .totals', 'Kinds'),
    '', '',
  ].join('\n');
  t.deepEqual(examplesOf(help), ["pylon-contacts export 'a/dt={date}/x.csv' --state s.state", 'pylon-contacts show p.json | jq .totals']);
  t.deepEqual(words("PYLON_API_TOKEN=… pylon-contacts export 'a/dt={date}/x.csv' --where \"email~@a\""), { env: { PYLON_API_TOKEN: '…' }, args: ['export', 'a/dt={date}/x.csv', '--where', 'email~@a'] });
  t.deepEqual(words('pylon-contacts show p.json | jq .totals').args, ['show', 'p.json']);
});

test('no example of any --help is refused as a usage error', async (t) => {
  const emulator = await startEmulator(t, { seed: 1 });
  const dir = tempDir(t, 'pylon-help-examples-');
  const env = envFor(emulator);
  // The files the examples name, made here: contacts (one row invalid, for an error report to import),
  // the seed and HubSpot samples, a list of admins, yesterday's export with its manifest.
  // Ada exists under another name first, so that importing contacts.csv changes her and writes an undo file.
  writeFileSync(join(dir, 'before.csv'), 'name,email\nAda Before,ada.help@example.com\n');
  const before = await runCli(['import', 'before.csv'], { env, cwd: dir });
  t.is(before.code, 0, before.stderr);
  writeFileSync(join(dir, 'contacts.csv'), 'name,email\nAda Example,ada.help@example.com\nNo Email,not-an-email\n');
  copyFileSync(join(REPO, 'samples', 'migrations', 'hubspot-contacts.xlsx'), join(dir, 'hubspot-export.xlsx'));
  copyFileSync(join(REPO, 'samples', 'migrations', 'hubspot-contacts.xlsx'), join(dir, 'hubspot.xlsx'));
  mkdirSync(join(dir, 'samples'));
  copyFileSync(join(REPO, 'samples', 'seed.json'), join(dir, 'samples', 'seed.json'));
  writeFileSync(join(dir, 'admins.csv'), 'email\nada.help@example.com\n');
  const yesterday = await runCli(['export', 'yesterday.csv'], { env, cwd: dir });
  t.is(yesterday.code, 0, yesterday.stderr);

  const examples: string[] = [];
  for (const command of COMMANDS) {
    const help = await runCli([command, '--help']);
    t.is(help.code, 0, help.stderr);
    const found = examplesOf(help.stdout);
    t.true(found.length > 0, `${command} --help has examples`);
    examples.push(...found);
  }
  const root = await runCli(['--help']);
  examples.push(...examplesOf(root.stdout));

  for (const example of examples) {
    const { env: exampleEnv, args } = words(example);
    const runEnv = { ...env, ...Object.fromEntries(Object.keys(exampleEnv).map((name) => [name, env[name]])) };
    if (args[0] === 'emulator') {
      // An emulator serves until stopped: it must get as far as serving (or fail for another reason than usage).
      const started = spawnCli(args.includes('--port') ? args : [...args, '--port', '0'], { env: runEnv, cwd: dir });
      let out = '';
      started.child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/http:\/\/127\.0\.0\.1:\d+/.test(out)) started.child.kill('SIGTERM');
      });
      const run = await started.result;
      t.not(run.code, 2, `${example}\n${run.stderr}`);
      continue;
    }
    const run = await runCli(args, { env: runEnv, cwd: dir });
    t.not(run.code, 2, `${example}\n${run.stderr}`);
    t.not(run.code, null, `${example} finished`);
  }
});
