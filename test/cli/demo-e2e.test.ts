/**
 * `npm start` (the demo) run as a user would: the built CLI in a child process,
 * in an empty working directory. Every file it writes is under its --out, and it
 * leaves the repository as it found it.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO, filesUnder, runCli, tempDir } from '../helpers/cli.js';

const gitStatus = () => execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: REPO, encoding: 'utf8' });

test('the demo writes only under its --out (no stray error report in the working directory) and leaves the repository untouched', async (t) => {
  const cwd = tempDir(t, 'pylon-demo-cwd-');
  const repoBefore = gitStatus();
  const result = await runCli(['demo', '--out', 'out'], { cwd, env: {}, timeoutMs: 600_000 });
  t.is(result.code, 0, result.stderr.slice(-3000));
  const files = filesUnder(cwd).map((p) => relative(cwd, p));
  t.true(files.length > 0);
  t.deepEqual(files.filter((p) => !p.startsWith(`out/`)), [], 'no file outside --out');
  t.true(existsSync(join(cwd, 'out', 'admins.plan.json')));
  t.false(files.some((p) => /pylon-update-.*\.errors\.csv$/.test(p)), 'a run with nothing to report writes no error report');
  // The reviewed plan is shown by `show` (stdout) with its ETA.
  t.regex(result.stdout, /ETA: about .* to apply/);
  t.is(gitStatus(), repoBefore, 'the repository is left as it was');
});
