import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createJsonSource, exactNumbers, flatten } from '../../src/input/json.js';
import type { RecordItem } from '../../src/csv/read.js';

const dir = mkdtempSync(join(tmpdir(), 'json-source-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function readAll(input: string, options: { highWaterMark?: number; sampleRecords?: number; encoding?: string } = {}) {
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

test('a number a double cannot hold exactly is read as its source text; numbers a double holds read as before', async (t) => {
  const path = file('big.ndjson', [
    '{"id":9007199254740993,"n":{"seats":99999999999999999999,"mrr":1e400,"tiny":-1e-400,"fine":[0.1,1.50,1e3,-7]},"s":"9007199254740993 1e400"}',
    '{"id":9007199254740992,"n":{"seats":12,"mrr":12345678901234567.5,"tiny":0,"fine":[]},"s":"a \\"quote\\" 123456789012345678"}',
    '12345678901234567890',
  ].join('\n'));
  const { header, items } = await readAll(path);
  t.deepEqual(header, ['id', 'n.seats', 'n.mrr', 'n.tiny', 'n.fine', 's']);
  t.deepEqual(items.slice(0, 2).map((i) => i.cells), [
    ['9007199254740993', '99999999999999999999', '1e400', '-1e-400', '0.1;1.5;1000;-7', '9007199254740993 1e400'],
    ['9007199254740992', '12', '12345678901234567.5', '0', '', 'a "quote" 123456789012345678'],
  ]);
  // A record that is a number is shown as written.
  t.regex(items[2]!.error!.message, /^Line 3 is 12345678901234567890, not a JSON object/);
  // Text with no long number is returned as it is, without a scan.
  const plain = '{"id":389012345601,"mrr":12.5}';
  t.is(exactNumbers(plain), plain);
  t.is(exactNumbers('{"a":[9007199254740993,-9007199254740993.5e-3],"b":"\\"1e400"}'), '{"a":["9007199254740993","-9007199254740993.5e-3"],"b":"\\"1e400"}');
});

test('a field first seen after the sample is ignored, with a warning', async (t) => {
  const path = file('late.ndjson', ['{"a":1}', '{"a":2}', '{"a":3,"b":4}'].join('\n'));
  const { header, items, warnings } = await readAll(path, { sampleRecords: 2 });
  t.deepEqual(header, ['a']);
  t.deepEqual(items.map((i) => i.cells), [['1'], ['2'], ['3']]);
  t.deepEqual(warnings, [`${path}: field b first appears in record 3, after the 2 records that fixed the columns; it is ignored`]);
});

test('one NDJSON contact holding an array of objects (its external_ids) is a record, not a wrapper of records', async (t) => {
  const path = file('one.ndjson', '{"name":"A","email":"a@x.test","external_ids":[{"label":"crm","id":"1"}]}\n');
  const { items } = await readAll(path);
  t.is(items.length, 1);
  t.is(items[0]!.error, undefined);
});

test('not an array nor NDJSON, empty, truncated: clear INPUT_FORMAT errors', async (t) => {
  const cases: Array<[string, RegExp]> = [
    // Pretty-printed, a wrapper gets the message a one-line wrapper gets (naming the key), not the general one.
    ['{\n  "users": [{"id": 1}]\n}\n', /is one JSON object, not a list of records: its records are inside "users" \(1 object\)\. Unwrap them first, e\.g\. jq '\.users' bad-0\.json > users\.json/],
    ['{\n  "id": 1\n}\n', /neither a JSON array nor NDJSON: line 1 is not a complete JSON object.*jq '\.users'/],
    ['{"users": [\n{"id": 1},\n', /neither a JSON array nor NDJSON: line 1 is not a complete JSON object/],
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

test('NDJSON with a byte that is not valid UTF-8: that line fails with ROW_ENCODING, shown read as windows-1252; a literal U+FFFD is text like any other', async (t) => {
  const path = join(dir, 'mixed.ndjson');
  writeFileSync(path, Buffer.concat([
    Buffer.from('{"name":"Renée Utf","email":"renee@enc.example"}\n{"name":"Jos'),
    Buffer.from([0xe9]),
    Buffer.from(' Latin","email":"jose@enc.example","tags":["a"]}\n{"name":"F \uFFFD","email":"fffd@enc.example"}\n'),
  ]));
  // a 5-byte read size cuts the characters, and the bad byte, across chunks
  for (const highWaterMark of [5, 64 * 1024]) {
    const { header, items, warnings } = await readAll(path, { highWaterMark });
    t.deepEqual(header, ['name', 'email', 'tags']);
    t.deepEqual(items.map((i) => [i.line, i.cells, i.error?.code]), [
      [1, ['Renée Utf', 'renee@enc.example', ''], undefined],
      [2, ['José Latin', 'jose@enc.example', 'a'], 'ROW_ENCODING'],
      [3, ['F \uFFFD', 'fffd@enc.example', ''], undefined],
    ]);
    t.is(items[1]!.error!.message, 'Line 2 holds bytes that are not valid UTF-8 (the rest of the file is UTF-8), read as windows-1252 in the error report: name "José Latin"; check that value, correct it if wrong, and import the report again (or pass --encoding with the file\'s real encoding)');
    t.deepEqual(warnings, [`${path} is not valid UTF-8 at line 2 (the records holding bad bytes fail with ROW_ENCODING); pass --encoding windows-1252 (or the file's real encoding) if the whole file is in another encoding`]);
  }
});

test('a JSON array: a record with bad bytes in a key or a value fails alone, and a bad byte in a record that is not JSON is shown read as windows-1252', async (t) => {
  const path = join(dir, 'mixed.json');
  writeFileSync(path, Buffer.concat([
    Buffer.from('[{"name":"Ana","email":"ana@enc.example","user_fields":{"city":"Malm'),
    Buffer.from([0xf6]),
    Buffer.from('"},"K'),
    Buffer.from([0xf6]),
    Buffer.from('r":"1"},\n {"name":"Bo","email":"bo@enc.example","user_fields":{"city":"Lund"}},\n {"name":"C'),
    Buffer.from([0x81]),
    Buffer.from('" "email":"c@enc.example"}]'),
  ]));
  const { header, items } = await readAll(path, { highWaterMark: 3 });
  t.deepEqual(header, ['name', 'email', 'user_fields.city', 'Kör']);
  t.deepEqual(items.map((i) => [i.line, i.cells, i.error?.code]), [
    [1, ['Ana', 'ana@enc.example', 'Malmö', '1'], 'ROW_ENCODING'],
    [2, ['Bo', 'bo@enc.example', 'Lund', ''], undefined],
    [3, [], 'JSON_INVALID_RECORD'],
  ]);
  t.regex(items[0]!.error!.message, /^Record 1 holds bytes that are not valid UTF-8 .*: user_fields\.city "Malmö", Kör "1"; check those values/);
  t.regex(items[2]!.error!.message, /^Record 3 is not valid JSON: .*; it also holds bytes that are not valid UTF-8, shown read as windows-1252: check them when you fix the record; as written: .*; fill its columns from it and empty its _error_code cell$/);
  for (const item of items) t.false(/[\uFFFD\ud800-\udfff]/.test(item.cells.join('') + (item.error?.message ?? '')), 'no replacement character, no marked byte');
});

test('--encoding windows-1252: a record holding a byte it leaves undefined fails with ROW_ENCODING naming the byte, kept as its C1 control; the others import', async (t) => {
  const path = join(dir, 'undefined-1252.ndjson');
  writeFileSync(path, Buffer.concat([
    Buffer.from('{"name":"Jos\xe9","email":"jose@enc.example"}\n{"name":"Ko', 'latin1'),
    Buffer.from([0x9d]),
    Buffer.from('","email":"ko@enc.example"}\n{"name":"Zo\xeb","email":"zoe@enc.example"}\n', 'latin1'),
  ]));
  for (const highWaterMark of [5, 64 * 1024]) {
    const { items, warnings } = await readAll(path, { highWaterMark, encoding: 'windows-1252' });
    t.deepEqual(items.map((i) => [i.line, i.cells, i.error?.code]), [
      [1, ['José', 'jose@enc.example'], undefined],
      [2, ['Ko\u009d', 'ko@enc.example'], 'ROW_ENCODING'],
      [3, ['Zoë', 'zoe@enc.example'], undefined],
    ]);
    t.is(items[1]!.error!.message, 'Line 2 holds the byte 0x9D, which windows-1252 does not define (the file was read as windows-1252), kept as the control character of the same value in the error report: name "Ko\\u009d"; check that value, correct it if wrong, and import the report again (or pass --encoding with the file\'s real encoding)');
    t.deepEqual(warnings, []);
  }
});

test('--encoding windows-1252 (or latin1) on UTF-8 bytes: JSON and NDJSON records fail with ROW_ENCODING, read as UTF-8, with one warning, as CSV rows do', async (t) => {
  // Read as asked, "Renée" would be stored as "RenÃ©e" without a word; a real windows-1252 byte (Zo\xeb) still reads as asked.
  const utf8 = (text: string) => Buffer.from(text, 'utf8');
  const latin = (text: string) => Buffer.from(text, 'latin1');
  const array = join(dir, 'utf8-as-1252.json');
  writeFileSync(array, Buffer.concat([utf8('[{"name":"Renée Utf8","email":"renee@enc.example"},\n'), latin('{"name":"Zo\xeb","email":"zoe@enc.example"},\n'), utf8('{"name":"Jürgen","email":"jurgen@enc.example","tags":["Café","x"]}]')]));
  const ndjson = join(dir, 'utf8-as-1252.ndjson');
  writeFileSync(ndjson, Buffer.concat([utf8('{"name":"Renée Utf8","email":"renee@enc.example"}\n'), latin('{"name":"Zo\xeb","email":"zoe@enc.example"}\n'), utf8('{"name":"Jürgen","email":"jurgen@enc.example","tags":["Café","x"]}\n')]));
  for (const [path, where] of [[array, 'Record'], [ndjson, 'Line']] as const) {
    for (const encoding of ['windows-1252', 'latin1']) {
      const { items, warnings } = await readAll(path, { encoding });
      t.deepEqual(items.map((i) => [i.line, i.cells, i.error?.code]), [
        [1, ['Renée Utf8', 'renee@enc.example', ''], 'ROW_ENCODING'],
        [2, ['Zoë', 'zoe@enc.example', ''], undefined],
        [3, ['Jürgen', 'jurgen@enc.example', 'Café;x'], 'ROW_ENCODING'],
      ], `${path} as ${encoding}`);
      t.is(items[0]!.error!.message, `${where} 1 looks like UTF-8 though --encoding ${encoding} was given (its text would be garbled), read as UTF-8 in the error report: name "Renée Utf8"; check that value and import the report again, or pass --encoding utf8 if the file is UTF-8`);
      t.regex(items[2]!.error!.message, /: name "Jürgen", tags "Café;x"; check those values/);
      t.deepEqual(warnings, [`${path} was read as ${encoding} (--encoding), but ${where.toLowerCase()} 1 holds UTF-8 text: the rows holding it fail with ROW_ENCODING rather than being stored garbled; pass --encoding utf8 (or leave --encoding out) if the file is UTF-8`]);
    }
    // Read as UTF-8 (the default), the same file's UTF-8 records import; the windows-1252 byte is the one that fails.
    const { items } = await readAll(path);
    t.deepEqual(items.map((i) => i.error?.code), [undefined, 'ROW_ENCODING', undefined]);
  }
});

test('--encoding decodes a JSON file as asked; a BOM wins over it', async (t) => {
  const latin = join(dir, 'latin.ndjson');
  writeFileSync(latin, Buffer.concat([Buffer.from('{"name":"Jos'), Buffer.from([0xe9, 0x20, 0x80]), Buffer.from('","email":"jose@enc.example"}\n')]));
  const source = createJsonSource({ input: latin, encoding: 'windows-1252' });
  t.like(await source.open(), { encoding: 'windows-1252' });
  const items: RecordItem[] = [];
  for await (const item of source) items.push(item);
  t.deepEqual(items, [{ line: 1, cells: ['José €', 'jose@enc.example'] }]);
  t.deepEqual(source.warnings, []);

  const bom = join(dir, 'bom.json');
  writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"name":"Renée"}]')]));
  const { items: bomItems, warnings } = await readAll(bom);
  t.deepEqual(bomItems, [{ line: 1, cells: ['Renée'] }]);
  t.deepEqual(warnings, []);
  const asked = createJsonSource({ input: bom, encoding: 'latin1' });
  t.like(await asked.open(), { encoding: 'utf8' });
  t.deepEqual(asked.warnings, [`${bom} starts with a utf8 byte-order mark: decoded as utf8, not latin1`]);
  asked.close();
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

test('a key written twice in one object fails the record with ROW_FIELD_TWICE naming it (JSON.parse would keep the last); the same key in different objects, or inside a value, is no repeat', async (t) => {
  const path = file('twice.ndjson', [
    '{"name":"A","email":"a@x.example","email":"b@x.example"}',
    '{"name":"B","email":"c@x.example","account":{"name":"Acme","id":"1"},"id":"2","note":"\\"email\\": {\\"email\\": 1}"}',
    '{"name":"C","custom":{"seats":1, "seats" :2},"email":"d@x.example"}',
    '',
  ].join('\n'));
  const { items } = await readAll(path);
  t.deepEqual(items.map((i) => [i.line, i.error?.code]), [[1, 'ROW_FIELD_TWICE'], [2, undefined], [3, 'ROW_FIELD_TWICE']]);
  t.is(items[0]!.error!.message, 'Line 1 carries the key "email" twice in one object; keep one of them');
  t.is(items[2]!.error!.message, 'Line 3 carries the key "seats" twice in one object; keep one of them');
});
