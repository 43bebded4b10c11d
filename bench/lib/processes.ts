/**
 * Bench helpers: the emulator and the CLI as child processes of the bench, so
 * each one's memory and CPU are its own. Built code only (`npm run bench` builds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorStats } from '../../src/emulator/stats.js';
import type { ImportStats } from '../../src/import/run-import.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(REPO, 'dist', 'bin.js');
const TIME = '/usr/bin/time';

// Children still running when the bench process exits (a failed run) are ended with it.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export interface EmulatorProcess {
  url: string;
  token: string;
  pid: number;
  /** GET /_emulator/stats (not counted by the emulator itself). */
  stats(): Promise<EmulatorStats>;
  /** Zeroes the counters and rate-limit windows; the store stays. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `pylon-contacts emulator --port 0 …args` and waits for its `PYLON_BASE_URL=` line. */
export function startEmulator(args: string[], options: { timeoutMs?: number } = {}): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, ['--max-old-space-size=8192', BIN, 'emulator', '--port', '0', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emulator did not start within ${options.timeoutMs ?? 120_000} ms:\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited with ${code} before listening:\n${stderr}`));
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /PYLON_BASE_URL=(\S+)/.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      const url = m[1];
      const inspect = async (method: string, path: string) => {
        const res = await fetch(`${url}/_emulator/${path}`, { method });
        if (!res.ok) throw new Error(`${method} /_emulator/${path}: ${res.status}`);
        return res.json();
      };
      resolve({
        url,
        token: 'pylon-emulator-token',
        pid: child.pid!,
        stats: () => inspect('GET', 'stats') as Promise<EmulatorStats>,
        reset: async () => void (await inspect('POST', 'reset')),
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

export interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak resident set size of the child, in MB (from GNU time, else VmHWM polled every 20 ms). */
  maxRssMb: number;
  /** User + system CPU of the child in ms (GNU time only). */
  cpuMs?: number;
}

/** Runs `node dist/bin.js …args` (or another build's `bin`) and measures it. */
export async function runCliMeasured(args: string[], env: Record<string, string>, options: { cwd?: string; bin?: string } = {}): Promise<Measured> {
  const useTime = existsSync(TIME);
  const dir = mkdtempSync(join(tmpdir(), 'pylon-bench-time-'));
  const timeFile = join(dir, 'time.txt');
  const command = useTime ? TIME : process.execPath;
  const bin = options.bin ?? BIN;
  const argv = useTime ? ['-f', '%M %U %S', '-o', timeFile, process.execPath, bin, ...args] : [bin, ...args];
  const started = performance.now();
  const child = spawn(command, argv, { cwd: options.cwd ?? REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let polledKb = 0;
  const poll = useTime
    ? undefined
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) polledKb = Math.max(polledKb, Number(m[1]));
        } catch {
          // exited between two polls
        }
      }, 20);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  const wallMs = performance.now() - started;
  if (poll) clearInterval(poll);
  let maxRssMb = polledKb / 1024;
  let cpuMs: number | undefined;
  if (useTime) {
    const [kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    maxRssMb = kb / 1024;
    cpuMs = (user + sys) * 1000;
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, stdout, stderr, wallMs, maxRssMb, cpuMs };
}

/** The `--json` summary a run printed last on stdout. */
export function summaryOf(run: Measured): ImportStats {
  const line = run.stdout.trim().split('\n').pop();
  if (run.code === null || !line?.startsWith('{')) throw new Error(`no --json summary (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
  return JSON.parse(line) as ImportStats;
}

/** Polls `sample` every `everyMs` while `during` runs; returns the samples with their times (ms since start). */
export async function sampleWhile<T, R>(sample: () => Promise<T>, everyMs: number, during: Promise<R>): Promise<{ result: R; samples: Array<{ atMs: number; value: T }> }> {
  const samples: Array<{ atMs: number; value: T }> = [];
  const started = performance.now();
  let done = false;
  const loop = (async () => {
    while (!done) {
      const value = await sample();
      samples.push({ atMs: performance.now() - started, value });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  const result = await during.finally(() => (done = true));
  await loop;
  return { result, samples };
}
