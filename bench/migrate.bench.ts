/**
 * `npm run bench -- migrate`: the same 100,000 contacts as CSV, NDJSON and XLSX
 * (and as CSV through the migration transform), imported by the CLI (a child
 * process) into a fresh emulator with limits off. Rows/s is given as a ratio of
 * the plain CSV import of the same rows in the same run; peak RSS per import.
 *
 * Two measures per format: a dry run against an empty organisation (every row
 * read, transformed, validated and planned, no writes: the input pipeline's own
 * speed) and a real import (100,000 creates: what a user sees).
 */
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as XLSX from '@e965/xlsx';
import { ENDPOINTS } from '../src/config.js';
import type { ImportStats } from '../src/import/run-import.js';
import { runCliMeasured, startEmulator, summaryOf, type Measured } from './lib/processes.js';

export const title = 'Migrations: 100,000 rows as XLSX and NDJSON against the same rows as CSV';

/** BENCH_MIGRATE_ROWS overrides the size (a quick check of the bench itself); the results file holds 100,000-row runs. */
const ROWS = Number(process.env.BENCH_MIGRATE_ROWS ?? 100_000);
const UNPACED = ENDPOINTS.map((e) => `${e}=1000000`).join(',');
const HEADER = ['name', 'email', 'phone_numbers', 'portal_role', 'custom.tier'];
const ROLES = ['member', 'admin', 'no_access'];
const TIERS = ['gold', 'silver', 'bronze', ''];
/** The row's own country, as an export's country column holds it: names and codes, a few distinct values over many rows. */
const COUNTRIES = ['United States', 'USA', 'US', 'United States of America'];

const n = (x: number, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function record(i: number): string[] {
  return [`Bench Person ${i}`, `bench-${i}@example.com`, `+1 415 ${String(2000000 + (i % 7000000)).slice(0, 3)} ${String(i % 10000).padStart(4, '0')}`, ROLES[i % ROLES.length]!, TIERS[i % TIERS.length]!];
}

async function writeLines(path: string, first: string | undefined, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  const chunk: string[] = first === undefined ? [] : [first];
  for (let i = 0; i < ROWS; i++) {
    chunk.push(line(i));
    if (chunk.length >= 10_000) {
      if (!out.write(chunk.join('\n') + '\n')) await once(out, 'drain');
      chunk.length = 0;
    }
  }
  out.end(chunk.length ? chunk.join('\n') + '\n' : '');
  await once(out, 'close');
}

async function writeFiles(dir: string) {
  const csv = join(dir, 'contacts.csv');
  const withIds = join(dir, 'contacts-with-source-ids.csv');
  const withCountry = join(dir, 'contacts-with-country.csv');
  const countryMap = join(dir, 'country-map.json');
  const ndjson = join(dir, 'contacts.ndjson');
  const xlsx = join(dir, 'contacts.xlsx');
  await writeLines(csv, HEADER.join(','), (i) => record(i).join(','));
  // The same rows with a source id (as an export from another system has): the identity check matches on (label, id).
  await writeLines(withIds, [...HEADER, 'source_id'].join(','), (i) => [...record(i), String(36_000_000 + i)].join(','));
  // The same rows with national numbers read in each row's own country (a map's `country` column), as a HubSpot or Salesforce export has them.
  await writeLines(withCountry, [...HEADER, 'Country'].join(','), (i) => {
    const [name, email, phone, role, tier] = record(i);
    return [name, email, `(${phone!.slice(3, 6)}) ${phone!.slice(7, 10)}-${phone!.slice(11)}`, role, tier, COUNTRIES[i % COUNTRIES.length]].join(',');
  });
  writeFileSync(
    countryMap,
    JSON.stringify({ fields: { name: 'name', email: 'email', phone_numbers: { list: ['phone_numbers'] }, portal_role: 'portal_role', 'custom.tier': 'custom.tier' }, country: { column: 'Country' } }),
  );
  await writeLines(ndjson, undefined, (i) => {
    const [name, email, phone, role, tier] = record(i);
    return JSON.stringify({ name, email, phone_numbers: phone, portal_role: role, custom: { tier } });
  });
  const rows: string[][] = [HEADER];
  for (let i = 0; i < ROWS; i++) rows.push(record(i));
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), 'Contacts');
  writeFileSync(xlsx, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx', compression: true }) as Buffer);
  return { csv, withIds, withCountry, countryMap, ndjson, xlsx };
}

interface Case {
  label: string;
  file: string;
  flags: string[];
  /** Dry run only (the real import would repeat the CSV line's creates). */
  dryOnly?: boolean;
}

async function importOnce(c: Case, dryRun: boolean): Promise<{ run: Measured; stats: ImportStats; callsPerRow: number }> {
  const emulator = await startEmulator(['--rate-limits', 'off']);
  try {
    const run = await runCliMeasured(['import', c.file, '--json', '--quiet', '--rate', UNPACED, '--concurrency', '16', ...(dryRun ? ['--dry-run'] : []), ...c.flags], {
      PYLON_BASE_URL: emulator.url,
      PYLON_API_TOKEN: emulator.token,
    });
    if (run.code !== 0) throw new Error(`import ${c.file} exited ${run.code}:\n${run.stderr.slice(-2000)}`);
    // Every API call the import made (the emulator counts each request by endpoint), per row of the file.
    const calls = Object.values((await emulator.stats()).requests).reduce((a, b) => a + (b ?? 0), 0);
    return { run, stats: summaryOf(run), callsPerRow: calls / ROWS };
  } finally {
    await emulator.stop();
  }
}

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-bench-migrate-'));
  try {
    const load = loadavg()[0].toFixed(2);
    const files = await writeFiles(dir);
    // The NDJSON records nest the tier (custom.tier as {"custom": {"tier": …}}), so the flattened path is the column name.
    const cases: Case[] = [
      { label: 'CSV (plain import, the baseline)', file: files.csv, flags: [] },
      { label: 'CSV through the migration transform (`--default-country US`: E.164 parsing)', file: files.csv, flags: ['--default-country', 'US'], dryOnly: true },
      { label: 'CSV with a `Country` column through a map (national numbers read in each row\'s country: `United States`, `USA`, `US`, …)', file: files.withCountry, flags: ['--map', files.countryMap], dryOnly: true },
      { label: 'CSV with a source id through the transform (E.164, `--external-id-column source_id`: matched on (label, id))', file: files.withIds, flags: ['--default-country', 'US', '--external-id-column', 'source_id'] },
      { label: 'NDJSON (streamed; flattened, transformed, E.164)', file: files.ndjson, flags: ['--default-country', 'US'] },
      { label: 'XLSX (whole workbook parsed; transformed, E.164)', file: files.xlsx, flags: ['--default-country', 'US'] },
    ];
    const size = (path: string) => `${n(statSync(path).size / 1e6, 1)} MB`;
    const lines: string[] = [];
    let base: { dry: number; dryCpu: number; real: number } | undefined;
    for (const c of cases) {
      const dry = await importOnce(c, true);
      const real = c.dryOnly ? undefined : await importOnce(c, false);
      const ok = dry.stats.total === ROWS && dry.stats.failed === 0 && (!real || (real.stats.created === ROWS && real.stats.failed === 0));
      const dryRate = ROWS / (dry.stats.durationMs / 1000);
      const realRate = real ? ROWS / (real.stats.durationMs / 1000) : NaN;
      // Rows per CPU-second of the import process (GNU time's user + system): what the work costs, whatever else the machine runs.
      const dryCpuRate = dry.run.cpuMs ? ROWS / (dry.run.cpuMs / 1000) : NaN;
      base ??= { dry: dryRate, dryCpu: dryCpuRate, real: realRate };
      const realCells = real ? `${n(realRate)} | **${(realRate / base.real).toFixed(2)}** | **${n(real.run.maxRssMb)}** | ${real.callsPerRow.toFixed(4)}` : '— | — | — | —';
      lines.push(`| ${c.label} | ${size(c.file)} | ${n(dryRate)} | **${(dryRate / base.dry).toFixed(2)}** | ${n((dry.run.cpuMs ?? NaN) / 1000, 1)} | **${(dryCpuRate / base.dryCpu).toFixed(2)}** | ${n(dry.run.maxRssMb)} | ${dry.callsPerRow.toFixed(4)} | ${realCells} |${ok ? '' : ' ⚠ rows missing or failed'}`);
    }
    return [
      `_1-minute load average when this part started: ${load}._`,
      '',
      `${n(ROWS)} contacts (\`name, email, phone_numbers (+1 415 …), portal_role, custom.tier\`), the same rows in each file. Each line: a fresh emulator`,
      '(`emulator --port 0 --rate-limits off`), then `node dist/bin.js import <file> --json --quiet --rate <every endpoint>=1000000 --concurrency 16`;',
      'the dry run adds `--dry-run` (every row read, transformed, validated and planned as a create, no writes), the real import creates every row in',
      'its own fresh emulator. Rows/s is rows ÷ the run\'s `durationMs`; the ratio is against the plain CSV line of this run. Peak RSS of the import',
      'process (`/usr/bin/time -f %M`, else VmHWM polled). CPU: user + system seconds of the import process (GNU time); its ratio is rows per',
      'CPU-second against the plain CSV line, which a busy machine skews less than wall time. API calls/row: every request the emulator counted during that import, ÷ rows',
      '(the phone and identity checks are local: a line with them makes the calls of the plain CSV line).',
      '',
      '| input | file | dry run rows/s | ratio to CSV | dry run CPU s | ratio to CSV by CPU | dry run peak RSS MB | dry run API calls/row | import rows/s | ratio to CSV | import peak RSS MB | import API calls/row |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...lines,
      '',
      'NDJSON is streamed: one chunk and one record at a time, like CSV. XLSX is not: SheetJS parses the whole workbook (every cell object of every row)',
      'before the first row is imported, so its peak memory grows with the file; the rows are then kept as text for the run (the cell objects and the',
      'XML let go), and the difference to the CSV line is that text plus the parse.',
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
