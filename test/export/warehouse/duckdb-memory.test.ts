/**
 * DuckDB's memory cap for a load: when DuckDB runs out of it, the run fails
 * with a coded message that names the cap and the variable that raises it (no
 * stack trace, exit 1), nothing is loaded, and the same run with a higher cap
 * loads every contact.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';

async function tables(file: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1`)).getRows().map((r) => String(r[0]));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

test('a load past DuckDB memory cap fails clearly and loads nothing; PYLON_DUCKDB_MEMORY_LIMIT raises the cap', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 3000 });
  const dir = tempDir(t, 'pylon-duck-memory-');
  const db = join(dir, 'w.duckdb');
  const args = ['export', '--to', `duckdb:${db}`, '--rate', FAST_RATE, '--quiet', '--json'];
  const starved = await runCli(args, { env: { ...envFor(emulator), PYLON_DUCKDB_MEMORY_LIMIT: '1MB' } });
  t.is(starved.code, 1, starved.stderr);
  t.regex(starved.stderr, /LOAD_FAILED|Cannot load into duckdb:/);
  t.regex(starved.stderr, /DuckDB ran out of its memory cap \(1MB\).*raise the cap with PYLON_DUCKDB_MEMORY_LIMIT/);
  t.notRegex(starved.stderr, /^\s+at /m, 'no stack trace');
  if (existsSync(db)) t.false((await tables(db)).includes('contacts'), 'no contacts table was published');

  const fed = await runCli(args, { env: { ...envFor(emulator), PYLON_DUCKDB_MEMORY_LIMIT: '256MB' } });
  t.is(fed.code, 0, fed.stderr);
  const stats = JSON.parse(fed.stdout.trim().split('\n').pop()!) as { load: { inserted: number } };
  t.is(stats.load.inserted, 3000);
});

test('a PYLON_DUCKDB_MEMORY_LIMIT DuckDB cannot read is named in the error, with what to give instead; nothing is loaded', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 20 });
  const dir = tempDir(t, 'pylon-duck-memory-bad-');
  const db = join(dir, 'w.duckdb');
  const result = await runCli(['export', '--to', `duckdb:${db}`, '--rate', FAST_RATE, '--quiet', '--json'], { env: { ...envFor(emulator), PYLON_DUCKDB_MEMORY_LIMIT: 'lots' } });
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /DuckDB refused PYLON_DUCKDB_MEMORY_LIMIT=lots .*512MB or 1GB/);
  t.notRegex(result.stderr, /^\s+at /m, 'no stack trace');
  if (existsSync(db)) t.false((await tables(db)).includes('contacts'), 'no contacts table was published');
});
