/** The built CLI on a migration: a preset on an XLSX export, and its usage errors (exit 2, nothing written). */
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, REPO, envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

const XLSX_SAMPLE = join(REPO, 'samples', 'migrations', 'hubspot-contacts.xlsx');

test('import <hubspot xlsx> --from hubspot --default-country US: exit 0, 10 created, the notes on stderr', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const res = await runCli(['import', XLSX_SAMPLE, '--from', 'hubspot', '--default-country', 'US', '--rate', FAST_RATE, '--errors', join(dir, 'e.csv'), '--json'], { env: envFor(emulator) });
  t.is(res.code, 0, res.stderr);
  const stats = JSON.parse(res.stdout);
  t.like(stats, { total: 10, created: 10, failed: 0 });
  t.regex(res.stderr, /--from hubspot: map .*presets\/hubspot\.json/);
  t.regex(res.stderr, /accounts: 7 rows matched an account/);
  t.is(emulator.store.size, 10);
});

test('usage errors exit 2 before any write: unknown --from, unknown --default-country, bad --format, a CSV named .xlsx', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const cases: Array<[string[], RegExp]> = [
    [['import', XLSX_SAMPLE, '--from', 'pipedrive'], /--from.*expected one of .*got "pipedrive"/],
    [['import', XLSX_SAMPLE, '--from', 'hubspot', '--default-country', 'XX'], /--default-country.*got "XX"/],
    [['import', XLSX_SAMPLE, '--format', 'parquet'], /format/],
    [['import', join(REPO, 'samples', 'migrations', 'front-contacts.csv'), '--format', 'xlsx', '--from', 'front'], /not an XLSX workbook: it is a text file/],
  ];
  for (const [args, message] of cases) {
    const res = await runCli([...args, '--rate', FAST_RATE, '--errors', join(dir, 'e.csv')], { env: envFor(emulator) });
    t.is(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    t.regex(res.stderr, message);
  }
  t.is(writes(emulator), 0);
});
