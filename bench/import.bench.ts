/**
 * `npm run bench -- import`: the import CLI (`node dist/bin.js import … --json`,
 * a child process of its own) against the emulator (another child process).
 *
 * 1. API calls per row: fresh import, unchanged re-run, 10%-changed re-run.
 * 2. Sustained create rate against the emulator's limit (60 per 1-s window), and
 *    the share of requests answered 429.
 * 3. Rows per second with limits off.
 * 4. Peak RSS of the import process at 100k and 1M rows.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENDPOINTS } from '../src/config.js';
import type { ImportStats } from '../src/import/run-import.js';
import { TOOL_VERSION } from '../src/update/target.js';
import { writeContactsCsv } from './lib/contacts-csv.js';
import { runCliMeasured, sampleWhile, startEmulator, summaryOf, type EmulatorProcess, type Measured } from './lib/processes.js';

export const title = 'Import: API calls per row, write rate against the limit, throughput, peak memory';

/** Client pacing so high it never waits (the emulator's limits are off). */
const UNPACED = ENDPOINTS.map((e) => `${e}=1000000`).join(',');
const CALLS_ROWS = 20_000;
const RATE_ROWS = 1_200;
const MISMATCH_ROWS = 120;
const LIMIT_PER_S = 60;

const n = (x: number, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sumCalls = (s: ImportStats) => Object.values(s.calls).reduce((a, b) => a + b, 0);
const callList = (s: ImportStats) =>
  Object.entries(s.calls)
    .filter(([, c]) => c > 0)
    .map(([e, c]) => `${e} ${n(c)}`)
    .join(', ');

function envOf(emulator: EmulatorProcess): Record<string, string> {
  return { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: emulator.token };
}

async function importRun(file: string, emulator: EmulatorProcess, extra: string[], env: Record<string, string> = {}): Promise<{ run: Measured; stats: ImportStats }> {
  const run = await runCliMeasured(['import', file, '--json', '--quiet', ...extra], { ...envOf(emulator), ...env });
  const stats = summaryOf(run);
  if (run.code !== 0) throw new Error(`import ${file} exited ${run.code}:\n${run.stderr.slice(-2000)}`);
  return { run, stats };
}

async function callsAndThroughput(dir: string): Promise<string> {
  const base = join(dir, 'calls.csv');
  const changed = join(dir, 'calls-10pct.csv');
  await writeContactsCsv(base, CALLS_ROWS);
  await writeContactsCsv(changed, CALLS_ROWS, { changeEvery: 10 });
  const emulator = await startEmulator(['--rate-limits', 'off']);
  try {
    const flags = ['--rate', UNPACED, '--concurrency', '16'];
    const runs = [
      { name: 'fresh import (empty org)', target: '≤ 1.02', max: 1.02, ...(await importRun(base, emulator, flags)) },
      { name: 'unchanged re-run', target: '≤ 0.02', max: 0.02, ...(await importRun(base, emulator, flags)) },
      { name: '10%-changed re-run', target: '≤ 0.12', max: 0.12, ...(await importRun(changed, emulator, flags)) },
    ];
    const rows = runs.map(({ name, target, max, run, stats }) => {
      const perRow = sumCalls(stats) / stats.total;
      return `| ${name} | ${n(stats.total)} | ${n(stats.created)} / ${n(stats.updated)} / ${n(stats.unchanged)} | ${callList(stats)} | **${perRow.toFixed(4)}** | ${target} ${perRow <= max ? '✅' : '❌'} | ${n(stats.total / (stats.durationMs / 1000))} | ${n(run.wallMs / 1000, 1)} | ${n(run.maxRssMb)} |`;
    });
    const fresh = runs[0];
    return [
      `### 1 and 3. API calls per row, and rows per second with limits off (${n(CALLS_ROWS)} rows)`,
      '',
      'One emulator (`node dist/bin.js emulator --port 0 --rate-limits off`), three imports in a row against it, each',
      '`node dist/bin.js import <file> --json --quiet --rate <every endpoint>=1000000 --concurrency 16`.',
      `Files: \`name,email,portal_role,custom.tier\`; the 10%-changed file asks for another portal role on every tenth row.`,
      'Calls come from the `--json` summary (`calls`, every request sent, retries included); rows/s is rows ÷ the run\'s own `durationMs`;',
      'wall time includes process start-up.',
      '',
      '| run | rows | created / updated / unchanged | calls | calls per row | target | rows/s | wall s | peak RSS MB |',
      '| --- | ---: | --- | --- | ---: | --- | ---: | ---: | ---: |',
      ...rows,
      '',
      `Throughput of the fresh import with limits off: **${n(fresh.stats.total / (fresh.stats.durationMs / 1000))} rows/s** ` +
        `(${n(CALLS_ROWS)} creates in ${n(fresh.stats.durationMs / 1000, 1)} s; the import process used ${n((fresh.run.cpuMs ?? 0) / 1000, 1)} s of CPU, ` +
        `${((fresh.run.cpuMs ?? 0) / CALLS_ROWS).toFixed(2)} ms per row — the HTTP client's per-request cost dominates; the emulator runs on the same 2 cores).`,
    ].join('\n');
  } finally {
    await emulator.stop();
  }
}

interface RateResult {
  label: string;
  rows: number;
  stats: ImportStats;
  overall: number;
  steady: number;
  requests: number;
  tooMany: number;
}

/** One paced import against the emulator's spec limits on a 1-s window; the create counter is sampled every 250 ms. */
async function paced(dir: string, label: string, rows: number, rateFlags: string[]): Promise<RateResult> {
  const file = join(dir, `rate-${rows}.csv`);
  await writeContactsCsv(file, rows);
  const emulator = await startEmulator(['--rate-limits', 'spec', '--window-ms', '1000']);
  try {
    const { result, samples } = await sampleWhile(() => emulator.stats(), 250, importRun(file, emulator, [...rateFlags, '--concurrency', '8']));
    const stats = result.stats;
    const server = await emulator.stats();
    // Steady state: between 5% and 95% of the creates, where start-up and the tail do not count.
    const inside = samples.filter((s) => s.value.requests.create >= rows * 0.05 && s.value.requests.create <= rows * 0.95);
    const first = inside[0];
    const last = inside[inside.length - 1];
    const steady = first && last && last.atMs > first.atMs ? (last.value.requests.create - first.value.requests.create) / ((last.atMs - first.atMs) / 1000) : NaN;
    const requests = Object.values(server.requests).reduce((a, b) => a + b, 0);
    return { label, rows, stats, overall: stats.created / (stats.durationMs / 1000), steady, requests, tooMany: server.rateLimited };
  } finally {
    await emulator.stop();
  }
}

async function sustainedRate(dir: string): Promise<string> {
  const matched = await paced(dir, '`--rate create=60,list=60,search=20,customFields=60 --rate-window 1000` (the client told the server\'s window)', RATE_ROWS, [
    '--rate', 'create=60,list=60,search=20,customFields=60', '--rate-window', '1000',
  ]);
  const perMinute = await paced(dir, '`--rate create=3600` (per-minute window, the default `--rate-window 60000`)', MISMATCH_ROWS, ['--rate', 'create=3600']);
  const row = (r: RateResult, judged: boolean) => {
    const fraction = r.steady / LIMIT_PER_S;
    const share = r.tooMany / r.requests;
    const verdict = judged ? ` ${fraction >= 0.95 ? '✅' : '❌'}` : '';
    const verdict429 = judged ? ` ${share < 0.01 ? '✅' : '❌'}` : '';
    return `| ${r.label} | ${n(r.rows)} | ${n(r.stats.durationMs / 1000, 1)} | ${n(r.overall, 1)} (${(r.overall / LIMIT_PER_S).toFixed(3)}) | **${n(r.steady, 1)} (${fraction.toFixed(3)})**${verdict} | ${n(r.tooMany)} of ${n(r.requests)} (${(100 * share).toFixed(2)}%)${verdict429} |`;
  };
  return [
    '### 2. Sustained create rate against the limit',
    '',
    `Emulator: \`node dist/bin.js emulator --port 0 --rate-limits spec --window-ms 1000\` (create: ${LIMIT_PER_S} per fixed 1-s window, X-Rate-Limit-Remaining on).`,
    `Import of new rows: \`node dist/bin.js import <file> --json --quiet --concurrency 8\` plus the pacing flags below. The emulator's create counter`,
    '(`GET /_emulator/stats`) is sampled every 250 ms; *steady* is the slope between 5% and 95% of the creates, *overall* is creates ÷ the run\'s `durationMs`',
    '(start-up and tail included). 429 share: `rateLimited` ÷ all requests, from the emulator\'s stats.',
    '',
    `| client pacing | rows | s | overall creates/s (÷ ${LIMIT_PER_S}) | steady creates/s (÷ ${LIMIT_PER_S}), target ≥ 0.95 | 429 answers, target < 1% |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row(matched, true),
    row(perMinute, false),
    '',
    `The second line is the nominal rate expressed per minute without telling the client that the server counts in 1-s windows. The client then`,
    `reads X-Rate-Limit-Remaining (at most ${LIMIT_PER_S}, for a 1-s window) against its own 60-s window: a remaining count that low is "clearly short" of`,
    `3,600 per minute, so src/pylon/rate-limit.ts spreads it over the time it believes is left in the minute, and the run crawls. Against Pylon itself`,
    'the window is the minute and the two agree; against an emulator with `--window-ms`, pass the same value as `--rate-window`.',
    '',
    'What limits the first line: the pacer spaces creates `window / rate × 1.025` apart (97.5% of the limit at best) and lets a waiter released',
    'late by its timer catch up by at most `margin × window / 2`: 12.5 ms with a 1-s window (750 ms with Pylon\'s minute). On a busy 2-core',
    'machine (the emulator, the import and any other work share it) timer lag beyond that is lost for good, so the figure drops with the load',
    'average noted above; it is never traded for 429s.',
  ].join('\n');
}

async function memory(dir: string): Promise<string> {
  const flags = ['--rate', UNPACED, '--concurrency', '16'];
  const lines: string[] = [];
  const add = (label: string, rows: number, r: { run: Measured; stats: ImportStats }) => {
    const ok = r.stats.total === rows && r.stats.failed === 0;
    lines.push(`| ${label} | ${n(rows)} | ${r.stats.lookupStrategy} (${callList(r.stats)}) | **${n(r.run.maxRssMb)}**${r.run.maxRssMb < 200 ? ' ✅' : ' ❌'} | ${n(r.run.wallMs / 1000, 1)} | ${n((r.run.cpuMs ?? NaN) / 1000, 1)} |${ok ? '' : ' ⚠ rows missing or failed'}`);
  };

  const small = join(dir, 'mem-100k.csv');
  const one = join(dir, 'mem-1.csv');
  await writeContactsCsv(small, 100_000);
  await writeContactsCsv(one, 1);
  const empty = await startEmulator(['--rate-limits', 'off']);
  try {
    add('fresh import, empty org', 100_000, await importRun(small, empty, flags));
    add('baseline: import of one row (unchanged)', 1, await importRun(one, empty, flags));
  } finally {
    await empty.stop();
  }
  for (const rows of [100_000, 1_000_000]) {
    const file = rows === 100_000 ? small : join(dir, 'mem-1m.csv');
    if (file !== small) await writeContactsCsv(file, rows);
    const seeded = await startEmulator(['--rate-limits', 'off', '--seed', file], { timeoutMs: 300_000 });
    try {
      add('unchanged re-run, `--lookup auto`', rows, await importRun(file, seeded, flags));
      add('unchanged re-run, `--lookup search`', rows, await importRun(file, seeded, [...flags, '--lookup', 'search']));
      if (rows === 1_000_000) {
        add('unchanged re-run, `--lookup search`, `NODE_OPTIONS=--max-old-space-size=64`', rows, await importRun(file, seeded, [...flags, '--lookup', 'search'], { NODE_OPTIONS: '--max-old-space-size=64' }));
        const journal = join(dir, 'killed-at-90.journal.jsonl');
        await writeKilledJournal(file, journal, rows, 0.9);
        add('`--resume` of a run stopped at 90% (journal of 900,000 outcomes, 1,000,000 sends)', rows, await importRun(file, seeded, [...flags, '--resume', '--journal', journal]));
      }
    } finally {
      await seeded.stop();
    }
  }
  return [
    '### 4. Peak memory of the import process (target: flat, under 200 MB)',
    '',
    'Peak RSS of the import child (`/usr/bin/time -f %M`, else VmHWM polled). Limits off, `--rate <every endpoint>=1000000 --concurrency 16`.',
    'A fresh 1M-row import would take about ten minutes of creates, so the 1M figure comes from the cheaper equivalent: the emulator is seeded from',
    'the same CSV (`emulator --seed <file.csv>`) and the file is imported again; every row is read, validated, checked for in-file duplicates and',
    'looked up, and found unchanged. `--lookup auto` picks reading the whole contact list when that costs fewer calls than searching',
    '(⌈contacts / 999⌉ pages against ⌈rows / 100⌉ searches), as it does for every large run here; `--lookup search` is shown beside it.',
    '',
    'The one-row import shows the fixed cost of Node and the loaded CLI; the run with a 64 MB old-space cap shows how much of the peak is the',
    'working set rather than garbage V8 has not collected yet (with no memory pressure it lets the heap grow). Write runs already hold that',
    'growth to 50% past the last full collection (`--heap-growing-percent`, set at run time by src/cli/heap.ts), so the cap changes less than it did.',
    'The `--resume` line finishes a 1M-row run "killed" at 90%: a journal as that run would leave it (a send for each row, an outcome for the first',
    '900,000; 146 MB) is written beside the file, and the resumed import replays 900,000 rows from it without a call and finishes the rest;',
    'it keeps where each line\'s last outcome and last send are in the journal (8 bytes per input line each) and reads entries back one at a time.',
    '',
    '| run | rows | lookup (calls) | peak RSS MB | wall s | CPU s |',
    '| --- | ---: | --- | ---: | ---: | ---: |',
    ...lines,
  ].join('\n');
}

/**
 * The journal a run leaves when it is killed after `fraction` of its rows: a send
 * and an outcome ("created") for each of those, and a send with no outcome for the
 * rest (creates that landed unconfirmed; the emulator is seeded with every row, so
 * the resumed run finds them and counts them created).
 */
async function writeKilledJournal(input: string, path: string, rows: number, fraction: number): Promise<void> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(input), hash);
  const out = createWriteStream(path);
  // As the tool writes it: a journal of another version is refused on --resume.
  const start = { t: 'start', v: 1, at: new Date().toISOString(), tool: TOOL_VERSION, input: { path: input, size: statSync(input).size, sha256: hash.digest('hex') }, mode: 'upsert' };
  let chunk = [JSON.stringify(start)];
  for (let line = 2; line < rows + 2; line++) {
    chunk.push(JSON.stringify({ t: 'sent', l: line }));
    if (line - 2 < rows * fraction) chunk.push(JSON.stringify({ t: 'done', l: line, o: 'created', id: `00000000-0000-4000-8000-${String(line).padStart(12, '0')}`, email: `bench-${line - 2}@example.com`, rid: `req-${line}` }));
    if (chunk.length >= 10_000) {
      if (!out.write(chunk.join('\n') + '\n')) await once(out, 'drain');
      chunk = [];
    }
  }
  out.end(chunk.join('\n') + '\n');
  await once(out, 'close');
}

/** Runs a part and notes the machine's load average before it (other work on the 2 cores slows timers and throughput). */
async function withLoad(part: () => Promise<string>): Promise<string> {
  const load = loadavg()[0].toFixed(2);
  const text = await part();
  const [heading, ...rest] = text.split('\n');
  return [heading, '', `_1-minute load average when this part started: ${load}._`, ...rest].join('\n');
}

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-bench-import-'));
  try {
    const parts = [await withLoad(() => callsAndThroughput(dir)), await withLoad(() => sustainedRate(dir)), await withLoad(() => memory(dir))];
    return parts.join('\n\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
