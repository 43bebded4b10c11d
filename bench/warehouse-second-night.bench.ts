/**
 * The second night of a load at 1,000,000 contacts, the build before the
 * changes-only staging (issue 19s) against this one, alternating, each on its
 * own copy of one first-night table: PostgreSQL (a copy of the table, its kept
 * state and its load log under another name) and DuckDB (a copy of the file).
 * One emulator child process holds the contacts; 1% of them are renamed through
 * the API after the first load. A CSV export of the same contacts runs first, as
 * the reference the targets are stated against (the walk).
 *
 * The old build is PYLON_BENCH_BASE_BIN (a built dist/bin.js), else the commit
 * PYLON_BENCH_BASE (default: the merge base of HEAD and main) built from `git
 * archive` in a scratch folder with this checkout's node_modules.
 * PYLON_BENCH_CONTACTS sets the count (default 1,000,000); PYLON_BENCH_ROUNDS
 * the number of old/new pairs (default 2). PostgreSQL as in warehouse.bench.ts.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { REPO, startEmulator } from './lib/processes.js';
import { exportRun, type ExportRow } from './lib/export-run.js';
import { startEmbeddedPostgres } from '../test/helpers/embedded-postgres.js';
import { changeContacts, duckCount, firstIds } from './warehouse.bench.js';

const CONTACTS = Number(process.env.PYLON_BENCH_CONTACTS ?? 1_000_000);
const CHANGED = CONTACTS / 100;
const ROUNDS = Number(process.env.PYLON_BENCH_ROUNDS ?? 2);

export const title = `Second night of a load, staging only the changes: old build against new (${CONTACTS.toLocaleString('en-US')} contacts, ${CHANGED.toLocaleString('en-US')} changed)`;

/** The old build's bin: given, or built from a commit in a scratch folder. */
function baseBin(scratch: string): { bin: string; commit: string } {
  if (process.env.PYLON_BENCH_BASE_BIN) return { bin: process.env.PYLON_BENCH_BASE_BIN, commit: 'PYLON_BENCH_BASE_BIN' };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--short', process.env.PYLON_BENCH_BASE ?? git('merge-base', 'HEAD', 'main'));
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C "${scratch}"`], { cwd: REPO });
  return { bin: join(scratch, 'dist', 'bin.js'), commit };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const n = (value: number) => Math.round(value).toLocaleString('en-US');
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** A copy of a loaded table with its kept state and load log, as another table of the same database. */
export async function copyPgTable(db: pg.Client, from: string, to: string): Promise<void> {
  await db.query(`CREATE TABLE "${to}" (LIKE "${from}" INCLUDING ALL)`);
  await db.query(`INSERT INTO "${to}" SELECT * FROM "${from}"`);
  await db.query(`ANALYZE "${to}"`);
  await db.query(`INSERT INTO _pylon_state SELECT $2, run_id, updated_at, state FROM _pylon_state WHERE table_name = $1`, [from, to]);
  await db.query(`INSERT INTO _pylon_state_parts SELECT $2, part, data FROM _pylon_state_parts WHERE table_name = $1`, [from, to]);
  await db.query(
    `INSERT INTO _pylon_loads SELECT run_id, $2, started_at, finished_at, status, inserted, updated, unchanged, deleted, values_sha256, schema_hash, schema_changes, error FROM _pylon_loads WHERE table_name = $1`,
    [from, to],
  );
}

export async function dropPgTable(db: pg.Client, table: string): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS "${table}"`);
  for (const meta of ['_pylon_state', '_pylon_state_parts', '_pylon_loads']) await db.query(`DELETE FROM ${meta} WHERE table_name = $1`, [table]).catch(() => {});
}

interface Night {
  db: 'postgresql' | 'duckdb';
  build: 'old' | 'new';
  row: ExportRow;
  /** Rows carrying this run's `_run_id`, counted in the database. */
  written: number;
}

export async function run(): Promise<string> {
  const configured = process.env.PYLON_BENCH_PG_URL ?? process.env.PYLON_TEST_PG_URL;
  const embedded = configured ? undefined : await startEmbeddedPostgres();
  const pgUrl = configured ?? (embedded && 'url' in embedded ? embedded.url : undefined);
  const dir = await mkdtemp(join(tmpdir(), 'pylon-bench-second-night-'));
  const oldDir = await mkdtemp(join(tmpdir(), 'pylon-bench-old-build-'));
  const db = pgUrl ? new pg.Client({ connectionString: pgUrl }) : undefined;
  const base = `bench_second_${process.pid}`;
  const nights: Night[] = [];
  const loads: string[] = [];
  let csv: ExportRow | undefined;
  let commit = '';
  try {
    const old = baseBin(oldDir);
    commit = old.commit;
    if (!process.env.PYLON_BENCH_BASE_BIN) {
      await symlink(join(REPO, 'node_modules'), join(oldDir, 'node_modules'));
      execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: oldDir, stdio: 'inherit' });
      execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: oldDir, stdio: 'inherit' });
    }
    await db?.connect();
    const emulator = await startEmulator(['--seed-random', String(CONTACTS), '--rate-limits', 'off', '--random-seed', '1']);
    try {
      csv = await exportRun(emulator, 'CSV export (the walk, reference)', [join(dir, 'c.csv')], true);
      const duckBase = join(dir, 'base.duckdb');
      if (db) await exportRun(emulator, 'first load, postgresql', ['--to', `${pgUrl}#${base}`, '--run-id', 'first'], true);
      await exportRun(emulator, 'first load, duckdb', ['--to', `duckdb:${duckBase}`, '--run-id', 'first'], true);
      await changeContacts(emulator, await firstIds(duckBase, CHANGED));
      for (let round = 0; round < ROUNDS; round += 1) {
        // Alternating: old first in even rounds, new first in odd ones.
        for (const build of round % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
          const bin = build === 'old' ? old.bin : undefined;
          const runId = `second-${build}-${round}`;
          if (db) {
            const table = `${base}_${build}_${round}`;
            await copyPgTable(db, base, table);
            loads.push(table);
            const row = await exportRun(emulator, `second night, postgresql, ${build} build`, ['--to', `${pgUrl}#${table}`, '--run-id', runId], true, bin);
            const written = Number((await db.query(`SELECT count(*) AS n FROM "${table}" WHERE _run_id = $1`, [runId])).rows[0].n);
            nights.push({ db: 'postgresql', build, row, written });
            await dropPgTable(db, table);
          }
          const file = join(dir, `${build}-${round}.duckdb`);
          await copyFile(duckBase, file);
          const row = await exportRun(emulator, `second night, duckdb, ${build} build`, ['--to', `duckdb:${file}`, '--run-id', runId], true, bin);
          nights.push({ db: 'duckdb', build, row, written: await duckCount(file, `SELECT count(*) FROM contacts WHERE _run_id = '${runId}'`) });
          await rm(file, { force: true });
        }
      }
    } finally {
      await emulator.stop();
    }
  } finally {
    if (db) for (const table of [base, ...loads]) await dropPgTable(db, table).catch(() => {});
    await db?.end().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    await rm(oldDir, { recursive: true, force: true });
    if (embedded && 'stop' in embedded) await embedded.stop();
  }

  const lines = [
    `_1-minute load average when this part ended: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores shared with other work (it inflates every duration alike; compare the old and new runs of this one bench, CPU first)._`,
    '',
    `Each run is \`node <build>/dist/bin.js export --to … --json\` against one emulator child process holding ${n(CONTACTS)} random contacts (999 per page, pacing off), after ${n(CHANGED)} of them were renamed through the API; every second night loads its own copy of one first-night table (PostgreSQL: the table, its kept state and load log copied under another name; DuckDB: a copy of the file). "old" is ${commit} (every row staged), "new" this branch (only the new and changed rows staged); ${ROUNDS} rounds, alternating which build goes first. CPU is the export process's user + system time (GNU time; DuckDB runs inside it, the PostgreSQL server's CPU is not counted). "merge" is the merge statements and the COMMIT, inside the duration.`,
    '',
    '| run | duration | wall | CPU | peak RSS | merge | inserted / updated / unchanged / deleted | rows with this run\'s `_run_id` | staged |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
    `| ${csv!.label} | ${s(csv!.stats.durationMs)} | ${s(csv!.run.wallMs)} | ${csv!.run.cpuMs ? s(csv!.run.cpuMs) : ''} | ${csv!.run.maxRssMb.toFixed(0)} MB |  |  |  |  |`,
    ...nights.map(({ row, written }) => {
      const l = row.stats.load!;
      return `| ${row.label} | ${s(row.stats.durationMs)} | ${s(row.run.wallMs)} | ${row.run.cpuMs ? s(row.run.cpuMs) : ''} | ${row.run.maxRssMb.toFixed(0)} MB | ${s(l.mergeMs)} | ${n(l.inserted)} / ${n(l.updated)} / ${n(l.unchanged)} / ${n(l.deleted)} | ${n(written)} | ${(l as { staged?: string }).staged ?? '(not reported)'} |`;
    }),
    '',
    '**Medians, new ÷ old**',
    '',
  ];
  for (const name of ['postgresql', 'duckdb'] as const) {
    const of = (build: 'old' | 'new') => nights.filter((night) => night.db === name && night.build === build);
    if (of('old').length === 0) {
      lines.push(`- ${name}: not run (no PostgreSQL: set PYLON_BENCH_PG_URL or PYLON_TEST_PG_URL).`);
      continue;
    }
    const med = (build: 'old' | 'new', pick: (r: ExportRow) => number) => median(of(build).map((night) => pick(night.row)));
    const duration = (r: ExportRow) => r.stats.durationMs;
    const cpu = (r: ExportRow) => r.run.cpuMs ?? NaN;
    const merge = (r: ExportRow) => r.stats.load!.mergeMs;
    const budget = csv!.stats.durationMs + med('new', merge);
    const exact = nights.filter((night) => night.db === name).every((night) => night.written === CHANGED);
    lines.push(
      `- ${name}: duration ${s(med('old', duration))} → ${s(med('new', duration))} (${(med('new', duration) / med('old', duration)).toFixed(2)} ×), CPU ${s(med('old', cpu))} → ${s(med('new', cpu))} (${(med('new', cpu) / med('old', cpu)).toFixed(2)} ×), ` +
        `merge ${s(med('old', merge))} → ${s(med('new', merge))}; rows rewritten = ${n(CHANGED)} in every run ${exact ? '✅' : '❌'}; ` +
        `new build against the CSV walk (${s(csv!.stats.durationMs)}) plus its own merge (${s(med('new', merge))}) = ${s(budget)}: ${s(med('new', duration))} ${med('new', duration) <= budget ? '✅' : '❌'}.`,
    );
  }
  return lines.join('\n');
}
