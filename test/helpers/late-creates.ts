/**
 * The late-create torture (issue 21): an import against an emulator that accepts
 * duplicate emails, behind a proxy that holds one create in five for D = factor ×
 * --timeout before the emulator applies it, with or without a kill -9 mid-run
 * followed by --resume. Counts what matters: duplicates stored, duplicates the
 * run reported, rows lost. Used by test/cli/late-creates-e2e.test.ts and by
 * `npm run bench -- late-creates` (which prints the table).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { ImportStats } from '../../src/import/run-import.js';
import { FAST_RATE, contactsCsv, emailOf, envFor, runCli, spawnCli, startEmulator, startFaultProxy, statsOf } from './cli.js';

export interface LateTrial {
  factor: number;
  kill: boolean;
  /** Flags beyond the defaults (e.g. --idempotency-key external-id). */
  flags: string;
  rows: number;
  timeoutMs: number;
  /** Emails stored more than once, counting each extra contact. */
  duplicatesStored: number;
  /** Emails the final run listed as duplicated. */
  duplicatesReported: number;
  /** Emails of the input with no contact. */
  rowsLost: number;
  /** Contacts of the input holding an external id labelled pylon-contacts (--idempotency-key external-id). */
  keyed: number;
  exitCode: number | null;
}

/** What a trial needs of its caller: somewhere to register clean-up (an ava test, or the bench's own list). */
export type Cleanup = Pick<ExecutionContext, 'teardown'>;

export async function lateCreateTrial(cleanup: Cleanup, dir: string, factor: number, kill: boolean, extraArgs: readonly string[] = [], rows = 60, timeoutMs = 300): Promise<LateTrial> {
  const t = cleanup as ExecutionContext;
  const emulator = await startEmulator(t, { duplicateEmail: 'allow' });
  let creates = 0;
  const holdMs = Math.round(factor * timeoutMs);
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => (method === 'POST' && path === '/contacts' && creates++ % 5 === 0 ? `slow=${holdMs}` : undefined));
  const prefix = `late-${String(factor).replace('.', '_')}-${kill ? 'k' : 'n'}${extraArgs.length > 0 ? '-x' : ''}`;
  const input = join(dir, `${prefix}.csv`);
  writeFileSync(input, contactsCsv(rows, prefix));
  const args = ['import', input, '--json', '-q', '--rate', FAST_RATE, '--timeout', String(timeoutMs), '--concurrency', '4', '--lookup-batch', '10', ...extraArgs];
  const env = envFor(proxy);
  if (kill) {
    const run = spawnCli(args, { env });
    let finished = false;
    void run.result.then(() => (finished = true));
    // Killed once a third of the rows are stored (some held creates are then still in the proxy).
    while (!finished && emulator.store.size < rows / 3) await new Promise((resolve) => setTimeout(resolve, 5));
    if (!finished) run.child.kill('SIGKILL');
    await run.result;
  }
  const final = await runCli(kill ? [...args, '--resume'] : args, { env });
  // Every held create has reached the store (or been answered) before counting.
  while (emulator.stats().inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  let stats: ImportStats | undefined;
  try {
    stats = statsOf(final);
  } catch {
    stats = undefined;
  }
  const counts = new Map<string, number>();
  for (const c of emulator.store.all()) counts.set((c.email ?? '').toLowerCase(), (counts.get((c.email ?? '').toLowerCase()) ?? 0) + 1);
  let keyed = 0;
  for (const c of emulator.store.all()) if (c.email?.startsWith(`${prefix}-`) && c.external_ids?.some((e) => e.label === 'pylon-contacts' && /^pc-[0-9a-f]{32}$/.test(e.external_id))) keyed++;
  let duplicatesStored = 0;
  let rowsLost = 0;
  for (let i = 0; i < rows; i++) {
    const n = counts.get(emailOf(prefix, i)) ?? 0;
    if (n === 0) rowsLost++;
    else duplicatesStored += n - 1;
  }
  return { factor, kill, flags: extraArgs.join(' '), rows, timeoutMs, duplicatesStored, duplicatesReported: stats?.duplicatesCreated?.length ?? 0, rowsLost, keyed, exitCode: final.code };
}

export const LATE_FACTORS = [0.5, 1.5, 2.5, 5] as const;

export function lateTable(trials: readonly LateTrial[]): string {
  const lines = [
    '| flags | D (× --timeout) | kill -9 + --resume | duplicates stored | duplicates reported | rows lost | exit |',
    '|---|---:|:---:|---:|---:|---:|---:|',
    ...trials.map((r) => `| ${r.flags || 'defaults'} | ${r.factor} | ${r.kill ? 'yes' : 'no'} | ${r.duplicatesStored} | ${r.duplicatesReported} | ${r.rowsLost} | ${r.exitCode} |`),
  ];
  return lines.join('\n');
}
