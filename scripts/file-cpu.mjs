// Per-file cost of the suite: with PYLON_TEST_CPU_LOG=<file>, ava.config.js preloads this module in
// every worker (one process per test file). When the worker exits it appends one line to that file:
// CPU seconds (its own user + system time and that of the children it waited for: the CLI children of
// end-to-end tests, npm in the install test), wall seconds since the worker started, and the test file.
// The shared PostgreSQL server is the runner's child and is counted in no file. Linux only (/proc).
//   PYLON_TEST_CPU_LOG=/tmp/cpu.tsv npm test; sort -rn /tmp/cpu.tsv | head -20
import { appendFileSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';

const log = process.env.PYLON_TEST_CPU_LOG;
if (log) {
  // ava tells the worker its file over IPC; the worker's module hooks see it being loaded, which is simpler to listen to.
  const { port1, port2 } = new MessageChannel();
  let testFile = '';
  port1.on('message', (url) => (testFile ||= url));
  port1.unref();
  register('./file-cpu-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
  process.once('exit', () => {
    try {
      // /proc/self/stat: after "(comm)", the 12th to 15th fields are utime, stime, cutime, cstime, in clock ticks (100 a second).
      const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
      const cpu = fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / 100;
      const file = testFile ? relative(process.cwd(), fileURLToPath(testFile)) : `pid ${process.pid}`;
      appendFileSync(log, `${cpu.toFixed(1)}\t${process.uptime().toFixed(1)}\t${file}\n`);
    } catch {
      // A measurement, never a reason for a test file to fail.
    }
  });
}
