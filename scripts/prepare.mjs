// `npm install -g <clone or git URL>` runs this before linking the command: build dist/ (tsc, then
// scripts/bundle.mjs, as `npm run build` does).
// A global install from a folder does not install the folder's devDependencies, so
// TypeScript is installed into the folder first when it is missing.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// As in `npm run build`: the second prepare of a git install (npm runs it in its install and again
// when it packs) finds dist/ up to date. The build info lives in dist/, so removing dist/ rebuilds all.
const INCREMENTAL = ['--incremental', '--tsBuildInfoFile', join('dist', '.tsbuildinfo')];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// The lifecycle environment says "global": a nested install must stay in this folder.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(global|prefix|location)$/i.test(k)));
if (!existsSync(join(root, 'node_modules', 'typescript', 'bin', 'tsc'))) {
  execFileSync(npm, ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--include=dev'], { cwd: root, env, stdio: 'inherit' });
}
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', ...INCREMENTAL], { cwd: root, stdio: 'inherit' });
// The same second step as `npm run build`: the command and yargs bundled for a fast start.
execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { cwd: root, stdio: 'inherit' });
