/**
 * Start-up: how long `pylon-contacts --help` (and a command's help) takes against a bare
 * `node -e 0`, measured side by side in one run: the commands alternate, each run a fresh
 * process, and the median of each is compared. Also how many of the package's own modules
 * and of node_modules' files each one loads (an ESM loader hook counts them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO } from './lib/processes.js';

export const title = 'Start-up: `--help` against a bare `node -e 0`';

const RUNS = 21;
const TARGET = 2.5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function timeOnce(args: string[]): number {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

/** The files an invocation loads, counted by a loader hook that writes each resolved URL to a file. */
function modulesLoaded(args: string[]): { own: number; dependencies: number } {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-bench-startup-'));
  try {
    const log = join(dir, 'loaded.txt');
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(log)}, url + '\\n');\n  return next(url, context);\n}\n`);
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);
    const run = spawnSync(process.execPath, ['--import', register, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}: ${run.stderr}`);
    const urls = readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:'));
    return { own: urls.filter((u) => u.includes('/dist/')).length, dependencies: urls.filter((u) => u.includes('/node_modules/')).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<string> {
  const cases: Array<[label: string, args: string[]]> = [
    ['`node -e 0`', ['-e', '0']],
    ['`pylon-contacts --help`', [BIN, '--help']],
    ['`pylon-contacts import --help`', [BIN, 'import', '--help']],
    ['`pylon-contacts export --help`', [BIN, 'export', '--help']],
  ];
  const times = cases.map(() => [] as number[]);
  for (const [, args] of cases) timeOnce(args); // warm the file cache
  for (let i = 0; i < RUNS; i += 1) cases.forEach(([, args], c) => times[c]!.push(timeOnce(args)));
  const bare = median(times[0]!);
  const rows = cases.map(([label, args], c) => {
    const ms = median(times[c]!);
    const loaded = c === 0 ? { own: 0, dependencies: 0 } : modulesLoaded(args);
    return `| ${label} | ${ms.toFixed(0)} | ${(ms / bare).toFixed(2)}× | ${loaded.own} | ${loaded.dependencies} |`;
  });
  const ratio = median(times[1]!) / bare;
  return [
    `Median of ${RUNS} fresh processes each, the four commands alternating in one run. Target: \`--help\` within ${TARGET}× a bare \`node -e 0\`.`,
    '',
    '| command | median ms | vs node -e 0 | dist modules loaded | node_modules files loaded |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `\`--help\` is ${ratio.toFixed(2)}× a bare Node start: ${ratio <= TARGET ? 'within' : 'OVER'} the ${TARGET}× target. A command's own help loads that command's module and its engine, and only that one.`,
    '',
    `1-minute load average when the runs ended: ${loadavg()[0]!.toFixed(1)} (on a busy machine every start is slower, a bare one too; the ratio is what compares).`,
    'The command is an esbuild bundle (scripts/bundle.mjs, run by `npm run build`): dist/bin.js holds the root, yargs and the packages it needs, each command with its engine and packages is a chunk beside it (dist/bin-*.js), so no file is read from node_modules except the native or optional ones.',
  ].join('\n');
}
