import type { ExportStats } from '../../src/export/run-export.js';
import { runCliMeasured, type EmulatorProcess, type Measured } from './processes.js';

/** Pacing off for the export's endpoints: the benches measure the tool, not Pylon's limits. */
export const UNPACED = 'list=100000000,customFields=100000';

export interface ExportRow {
  label: string;
  run: Measured;
  stats: ExportStats;
}

function statsOf(run: Measured): ExportStats {
  const line = run.stdout.trim().split('\n').pop();
  if (run.code !== 0 || !line?.startsWith('{')) throw new Error(`export failed (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
  return JSON.parse(line) as ExportStats;
}

/** One `export … --json` child process against the emulator, measured; `log` says how it went on stderr. */
export async function exportRun(emulator: EmulatorProcess, label: string, args: string[], log = false, bin?: string): Promise<ExportRow> {
  const run = await runCliMeasured(['export', ...args, '--json', '--rate', UNPACED, '--quiet'], { PYLON_API_TOKEN: emulator.token, PYLON_BASE_URL: emulator.url }, { bin });
  if (log) process.stderr.write(`  ${label}: ${(run.wallMs / 1000).toFixed(1)} s, ${run.maxRssMb.toFixed(0)} MB\n`);
  return { label, run, stats: statsOf(run) };
}
