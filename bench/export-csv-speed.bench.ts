/**
 * The CSV export's throughput against csv-stringify alone (issue 19's target:
 * ≥ 0.4× at 1,000,000 contacts, peak RSS ≤ 180 MB), side by side in one run
 * against one emulator child process (rate limits off).
 *
 * PYLON_BENCH_BASELINE_BIN names another build's bin.js (a worktree of an
 * earlier commit, built, with its node_modules): its CSV export then runs
 * alternately with this build's, PYLON_BENCH_ROUNDS times each (default 2),
 * and the files each wrote are compared by sha256. Without it only this build
 * runs. PYLON_BENCH_CONTACTS sets the count (default 1,000,000).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from './lib/processes.js';
import { exportRun, type ExportRow } from './lib/export-run.js';
import { csvStringifyMeasured, loadCells } from './lib/csv-baseline.js';

const CONTACTS = Number(process.env.PYLON_BENCH_CONTACTS ?? 1_000_000);
const ROUNDS = Number(process.env.PYLON_BENCH_ROUNDS ?? 2);
const BASELINE = process.env.PYLON_BENCH_BASELINE_BIN;

export const title = `CSV export speed against csv-stringify alone (${CONTACTS.toLocaleString('en-US')} contacts)`;

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (r: ExportRow) => r.stats.contactsRead / (r.stats.durationMs / 1000);
const cpuRate = (r: ExportRow) => (r.run.cpuMs ? r.stats.contactsRead / (r.run.cpuMs / 1000) : NaN);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export async function run(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pylon-bench-csv-speed-'));
  const builds = [...(BASELINE ? [{ name: 'baseline', bin: BASELINE }] : []), { name: 'this build', bin: undefined }];
  const rows: Array<ExportRow & { build: string }> = [];
  let stringifyRate = 0;
  let stringifyCpuRate = 0;
  const loads: number[] = [];
  try {
    const emulator = await startEmulator(['--seed-random', String(CONTACTS), '--rate-limits', 'off', '--random-seed', '1']);
    try {
      // A first walk warms the emulator's pages and the file cache alike for every build.
      await exportRun(emulator, 'warm-up', [join(dir, 'warm.csv')], true);
      ({ rate: stringifyRate, cpuRate: stringifyCpuRate } = await csvStringifyMeasured(await loadCells(emulator), join(dir, 'baseline.csv')));
      process.stderr.write(`  csv-stringify alone: ${n(stringifyRate)} rows/s, ${n(stringifyCpuRate)} rows per CPU-second\n`);
      for (let round = 1; round <= ROUNDS; round += 1) {
        for (const build of builds) {
          const row = await exportRun(emulator, `${build.name}, round ${round}`, [join(dir, `${build.name === 'baseline' ? 'old' : 'new'}.csv`)], true, build.bin);
          rows.push({ ...row, build: build.name });
          loads.push(os.loadavg()[0]!);
        }
      }
    } finally {
      await emulator.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const ok = (pass: boolean) => (pass ? '✅' : '❌');
  const ours = rows.filter((r) => r.build === 'this build');
  const theirs = rows.filter((r) => r.build === 'baseline');
  const ratio = median(ours.map(rate)) / stringifyRate;
  const cpuRatio = median(ours.map(cpuRate)) / stringifyCpuRate;
  const rss = Math.max(...ours.map((r) => r.run.maxRssMb));
  const hashes = new Set(rows.map((r) => r.stats.sha256));
  const lines = [
    `_1-minute load average after each export: ${loads.map((l) => l.toFixed(1)).join(', ')} on ${os.cpus().length} cores shared with other work; every figure of this table comes from this one run._`,
    '',
    `Each export is \`node <build>/bin.js export c.csv --json --rate ${'list=100000000,customFields=100000'} --quiet\` against one emulator child process holding ${n(CONTACTS)} random contacts (999 per page), after one warm-up walk; ` +
      (BASELINE ? `the baseline build (\`PYLON_BENCH_BASELINE_BIN\`) and this one alternate, ${ROUNDS} rounds. ` : `${ROUNDS} rounds. `) +
      'contacts/s is over the run\'s own duration (its summary), as in bench:warehouse; CPU is the export process\'s user + system time (GNU time), start-up included; peak RSS is the export process only. csv-stringify alone writes the same contacts, flattened in memory first, in the bench process.',
    '',
    '| run | duration | contacts/s | ÷ csv-stringify | CPU | contacts per CPU-s | ÷ csv-stringify (CPU) | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.label} | ${s(r.stats.durationMs)} | ${n(rate(r))} | ${(rate(r) / stringifyRate).toFixed(2)} | ${r.run.cpuMs ? s(r.run.cpuMs) : ''} | ${n(cpuRate(r))} | ${(cpuRate(r) / stringifyCpuRate).toFixed(2)} | ${r.run.maxRssMb.toFixed(0)} MB |`),
    `| csv-stringify alone | | ${n(stringifyRate)} | 1 | | ${n(stringifyCpuRate)} | 1 | |`,
    '',
    `Output: ${hashes.size === 1 ? `every run wrote the same bytes (sha256 ${[...hashes][0]!.slice(0, 16)}…)` : `the runs wrote ${hashes.size} different files ❌`}.`,
    '',
    '**Target (this build, median of its rounds)**',
    '',
    `- rows/s ÷ csv-stringify alone = ${ratio.toFixed(2)} (target ≥ 0.4) ${ok(ratio >= 0.4)}; per CPU-second ${cpuRatio.toFixed(2)} ${ok(cpuRatio >= 0.4)}; peak RSS ${rss.toFixed(0)} MB (target ≤ 180) ${ok(rss <= 180)}.`,
  ];
  if (theirs.length > 0) {
    lines.push(
      `- against the baseline build, median of each: contacts/s × ${(median(ours.map(rate)) / median(theirs.map(rate))).toFixed(2)}, contacts per CPU-second × ${(median(ours.map(cpuRate)) / median(theirs.map(cpuRate))).toFixed(2)}, peak RSS ${Math.max(...theirs.map((r) => r.run.maxRssMb)).toFixed(0)} → ${rss.toFixed(0)} MB.`,
    );
  }
  return lines.join('\n');
}
