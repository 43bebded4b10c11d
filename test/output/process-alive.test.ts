/**
 * A killed run whose parent has not reaped it yet is a zombie (state Z): it runs no more, so its run lock is
 * stale and the next run takes it over. Real processes: `sh` starts a `sleep` in the background and then
 * becomes a `sleep` itself (exec), which never reaps its child; the test kills that child with SIGKILL.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../src/output/process-alive.js';
import { lockJournal, lockPathFor } from '../../src/run/journal-lock.js';

const state = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 1).trim()[0];
  } catch {
    return undefined;
  }
};

/** A process killed with SIGKILL whose parent does not reap it: its pid, a zombie. */
async function zombie(t: import('ava').ExecutionContext): Promise<number> {
  const parent = spawn('sh', ['-c', 'sleep 600 & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => parent.kill('SIGKILL'));
  const [chunk] = (await once(parent.stdout!, 'data')) as [Buffer];
  const pid = Number(chunk.toString().trim());
  t.true(processAlive(pid), 'the running child is alive');
  process.kill(pid, 'SIGKILL');
  // Waits for the kernel to mark it: the state changes once the kill is delivered.
  while (state(pid) !== 'Z') await new Promise((resolve) => setImmediate(resolve));
  return pid;
}

test('processAlive: a zombie (killed, not reaped) is not alive; a running process and this one are', async (t) => {
  if (!existsSync('/proc/self/stat')) return t.pass('no /proc');
  const pid = await zombie(t);
  t.false(processAlive(pid));
  t.true(processAlive(process.pid));
  t.true(processAlive(process.ppid));
});

test('the run lock of a zombie is stale: the next run takes it over', async (t) => {
  if (!existsSync('/proc/self/stat')) return t.pass('no /proc');
  const pid = await zombie(t);
  const journal = join(mkdtempSync(join(tmpdir(), 'pylon-zombie-lock-')), '.c.journal.jsonl');
  writeFileSync(lockPathFor(journal), JSON.stringify({ pid, host: (await import('node:os')).hostname(), at: new Date().toISOString() }) + '\n');
  const release = lockJournal(journal);
  t.is(JSON.parse(readFileSync(lockPathFor(journal), 'utf8')).pid, process.pid, 'taken over');
  release();
  t.false(existsSync(lockPathFor(journal)));
});
