// `npm test`: one PostgreSQL server for the whole suite instead of one per test file.
// Starts the embedded server (test/helpers/embedded-postgres.ts, so this runs under tsx), hands
// its URL to ava as PYLON_TEST_PG_URL, runs ava with this script's arguments, and stops the server
// when ava ends, fails or is interrupted (Ctrl-C, SIGTERM). Each test file that uses PostgreSQL
// creates its own database on that server and drops it at the end (test/helpers/postgres.ts), so
// the files stay isolated. PYLON_TEST_PG_URL already set: that server, nothing started. No embedded
// binaries for this platform: ava runs without the variable and those tests say why they skip.
//   node --import=tsx scripts/with-test-postgres.mjs [ava arguments]
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';

const avaCli = join(dirname(fileURLToPath(import.meta.resolve('ava'))), 'cli.mjs');
const env = { ...process.env };

let server;
if (!env.PYLON_TEST_PG_URL) {
  const { startEmbeddedPostgres } = await import('../test/helpers/embedded-postgres.ts');
  let started;
  try {
    started = await startEmbeddedPostgres();
  } catch (error) {
    console.error(`with-test-postgres: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  if ('url' in started) {
    server = started;
    env.PYLON_TEST_PG_URL = started.url;
    // Tells test/helpers/postgres.ts that this server is the suite's own, so a file may create its database on it.
    env.PYLON_TEST_PG_SHARED = '1';
  } else {
    console.error(`with-test-postgres: ${started.skip}`);
  }
}

const child = spawn(process.execPath, [avaCli, ...process.argv.slice(2)], { stdio: 'inherit', env });
// embedded-postgres exits the process on a signal once its server is stopped (async-exit-hook), which would
// leave ava running: this script decides instead, passing the signal on and stopping the server after ava.
let interrupted;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.removeAllListeners(signal);
  process.on(signal, () => {
    interrupted ??= signal;
    child.kill(signal);
  });
}

const code = await new Promise((resolve) => {
  child.once('error', (error) => {
    console.error(`with-test-postgres: cannot run ava: ${error.message}`);
    resolve(1);
  });
  child.once('exit', (exitCode, signal) => resolve(exitCode ?? 128 + (constants.signals[signal] ?? 0)));
});
try {
  await server?.stop();
} catch (error) {
  console.error(`with-test-postgres: stopping the PostgreSQL server: ${error instanceof Error ? error.message : String(error)}`);
}
process.exit(interrupted === 'SIGINT' ? 130 : code);
