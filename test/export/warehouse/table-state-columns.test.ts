/**
 * The state a table keeps belongs to its pipeline's column set: a loading run
 * with other --columns is refused (exit 2) before anything is published, and
 * the message says how to change the column set of a pipeline that has no
 * state file (one run with a new --state file). Real CLI child processes.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';

test('a loading run with other --columns than the table’s kept state is refused with the way out; one run with a new --state file moves the pipeline to the new columns', async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 8 });
  const dir = tempDir(t, 'pylon-table-state-columns-');
  const run = (...extra: string[]) => runCli(['export', 'c.csv', '--to', `duckdb:${join(dir, 'w.duckdb')}`, '--rate', FAST_RATE, '--quiet', ...extra], { cwd: dir, env: envFor(emulator) });
  t.is((await run()).code, 0);

  const refused = await run('--columns', 'id,email,external_ids', '--allow-schema-change');
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /Invalid option `--to`: the state kept in duckdb:.*w\.duckdb#contacts \(table _pylon_state\) belongs to another run: it was written with every column, this run asks for --columns id,email,external_ids; to change the columns \(or the filter\) of this table's pipeline, run once with --state naming a new file/);
  t.notRegex(refused.stderr, /state file per column set/, 'no advice about a state file this pipeline does not have');

  const moved = await run('--columns', 'id,email,external_ids', '--allow-schema-change', '--state', 'new.state');
  t.is(moved.code, 0, moved.stderr);
  t.true(existsSync(join(dir, 'new.state')));
  const next = await run('--columns', 'id,email,external_ids', '--allow-schema-change', '--json');
  t.is(next.code, 0, next.stderr);
  t.like(JSON.parse(next.stdout).delta, { new: 0, changed: 0, unchanged: 8, deleted: 0 });
});
