/**
 * createEmulator(): a Pylon-compatible contacts API on a real HTTP server
 * (127.0.0.1, port 0 by default) over an in-memory store. See the README, section "Emulator".
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.js';
import { createFaultInjector } from './faults.js';
import { resolveEmulatorOptions, type EmulatorOptions, type EmulatorOptionsInput } from './options.js';
import { createOrg } from './org.js';
import { createPrng, uuidFrom } from './prng.js';
import { createRateLimiter } from './rate-limiter.js';
import { createPipeline } from './server.js';
import { seedFromFile, seedRandom } from './seed.js';
import { createStats, resetStats, snapshotStats, type EmulatorStats } from './stats.js';
import { ContactStore } from './store.js';

export type { EmulatorOptions, EmulatorOptionsInput, FaultOptions, RatePreset, LastPageCursor, RetryAfterHeader, RetryAfterFormat } from './options.js';
export { DEFAULT_TOKEN, DEFAULT_WINDOW_MS, RATE_PRESETS, resolveEmulatorOptions } from './options.js';
export type { EmulatorStats } from './stats.js';
export { ContactStore, type ContactSeed } from './store.js';
export { CODES, MSG } from './messages.js';
export { FAULT_HEADER } from './faults.js';
export { DEFAULT_ACCOUNTS, DEFAULT_CUSTOM_FIELDS, DEFAULT_ME } from './default-org.js';

export interface Emulator {
  /** e.g. http://127.0.0.1:40123 (no trailing slash): where a client on this machine reaches it (loopback for a wildcard host). */
  url: string;
  port: number;
  /** The first accepted token. */
  token: string;
  store: ContactStore;
  options: EmulatorOptions;
  stats(): EmulatorStats;
  resetStats(): void;
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new ConfigError('CONFIG_INVALID_OPTION', `Cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use: stop what holds it, or pass another --port (0 picks a free one)' : error.message}`, {
          option: '--port',
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function createEmulator(input: EmulatorOptionsInput = {}): Promise<Emulator> {
  const options = resolveEmulatorOptions(input);
  const org = createOrg(options);
  const ids = createPrng(options.seed);
  const store = new ContactStore(org, options, () => uuidFrom(ids));
  if (options.seedFile) await seedFromFile(store, options.seedFile);
  if (options.seedRandom > 0) seedRandom(store, options.seedRandom, createPrng(options.seed ^ 0x5eed5eed));

  const stats = createStats();
  const limiter = createRateLimiter(options.limits, options.windowMs, options.now);
  const pipeline = createPipeline({
    app: { options, store, org, churn: { done: 0, inserted: 0 } },
    stats,
    limiter,
    faults: createFaultInjector(options.faults, createPrng(options.seed ^ 0xfa017)),
    jitter: createPrng(options.seed ^ 0x1a7e),
  });
  const server = createServer({ keepAliveTimeout: 30_000 }, pipeline);
  await listen(server, options.host, options.port);
  const { port } = server.address() as AddressInfo;
  // A wildcard address (0.0.0.0, ::) is where the server listens, not an address to connect to: `url` is
  // where a client on this machine reaches it, on loopback, the one plain-http host the CLI sends a token to.
  const reach = options.host === '0.0.0.0' ? '127.0.0.1' : options.host === '::' ? '::1' : options.host;
  const host = reach.includes(':') ? `[${reach}]` : reach;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    token: options.tokens[0],
    store,
    options,
    stats: () => snapshotStats(stats),
    resetStats: () => {
      resetStats(stats);
      limiter.reset();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
