/** Synthetic import files for benchmarks, written as a stream (a million rows in seconds, little memory). */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const CSV_HEADER = 'name,email,portal_role,custom.tier';
const ROLES = ['member', 'admin', 'no_access'];
const TIERS = ['gold', 'silver', 'bronze', ''];

/**
 * `rows` contacts `bench-<i>@example.com`. With `changeEvery: 10`, every tenth row
 * asks for another portal role than the base file (a 10%-changed re-run).
 */
export async function writeContactsCsv(path: string, rows: number, options: { changeEvery?: number } = {}): Promise<void> {
  const out = createWriteStream(path);
  const chunk: string[] = [CSV_HEADER];
  for (let i = 0; i < rows; i++) {
    const changed = options.changeEvery !== undefined && i % options.changeEvery === 0;
    const role = ROLES[(i + (changed ? 1 : 0)) % ROLES.length];
    chunk.push(`Bench Person ${i},bench-${i}@example.com,${role},${TIERS[i % TIERS.length]}`);
    if (chunk.length >= 10_000) {
      if (!out.write(chunk.join('\n') + '\n')) await once(out, 'drain');
      chunk.length = 0;
    }
  }
  out.end(chunk.length ? chunk.join('\n') + '\n' : '');
  await once(out, 'close');
}
