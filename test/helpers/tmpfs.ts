/**
 * Real full disks for tests: a small tmpfs mounted in the test's own folder (root with mount
 * rights, as CI runs). Where mounting is not allowed, tests that need one are skipped and say so
 * in their title, never passed.
 */
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './cli.js';

/** Whether this machine lets a test mount a tmpfs: probed once per test file. */
export const canMountTmpfs: boolean = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-mount-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', dir]).status === 0;
  if (ok) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return ok;
})();

/** The end of a title for a test that needs a tmpfs, where none can be mounted. */
export const tmpfsSkipNote = canMountTmpfs ? '' : ' [skipped: cannot mount a tmpfs here (needs root and mount rights)]';

/**
 * A tmpfs of `size` (`64k`, `4k`…) in a fresh folder of the test's, unmounted at teardown, with
 * only `free` bytes left when given (a filler file takes the rest); undefined where it cannot be mounted.
 */
export function mountTmpfs(t: ExecutionContext, size: string, free?: number): string | undefined {
  const dir = join(tempDir(t, 'pylon-full-'), 'disk');
  mkdirSync(dir);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status !== 0) return undefined;
  t.teardown(() => void spawnSync('umount', [dir]));
  if (free !== undefined) writeFileSync(join(dir, 'filler'), Buffer.alloc(parseSize(size) - free));
  return dir;
}

function parseSize(size: string): number {
  const match = /^(\d+)([km]?)$/.exec(size);
  if (!match) throw new Error(`a tmpfs size such as 64k, not ${size}`);
  return Number(match[1]) * (match[2] === 'k' ? 1024 : match[2] === 'm' ? 1024 * 1024 : 1);
}
