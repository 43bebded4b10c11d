/**
 * The PostgreSQL kept state's read with and without the index on
 * `_pylon_state_parts (table_name, part)`, side by side in one run, one build:
 * the state is read 256 parts a query, and without the index each query scans
 * every part of every table. Two figures, alternating which goes first:
 *
 * - the second night of a load (`node dist/bin.js export --to postgresql://…`,
 *   1% of the contacts renamed), wall and CPU of the export process, each
 *   night on its own copy of one first-night table; "without" drops the index
 *   before the run (the run makes it again as it writes its state, as it does
 *   for an older database);
 * - the read alone: readKeptState (the code the load runs) timed in this
 *   process over the same parts, with and without the index.
 *
 * PYLON_BENCH_CONTACTS sets the count (default 300,000); PYLON_BENCH_ROUNDS the
 * pairs (default 2). PostgreSQL as in warehouse.bench.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmulator } from './lib/processes.js';
import { exportRun, type ExportRow } from './lib/export-run.js';
import { startEmbeddedPostgres } from '../test/helpers/embedded-postgres.js';
import { changeContacts } from './warehouse.bench.js';
import { copyPgTable, dropPgTable } from './warehouse-second-night.bench.js';
import { readKeptState } from '../src/export/load/common.js';
import { parseLoadTarget } from '../src/export/load/target.js';

const CONTACTS = Number(process.env.PYLON_BENCH_CONTACTS ?? 300_000);
const CHANGED = CONTACTS / 100;
const ROUNDS = Number(process.env.PYLON_BENCH_ROUNDS ?? 2);
const INDEX = '_pylon_state_parts_by_part';

export const title = `PostgreSQL kept state read: the parts table with and without its index (${CONTACTS.toLocaleString('en-US')} contacts)`;

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

type Variant = 'without index' | 'with index';

export async function run(): Promise<string> {
  const configured = process.env.PYLON_BENCH_PG_URL ?? process.env.PYLON_TEST_PG_URL;
  const embedded = configured ? undefined : await startEmbeddedPostgres();
  const pgUrl = configured ?? (embedded && 'url' in embedded ? embedded.url : undefined);
  if (!pgUrl) return 'Not run: no PostgreSQL (set PYLON_BENCH_PG_URL or PYLON_TEST_PG_URL).';
  const dir = await mkdtemp(join(tmpdir(), 'pylon-bench-state-read-'));
  const db = new pg.Client({ connectionString: pgUrl });
  const base = `bench_state_read_${process.pid}`;
  const nights: Array<{ variant: Variant; row: ExportRow }> = [];
  const reads: Array<{ variant: Variant; ms: number; bytes: number }> = [];
  const loads: string[] = [];
  let parts = 0;
  const loadStart = os.loadavg()[0]!;
  try {
    await db.connect();
    const emulator = await startEmulator(['--seed-random', String(CONTACTS), '--rate-limits', 'off', '--random-seed', '1']);
    try {
      await exportRun(emulator, 'first load, postgresql', ['--to', `${pgUrl}#${base}`, '--run-id', 'first'], true);
      const ids = (await db.query(`SELECT id FROM "${base}" ORDER BY id LIMIT ${CHANGED}`)).rows.map((r) => String(r.id));
      await changeContacts(emulator, ids);
      parts = Number((await db.query(`SELECT count(*) AS n FROM _pylon_state_parts WHERE table_name = $1`, [base])).rows[0].n);
      const setIndex = async (variant: Variant) =>
        db.query(variant === 'with index' ? `CREATE INDEX IF NOT EXISTS "${INDEX}" ON _pylon_state_parts (table_name, part)` : `DROP INDEX IF EXISTS "${INDEX}"`);
      const target = parseLoadTarget(`${pgUrl}#${base}`);
      const rows = async (sql: string) => (await db.query(sql)).rows as Array<Record<string, unknown>>;
      for (let round = 0; round < ROUNDS; round += 1) {
        const order: Variant[] = round % 2 === 0 ? ['without index', 'with index'] : ['with index', 'without index'];
        // The read alone, three times each, alternating.
        for (let rep = 0; rep < 3; rep += 1) {
          for (const variant of order) {
            await setIndex(variant);
            const started = performance.now();
            const state = await readKeptState(target, rows, async () => true);
            reads.push({ variant, ms: performance.now() - started, bytes: state?.length ?? 0 });
          }
        }
        for (const variant of order) {
          const table = `${base}_${round}_${variant === 'with index' ? 'with' : 'without'}`;
          await copyPgTable(db, base, table);
          loads.push(table);
          await setIndex(variant);
          nights.push({ variant, row: await exportRun(emulator, `second night, ${variant}`, ['--to', `${pgUrl}#${table}`, '--run-id', `second-${round}`], true) });
          await dropPgTable(db, table);
        }
      }
    } finally {
      await emulator.stop();
    }
  } finally {
    for (const table of [base, ...loads]) await dropPgTable(db, table).catch(() => {});
    await db.end().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    if (embedded && 'stop' in embedded) await embedded.stop();
  }
  const med = (variant: Variant, pick: (r: ExportRow) => number) => median(nights.filter((night) => night.variant === variant).map((night) => pick(night.row)));
  const readMed = (variant: Variant) => median(reads.filter((read) => read.variant === variant).map((read) => read.ms));
  const wall = (r: ExportRow) => r.run.wallMs;
  const cpu = (r: ExportRow) => r.run.cpuMs ?? NaN;
  const bytes = reads[0]?.bytes ?? 0;
  return [
    `_1-minute load average: ${loadStart.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end, on ${os.cpus().length} cores shared with other work; compare the two variants of this run, CPU first._`,
    '',
    `One emulator child process with ${CONTACTS.toLocaleString('en-US')} random contacts (pacing off), ${CHANGED.toLocaleString('en-US')} renamed after the first load. The kept state is ${(bytes / 1e6).toFixed(1)} MB in ${parts.toLocaleString('en-US')} parts (${Math.ceil(parts / 256)} queries of 256 parts); the parts table holds the first-night table's parts and, during a night, its copy's. ${ROUNDS} rounds, alternating which variant goes first. A second night is \`node dist/bin.js export --to postgresql://… --json\` on its own copy of the first-night table (staging only the changes); CPU is the export process's user + system time (GNU time), the server's is not counted. The read alone is readKeptState timed in the bench process (3 reads per variant per round).`,
    '',
    '| run | wall | CPU | duration (stats) | read alone (median) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...nights.map(({ row }) => `| ${row.label} | ${s(row.run.wallMs)} | ${row.run.cpuMs ? s(row.run.cpuMs) : ''} | ${s(row.stats.durationMs)} |  |`),
    `| read alone, without index |  |  |  | ${readMed('without index').toFixed(0)} ms |`,
    `| read alone, with index |  |  |  | ${readMed('with index').toFixed(0)} ms |`,
    '',
    `**Medians, with ÷ without the index:** second night wall ${s(med('without index', wall))} → ${s(med('with index', wall))} (${(med('with index', wall) / med('without index', wall)).toFixed(2)} ×), CPU ${s(med('without index', cpu))} → ${s(med('with index', cpu))} (${(med('with index', cpu) / med('without index', cpu)).toFixed(2)} ×); the read alone ${readMed('without index').toFixed(0)} → ${readMed('with index').toFixed(0)} ms (${(readMed('with index') / readMed('without index')).toFixed(2)} ×).`,
  ].join('\n');
}
