/**
 * End-to-end helpers: spawn the built CLI (`node dist/bin.js …`) as a real child
 * process, and run an emulator in the test process so a test can read its stats
 * and store while the child talks to it over a real socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { ENDPOINTS } from '../../src/config.js';
import { createEmulator, FAULT_HEADER, type Emulator, type EmulatorOptionsInput } from '../../src/emulator/index.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(REPO, 'dist', 'bin.js');
/**
 * Node arguments that run the CLI from the sources (src/bin.ts, packages from node_modules, nothing
 * bundled): the copy `npm test` compiled into .test-build/ (PYLON_TEST_BUILD), else src/bin.ts under tsx.
 */
export const SOURCE_BIN: readonly string[] = process.env.PYLON_TEST_BUILD
  ? [join(REPO, process.env.PYLON_TEST_BUILD, 'src', 'bin.js')]
  : ['--import=tsx', join(REPO, 'src', 'bin.ts')];

/** A token distinctive enough to search every written file for. */
export const TOKEN = 'tok-SECRET-c0ffee-5e1f-import-e2e';

/** Client pacing so high it never waits: for tests that are not about rate limits. */
export const FAST_RATE = ENDPOINTS.map((e) => `${e}=100000`).join(',');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment; the child gets PATH/HOME from this process and nothing Pylon-related unless given here. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to the child's stdin, then closed. Without it stdin is closed at once. */
  stdin?: string | Buffer;
  /**
   * A safety net for a hung child, not a limit on a slow one: after this long the child is killed (SIGKILL) and
   * `result` rejects with its command line and the tail of its stderr, so the test fails saying where it hung (a
   * killed child must not pass for one a test stopped with SIGKILL). Default 540 s, below ava's 10 min of
   * silence: at a load of 44 a resumed import of 300 rows in resume-e2e, seconds alone, was at row 265 after 300 s,
   * the file's 22 tests and their emulators sharing one starved test process.
   */
  timeoutMs?: number;
}

export interface CliProcess {
  /** The child: send it signals with `child.kill(…)`. */
  child: ChildProcess;
  result: Promise<CliResult>;
}

/** Audit records of the children go here, never to the real ~/.local/state (removed when the tests end). */
export const AUDIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'pylon-e2e-state-'));
process.once('exit', () => rmSync(AUDIT_STATE_DIR, { recursive: true, force: true }));

function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT', 'LANG'];
  const env: Record<string, string> = { XDG_STATE_HOME: AUDIT_STATE_DIR };
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  return env;
}

/** The default of `CliOptions.timeoutMs`. */
export const CLI_TIMEOUT_MS = 540_000;

/** Children still running: killed when this test process exits, so that none outlives its test file. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The last `lines` lines of `text`, for a message. */
function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? ['…', ...all.slice(-lines)] : all).join('\n');
}

export function spawnCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const env = { ...baseEnv(), ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.on('error', () => undefined); // the child may exit before reading stdin
  child.stdin!.end(options.stdin ?? '');
  live.add(child);
  // A safety net for a hung child, well past what a busy machine needs; a test ends on the child's exit, not on this.
  const timeoutMs = options.timeoutMs ?? CLI_TIMEOUT_MS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      live.delete(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (timedOut) {
        reject(new Error(`pylon-contacts ${args.join(' ')} was still running after ${timeoutMs / 1000} s and was killed; its stderr ended with:\n${tail(stderr) || '(nothing)'}`));
        return;
      }
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, result };
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).result;
}

/** An emulator in this process (token TOKEN, no rate limits unless asked), closed after the test. */
export async function startEmulator(t: ExecutionContext, options: EmulatorOptionsInput = {}): Promise<Emulator> {
  const emulator = await createEmulator({ tokens: [TOKEN], rateLimits: 'off', seed: 1, ...options });
  t.teardown(() => emulator.close());
  return emulator;
}

/** The environment that points the CLI at an emulator. */
export function envFor(target: { url: string }, token = TOKEN): Record<string, string> {
  return { PYLON_BASE_URL: target.url, PYLON_API_TOKEN: token };
}

/** A fresh directory under os.tmpdir(), removed after the test. */
export function tempDir(t: ExecutionContext, prefix = 'pylon-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir`, recursively (hidden ones included). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

/** A CSV of `count` new contacts: `name,email,portal_role`, emails `<prefix>-<i>@example.com`. */
export function contactsCsv(count: number, prefix = 'row'): string {
  const lines = ['name,email,portal_role'];
  for (let i = 0; i < count; i++) lines.push(`Person ${i},${emailOf(prefix, i)},${i % 3 === 0 ? 'member' : ''}`);
  return lines.join('\n') + '\n';
}

export const emailOf = (prefix: string, i: number) => `${prefix}-${i}@example.com`;

/** How many contacts of the store hold each (lower-cased) primary email. */
function emailCounts(emulator: Emulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of emulator.store.all()) {
    const e = (c.email ?? '').toLowerCase();
    counts.set(e, (counts.get(e) ?? 0) + 1);
  }
  return counts;
}

/** Every email of `expected` is in the store exactly once; returns the offenders otherwise. */
export function notExactlyOnce(emulator: Emulator, expected: readonly string[]): string[] {
  const counts = emailCounts(emulator);
  return expected.filter((e) => counts.get(e.toLowerCase()) !== 1).map((e) => `${e}×${counts.get(e.toLowerCase()) ?? 0}`);
}

/** Write calls the emulator received. */
export function writes(emulator: Emulator): number {
  const { requests } = emulator.stats();
  return requests.create + requests.patch + requests.delete;
}

/**
 * A fault proxy that stops a run partway as a token revoked mid-run does: the second create meets a 503 and
 * every create after it (its retry first) a 401, so the run stops with the rows before it done and journaled.
 * `restore()` lets every request through again, for the `--resume`.
 */
export async function startRevokingProxy(t: ExecutionContext, target: { url: string }): Promise<FaultProxy & { restore(): void }> {
  let creates = 0;
  let revoked = true;
  const proxy = await startFaultProxy(t, target, ({ method, path }) => {
    if (!revoked || method !== 'POST' || path !== '/contacts') return undefined;
    creates++;
    return creates === 2 ? 'status=503' : creates > 2 ? 'status=401' : undefined;
  });
  return Object.assign(proxy, { restore: () => void (revoked = false) });
}

export interface FaultProxy {
  url: string;
  /** Requests forwarded with a fault header, by rule answer. */
  readonly injected: string[];
  close(): Promise<void>;
}

/** A fault proxy rule's answer for a request held until the client gives up on it, then applied (a late create). */
export const LATE = 'late';

/**
 * A real HTTP proxy in front of `target` that adds the emulator's fault header
 * (`x-emulator-fault`) to the requests `rule` picks, e.g. `drop=after` on the
 * first create of an email: the emulator applies it and closes the connection. An async rule holds the
 * request until it settles. `LATE` is the proxy's own: the request is held until the client closes its
 * connection (its request timed out, or it was killed), and only then sent on.
 */
export async function startFaultProxy(
  t: ExecutionContext,
  target: { url: string },
  rule: (req: { method: string; path: string; body: string }) => string | undefined | Promise<string | undefined>,
): Promise<FaultProxy> {
  const upstream = new URL(target.url);
  const injected: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      // A rule may first act on the emulator (delete an account before a write reaches it): the request waits for it.
      const fault = await rule({ method: req.method ?? 'GET', path: req.url ?? '/', body: body.toString('utf8') });
      const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
      if (fault === LATE) {
        // Held until the client gives up on it (its --timeout, or the process killed), then applied: a create
        // that lands after the client stopped waiting, however fast or slow the machine.
        injected.push(fault);
        const apply = () => request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => answer.resume()).on('error', () => undefined).end(body);
        if (req.socket.destroyed) apply();
        else req.socket.once('close', apply);
        return;
      }
      if (fault) {
        headers[FAULT_HEADER] = fault;
        injected.push(fault);
      }
      const out = request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => {
        // The emulator dropped the connection: drop ours too, so the client sees the same.
        res.destroy();
        req.socket.destroy();
      });
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  t.teardown(close);
  return { url: `http://127.0.0.1:${port}`, injected, close };
}

/** The `--json` summary: the last line of stdout. */
export function statsOf<T = import('../../src/import/run-import.js').ImportStats>(result: CliResult): T {
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`no JSON summary on stdout (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** stderr without the last line a run-level error ends with (`pylon-contacts: error <CODE> (exit <n>; …)`), for tests that compare the message itself. */
export function withoutCodeLine(stderr: string): string {
  return stderr.replace(/^pylon-contacts: error [A-Z_]+ \(exit \d+; see docs\/errors\.md\)\n$/m, '');
}

/** A loopback port nothing listens on: bound, then closed (a connection to it is refused at once). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
