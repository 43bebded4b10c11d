/**
 * A number option given an empty value (`--concurrency ""`, `--page-size=`, an unset shell
 * variable) is a usage error (exit 2) that names the option and its range and shows what was
 * typed, in every command. Before, yargs read the empty text as 0: "got 0" where 0 is out of range,
 * and silently 0 where it is allowed (`--port ""` listened on a random port, `--max-removals ""`
 * allowed no removal); `--rate ""` was silently the default pacing. The built CLI in a child process.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { runCli, withoutCodeLine } from '../helpers/cli.js';

// Nothing listens on port 9: a run that got past the option checks would fail to connect (exit 1).
const noServer = { PYLON_API_TOKEN: 'tok-SECRET-empty-numbers', PYLON_BASE_URL: 'http://127.0.0.1:9' };

test('an empty value for a number option: exit 2, the option and its range named, nothing written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-empty-number-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'in.csv');
  writeFileSync(input, 'email,name\na@example.com,A\n');
  const plan = join(dir, 'p.plan');
  const update = ['update', '--where', 'email~@example.com', '--set', 'portal_role=admin', '--dry-run'];
  const cases: Array<[args: string[], expected: string]> = [
    [['import', input, '--concurrency', ''], 'Invalid option `--concurrency`: expected an integer from 1 to 64, got ""'],
    [['import', input, '--rate-window', ' '], 'Invalid option `--rate-window`: expected an integer from 100 to 3600000, got " "'],
    [['import', input, '--timeout='], 'Invalid option `--timeout`: expected an integer from 100 to 600000, got ""'],
    [['import', input, '--lookup-batch', ''], 'Invalid option `--lookup-batch`: expected an integer from 1 to 999, got ""'],
    [['import', input, '--rate', ''], 'Invalid option `--rate`: expected endpoint=requests pairs such as list=60 with endpoints from list, get, create, patch, delete, search, customFields, accounts, me, got ""'],
    [['export', join(dir, 'out.csv'), '--page-size', ''], 'Invalid option `--page-size`: expected an integer from 1 to 999, got ""'],
    [['export', join(dir, 'out.csv'), '--max-pages='], 'Invalid option `--max-pages`: expected an integer from 1 to 100000000, got ""'],
    [[...update, '--max-changes', ''], 'Invalid option `--max-changes`: expected a whole number of contacts, 0 or more, got ""'],
    [[...update, '--max-removals', ''], 'Invalid option `--max-removals`: expected a whole number of contacts, 0 or more, got ""'],
    [['apply', plan, '--max-removals', ''], 'Invalid option `--max-removals`: expected an integer from 0 to 9007199254740991, got ""'],
    [['apply', plan, '--read-batch', ''], 'Invalid option `--read-batch`: expected an integer from 1 to 999, got ""'],
    [['apply', plan, '--max-age', ''], 'Invalid option `--max-age`: expected a duration such as 30s, 90m, 24h or 2d (a bare number is hours), got ""'],
    [['show', plan, '--read-batch', ''], 'Invalid option `--read-batch`: expected an integer from 1 to 999, got ""'],
    [['emulator', '--port', ''], 'Invalid option `--port`: expected an integer from 0 to 65535, got ""'],
    [['emulator', '--port', '0', '--latency-ms', ''], 'Invalid option `--latency-ms`: expected an integer from 0 to 600000, got ""'],
    [['emulator', '--port', '0', '--fault-rate='], 'Invalid option `--fault-rate`: expected a number from 0 to 1, got ""'],
    [['emulator', '--port', '0', '--rate', ''], 'Invalid option `--rate`: expected endpoint=requests pairs such as list=60 with endpoints from list, get, create, patch, delete, search, customFields, accounts, me, import, accountsSearch, accountsCreate, got ""'],
  ];
  for (const [args, expected] of cases) {
    // An emulator that accepted the value would listen until killed: the timeout ends it, and the test fails on its exit.
    // 60 s, not less: on a busy machine (two cores, load average 40+) a CLI that refuses at once took over 15 s to start.
    const result = await runCli(args, { cwd: dir, env: noServer });
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.is(withoutCodeLine(result.stderr), `pylon-contacts: ${expected}\n`, args.join(' '));
  }
  t.deepEqual(readdirSync(dir).sort(), ['in.csv'], 'nothing written');
});
