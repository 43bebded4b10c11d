import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';

// Loaded on use: only a terminal shows a bar.
const require = createRequire(import.meta.url);

/**
 * Progress on stderr. On a terminal: a bar (cli-progress) with the rate, the
 * counters and an ETA. Otherwise (CI, cron, pipes): one plain line every
 * `intervalMs`, so logs stay readable.
 */
export interface Progress {
  update(done: number, counters: Record<string, number>, options?: { total?: number; etaSeconds?: number }): void;
  stop(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream;
  isTTY: boolean;
  quiet: boolean;
  /** What is counted: "rows", "contacts". */
  unit: string;
  intervalMs?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

function formatCounters(counters: Record<string, number>): string {
  return Object.entries(counters)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
    .join(', ');
}

export function createProgress(options: ProgressOptions): Progress {
  if (options.quiet) return { update() {}, stop() {} };
  const started = Date.now();
  const rateOf = (done: number) => done / Math.max((Date.now() - started) / 1000, 0.001);

  if (options.isTTY) {
    const cliProgress = require('cli-progress') as typeof CliProgress;
    // Without a known total (an export) there is no bar to fill: counts and rate only.
    const bar = new cliProgress.SingleBar(
      {
        stream: options.stream as NodeJS.WriteStream,
        format: (opts, params, payload: { known: boolean; rate: string; counters: string; eta_text: string }) =>
          payload.known
            ? `${cliProgress.Format.BarFormat(params.progress, opts)} ${params.value.toLocaleString('en-US')}/${params.total.toLocaleString('en-US')} ${options.unit} · ${payload.rate}/s · ${payload.counters} · ETA ${payload.eta_text}`
            : `${params.value.toLocaleString('en-US')} ${options.unit} · ${payload.rate}/s · ${payload.counters}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let begun = false;
    return {
      update(done, counters, extra = {}) {
        const total = Math.max(extra.total ?? done, done);
        const payload = {
          known: extra.total !== undefined,
          rate: rateOf(done).toFixed(1),
          counters: formatCounters(counters) || '…',
          eta_text: extra.etaSeconds === undefined ? '?' : formatDuration(extra.etaSeconds),
        };
        if (!begun) {
          bar.start(total, done, payload);
          begun = true;
        } else {
          bar.setTotal(total);
          bar.update(done, payload);
        }
      },
      stop() {
        if (begun) bar.stop();
      },
    };
  }

  const interval = options.intervalMs ?? 10_000;
  let last = Date.now();
  /** The latest update not printed yet, and whether any line was: a run that printed progress ends with a line at its last count. */
  let pending: (() => void) | undefined;
  let printed = false;
  /** The counts of the last line printed: the closing line is not printed again for the same counts (a duplicate `25/25` line). */
  let printedCounts: string | undefined;
  return {
    update(done, counters, extra = {}) {
      const eta = extra.etaSeconds === undefined ? '' : `, ETA ${formatDuration(extra.etaSeconds)}`;
      const total = extra.total ? `/${extra.total.toLocaleString('en-US')}` : '';
      const counts = `${done.toLocaleString('en-US')}${total} ${options.unit}, ${formatCounters(counters)}`;
      const line = `progress: ${done.toLocaleString('en-US')}${total} ${options.unit}, ${rateOf(done).toFixed(1)}/s, ${formatCounters(counters)}${eta}\n`;
      pending = counts === printedCounts ? undefined : () => options.stream.write(line);
      const now = Date.now();
      if (now - last < interval || pending === undefined) return;
      last = now;
      pending();
      pending = undefined;
      printed = true;
      printedCounts = counts;
    },
    stop() {
      if (printed && pending) pending();
      pending = undefined;
    },
  };
}

/** What a row run's progress line is figured from (runWithTerminal): counts so far, the seconds they took, the --rate pacing. */
export interface RowProgressInput {
  done: number;
  created: number;
  updated: number;
  /** The input's row estimate (0 when unknown). */
  estimatedRows: number;
  elapsedSeconds: number;
  rates: { create: number; patch: number; windowMs: number };
}

/**
 * The total and ETA a row run shows. The total is the estimate while it is not below the rows done
 * (an estimate passed is no total: the line shows the count alone, and no ETA). The ETA is the rows
 * left at the slower of the rate measured so far and the --rate pacing of the writes seen so far
 * (creates at the create rate, updates at the patch rate; unchanged rows cost no write).
 */
export function rowProgressFigures(input: RowProgressInput): { total?: number; etaSeconds?: number } {
  const { done, created, updated, estimatedRows, elapsedSeconds, rates } = input;
  const total = estimatedRows > 0 && estimatedRows >= done ? estimatedRows : undefined;
  if (total === undefined || done === 0) return { total };
  const window = rates.windowMs / 1000;
  const measured = elapsedSeconds / done;
  const paced = (created / done) * (window / rates.create) + (updated / done) * (window / rates.patch);
  return { total, etaSeconds: Math.max(0, (total - done) * Math.max(measured, paced)) };
}
