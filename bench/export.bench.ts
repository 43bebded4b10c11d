/**
 * Export throughput and memory. The emulator (rate limits off) and the export
 * (`node dist/bin.js export`) run as separate child processes; the export's peak
 * RSS comes from GNU time (or polled VmHWM). Beside it, in the same run, the
 * local limit: csv-stringify writing the same records from memory in this process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startEmulator, type EmulatorProcess } from './lib/processes.js';
import { exportRun, type ExportRow } from './lib/export-run.js';
import { csvStringifyRate, loadCells } from './lib/csv-baseline.js';

export const title = 'Export (child processes, emulator rate limits off)';


type Row = ExportRow;

/**
 * The floor under the export's memory: a process that loads the CLI and reads
 * every page through the same client, discarding it. Peak RSS in MB (GNU time).
 */
async function clientFloorMb(emulator: EmulatorProcess, dir: string): Promise<number> {
  const script = `
    await import('./dist/cli/index.js');
    const { createPylonClient } = await import('./dist/pylon/client.js');
    const client = createPylonClient({ baseUrl: ${JSON.stringify(emulator.url)}, token: ${JSON.stringify(emulator.token)}, rates: { list: 0 } });
    let cursor;
    for (;;) {
      const page = await client.listContacts({ cursor, limit: 999 });
      if (!page.hasNextPage) break;
      cursor = page.cursor;
    }
    client.close();`;
  const out = join(dir, 'floor.time');
  await new Promise<void>((resolve, reject) =>
    execFile('/usr/bin/time', ['-f', '%M', '-o', out, process.execPath, '--input-type=module', '-e', script], { cwd: REPO }, (error) => (error ? reject(error) : resolve())),
  );
  return Number((await readFile(out, 'utf8')).trim().split('\n').pop()) / 1024;
}

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const mb = (value: number) => value.toFixed(0);

export async function run(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pylon-bench-export-'));
  const rows: Row[] = [];
  let baselineRate = 0;
  let baselineRows = 0;
  let fileMb = 0;
  let floorMb = 0;
  try {
    const small = await startEmulator(['--seed-random', '100000', '--rate-limits', 'off', '--random-seed', '1']);
    try {
      rows.push(await exportRun(small, '100k contacts, CSV', [join(dir, 'c100k.csv')]));
    } finally {
      await small.stop();
    }
    const large = await startEmulator(['--seed-random', '1000000', '--rate-limits', 'off', '--random-seed', '1']);
    try {
      const full = await exportRun(large, '1M contacts, CSV', [join(dir, 'c1m.csv')]);
      rows.push(full);
      fileMb = (await stat(join(dir, 'c1m.csv'))).size / 1024 / 1024;
      rows.push(await exportRun(large, '1M contacts, NDJSON gzip', [join(dir, 'c1m.ndjson.gz')]));
      rows.push(await exportRun(large, '1M contacts, CSV delta --since (nothing changed)', [join(dir, 'd1m.csv'), '--since', join(dir, 'c1m.csv.manifest.json')]));
      floorMb = await clientFloorMb(large, dir);
      const cells = await loadCells(large);
      baselineRows = cells.rows.length;
      baselineRate = await csvStringifyRate(cells, join(dir, 'baseline.csv'));
    } finally {
      await large.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const lines = [
    'Each export is `node dist/bin.js export <file> --json` against an emulator child process holding the contacts (999 per page, pacing off). Rows/s = contacts read ÷ the run\'s own duration (from its summary); wall includes Node start-up. Peak RSS is the export process only.',
    '',
    '| export | contacts | pages | rows written | duration | contacts/s | wall | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${n(r.stats.contactsRead)} | ${n(r.stats.pages)} | ${n(r.stats.rows)} | ${(r.stats.durationMs / 1000).toFixed(1)} s | **${n(r.stats.contactsRead / (r.stats.durationMs / 1000))}** | ${(r.run.wallMs / 1000).toFixed(1)} s | **${mb(r.run.maxRssMb)} MB** |`,
    ),
    '',
    `Local limit, same run: csv-stringify writing the same ${n(baselineRows)} records (already flattened, in memory) to a file: **${n(baselineRate)} rows/s**. The 1M CSV is ${fileMb.toFixed(0)} MB.`,
    '',
    `Memory target: flat and under 150 MB. 100k → 1M: ${mb(rows[0]!.run.maxRssMb)} → ${mb(rows[1]!.run.maxRssMb)} MB (full export); ${mb(rows[3]!.run.maxRssMb)} MB for the 1M delta, which also holds the previous run's id → hash index (2^21 slots × 17 bytes = 36 MB at 1M). The floor, same run: a process loading the CLI and reading the same 1M contacts through the same client, discarding every page, peaks at ${mb(floorMb)} MB.`,
  ];
  return lines.join('\n');
}
