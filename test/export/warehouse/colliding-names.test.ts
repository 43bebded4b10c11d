/**
 * Fields whose slugs clean to one column name (`cost-center`, `cost_center`,
 * `cost.center`). Their names were `custom_cost_center`, `_2`, `_3` in the
 * order `GET /custom-fields` listed them: a field removed and added again
 * moved to the end of that list, and the next night put each field's values
 * in another field's column (exit 0). Now a clashing field's name ends in a
 * hash of its own slug, and a name once given stays with its field (the
 * table's `_pylon_columns`, the state's schema). The tester's s11 scenario,
 * on PostgreSQL and DuckDB, with the Parquet file's schema sidecar.
 */
import test, { type ExecutionContext } from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import type { ExportColumn } from '../../../src/export/columns.js';
import { typedColumns } from '../../../src/export/schema.js';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { duckRows } from './table-check.js';

const SLUGS = ['cost-center', 'cost_center', 'cost.center'] as const;
const PREFIX: Record<string, string> = { 'cost-center': 'dash', cost_center: 'under', 'cost.center': 'dot' };

const custom = (slug: string): ExportColumn => ({ name: `custom.${slug}`, slug, fieldType: 'text', multi: false });
const namesOf = (columns: readonly ExportColumn[], previous?: Map<string, string>) => new Map(typedColumns(columns, previous).map((c) => [c.source, c.name]));

test('a clashing field\'s name ends in a hash of its own slug: the same whatever the fields\' order, distinct, 63 bytes at most', (t) => {
  const id: ExportColumn = { name: 'id', multi: false };
  const forward = namesOf([id, ...SLUGS.map(custom)]);
  const backward = namesOf([id, ...[...SLUGS].reverse().map(custom)]);
  t.deepEqual([...forward].sort(), [...backward].sort());
  for (const slug of SLUGS) t.regex(forward.get(`custom.${slug}`)!, /^custom_cost_center_[0-9a-f]{8}$/);
  t.is(new Set(forward.values()).size, 4);
  // Equal but for case clash too.
  const cased = namesOf([custom('Region'), custom('region')]);
  t.not(cased.get('custom.Region')!.toLowerCase(), cased.get('custom.region')!.toLowerCase());
  // A field alone keeps its plain name.
  t.is(namesOf([custom('cost-center')]).get('custom.cost-center'), 'custom_cost_center');
});

test('a name given before stays with its field; a new field never takes a name another field had', (t) => {
  // Names an older version gave in list order are kept.
  const before = new Map([['custom.cost-center', 'custom_cost_center'], ['custom.cost_center', 'custom_cost_center_2']]);
  t.deepEqual(namesOf([custom('cost_center'), custom('cost-center')], before), new Map([['custom.cost_center', 'custom_cost_center_2'], ['custom.cost-center', 'custom_cost_center']]));
  // cost-center is gone: cost_center keeps its column and does not take cost-center's.
  t.is(namesOf([custom('cost_center')], before).get('custom.cost_center'), 'custom_cost_center_2');
  // A new field whose name another field had gets its hashed name.
  t.regex(namesOf([custom('cost.center')], new Map([['custom.cost-center', 'custom_cost_center']])).get('custom.cost.center')!, /^custom_cost_center_[0-9a-f]{8}$/);
  // Two fields that would get one name are refused, not guessed.
  t.throws(() => namesOf([custom('a'), custom('b')], new Map([['custom.a', 'custom_x'], ['custom.b', 'custom_x']])), { message: /custom_x is the column of custom\.a/ });
});

interface Db {
  to: string;
  /** id → { column → value } of the live rows. */
  values(columns: string[]): Promise<Map<string, Record<string, unknown>>>;
}

async function nights(t: ExecutionContext, db: Db) {
  const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  const field = (slug: string) => ({ ...customFields[0]!, id: `cf-${slug}`, slug, label: slug, type: 'text' as const, select_metadata: undefined });
  for (const slug of SLUGS) customFields.push(field(slug));
  await withEmulator({ seed: 91, seedRandom: 12, customFields }, async (emulator) => {
    const api = client(emulator);
    const ids = (await api.get('/contacts?limit=999')).body.data.map((c: { id: string }) => c.id) as string[];
    for (const [i, id] of ids.entries()) await api.patch(`/contacts/${id}`, { custom_fields: SLUGS.map((slug) => ({ slug, value: `${PREFIX[slug]}-${i}` })) });
    const dir = await tempDir();
    const out = join(dir, 'contacts.parquet');
    const night = async (runId: string, allowSchemaChange = false) => {
      const stats = await exportFrom(emulator, { output: out, state: join(dir, 'contacts.state'), to: db.to, runId, allowSchemaChange });
      t.like(stats, { complete: true, recordErrors: 0 }, stats.stoppedAt?.message);
      const manifest = await readManifest(`${out}.manifest.json`);
      const sidecar = JSON.parse(await readFile(`${out}.schema.json`, 'utf8')) as { properties: Record<string, { description: string }> };
      const names = new Map(manifest.schema!.columns.map((c) => [c.source, c.name]));
      for (const [source, name] of names) t.true(sidecar.properties[name]!.description.startsWith(`${source} `), `the schema sidecar names ${name} for ${source}`);
      return names;
    };
    /** Every live row holds each field's own values in that field's column. */
    const check = async (names: Map<string, string>, slugs: readonly string[], label: string) => {
      const rows = await db.values(slugs.map((slug) => names.get(`custom.${slug}`)!));
      for (const [i, id] of ids.entries()) {
        for (const slug of slugs) t.is(rows.get(id)?.[names.get(`custom.${slug}`)!], `${PREFIX[slug]}-${i}`, `${label}: ${slug} of contact ${i}`);
      }
    };
    const first = await night('n1');
    await check(first, SLUGS, 'night 1');

    // cost-center removed and added again: GET /custom-fields now lists it last.
    customFields.splice(customFields.findIndex((f) => f.slug === 'cost-center'), 1);
    customFields.push(field('cost-center'));
    const second = await night('n2');
    t.deepEqual(Object.fromEntries(second), Object.fromEntries(first), 'every field keeps its column');
    await check(second, SLUGS, 'night 2');

    // One of the three removed (accepted with --allow-schema-change): the other two keep their columns and values.
    customFields.splice(customFields.findIndex((f) => f.slug === 'cost_center'), 1);
    const third = await night('n3', true);
    t.is(third.get('custom.cost-center'), first.get('custom.cost-center'));
    t.is(third.get('custom.cost.center'), first.get('custom.cost.center'));
    await check(third, ['cost-center', 'cost.center'], 'night 3');
  });
}

pgTest(`postgres: fields whose names clash keep their own columns when the field list changes order or loses one${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('clash');
  await nights(t, {
    to: `${PG_URL}#${table}`,
    values: (columns) => withPg(async (c) => new Map((await c.query(`SELECT id, ${columns.map((n) => `"${n}"`).join(', ')} FROM "${table}" WHERE _deleted_at IS NULL`)).rows.map((r) => [r.id as string, r]))),
  });
});

test('duckdb: fields whose names clash keep their own columns when the field list changes order or loses one', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  await nights(t, {
    to: `duckdb:${file}`,
    values: async (columns) => new Map((await duckRows(file, `SELECT id, ${columns.map((n) => `"${n}"`).join(', ')} FROM contacts WHERE _deleted_at IS NULL`)).map((r) => [r.id as string, r])),
  });
});
