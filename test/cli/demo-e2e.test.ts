/**
 * `npm start` (the demo) run as a user would: the built CLI in a child process,
 * in an empty working directory. Every file it writes is under its --out, and it
 * leaves the repository as it found it.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO, filesUnder, runCli, spawnCli, tempDir } from '../helpers/cli.js';

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
  // The migration step creates exactly the accounts its preview listed as missing, as its title says (it once promised two and created one).
  const preview = /\naccounts: would create (\d+) accounts?: ([^\n]+)/.exec(result.stderr);
  const migrate = /\n12\. ([^\n]+)\n[\s\S]*?\naccounts: created (\d+) accounts?: ([^\n]+)/.exec(result.stderr);
  t.truthy(preview && migrate, result.stderr.slice(-3000));
  t.is(migrate![1], 'Migrate it, creating the accounts the preview listed as missing');
  t.deepEqual([migrate![2], migrate![3]], [preview![1], preview![2]]);
  t.is(gitStatus(), repoBefore, 'the repository is left as it was');
});

test('a demo interrupted by Ctrl-C says so (exit 130), leaves nothing in samples/, and the next demo runs from a clean start', async (t) => {
  const cwd = tempDir(t, 'pylon-demo-int-');
  const repoBefore = gitStatus();
  const first = spawnCli(['demo', '--out', 'out'], { cwd, env: {}, timeoutMs: 600_000 });
  let stderr = '';
  let sent = false;
  first.child.stderr!.on('data', (chunk: Buffer | string) => {
    stderr += String(chunk);
    // Step 2 (the first one that writes) has begun.
    if (!sent && stderr.includes('\n2. Import')) {
      sent = true;
      first.child.kill('SIGINT');
    }
  });
  const interrupted = await first.result;
  t.true(sent, interrupted.stderr.slice(-3000));
  t.is(interrupted.code, 130, interrupted.stderr.slice(-3000));
  t.regex(interrupted.stderr, /demo interrupted at step 2\. Run it again to start over/);
  t.notRegex(interrupted.stderr, /exited 130/);
  t.is(gitStatus(), repoBefore, 'nothing written under samples/ (or anywhere in the repository)');
  // What an interrupted step can leave: its journal, kept under --out, of an emulator that is gone.
  writeFileSync(join(cwd, 'out', 'import.journal.jsonl'), JSON.stringify({ t: 'start', v: 1, input: { path: 'samples/contacts.csv', size: 1, sha256: 'x' }, mode: 'upsert', at: new Date().toISOString() }) + '\n');

  const again = await runCli(['demo', '--out', 'out'], { cwd, env: {}, timeoutMs: 600_000 });
  t.is(again.code, 0, again.stderr.slice(-3000));
  t.deepEqual(filesUnder(cwd).map((p) => relative(cwd, p)).filter((p) => !p.startsWith('out/')), [], 'no file outside --out');
  t.is(gitStatus(), repoBefore, 'nothing written under samples/ (or anywhere in the repository)');
  // Every run that wrote kept its journal under --out (the audit log records each run's command).
  const commands = readFileSync(join(cwd, 'out', 'audit.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { command: string }).command);
  t.true(commands.length >= 7, commands.join('\n'));
  t.deepEqual(commands.filter((command) => !command.includes(' --journal out/')), []);
});
