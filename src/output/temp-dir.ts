import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from './process-alive.js';

/**
 * Scratch folders under the system temp folder, named for the process that owns
 * them (`pylon-contacts-<kind>-<pid>-XXXXXX`). A process killed with -9 cannot
 * clean up, so every run first removes the folders of processes that no longer
 * run: personal data spooled by a dead run does not outlive the next one.
 */
const NAME = /^pylon-contacts-[a-z]+-(\d+)-/;

export function createTempDir(kind: string): string {
  sweepDeadTempDirs();
  return mkdtempSync(join(tmpdir(), `pylon-contacts-${kind}-${process.pid}-`));
}


/** Removes the scratch folders of processes that no longer run; returns how many. */
export function sweepDeadTempDirs(root = tmpdir()): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const m = NAME.exec(entry);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(join(root, entry), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
