import test from 'ava';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRecordSource, type RecordItem } from '../../src/csv/read.js';
import { DEFAULT_CUSTOM_FIELDS } from '../../src/emulator/default-org.js';
import { resolveColumns } from '../../src/import/columns.js';
import { createDuplicateTracker, keyOfCells, scanDuplicates, type DuplicatePolicy } from '../../src/import/dedupe.js';
import { hashBytes } from '../../src/import/hash.js';
import { ContactSpool } from '../../src/import/contact-spool.js';
import type { Contact } from '../../src/pylon/types.js';
import { keyFor } from '../../src/import/lookup.js';
import { validateRow } from '../../src/import/validate.js';

const fixtures = fileURLToPath(new URL('../fixtures/csv/', import.meta.url));
const customFields = DEFAULT_CUSTOM_FIELDS;
const context = { customFields: new Map(customFields.map((f) => [f.slug, f])) };

async function* items(rows: Array<[number, string[]] | [number, string[], string]>): AsyncGenerator<RecordItem> {
  for (const [line, cells, code] of rows) yield code ? { line, cells, error: { code, message: code } } : { line, cells };
}

/** The decision for every line of duplicates.csv (lines 5 and 7 have no email: no key). */
async function decisions(policy: DuplicatePolicy) {
  const source = createRecordSource({ input: join(fixtures, 'duplicates.csv') });
  const plan = resolveColumns(await source.header(), { customFields });
  source.close();
  const index = await scanDuplicates(createRecordSource({ input: join(fixtures, 'duplicates.csv') }), plan, policy);
  const out: Record<number, unknown> = {};
  for await (const item of createRecordSource({ input: join(fixtures, 'duplicates.csv') })) {
    const key = keyFor(validateRow(item.cells, plan, context).desired);
    out[item.line] = key === undefined ? 'no key' : index.decide(item.line, key);
  }
  return { out, summary: index.summary };
}

test('policy first (pre-pass): the first row of a group is kept; emails differing in case and spaces group', async (t) => {
  const { out, summary } = await decisions('first');
  t.deepEqual(out, {
    2: { keep: true },
    3: { keep: true },
    4: { keep: false, duplicateOf: 2 },
    5: 'no key',
    6: { keep: false, duplicateOf: 2 },
    7: 'no key',
  });
  t.like(summary, { keys: 2, groups: 1, duplicateRows: 2 });
});

test('policy last: the last row of a group is kept', async (t) => {
  const { out, summary } = await decisions('last');
  t.deepEqual(out, {
    2: { keep: false, duplicateOf: 6 },
    3: { keep: true },
    4: { keep: false, duplicateOf: 6 },
    5: 'no key',
    6: { keep: true },
    7: 'no key',
  });
  t.like(summary, { keys: 2, groups: 1, duplicateRows: 2 });
});

test('policy error: no row of a group is kept; the others point at the first line, the first at the last', async (t) => {
  const { out, summary } = await decisions('error');
  t.deepEqual(out, {
    2: { keep: false, duplicateOf: 6 },
    3: { keep: true },
    4: { keep: false, duplicateOf: 2 },
    5: 'no key',
    6: { keep: false, duplicateOf: 2 },
    7: 'no key',
  });
  t.like(summary, { keys: 2, groups: 1, duplicateRows: 3 });
});

test('streaming tracker (first): same decisions as the pre-pass, in one pass', async (t) => {
  const tracker = createDuplicateTracker();
  const plan = resolveColumns(['name', 'email'], { customFields });
  const out: Record<number, unknown> = {};
  for await (const item of createRecordSource({ input: join(fixtures, 'duplicates.csv') })) {
    const key = keyOfCells(item.cells, plan);
    if (key) out[item.line] = tracker.decide(item.line, key);
  }
  t.deepEqual(out, { 2: { keep: true }, 3: { keep: true }, 4: { keep: false, duplicateOf: 2 }, 6: { keep: false, duplicateOf: 2 } });
  t.deepEqual(tracker.decide(2, 'e:ann@example.com'), { keep: true }, 'asking again about the kept line keeps it');
});

test('rows with an id are keyed by id, the others by email; CSV-error rows are not scanned', async (t) => {
  const plan = resolveColumns(['id', 'email'], { customFields });
  const index = await scanDuplicates(
    items([
      [2, ['c1', 'a@x.io']],
      [3, ['c1', 'b@x.io']],
      [4, ['', 'a@x.io']],
      [5, ['', 'A@X.IO']],
      [6, ['c2', 'a@x.io']],
      [7, ['', 'a@x.io', 'extra'], 'CSV_RECORD_INCONSISTENT_COLUMNS'],
    ]),
    plan,
    'last',
  );
  t.deepEqual(index.decide(2, 'i:c1'), { keep: false, duplicateOf: 3 });
  t.deepEqual(index.decide(3, 'i:c1'), { keep: true });
  t.deepEqual(index.decide(4, 'e:a@x.io'), { keep: false, duplicateOf: 5 });
  t.deepEqual(index.decide(5, 'e:a@x.io'), { keep: true });
  t.deepEqual(index.decide(6, 'i:c2'), { keep: true });
  t.deepEqual(index.decide(9, 'e:never@seen.io'), { keep: true }, 'a key the scan never saw is kept');
  t.like(index.summary, { keys: 3, groups: 2, duplicateRows: 2 });
});

test('keyOfCells agrees with keyFor(validated row) on every fixture row', async (t) => {
  for (const file of ['duplicates.csv', 'quoted.csv', 'dotted-slug.csv', 'utf16le-bom.csv', 'sep-semicolon.csv']) {
    const source = createRecordSource({ input: join(fixtures, file) });
    const plan = resolveColumns(await source.header(), { customFields });
    for await (const item of source) {
      t.is(keyOfCells(item.cells, plan), keyFor(validateRow(item.cells, plan, context).desired), `${file}:${item.line}`);
    }
  }
});

test('non-ASCII keys compare exactly', (t) => {
  const tracker = createDuplicateTracker();
  t.deepEqual(tracker.decide(2, 'e:zoë@example.com'), { keep: true });
  t.deepEqual(tracker.decide(3, 'e:zoe@example.com'), { keep: true });
  t.deepEqual(tracker.decide(4, 'e:zoë@example.com'), { keep: false, duplicateOf: 2 });
  t.deepEqual(tracker.decide(5, 'e:' + 'ü'.repeat(5000)), { keep: true });
  t.deepEqual(tracker.decide(6, 'e:' + 'ü'.repeat(5000)), { keep: false, duplicateOf: 5 });
});

test('1,000,000 keys: exact decisions despite 32-bit hash collisions, in bounded memory', async (t) => {
  const n = 1_000_000;
  const key = (i: number) => `e:person.${i}@example-${i % 977}.com`;
  const before = process.memoryUsage();
  const plan = resolveColumns(['email'], { customFields });
  async function* rows(): AsyncGenerator<RecordItem> {
    for (let i = 0; i < n; i++) yield { line: i + 2, cells: [key(i).slice(2)] };
    // Three planted duplicates, differing in case.
    yield { line: n + 2, cells: ['PERSON.17@example-17.com'] };
    yield { line: n + 3, cells: ['person.999999@EXAMPLE-528.com'] };
    yield { line: n + 4, cells: ['person.17@example-17.com'] };
  }
  const index = await scanDuplicates(rows(), plan, 'last');
  const after = process.memoryUsage();
  const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  t.log(`index of ${n} keys: ${(grown / 1e6).toFixed(1)} MB (heap + array buffers, without GC)`);
  t.true(grown < 150e6, `grew ${grown} bytes`);
  t.like(index.summary, { keys: n, groups: 2, duplicateRows: 3 });
  t.true(index.summary.memoryBytes < 100e6, `index holds ${index.summary.memoryBytes} bytes`);

  // The 32-bit hash does collide among these keys: exactness comes from comparing bytes.
  const seen = new Map<number, number>();
  let collisions = 0;
  for (let i = 0; i < n; i++) {
    const bytes = Buffer.from(key(i));
    const h = hashBytes(bytes, 0, bytes.length);
    if (seen.has(h)) collisions++;
    else seen.set(h, i);
  }
  seen.clear();
  t.true(collisions > 10, `${collisions} hash collisions`);

  let kept = 0;
  for (let i = 0; i < n; i++) {
    const decision = index.decide(i + 2, key(i));
    if (decision.keep) kept++;
    else if (i !== 17 && i !== 999999) t.fail(`false duplicate at ${i}: ${JSON.stringify(decision)}`);
  }
  t.is(kept, n - 2);
  t.deepEqual(index.decide(19, key(17)), { keep: false, duplicateOf: n + 4 });
  t.deepEqual(index.decide(n + 2, key(17)), { keep: false, duplicateOf: n + 4 });
  t.deepEqual(index.decide(n + 4, key(17)), { keep: true });
  t.deepEqual(index.decide(n + 1, key(999999)), { keep: false, duplicateOf: n + 3 });
});

test('keys held by the listed contacts (a KeyRoute) get the same decisions and summary as keys in the table', async (t) => {
  // 3,000 rows over 1,000 emails (each three times, in different case), a third of them held by listed
  // contacts: some as primary, some as secondary email, one shared by two contacts.
  const email = (i: number) => `person.${i}@example.com`;
  const rows: RecordItem[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 1000; i++) {
      const written = round === 1 ? email(i).toUpperCase() : email(i);
      rows.push({ line: rows.length + 2, cells: [written] });
    }
  }
  rows.push({ line: rows.length + 2, cells: ['only.once@example.com'] });
  const spool = new ContactSpool(false);
  t.teardown(() => spool.close());
  const listed: Contact[] = [];
  for (let i = 0; i < 1000; i += 3) {
    listed.push(
      (i % 2 === 0 ? { id: `c${i}`, name: 'x', email: email(i), emails: [email(i)] } : { id: `c${i}`, name: 'x', email: `other.${i}@example.com`, emails: [`other.${i}@example.com`, email(i)] }) as Contact,
    );
  }
  listed.push({ id: 'twin', name: 'x', email: email(0), emails: [email(0)] } as Contact);
  spool.add(listed);
  const route = { slots: spool.slotCount, held: spool.held, slotOf: (key: string) => spool.slotOf(key) };
  const plan = resolveColumns(['email'], { customFields });
  async function* source() {
    yield* rows;
  }
  let routed = 0;
  const counting = { ...route, slotOf: (key: string) => { const s = route.slotOf(key); if (s >= 0) routed++; return s; } };

  const decide = (index: { decide(line: number, key: string): unknown }) => rows.map((r) => index.decide(r.line, keyOfCells(r.cells, plan)!));
  t.deepEqual(decide(createDuplicateTracker(0, counting)), decide(createDuplicateTracker()), 'streaming first');
  t.true(routed >= 1000, `${routed} rows went by slot`);
  for (const policy of ['first', 'last', 'error'] as const) {
    const plain = await scanDuplicates(source(), plan, policy);
    const viaRoute = await scanDuplicates(source(), plan, policy, rows.length, route);
    t.deepEqual(decide(viaRoute), decide(plain), policy);
    t.deepEqual({ ...viaRoute.summary, memoryBytes: 0 }, { ...plain.summary, memoryBytes: 0 }, policy);
    t.like(plain.summary, { keys: 1001, groups: 1000 });
  }
});

test('one email, one row: rows with equal emails are duplicates whatever their external ids; the same (label, id) is a duplicate too', async (t) => {
  const { duplicateKeysOfCells } = await import('../../src/import/dedupe.js');
  const plan = resolveColumns(['name', 'email', 'external_id', 'external_id_label'], { customFields });
  const rows: Array<[number, string[]]> = [
    [2, ['Kenji', 'KENJI@x.io', 'sf-1', 'salesforce']],
    [3, ['Kenji', 'kenji@x.io', 'sf-2', 'salesforce']],
    [4, ['Kenji W', 'k.w@x.io', 'sf-1', 'salesforce']],
    [5, ['Other', 'other@x.io', 'sf-1', 'hubspot']],
  ];
  t.deepEqual(duplicateKeysOfCells(rows[0]![1], plan).map((k) => k.by), ['email', 'external id']);
  const index = await scanDuplicates(items(rows), plan, 'first');
  const decide = (line: number, cells: string[]) => duplicateKeysOfCells(cells, plan).map(({ key }) => index.decide(line, key)).find((d) => !d.keep) ?? { keep: true };
  t.deepEqual(rows.map(([line, cells]) => decide(line, cells)), [
    { keep: true },
    { keep: false, duplicateOf: 2 },
    { keep: false, duplicateOf: 2 },
    { keep: true },
  ], 'line 5: the same id under another label is not this file\'s duplicate (it is a conflict for the lookup)');
});
