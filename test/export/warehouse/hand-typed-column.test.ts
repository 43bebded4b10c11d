/**
 * A column whose type was changed by hand to one this tool never writes (INTEGER for a
 * bigint field, a 4-byte float for a decimal, a timestamp without a zone, varchar(n) for
 * text): the load is refused with the way out, and --allow-schema-change converts the
 * column back, the rows whose cast values differ from Pylon's rewritten, so the table
 * equals Pylon again and later nights need no flag. Before, the refusal named no way
 * out and the flag did not help: every night failed until someone changed it back.
 */
import test from 'ava';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { selectList, valuesSha256 } from './table-check.js';

interface Db {
  dialect: 'postgres' | 'duckdb';
  to: string;
  table: string;
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  /** Runs the hand edits, one statement each. */
  run(statements: string[]): Promise<void>;
}

async function duckDb(file: string) {
  const open = async <T>(fn: (c: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  return {
    rows: (sql: string) => open(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>),
    run: (statements: string[]) =>
      open(async (c) => {
        for (const sql of statements) await c.run(sql);
      }),
  };
}

const typeOf = async (db: Db, column: string) =>
  String((await db.rows(`SELECT data_type AS type FROM information_schema.columns WHERE table_name = '${db.table}' AND column_name = '${column}'`))[0]?.type).toLowerCase();

async function handTypedNights(t: import('ava').ExecutionContext, db: Db, edits: Array<{ column: string; sql: string; handType: RegExp; exportType: string }>) {
  await withEmulator({ seed: 93, seedRandom: 40 }, async (emulator) => {
    const dir = await tempDir();
    const first = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n1.json'), runId: 'n1' });
    t.like(first, { complete: true });
    const mrrText = db.dialect === 'postgres' ? 'custom_mrr::float8::text' : 'CAST(CAST(custom_mrr AS DOUBLE) AS VARCHAR)';
    const mrrs = async () => new Map((await db.rows(`SELECT id, ${mrrText} AS v FROM "${db.table}"`)).map((r) => [r.id, r.v]));
    const before = await mrrs();
    await db.run(edits.map((e) => e.sql));
    for (const e of edits) t.regex(await typeOf(db, e.column), e.handType);
    const after = await mrrs();
    const rounded = [...before].filter(([id, v]) => after.get(id) !== v).length;
    t.true(rounded > 0, 'the hand edit rounded some MRR values');

    const refused = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n2.json'), runId: 'n2' });
    t.false(refused.complete);
    t.is(refused.stoppedAt?.code, 'LOAD_TABLE_CONFLICT');
    for (const e of edits) {
      t.regex(refused.stoppedAt!.message, new RegExp(`column ${e.column}\\)?: the table's type is [^;]*, a type this tool does not write \\(changed by hand\\?\\); pass --allow-schema-change to convert the column back to ${e.exportType.replace(/[()]/g, '\\$&')}`, 'i'));
      t.regex(await typeOf(db, e.column), e.handType, 'nothing changed in the table');
    }

    const converted = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n3.json'), runId: 'n3', allowSchemaChange: true });
    t.like(converted, { complete: true, recordErrors: 0 }, converted.stoppedAt?.message);
    for (const e of edits) {
      const said = new RegExp(`^converted ${e.column} \\([^)]+\\) from .+, a type this tool does not write, back to `);
      t.true(converted.load!.schemaChanges!.some((c) => said.test(c)), `${e.column}: ${converted.load!.schemaChanges}`);
    }
    t.is(converted.load!.schemaChanges!.length, edits.length);
    t.is(converted.load!.updated, rounded, 'the rows whose MRR the float rounded are rewritten, no others');
    for (const e of edits) t.is(await typeOf(db, e.column), e.exportType.toLowerCase());
    const n3 = await readManifest(join(dir, 'n3.json'));
    const columns = n3.schema!.columns;
    const live = await db.rows(`SELECT ${selectList(columns, db.dialect)} FROM "${db.table}" WHERE _deleted_at IS NULL`);
    t.is(live.length, 40);
    t.is(valuesSha256(columns, live), n3.values!.sha256, 'the table holds exactly the exported values again');

    const next = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n4.json'), runId: 'n4' });
    t.like(next, { complete: true }, next.stoppedAt?.message);
    t.like(next.load, { inserted: 0, updated: 0, unchanged: 40 });
    t.is(next.load!.schemaChanges, undefined, 'the next night needs no flag');
  });
}

test('duckdb: columns retyped by hand (INTEGER, FLOAT, TIMESTAMP) are refused with the way out; --allow-schema-change converts them back and the table equals Pylon', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  const duck = await duckDb(file);
  await handTypedNights(t, { dialect: 'duckdb', to: `duckdb:${file}`, table: 'contacts', ...duck }, [
    { column: 'custom_seats', sql: 'ALTER TABLE contacts ALTER custom_seats TYPE INTEGER', handType: /^integer$/, exportType: 'BIGINT' },
    { column: 'custom_mrr', sql: 'ALTER TABLE contacts ALTER custom_mrr TYPE FLOAT', handType: /^float$/, exportType: 'DECIMAL(38,9)' },
    { column: 'custom_last_seen_at', sql: 'ALTER TABLE contacts ALTER custom_last_seen_at TYPE TIMESTAMP', handType: /^timestamp$/, exportType: 'TIMESTAMP WITH TIME ZONE' },
  ]);
});

pgTest(`postgres: columns retyped by hand (integer, numeric(10,1), varchar(255)) are refused with the way out; --allow-schema-change converts them back and the table equals Pylon${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('handtype');
  await handTypedNights(
    t,
    {
      dialect: 'postgres',
      to: `${PG_URL}#${table}`,
      table,
      rows: (sql) => withPg(async (c) => (await c.query(sql)).rows),
      run: (statements) => withPg(async (c) => {
        for (const sql of statements) await c.query(sql);
      }),
    },
    [
      { column: 'custom_seats', sql: `ALTER TABLE "${table}" ALTER custom_seats TYPE integer`, handType: /^integer$/, exportType: 'bigint' },
      { column: 'custom_mrr', sql: `ALTER TABLE "${table}" ALTER custom_mrr TYPE numeric(10,1)`, handType: /^numeric$/, exportType: 'numeric' },
      { column: 'name', sql: `ALTER TABLE "${table}" ALTER name TYPE varchar(255)`, handType: /^character varying$/, exportType: 'text' },
    ],
  );
});

/**
 * A column retyped by hand and, later, its field's type changed in Pylon too: converting the column to the export's new
 * type cast the old values into it, which the database refused (varchar(255) text into bigint: `invalid input syntax for
 * type bigint`, LOAD_FAILED every night, the flag no help). The column goes back to this tool's type for what it holds,
 * then loads as any such column: a number into the wider text column (PostgreSQL), a date beside a decimal in a variant
 * column (DuckDB, from FLOAT). The rows exported hold Pylon's values, and the next night needs no flag.
 */
async function handTypedThenRetyped(
  t: import('ava').ExecutionContext,
  db: Db,
  edit: { column: string; slug: string; sql: string; newType: 'number' | 'date'; value: (i: number) => string; stored: string; changes: RegExp[]; everyRow?: boolean },
) {
  const { DEFAULT_CUSTOM_FIELDS } = await import('../../../src/emulator/index.js');
  const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  await withEmulator({ seed: 81, seedRandom: 30, customFields }, async (emulator) => {
    const dir = await tempDir();
    t.like(await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n1.json'), runId: 'n1' }), { complete: true });
    await db.run([edit.sql]);
    // Pylon: the field's type changes, and every contact that had a value gets one of the new type.
    customFields.find((f) => f.slug === edit.slug)!.type = edit.newType;
    const had = [...emulator.store.all()].filter((c) => c.custom_fields?.[edit.slug] !== undefined);
    t.true(had.length > 0);
    for (const [i, c] of had.entries()) {
      const res = await fetch(`${emulator.url}/contacts/${c.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${emulator.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ custom_fields: [{ slug: edit.slug, value: edit.value(i) }] }) });
      t.is(res.status, 200);
    }
    const loaded = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n2.json'), runId: 'n2', allowSchemaChange: true });
    t.like(loaded, { complete: true, recordErrors: 0 }, loaded.stoppedAt?.message);
    for (const said of edit.changes) t.true(loaded.load!.schemaChanges!.some((c) => said.test(c)), `${said}: ${loaded.load!.schemaChanges}`);
    // A variant column is filled in every row; otherwise the rows whose value changed are rewritten, no others.
    t.is(loaded.load!.updated, edit.everyRow ? 30 : had.length);
    const stored = new Map((await db.rows(`SELECT id, ${edit.stored} AS v FROM "${db.table}" WHERE _deleted_at IS NULL`)).map((r) => [r.id, r.v]));
    t.is(stored.size, 30);
    for (const [i, c] of had.entries()) t.is(String(stored.get(c.id)), edit.value(i), `contact ${c.id}`);
    const next = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n3.json'), runId: 'n3' });
    t.like(next, { complete: true }, next.stoppedAt?.message);
    t.like(next.load, { inserted: 0, updated: 0, unchanged: 30 });
  });
}

pgTest(`postgres: a text column made varchar(255) by hand, then its field made a number in Pylon, loads with --allow-schema-change: back to text, the numbers in it${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('handretype');
  await handTypedThenRetyped(
    t,
    { dialect: 'postgres', to: `${PG_URL}#${table}`, table, rows: (sql) => withPg(async (c) => (await c.query(sql)).rows), run: (statements) => withPg(async (c) => void (await Promise.all(statements.map((s) => c.query(s))))) },
    {
      column: 'custom_notes',
      slug: 'notes',
      sql: `ALTER TABLE "${table}" ALTER custom_notes TYPE varchar(255)`,
      newType: 'number',
      value: (i) => String(1000 + i),
      stored: 'custom_notes',
      changes: [/^converted custom_notes \(custom\.notes\) from character varying\(255\), a type this tool does not write, back to string$/, /^loaded custom\.notes \(int64\) into the wider string column custom_notes$/],
    },
  );
});

test('duckdb: a decimal column made FLOAT by hand, then its field made a date in Pylon, loads with --allow-schema-change: back to a decimal, the dates in a variant column', async (t) => {
  const file = join(await tempDir(), 'r.duckdb');
  const duck = await duckDb(file);
  await handTypedThenRetyped(t, { dialect: 'duckdb', to: `duckdb:${file}`, table: 'contacts', ...duck }, {
    column: 'custom_mrr',
    slug: 'mrr',
    sql: 'ALTER TABLE contacts ALTER custom_mrr TYPE FLOAT',
    newType: 'date',
    value: (i) => `2026-01-${String(1 + (i % 28)).padStart(2, '0')}`,
    stored: 'CAST(custom_mrr__v_date AS VARCHAR)',
    everyRow: true,
    changes: [/^converted custom_mrr \(custom\.mrr\) from FLOAT, a type this tool does not write, back to decimal/, /^added variant column custom_mrr__v_date \(date\) for custom\.mrr/],
  });
});
