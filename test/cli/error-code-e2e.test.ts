/**
 * docs/errors.md promises every error a stable code that scripts can branch on. Before, only the API's
 * codes (`fatal (PYLON_AUTH)`) were ever printed: a missing file, a bad flag, a guard or a declined
 * plan stopped the run with a message alone, and with `--json` stdout stayed empty. Now the last
 * stderr line names the code and the exit code, and `--json` puts the same on stdout as one object.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { contactsCsv, envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

const lastLine = (text: string) => text.trim().split('\n').at(-1);

test('run-level errors name their code on stderr, and with --json on stdout', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = envFor(emulator);
  writeFileSync(join(dir, 'in.csv'), contactsCsv(3));
  const seeded = await runCli(['import', 'in.csv', '--quiet'], { env, cwd: dir });
  t.is(seeded.code, 0, seeded.stderr);
  const before = writes(emulator);

  const cases = [
    { args: ['import', 'nope.csv'], code: 'INPUT_NOT_FOUND', exit: 2 },
    { args: ['import', 'in.csv', '--concurrency', '0'], code: 'CONFIG_INVALID_OPTION', exit: 2 },
    { args: ['import', 'in.csv', '--bogus'], code: 'CONFIG_INVALID_OPTION', exit: 2 },
    { args: ['import', 'in.csv'], env: { PYLON_API_TOKEN: undefined }, code: 'CONFIG_MISSING_TOKEN', exit: 2 },
    { args: ['apply', 'missing-plan.json'], code: 'INPUT_NOT_FOUND', exit: 2 },
    { args: ['update', '--where', 'email~@example.com', '--set', 'portal_role=admin', '--max-changes', '1'], code: 'RUN_GUARD', exit: 1 },
  ];
  for (const { args, code, exit, env: extra } of cases) {
    const plain = await runCli(args, { env: { ...env, ...extra }, cwd: dir });
    t.is(plain.code, exit, `${args.join(' ')}: ${plain.stderr}`);
    t.is(lastLine(plain.stderr), `pylon-contacts: error ${code} (exit ${exit}; see docs/errors.md)`, args.join(' '));
    t.is(plain.stdout, '', 'without --json, stdout holds nothing');
    const json = await runCli([...args, '--json'], { env: { ...env, ...extra }, cwd: dir });
    t.is(json.code, exit, json.stderr);
    const lines = json.stdout.trim().split('\n');
    t.is(lines.length, 1, `one JSON object on stdout: ${json.stdout}`);
    const parsed = JSON.parse(lines[0]!) as { error: { code: string; message: string; exitCode: number } };
    t.is(parsed.error.code, code, args.join(' '));
    t.is(parsed.error.exitCode, exit);
    t.true(parsed.error.message.length > 0);
    t.false(json.stdout.includes(env.PYLON_API_TOKEN!), 'the token never appears');
  }
  // Nothing was changed by any of them (the guard stopped before writing).
  t.is(writes(emulator), before);
});

test('an error a summary already reports is not repeated: a fatal API error keeps its one --json summary', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'in.csv'), contactsCsv(2));
  const result = await runCli(['import', 'in.csv', '--json'], { env: envFor(emulator, 'wrong-token-1234'), cwd: dir });
  t.is(result.code, 1, result.stderr);
  const lines = result.stdout.trim().split('\n');
  t.is(lines.length, 1, result.stdout);
  t.like(JSON.parse(lines[0]!), { fatal: { code: 'PYLON_AUTH' } });
  t.notRegex(result.stderr, /error PYLON_AUTH \(exit/);
});
