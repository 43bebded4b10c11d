import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createJsonSource, flatten } from '../../src/input/json.js';
import type { RecordItem } from '../../src/csv/read.js';

const dir = mkdtempSync(join(tmpdir(), 'json-source-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function readAll(input: string, options: { highWaterMark?: number; sampleRecords?: number } = {}) {
  const source = createJsonSource({ input, ...options });
  const header = await source.header();
  const items: RecordItem[] = [];
  for await (const item of source) items.push(item);
  return { header, items, warnings: source.warnings };
}

const USERS = [
  { id: 389012345601, name: 'Ruth', email: 'ruth@acme.example', tags: ['a', 'b'], user_fields: { tier: 'gold', plan: null }, active: true, text: 'a "quoted", [bracketed] {braced} \\ value' },
  { id: 389012345602, name: 'Pavel', email: 'pavel@globex.example', tags: [], user_fields: { tier: 'silver' }, active: false, text: 'ü€' },
];

test('a JSON array streams record by record, flattened by dotted paths, with record numbers', async (t) => {
  const path = file('users.json', JSON.stringify(USERS, null, 2));
  // a 7-byte read size cuts strings, escapes and multi-byte characters across chunks
  for (const highWaterMark of [7, 64 * 1024]) {
    const { header, items } = await readAll(path, { highWaterMark });
    t.deepEqual(header, ['id', 'name', 'email', 'tags', 'user_fields.tier', 'user_fields.plan', 'active', 'text']);
    t.deepEqual(items, [
      { line: 1, cells: ['389012345601', 'Ruth', 'ruth@acme.example', 'a;b', 'gold', '', 'true', 'a "quoted", [bracketed] {braced} \\ value'] },
      { line: 2, cells: ['389012345602', 'Pavel', 'pavel@globex.example', '', 'silver', '', 'false', 'ü€'] },
    ]);
  }
});

test('NDJSON: physical line numbers, blank lines skipped, a bad line is a record with an error', async (t) => {
  const path = file('users.ndjson', `${JSON.stringify(USERS[0])}\n\n${JSON.stringify(USERS[1])}\n{"id": 3, "name": \n[1,2]\n`);
  const { items } = await readAll(path, { highWaterMark: 5 });
  t.deepEqual(items.map((i) => [i.line, i.error?.code]), [[1, undefined], [3, undefined], [4, 'JSON_INVALID_RECORD'], [5, 'JSON_INVALID_RECORD']]);
  t.regex(items[2]!.error!.message, /^Line 4 is not valid JSON/);
  t.regex(items[3]!.error!.message, /^Line 5 is an array, not a JSON object/);
});

test('a field first seen after the sample is ignored, with a warning', async (t) => {
  const path = file('late.ndjson', ['{"a":1}', '{"a":2}', '{"a":3,"b":4}'].join('\n'));
  const { header, items, warnings } = await readAll(path, { sampleRecords: 2 });
  t.deepEqual(header, ['a']);
  t.deepEqual(items.map((i) => i.cells), [['1'], ['2'], ['3']]);
  t.deepEqual(warnings, [`${path}: field b first appears in record 3, after the 2 records that fixed the columns; it is ignored`]);
});

test('not an array nor NDJSON, empty, truncated: clear INPUT_FORMAT errors', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['{\n  "users": [{"id": 1}]\n}\n', /neither a JSON array nor NDJSON: line 1 is not a complete JSON object.*jq '\.users'/],
    ['', /is empty: expected a JSON array of objects/],
    ['id,name\n1,a\n', /is not JSON: expected a JSON array/],
    ['[{"id": 1}, {"id": 2', /the JSON array is not closed/],
    ['[1, 2]', /holds no JSON objects/],
  ];
  for (const [text, message] of cases) {
    const error = await t.throwsAsync(readAll(file(`bad-${cases.findIndex((c) => c[0] === text)}.json`, text)), { message });
    t.is((error as { code?: string }).code, 'INPUT_FORMAT');
  }
});

test('a stream works too', async (t) => {
  const source = createJsonSource({ input: Readable.from([Buffer.from('[{"x": {"y": [{"z": 1}]}}]')]) });
  t.deepEqual(await source.header(), ['x.y']);
  const items: RecordItem[] = [];
  for await (const item of source) items.push(item);
  t.deepEqual(items, [{ line: 1, cells: ['[{"z":1}]'] }]);
});

test('flatten', (t) => {
  t.deepEqual([...flatten({ a: { b: 1, c: { d: 'x' } }, e: [1, 'two', null], f: {}, g: null })], [['a.b', '1'], ['a.c.d', 'x'], ['e', '1;two'], ['f', ''], ['g', '']]);
});
