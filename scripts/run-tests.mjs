// `npm test`: runs ava once over the whole suite with what its files share made once:
// - the TypeScript of src/ and test/, compiled into .test-build/ (scripts/compile-tests.mjs), so the
//   workers load JavaScript instead of each starting tsx (PYLON_TEST_BUILD tells ava.config.js); test
//   files named on the command line (test/cli/help.test.ts) are mapped to their compiled copies;
// - one PostgreSQL server instead of one per test file: the embedded server
//   (test/helpers/embedded-postgres.ts, so this runs under tsx), its URL handed to ava as
//   PYLON_TEST_PG_URL, stopped when ava ends, fails or is interrupted (Ctrl-C, SIGTERM). Each test file
//   that uses PostgreSQL creates its own database on it and drops it at the end
//   (test/helpers/postgres.ts), so the files stay isolated. PYLON_TEST_PG_URL already set: that server,
//   nothing started. No embedded binaries for this platform: ava runs without the variable and those
//   tests say why they skip.
//   node --import=tsx scripts/run-tests.mjs [ava arguments]
import { spawn } from 'node:child_process';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';

const avaCli = join(dirname(fileURLToPath(import.meta.resolve('ava'))), 'cli.mjs');
const env = { ...process.env };

// Without esbuild (a devDependency) the workers run the sources under tsx, as `npx ava` does.
let avaArgs = process.argv.slice(2);
try {
  const { compileTests } = await import('./compile-tests.mjs');
  const build = await compileTests();
  env.PYLON_TEST_BUILD = relative(process.cwd(), build).split(sep).join('/');
  avaArgs = avaArgs.map((arg) => (/^(\.\/)?test\//.test(arg) ? `${env.PYLON_TEST_BUILD}/${arg.replace(/^\.\//, '').replace(/\.ts$/, '.js')}` : arg));
} catch (error) {
  console.error(`run-tests: the tests run under tsx (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
}

let server;
if (!env.PYLON_TEST_PG_URL) {
  const { startEmbeddedPostgres } = await import('../test/helpers/embedded-postgres.ts');
  let started;
  try {
    started = await startEmbeddedPostgres();
  } catch (error) {
    console.error(`run-tests: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  if ('url' in started) {
    server = started;
    env.PYLON_TEST_PG_URL = started.url;
    // Tells test/helpers/postgres.ts that this server is the suite's own, so a file may create its database on it.
    env.PYLON_TEST_PG_SHARED = '1';
  } else {
    console.error(`run-tests: ${started.skip}`);
  }
}

const child = spawn(process.execPath, [avaCli, ...avaArgs], { stdio: 'inherit', env });
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
    console.error(`run-tests: cannot run ava: ${error.message}`);
    resolve(1);
  });
  child.once('exit', (exitCode, signal) => resolve(exitCode ?? 128 + (constants.signals[signal] ?? 0)));
});
try {
  await server?.stop();
} catch (error) {
  console.error(`run-tests: stopping the PostgreSQL server: ${error instanceof Error ? error.message : String(error)}`);
}
process.exit(interrupted === 'SIGINT' ? 130 : code);
