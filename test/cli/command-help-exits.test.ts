/**
 * Each command's --help ends with its exit codes and where its docs are, as the root help does: before, only
 * `pylon-contacts --help` named exit codes or docs, so a newcomer reading `import --help` had no way to the
 * codes a script branches on. And an emulator started on a port in use says how to get a free one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { REPO, runCli, startEmulator } from '../helpers/cli.js';

const COMMANDS = ['import', 'export', 'update', 'apply', 'show', 'emulator', 'demo'];

test('every command help ends with its exit codes and a docs folder whose pages exist', async (t) => {
  for (const command of COMMANDS) {
    const run = await runCli([command, '--help']);
    t.is(run.code, 0, `${command}: ${run.stderr}`);
    const tail = run.stdout.trimEnd().split('\n\nExit codes: ')[1]?.replace(/\n/g, ' ');
    t.truthy(tail, `${command} --help ends with its exit codes`);
    t.regex(tail!, /^0 /, command);
    if (command !== 'show' && command !== 'emulator' && command !== 'demo') t.regex(tail!, /\b2 usage\b.*\b130 interrupted\b/, command);
    const docs = /Docs: (\S+) \(([^;]+); every error code and exit code in errors\.md\)\.$/.exec(tail!);
    t.truthy(docs, `${command}: a Docs line`);
    t.is(docs![1], join(REPO, 'docs') + '/');
    for (const page of [...docs![2]!.split(', '), 'errors.md']) t.true(existsSync(join(docs![1]!, page)), `${command}: ${page}`);
  }
});

test('an emulator on a port in use exits 2 and says how to get a free port', async (t) => {
  const emulator = await startEmulator(t);
  const port = new URL(emulator.url).port;
  const run = await runCli(['emulator', '--port', port]);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, new RegExp(`^pylon-contacts: Cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use: stop what holds it, or pass another --port \\(0 picks a free one\\)\\n`));
  t.notRegex(run.stderr, /\n\s+at /);
});
