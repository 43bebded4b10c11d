/**
 * The three ways the README installs the command, each into its own temp --prefix and
 * run afterwards (issue 20): `npm pack` + install of the tarball, `npm install -g <folder>`
 * on a fresh clone (no node_modules, no dist: npm installs the clone's dependencies and
 * its prepare script builds dist/), and `npm install -g git+file://…` of that clone.
 * Slow (npm installs real packages), so the three run side by side in one test file.
 * Skipped, with the reason, only where npm or git is unavailable.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './helpers/cli.js';

const run = promisify(execFile);

function available(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const tools = available('npm') && available('git') && (() => {
  try {
    execFileSync('git', ['-C', REPO, 'rev-parse', 'HEAD'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const installTest = tools ? test : test.skip;
const note = tools ? '' : ' [skipped: needs npm, git and a git checkout]';

const work = mkdtempSync(join(tmpdir(), 'pylon-install-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** Runs the installed command and returns its --version and whether --help shows the commands. */
async function installedWorks(prefix: string): Promise<{ version: string; help: boolean }> {
  const bin = join(prefix, 'bin', 'pylon-contacts');
  const version = (await run(bin, ['--version'])).stdout.trim();
  const help = (await run(bin, ['--help'])).stdout;
  return { version, help: /pylon-contacts import <file>/.test(help) && /Docs: .*docs/.test(help) };
}

const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
delete (npmEnv as Record<string, string | undefined>).npm_config_prefix;
delete (npmEnv as Record<string, string | undefined>).npm_config_global;

const { version } = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: REPO, encoding: 'utf8' })) as { version: string };

/** The committed state, as a user's clone has it: no node_modules, no dist. Made once for the tests below. */
let cloned: Promise<string> | undefined;
function freshClone(): Promise<string> {
  cloned ??= (async () => {
    const clone = join(work, 'clone');
    await run('git', ['clone', '--quiet', REPO, clone]);
    return clone;
  })();
  return cloned;
}

/** `npm install -g <spec> --prefix <temp>`, then the installed command's --version and --help. */
async function installAndRun(t: ExecutionContext, label: string, spec: string) {
  const prefix = join(work, label);
  const started = Date.now();
  await run('npm', ['install', '-g', spec, '--prefix', prefix], { cwd: work, env: npmEnv, maxBuffer: 64 * 1024 * 1024 }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`npm install -g ${spec} failed:\n${(error.stderr ?? error.message).split('\n').filter((l) => /npm error/.test(l)).slice(0, 8).join('\n')}`);
  });
  t.log(`${label}: installed in ${Math.round((Date.now() - started) / 1000)} s`);
  const works = await installedWorks(prefix);
  t.is(works.version, version);
  t.true(works.help, '--help lists the commands and the docs folder');
}

installTest(`npm pack, then npm install -g <the tarball>: a working command${note}`, async (t) => {
  t.timeout(600_000);
  // Packed from this checkout's built dist/ (npm test builds it first), without running prepare here.
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: REPO, env: npmEnv });
  await installAndRun(t, 'tarball', join(work, `pylon-contacts-${version}.tgz`));
});

installTest(`npm install -g <a fresh clone>: npm installs its dependencies, prepare builds dist/, a working command${note}`, async (t) => {
  t.timeout(600_000);
  const clone = await freshClone();
  t.deepEqual(readdirSync(clone).filter((f) => f === 'dist' || f === 'node_modules'), [], 'the clone starts without dist/ and node_modules/');
  await installAndRun(t, 'folder', clone);
});

// Known failure (issue 20, left open): npm 11.19 ends this install with ENOENT on chmod of
// node_modules/tldts/bin/cli.js inside the installed package. test.failing reports it as a known
// failure while it fails, and turns red once it works (then make this a plain test).
(tools ? test.failing : test.skip)(`npm install -g git+file://<clone>: a working command [known failure: npm ends with ENOENT chmod tldts/bin/cli.js]${note}`, async (t) => {
  t.timeout(600_000);
  // A second clone: the folder install above builds inside the first one.
  const clone = join(work, 'clone-for-git');
  await run('git', ['clone', '--quiet', REPO, clone]);
  await installAndRun(t, 'git', `git+file://${clone}`);
});
