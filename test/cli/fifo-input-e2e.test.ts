/**
 * End-to-end (the built CLI as a child process, a real FIFO made with mkfifo and
 * filled by another process): an input given by path that can be read only once
 * loses no row to the row estimate, the journal's fingerprint or a second pass.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, contactsCsv, emailOf, envFor, notExactlyOnce, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const ROWS = 3000; // about 100 KiB: more than the 64 KiB a row estimate reads

for (const extra of [[], ['--on-duplicate', 'last']]) {
  test(`a FIFO given by path: every row is imported exactly once${extra.length ? ` (${extra.join(' ')}: a pre-scan pass too)` : ''}`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const source = join(dir, 'contacts.csv');
    writeFileSync(source, contactsCsv(ROWS, 'fifo'));
    const fifo = join(dir, 'contacts.fifo');
    execFileSync('mkfifo', [fifo]);
    // The writer opens the FIFO and blocks until the import opens it for reading.
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'writer', source, fifo], { stdio: 'ignore' });
    const written = once(writer, 'exit');
    t.teardown(() => {
      if (writer.exitCode === null) writer.kill('SIGKILL');
    });

    // 3,000 creates: a few seconds alone; at a load average of 30 the default 150 s limit was reached once.
    const result = await runCli(['import', fifo, '--json', '-q', '--rate', FAST_RATE, ...extra], { env: envFor(emulator), cwd: dir, timeoutMs: 400_000 });
    t.is(result.code, 0, result.stderr);
    t.like(statsOf(result), { total: ROWS, created: ROWS, failed: 0, notProcessed: 0 });
    const [code] = await written;
    t.is(code, 0, 'the writer wrote everything (no reader closed the FIFO early)');
    t.deepEqual(notExactlyOnce(emulator, Array.from({ length: ROWS }, (_, i) => emailOf('fifo', i))), []);
  });
}

test('a FIFO named x.ndjson is read as NDJSON, as a file of that name is (its scratch copy keeps the extension)', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const source = join(dir, 'people.ndjson');
  writeFileSync(source, Array.from({ length: 5 }, (_, i) => JSON.stringify({ name: `Fifo ${i}`, email: emailOf('fifojson', i) })).join('\n') + '\n');
  const fifo = join(dir, 'people-pipe.ndjson');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'writer', source, fifo], { stdio: 'ignore' });
  const written = once(writer, 'exit');
  t.teardown(() => {
    if (writer.exitCode === null) writer.kill('SIGKILL');
  });
  const result = await runCli(['import', fifo, '--json', '-q', '--rate', FAST_RATE], { env: envFor(emulator), cwd: dir });
  t.is(result.code, 0, result.stderr);
  t.like(statsOf(result), { total: 5, created: 5, failed: 0 });
  await written;
  t.deepEqual(notExactlyOnce(emulator, Array.from({ length: 5 }, (_, i) => emailOf('fifojson', i))), []);
});
