/**
 * End-to-end: a dry run's planned calls are the calls the real run then makes, the search the real run
 * makes after its first create (to measure how long search takes to show a new contact) included.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import type { ImportStats } from '../../src/import/run-import.js';

for (const lookup of ['search', 'list'] as const) {
  test(`--dry-run --lookup ${lookup} plans the calls the real run makes`, async (t) => {
    const emulator = await startEmulator(t);
    for (let i = 0; i < 10; i++) emulator.store.insert({ name: `Old ${i}`, email: `old${i}@calls.example` } as never);
    const dir = tempDir(t);
    const input = join(dir, 'mix.csv');
    const rows = [...Array.from({ length: 30 }, (_, i) => `New ${i},new${i}@calls.example`), ...Array.from({ length: 10 }, (_, i) => `Renamed ${i},old${i}@calls.example`)];
    writeFileSync(input, ['name,email', ...rows].join('\n') + '\n');
    const run = async (extra: string[]) => {
      const res = await runCli(['import', input, '--rate', FAST_RATE, '--json', '-q', '--no-undo', '--lookup', lookup, ...extra], { env: envFor(emulator), cwd: dir });
      t.is(res.code, 0, res.stderr);
      return JSON.parse(res.stdout) as ImportStats;
    };
    const dry = await run(['--dry-run']);
    const real = await run([]);
    t.like(real, { created: 30, updated: 10 });
    const made = Object.fromEntries(Object.entries(real.calls).filter(([, n]) => n > 0));
    t.deepEqual(dry.plannedCalls, made);
  });
}
