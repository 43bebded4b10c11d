import { readFileSync } from 'node:fs';

/**
 * Whether a process with this id runs (EPERM: it runs, as another user). A zombie (a process that ended
 * but that its parent has not reaped yet: state Z in /proc/<pid>/stat) does not run: the lock or temp file
 * it left is stale.
 */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !ended(pid);
}

/** Linux: the state after the command's closing parenthesis is Z (zombie) or X (dead). Elsewhere (no /proc): not known as ended. */
function ended(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 1).trim()[0];
  return state === 'Z' || state === 'X';
}
