/**
 * Emulator throughput, measured from this process against the emulator running
 * in a child process (`src/bin.ts emulator`, rate limits off), over keep-alive
 * connections: creates, gets, and 999-row list pages; then a 1,000,000-contact
 * store (seed time, a full export walk, an indexed email search).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const title = 'Emulator throughput (child process, keep-alive, rate limits off)';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'pylon-emulator-token';
const PHASE_MS = 3000;

interface Child {
  url: URL;
  process: ChildProcess;
  startupMs: number;
}

async function startEmulator(args: string[]): Promise<Child> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import=tsx', 'src/bin.ts', 'emulator', '--port', '0', '--rate-limits', 'off', '--random-seed', '1', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let out = '';
  for await (const chunk of child.stdout!) {
    out += chunk;
    const m = /PYLON_BASE_URL=(\S+)/.exec(out);
    if (m) return { url: new URL(m[1]), process: child, startupMs: performance.now() - started };
  }
  throw new Error(`emulator did not start: ${stderr}`);
}

async function stopEmulator(child: Child): Promise<void> {
  child.process.kill('SIGTERM');
  if (child.process.exitCode === null) await once(child.process, 'exit');
}

interface Reply {
  status: number;
  body: string;
}

function makeClient(base: URL, sockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const send = (method: string, path: string, body?: unknown): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { send, close: () => agent.destroy() };
}

/** The next-page cursor from the tail of a page body, without parsing 400 kB of JSON. */
function nextCursor(body: string): string | undefined {
  const m = /"pagination":\{"cursor":"([^"]*)","has_next_page":true\}/.exec(body.slice(-300));
  return m ? m[1] : undefined;
}

interface Phase {
  requests: number;
  seconds: number;
  latencies: number[];
}

/** Runs `work` from `concurrency` loops for `ms` (or until `done()`); every answer must be 200. */
async function phase(concurrency: number, ms: number, work: (i: number) => Promise<Reply>, done: () => boolean = () => false): Promise<Phase> {
  const latencies: number[] = [];
  let n = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline && !done()) {
        const t0 = performance.now();
        const reply = await work(n++);
        latencies.push(performance.now() - t0);
        if (reply.status !== 200) throw new Error(`unexpected ${reply.status}: ${reply.body.slice(0, 200)}`);
      }
    }),
  );
  return { requests: latencies.length, seconds: (performance.now() - started) / 1000, latencies };
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function row(name: string, concurrency: number, p: Phase): string {
  return `| ${name} | ${concurrency} | ${fmt(p.requests)} | **${fmt(p.requests / p.seconds)}** | ${fmt(pct(p.latencies, 50), 2)} | ${fmt(pct(p.latencies, 99), 2)} |`;
}

export async function run(): Promise<string> {
  const lines: string[] = [];
  const small = await startEmulator(['--seed-random', '100000']);
  try {
    const c = makeClient(small.url, 32);
    // warm up the JIT on both sides
    await phase(8, 500, (i) => c.send('POST', '/contacts', { name: `Warm ${i}`, email: `warm${i}@bench.example` }));
    const ids: string[] = [];
    const create = await phase(16, PHASE_MS, async (i) => {
      const reply = await c.send('POST', '/contacts', {
        name: `Bench ${i}`,
        email: `bench${i}@bench.example`,
        account_external_id: 'acme',
        custom_fields: [{ slug: 'tier', value: 'gold' }],
      });
      if (ids.length < 20_000) ids.push(/"id":"([^"]+)"/.exec(reply.body)?.[1] ?? '');
      return reply;
    });
    const get = await phase(16, PHASE_MS, (i) => c.send('GET', `/contacts/${ids[(i * 7919) % ids.length]}`));
    // First pass over the whole store: every contact is serialized once.
    let cursor: string | undefined;
    let bytes = 0;
    let walking = true;
    const firstPass = await phase(1, 60_000, async () => {
      const reply = await c.send('GET', `/contacts?limit=999${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = nextCursor(reply.body);
      bytes ||= reply.body.length;
      walking = cursor !== undefined;
      return reply;
    }, () => !walking);
    // Then pages whose JSON is cached, as any page read twice.
    const pageOne = await phase(1, PHASE_MS / 2, async () => {
      const reply = await c.send('GET', `/contacts?limit=999${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = nextCursor(reply.body);
      return reply;
    });
    const cursors: Array<string | undefined> = [];
    const pageFour = await phase(4, PHASE_MS / 2, async (i) => {
      const reply = await c.send('GET', `/contacts?limit=999${cursors[i % 4] ? `&cursor=${cursors[i % 4]}` : ''}`);
      cursors[i % 4] = nextCursor(reply.body);
      return reply;
    });
    c.close();
    lines.push(
      `Store: 100,000 random contacts (+ the creates). Each phase runs ${PHASE_MS / 1000} s (pages ${PHASE_MS / 2000} s); latency is client-side, in ms.`,
      '',
      '| request | concurrency | requests | req/s | p50 ms | p99 ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      row('POST /contacts (create)', 16, create),
      row('GET /contacts/{id}', 16, get),
      row('GET /contacts?limit=999, first read of the seeded contacts', 1, firstPass),
      row('GET /contacts?limit=999, pages read before', 1, pageOne),
      row('GET /contacts?limit=999, pages read before', 4, pageFour),
      '',
      `A 999-row page is ${fmt(bytes / 1024)} KiB. At concurrency 1 a page takes ${fmt(pct(firstPass.latencies, 50), 2)} ms (p50) from request to last byte the first time its contacts are serialized, ${fmt(
        pct(pageOne.latencies, 50),
        2,
      )} ms once their JSON is cached: ${fmt((999 * firstPass.requests) / firstPass.seconds)} and ${fmt((999 * pageOne.requests) / pageOne.seconds)} contacts/s exported.`,
    );
  } finally {
    await stopEmulator(small);
  }

  const big = await startEmulator(['--seed-random', '1000000']);
  try {
    const c = makeClient(big.url, 4);
    const walkStarted = performance.now();
    let pages = 0;
    let cursor: string | undefined;
    const pageMs: number[] = [];
    const sample: string[] = [];
    do {
      const t0 = performance.now();
      const reply = await c.send('GET', `/contacts?limit=999${cursor ? `&cursor=${cursor}` : ''}`);
      pageMs.push(performance.now() - t0);
      if (reply.status !== 200) throw new Error(`page ${pages} failed: ${reply.status}`);
      cursor = nextCursor(reply.body);
      if (pages % 20 === 0) sample.push(...(JSON.parse(reply.body).data as Array<{ email: string }>).slice(0, 100).map((x) => x.email));
      pages += 1;
    } while (cursor);
    const walkSeconds = (performance.now() - walkStarted) / 1000;
    const again: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      await c.send('GET', '/contacts?limit=999');
      again.push(performance.now() - t0);
    }
    const searchMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const emails = sample.slice(i * 100, i * 100 + 100).map((e) => e.toUpperCase());
      const t0 = performance.now();
      const reply = await c.send('POST', '/contacts/search', { filter: { field: 'email', operator: 'in', values: emails }, limit: 999 });
      searchMs.push(performance.now() - t0);
      if (reply.status !== 200 || JSON.parse(reply.body).data.length !== emails.length) throw new Error(`search failed: ${reply.status}`);
    }
    c.close();
    lines.push(
      '',
      `Store: 1,000,000 random contacts (\`--seed-random 1000000\`): the child process was serving after ${fmt(big.startupMs / 1000, 1)} s (seeding included).`,
      '',
      '| measurement | result |',
      '| --- | ---: |',
      `| full export walk, ${fmt(pages)} pages of 999 (first serialization of every contact) | ${fmt(walkSeconds, 1)} s, ${fmt(1_000_000 / walkSeconds)} contacts/s, page p50 ${fmt(pct(pageMs, 50), 2)} ms |`,
      `| first page again, 100 times (cached JSON) | p50 ${fmt(pct(again, 50), 2)} ms, p99 ${fmt(pct(again, 99), 2)} ms |`,
      `| search \`email in [100 addresses]\` (upper-cased, 100 hits) via the email index | p50 ${fmt(pct(searchMs, 50), 2)} ms, p99 ${fmt(pct(searchMs, 99), 2)} ms |`,
    );
  } finally {
    await stopEmulator(big);
  }
  return lines.join('\n');
}
