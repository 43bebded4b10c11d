/**
 * `npm run bench -- late-creates`: the late-create torture table (issue 21). An
 * emulator that accepts duplicate emails holds one create in five for D × --timeout
 * (300 ms) before applying it; each D is run with and without kill -9 + --resume.
 * The same trial is asserted by test/cli/late-creates-e2e.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LATE_FACTORS, lateCreateTrial, lateTable, type Cleanup, type LateTrial } from '../test/helpers/late-creates.js';

export const title = 'Late creates: duplicates and lost rows when Pylon applies a create D × --timeout after it was sent';

export async function run(): Promise<string> {
  const teardowns: Array<() => unknown> = [];
  const cleanup: Cleanup = { teardown: (fn) => void teardowns.push(fn) };
  const dir = mkdtempSync(join(tmpdir(), 'pylon-bench-late-'));
  const trials: LateTrial[] = [];
  try {
    for (const kill of [false, true]) for (const factor of LATE_FACTORS) trials.push(await lateCreateTrial(cleanup, dir, factor, kill));
    for (const kill of [false, true]) trials.push(await lateCreateTrial(cleanup, dir, 5, kill, ['--idempotency-key', 'external-id']));
  } finally {
    for (const fn of teardowns.reverse()) await fn();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    `60 rows, --timeout 300 ms, default flags otherwise; one create in five held for D × --timeout by a proxy in front of an emulator with duplicateEmail allow.`,
    '',
    lateTable(trials),
  ].join('\n');
}
