/**
 * The torture test (issue 11): an import killed with SIGKILL at random moments,
 * resumed again and again, against a server that accepts duplicate emails,
 * applies some creates only after the client has given up on them, and fails 5%
 * of requests. Whatever the kill points, every valid row ends as exactly one
 * contact, and every input line has exactly one outcome in the final reports.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { ImportStats } from '../../src/import/run-import.js';
import { createPrng } from '../../src/emulator/prng.js';
import { emailOf, envFor, FAST_RATE, LATE, notExactlyOnce, runCli, spawnCli, startEmulator, startFaultProxy, tempDir } from '../helpers/cli.js';

test('kill -9 at random moments, late creates and 5% faults: no duplicate, no row lost, every line reported once', async (t) => {
  const seed = Number(process.env.TORTURE_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.log(`seed ${seed} (rerun with TORTURE_SEED=${seed})`);
  const prng = createPrng(seed);
  const emulator = await startEmulator(t, { duplicateEmail: 'allow', faults: { errorRate: 0.05 }, seed });
  // One create in eight is held until the client has given up on it (its --timeout, or the kill), then applied all the same.
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => (method === 'POST' && path === '/contacts' && prng.int(8) === 0 ? LATE : undefined));
  const rows = 240;
  const invalid = new Set([5, 50, 120, 199]); // rows with a bad email
  const lines = ['name,email'];
  for (let i = 0; i < rows; i++) lines.push(`Person ${i},${invalid.has(i) ? `broken-${i}` : emailOf('torture', i)}`);
  const dir = tempDir(t);
  const input = join(dir, 'contacts.csv');
  writeFileSync(input, lines.join('\n') + '\n');
  const results = join(dir, 'results.csv');
  const args = ['import', input, '--json', '-q', '--rate', FAST_RATE, '--timeout', '2000', '--concurrency', '6', '--lookup-batch', '20', '--results', results];

  const journal = join(dir, '.contacts.journal.jsonl');
  let kills = 0;
  for (let cycle = 0; cycle < 4; cycle++) {
    // A kill before the journal was started leaves nothing to resume: the next run starts afresh.
    const run = spawnCli(existsSync(journal) ? [...args, '--resume'] : args, { env: envFor(proxy) });
    // Kill once 1 to 40 more contacts are stored (mid-write, whatever the machine's speed), or let it finish.
    const at = emulator.store.size + 1 + prng.int(40);
    let finished = false;
    void run.result.then(() => (finished = true));
    while (!finished && emulator.store.size < at) await new Promise((resolve) => setTimeout(resolve, 3));
    if (!finished) run.child.kill('SIGKILL');
    const result = await run.result;
    if (result.signal === 'SIGKILL') {
      kills++;
      t.log(`cycle ${cycle}: killed once ${at} contacts were stored (${emulator.store.size} by the time it died)`);
      continue;
    }
    t.log(`cycle ${cycle}: the run finished before its kill (exit ${result.code})`);
    break;
  }
  // A finished run removed its journal: then a plain run checks everything again (and changes nothing).
  const final = await runCli(existsSync(journal) ? [...args, '--resume'] : args, { env: envFor(proxy) });
  t.is(final.code, 3, final.stderr); // the bad emails fail; nothing else does
  const stats = JSON.parse(final.stdout.trim().split('\n').pop()!) as ImportStats;
  t.log(`kills ${kills}; final: created ${stats.created}, updated ${stats.updated}, unchanged ${stats.unchanged}, failed ${stats.failed}, resumed ${stats.resumed}; server faults ${emulator.stats().faultsInjected}`);
  t.like(stats, { total: rows, failed: invalid.size, notProcessed: 0, duplicatesCreated: [] });

  const valid = Array.from({ length: rows }, (_, i) => i).filter((i) => !invalid.has(i));
  t.deepEqual(notExactlyOnce(emulator, valid.map((i) => emailOf('torture', i))), [], 'every valid row is exactly one contact');
  t.is(emulator.store.size, valid.length, 'no duplicate, nothing else');

  const reported = (parse(readFileSync(results, 'utf8'), { columns: true, bom: true }) as Array<{ _line: string; _action: string }>).map((r) => Number(r._line));
  t.deepEqual([...reported].sort((a, b) => a - b), Array.from({ length: rows }, (_, i) => i + 2), 'every input line exactly once in the results');
  const errors = parse(readFileSync(join(dir, 'contacts.errors.csv'), 'utf8'), { columns: true, bom: true }) as Array<{ _line: string }>;
  t.deepEqual(errors.map((r) => Number(r._line)).sort((a, b) => a - b), [...invalid].map((i) => i + 2));
});
