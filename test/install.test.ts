/**
 * The three ways the README installs the command, each into its own temp --prefix and
 * run afterwards (issue 20): `npm pack` + install of the tarball, `npm install -g <folder>`
 * on a fresh clone (no node_modules, no dist: npm installs the clone's dependencies and
 * its prepare script builds dist/), and `npm install -g git+file://…` of that clone.
 * Slow (npm installs real packages), so the three run side by side in one test file.
 * Skipped, with the reason, only where npm or git is unavailable.
 *
 * The git install goes through npm's git-dependency preparation (pacote): clone, `npm install`
 * in the clone, `prepare`, pack, extract. Before pacote 22 (npm 12, which needs Node 22) that inner
 * `npm install` inherits `npm_config_global=true` from the outer one, so it installs the clone
 * globally as a link into the same prefix, over the outer install (npm/cli#9406, fixed by
 * pacote's `--global=false`). Every npm that runs on Node 20 has that bug, for any package with a
 * `build` or `prepare` script. Where the npm on PATH lacks the fix, the test runs the same install
 * through a copy of that npm with pacote's one-line fix applied, and says so in its log: what it
 * checks is this package's side of a git install (prepare in a fresh clone, pack, the installed command).
 */
import test, { type ExecutionContext } from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
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
  // The docs pointer names a folder that holds the pages, in what was installed (under the temp folder; a folder
  // install links the clone), not in this checkout.
  const docs = /^Docs: (\S+)/m.exec(help)?.[1];
  const docsInstalled = docs !== undefined && docs.startsWith(work) && existsSync(join(docs, 'import.md'));
  return { version, help: /pylon-contacts import <file>/.test(help) && docsInstalled };
}

// prefer-offline: packages already in npm's cache are used without asking the registry again (a fresh cache still fetches).
const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_prefer_offline: 'true' };
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
async function installAndRun(t: ExecutionContext, label: string, spec: string, npm: string[] = ['npm']) {
  const prefix = join(work, label);
  const started = Date.now();
  const [command, ...npmArgs] = npm;
  await run(command!, [...npmArgs, 'install', '-g', spec, '--prefix', prefix], { cwd: work, env: npmEnv, maxBuffer: 64 * 1024 * 1024 }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`npm install -g ${spec} failed:\n${(error.stderr ?? error.message).split('\n').filter((l) => /npm error/.test(l)).slice(0, 8).join('\n')}`);
  });
  t.log(`${label}: installed in ${Math.round((Date.now() - started) / 1000)} s`);
  const works = await installedWorks(prefix);
  t.is(works.version, version);
  t.true(works.help, '--help lists the commands and the installed docs folder');
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
  const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  t.is(pkg.scripts.prepare, 'node scripts/prepare.mjs', 'npm runs prepare, which builds dist/');
  t.is(pkg.bin['pylon-contacts'], 'dist/bin.js');
  await installAndRun(t, 'folder', clone);
});

/** The folder of the npm on PATH (its package root), or undefined when it cannot be found. */
function npmHome(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (!dir || !existsSync(candidate)) continue;
    const home = join(dirname(realpathSync(candidate)), '..');
    if (existsSync(join(home, 'node_modules', 'pacote', 'lib', 'fetcher.js'))) return home;
  }
  return undefined;
}

/** pacote's default arguments for the inner install end with this line; the fix adds `--global=false` after it. */
const PACOTE_ANCHOR = "'--no-dry-run',";

/**
 * The npm command line to install a git URL with: the npm on PATH when its pacote already passes
 * `--global=false` to the inner install, else a copy of it with that argument added.
 */
function npmForGitInstall(t: ExecutionContext): string[] {
  const home = npmHome();
  if (!home) throw new Error('cannot find the npm on PATH (its pacote/lib/fetcher.js)');
  const fetcher = join('node_modules', 'pacote', 'lib', 'fetcher.js');
  const source = readFileSync(join(home, fetcher), 'utf8');
  if (source.includes("'--global=false'")) return ['npm'];
  if (!source.includes(PACOTE_ANCHOR)) throw new Error(`this npm's ${fetcher} has neither --global=false nor the line to add it after`);
  const copy = join(work, 'npm-with-pacote-fix');
  cpSync(home, copy, { recursive: true });
  writeFileSync(join(copy, fetcher), source.replace(PACOTE_ANCHOR, `${PACOTE_ANCHOR} '--global=false',`));
  t.log(`npm ${execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()} lacks pacote's --global=false (npm/cli#9406): installing through a copy with it added`);
  return [process.execPath, join(copy, 'bin', 'npm-cli.js')];
}

(tools ? test : test.skip)(`npm install -g git+file://<clone>: npm prepares the clone (install, prepare), packs it, a working command${note}`, async (t) => {
  t.timeout(600_000);
  // npm clones the URL itself and sees committed files only, so the clone the folder install builds in serves here too.
  const clone = await freshClone();
  await installAndRun(t, 'git', `git+file://${clone}`, npmForGitInstall(t));
});
