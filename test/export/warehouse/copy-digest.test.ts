import test from 'ava';
import { CopyTextDigest, copyBytesToJson } from '../../../src/export/load/copy-digest.js';
import { copyRows, KIND_CODES } from '../../../src/export/load/copy-text.js';
import { jsonLineKeys, typedJsonLine, type TypedColumn, type TypedRow } from '../../../src/export/schema.js';
import { ValuesDigest } from '../../../src/export/values-digest.js';

const column = (name: string, kind: TypedColumn['kind'], extra: Partial<TypedColumn> = {}): TypedColumn => ({ name, source: name, kind, nullable: name !== 'id', ...extra });

const COLUMNS: TypedColumn[] = [
  column('id', 'string'),
  column('name', 'string'),
  column('tags', 'string_list'),
  column('seats', 'integer'),
  column('arr', 'decimal'),
  column('vip', 'boolean'),
  column('renewal', 'date'),
  column('seen', 'timestamp'),
  column('external_ids', 'id_list', { fields: ['external_id', 'label'] }),
  column('custom_a "quoted" name\twith tab', 'string'),
];

/** Strings with everything COPY text or JSON escapes, multi-byte text, and the text of COPY's NULL. */
const STRINGS = [
  '',
  'plain',
  '\\N',
  'back\\slash',
  'tab\there',
  'new\nline',
  'carriage\rreturn',
  'quote " and \\" both',
  'control \u0001\u001f and \u007f',
  'bell \b form \f vertical \v escape \u001b',
  'Zoë Ångström',
  '名前',
  'emoji 😀 pair',
  'NULL',
  '{braces},commas',
  'line sep \u2028 para \u2029',
  ' leading and trailing ',
];

function rowsOf(strings: readonly string[]): TypedRow[] {
  const rows: TypedRow[] = [];
  strings.forEach((text, i) => {
    rows.push([
      `c${i}`,
      text,
      i % 4 === 0 ? [] : [text, 'b', `"${text}"`, '\\'],
      BigInt(i * 1_000_000_007 - 3),
      BigInt(i) * 123_456_789_012n - 5n,
      i % 2 === 0,
      i * 397 - 800,
      BigInt(i) * 86_400_000_123_457n - 1n,
      i % 3 === 0 ? [] : [{ external_id: text, label: i % 2 ? null : 'crm' }, { external_id: 'x', label: text }],
      i % 5 === 0 ? null : text,
    ]);
    rows.push(COLUMNS.map((c) => (c.name === 'id' ? `null-${i}` : null)));
  });
  return rows;
}

const keys = jsonLineKeys(COLUMNS);
const kinds = COLUMNS.map((c) => KIND_CODES[c.kind]);

test('each COPY line turns back into the typed JSON line of its row, whatever its values hold', (t) => {
  const rows = rowsOf(STRINGS);
  const text = copyRows(COLUMNS)(rows, rows.map((_, i) => i.toString(16).padStart(16, '0')));
  const lines: string[] = [];
  // A small buffer to start with: it grows for the long lines.
  copyBytesToJson(kinds, keys.map((key) => Buffer.from(key)), Buffer.from(text), { buffer: new Uint8Array(8) }, (line) => lines.push(Buffer.from(line).toString('utf8')));
  t.deepEqual(lines, rows.map((row) => typedJsonLine(COLUMNS, row)));
});

test('a line short of a value stops with an error instead of running on (copyRows never writes one)', (t) => {
  const rows = rowsOf(['a', 'b']);
  const text = copyRows(COLUMNS)(rows, rows.map(() => '0123456789abcdef'));
  // The last line cut inside its values: no tab ends them.
  const cut = Buffer.from(text.slice(0, text.lastIndexOf('\n', text.length - 2) + 6));
  const lines: string[] = [];
  const error = t.throws(() => copyBytesToJson(kinds, keys.map((key) => Buffer.from(key)), cut, { buffer: new Uint8Array(8) }, (line) => lines.push(Buffer.from(line).toString('utf8'))));
  t.regex(error!.message, /line without 10 values/);
  t.is(lines.length, rows.length - 1, 'the whole lines before it were read');
});

function digests(rows: readonly TypedRow[], options: ConstructorParameters<typeof CopyTextDigest>[2], pageSize = 7) {
  const encode = copyRows(COLUMNS);
  const values = new ValuesDigest();
  const digest = new CopyTextDigest(values, COLUMNS, options);
  for (let i = 0; i < rows.length; i += pageSize) {
    const page = rows.slice(i, i + pageSize);
    const text = encode(page, page.map(() => '0123456789abcdef'));
    digest.add(text, Buffer.from(text));
  }
  return { values, digest };
}

/** The values hash as every other output takes it: the typed JSON line of each row. */
function expected(rows: readonly TypedRow[]): { hex: string; rows: number } {
  const values = new ValuesDigest();
  for (const row of rows) values.add(typedJsonLine(COLUMNS, row));
  return { hex: values.hex, rows: values.rows };
}

// Many pages, so the worker gets several batches of 1 MiB.
const many = (): TypedRow[] => {
  const strings: string[] = [];
  for (let i = 0; i < 12_000; i += 1) strings.push(`${STRINGS[i % STRINGS.length]} #${i} ${'x'.repeat(i % 300)}`);
  return rowsOf(strings);
};

test('the sum taken on the worker thread equals the sum of the typed JSON lines', async (t) => {
  const rows = many();
  const { values, digest } = digests(rows, {}, 999);
  await digest.finish();
  t.deepEqual({ hex: values.hex, rows: values.rows }, expected(rows));
});

test('texts the worker is behind on are hashed on the main thread, and the sums add up', async (t) => {
  const rows = many();
  // No batch may wait for the worker: every text is hashed here.
  const { values, digest } = digests(rows, { maxPending: 0 }, 999);
  t.true(digest.inline > 0);
  await digest.finish();
  t.deepEqual({ hex: values.hex, rows: values.rows }, expected(rows));
});

test('without a worker every text is hashed on the main thread, to the same sum', async (t) => {
  const rows = rowsOf(STRINGS);
  const { values, digest } = digests(rows, { threaded: false });
  await digest.finish();
  t.is(digest.inline, Math.ceil(rows.length / 7));
  t.deepEqual({ hex: values.hex, rows: values.rows }, expected(rows));
});

test('a lone surrogate (which UTF-8 cannot hold) is hashed as stored, U+FFFD, on the worker or not, and the first row with such text is named', async (t) => {
  // Text columns and lists (a JSON column's COPY text escapes the half as JSON does, \ud800, and is left out here).
  const noJson = (rows: TypedRow[]) => rows.map((row) => row.map((v, i) => (COLUMNS[i]!.kind === 'id_list' && v !== null ? [] : v)) as TypedRow);
  const rows = noJson(rowsOf(['lone \ud800 high', 'lone \udc00 low', 'fine']));
  for (const threaded of [true, false]) {
    const named: string[] = [];
    const { values, digest } = digests(rows, { threaded, onReplaced: (id) => named.push(id) }, 4);
    await digest.finish();
    t.deepEqual({ hex: values.hex, rows: values.rows }, expected(noJson(rowsOf(['lone \ufffd high', 'lone \ufffd low', 'fine']))), 'the sum of the lines as the table stores them');
    t.is(named[0], 'c0', 'the first row with such text is named');
  }
});

test('a worker stopped before its sum was taken fails the digest instead of leaving its rows out', async (t) => {
  const rows = many();
  const { values, digest } = digests(rows, {}, 999);
  digest.close();
  const error = await t.throwsAsync(() => digest.finish());
  t.is((error as { code?: string }).code, 'INTERNAL');
  t.regex(error!.message, /values hash could not be taken/);
  t.true(values.rows < rows.length);
});
