import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createRecordSource, type RecordItem, type RecordSourceOptions } from '../../src/csv/read.js';
import { PylonCliError } from '../../src/errors.js';

const fixtures = fileURLToPath(new URL('../fixtures/csv/', import.meta.url));
const fixture = (name: string) => join(fixtures, name);

type Simple = [number, string[]] | [number, string[], string];

async function readAll(options: RecordSourceOptions) {
  const source = createRecordSource(options);
  const layout = await source.open();
  const items: Simple[] = [];
  for await (const item of source) items.push(item.error ? [item.line, item.cells, item.error.code] : [item.line, item.cells]);
  return { layout, items, warnings: source.warnings, blankRecords: source.blankRecords, bytesRead: source.bytesRead };
}

const accents: Simple[] = [
  [2, ['José Müller', 'jose@example.com']],
  [3, ['Zoë Ærø', 'zoe@example.com']],
];

const table: Array<{ file: string; header: string[]; delimiter: string; encoding: string; headerLine?: number; items: Simple[]; warnings?: RegExp[]; blank?: number }> = [
  { file: 'utf8-bom.csv', header: ['name', 'email'], delimiter: ',', encoding: 'utf8', items: accents },
  { file: 'utf16le-bom.csv', header: ['name', 'email'], delimiter: ',', encoding: 'utf16le', items: accents },
  { file: 'utf16be-bom.csv', header: ['name', 'email'], delimiter: ',', encoding: 'utf16be', items: accents },
  {
    file: 'windows-1252.csv',
    header: ['name', 'email', 'custom.notes'],
    delimiter: ',',
    encoding: 'windows-1252',
    items: [
      [2, ['José Müller', 'jose@example.com', '“VIP” – pays in €']],
      [3, ['Françoise Œuvre', 'francoise@example.com', 'naïve café']],
    ],
    warnings: [/not valid UTF-8: decoded as windows-1252/],
  },
  {
    file: 'sep-semicolon.csv',
    header: ['name', 'email', 'phone_numbers'],
    delimiter: ';',
    encoding: 'utf8',
    headerLine: 2,
    items: [
      [3, ['Doe, Jane', 'jane@example.com', '+1 555 0100;+44 20 7946 0000']],
      [4, ['Bob', 'bob@example.com', '']],
    ],
  },
  {
    file: 'semicolon-sniffed.csv',
    header: ['name', 'email', 'custom.notes'],
    delimiter: ';',
    encoding: 'utf8',
    items: [
      [2, ['Doe, John', 'john@example.com', 'likes a, b and c']],
      [3, ['Ann', 'ann@example.com', '']],
    ],
  },
  {
    file: 'tab.tsv',
    header: ['name', 'email', 'custom.notes'],
    delimiter: '\t',
    encoding: 'utf8',
    items: [
      [2, ['Doe, John', 'john@example.com', 'says "hi"; twice']],
      [3, ['Ann', 'ann@example.com', '']],
    ],
  },
  {
    file: 'pipe.csv',
    header: ['name', 'email', 'custom.notes'],
    delimiter: '|',
    encoding: 'utf8',
    items: [
      [2, ['Doe, John', 'john@example.com', 'a;b,c']],
      [3, ['Ann', 'ann@example.com', '']],
    ],
  },
  {
    file: 'cr-only.csv',
    header: ['name', 'email'],
    delimiter: ',',
    encoding: 'utf8',
    items: [
      [2, ['Ann', 'ann@example.com']],
      [4, ['Bo\rB', 'bob@example.com']],
      [6, ['Cy', 'cy@example.com']],
    ],
  },
  {
    file: 'crlf.csv',
    header: ['name', 'email', 'custom.notes'],
    delimiter: ',',
    encoding: 'utf8',
    items: [
      [2, ['Ann', 'ann@example.com', 'line one\r\nline two']],
      [5, ['Bob', 'bob@example.com', 'plain']],
    ],
  },
  {
    file: 'quoted.csv',
    header: ['name', 'email', 'custom.notes'],
    delimiter: ',',
    encoding: 'utf8',
    items: [
      [2, ['Smith, Ann', 'ann@example.com', 'She said "hi",\nthen left']],
      [4, ['Bob', 'bob@example.com', 'a,b,c']],
      [5, ['Cy', 'cy@example.com', '']],
    ],
  },
  {
    file: 'ragged.csv',
    header: ['name', 'email', 'custom.tier'],
    delimiter: ',',
    encoding: 'utf8',
    items: [
      [2, ['Ann', 'ann@example.com', 'gold']],
      [3, ['Bob', 'bob@example.com', 'silver', 'extra'], 'CSV_RECORD_INCONSISTENT_COLUMNS'],
      [4, ['Cy', 'cy@example.com'], 'CSV_RECORD_INCONSISTENT_COLUMNS'],
      [5, ['Dee', 'dee@example.com', 'bronze']],
    ],
  },
  {
    file: 'bad-quote.csv',
    header: ['name', 'email'],
    delimiter: ',',
    encoding: 'utf8',
    items: [
      [2, ['Ann', 'ann@example.com']],
      [3, ['"Bob" Jr', 'bob@example.com'], 'CSV_INVALID_CLOSING_QUOTE'],
      [4, ['Cy', 'cy@example.com']],
      [5, ['Dee "D"', 'dee@example.com']],
      [6, ['Eve', 'eve@example.com']],
    ],
  },
  {
    file: 'unclosed-quote.csv',
    header: ['name', 'email'],
    delimiter: ',',
    encoding: 'utf8',
    items: [
      [2, ['Ann', 'ann@example.com']],
      [3, ['"Bob', 'bob@example.com'], 'CSV_QUOTE_NOT_CLOSED'],
      [4, ['Cy', 'cy@example.com']],
      [5, ['Dee', 'dee@example.com']],
    ],
    warnings: [/unclosed-quote\.csv, line 3: Quote opened on line 3 is never closed; the record was cut at the end of that line and the lines after it were read as separate records$/],
  },
  {
    file: 'empty-lines.csv',
    header: ['name', 'email'],
    delimiter: ',',
    encoding: 'utf8',
    headerLine: 3,
    items: [
      [5, ['Ann', 'ann@example.com']],
      [10, ['Bob', 'bob@example.com']],
    ],
    blank: 2,
  },
  {
    file: 'duplicates.csv',
    header: ['name', 'email'],
    delimiter: ',',
    encoding: 'utf8',
    items: [
      [2, ['Ann', 'Ann@Example.com']],
      [3, ['Bob', 'bob@example.com']],
      [4, ['Annie', ' ann@example.com ']],
      [5, ['No Email', '']],
      [6, ['ANN', 'ANN@EXAMPLE.COM']],
      [7, ['Nobody', '']],
    ],
  },
  {
    file: 'invisible-header.csv',
    header: ['\u200bemail', 'name\u00a0', '\u2060custom.tier'],
    delimiter: ',',
    encoding: 'utf8',
    items: [[2, ['ann@example.com', 'Ann', 'gold']]],
    warnings: [/"\u200bemail" contains invisible characters \(U\+200B\)/, /"name\u00a0" contains invisible characters \(U\+00A0\)/, /U\+2060/],
  },
  {
    file: 'dotted-slug.csv',
    header: ['email', 'custom.contact.salesforce.Contact_ID_for_Pylon__c', 'CUSTOM.Tier'],
    delimiter: ',',
    encoding: 'utf8',
    items: [
      [2, ['ann@example.com', '', 'Gold']],
      [3, ['bob@example.com', '003XYZ', 'silver']],
    ],
  },
  {
    file: 'unknown-columns.csv',
    header: ['Name', 'Emial', 'custom.tierr', 'Favourite colour', '_line', 'custom.tier'],
    delimiter: ',',
    encoding: 'utf8',
    items: [[2, ['Ann', 'ann@example.com', 'gold', 'blue', '2', 'gold']]],
  },
  { file: 'header-only.csv', header: ['name', 'email'], delimiter: ',', encoding: 'utf8', items: [] },
];

for (const expected of table) {
  test(`fixture ${expected.file}`, async (t) => {
    const { layout, items, warnings, blankRecords } = await readAll({ input: fixture(expected.file) });
    t.deepEqual(layout, { header: expected.header, headerLine: expected.headerLine ?? 1, delimiter: expected.delimiter, encoding: expected.encoding });
    t.deepEqual(items, expected.items);
    t.is(warnings.length, expected.warnings?.length ?? 0, warnings.join('\n'));
    for (const [i, pattern] of (expected.warnings ?? []).entries()) t.regex(warnings[i]!, pattern);
    t.is(blankRecords, expected.blank ?? 0);
  });

  test(`fixture ${expected.file}: same records through a byte stream in 3-byte chunks`, async (t) => {
    const bytes = (await import('node:fs')).readFileSync(fixture(expected.file));
    const chunks = Array.from({ length: Math.ceil(bytes.length / 3) }, (_, i) => bytes.subarray(i * 3, i * 3 + 3));
    const { layout, items } = await readAll({ input: Readable.from(chunks) });
    t.deepEqual(layout.header, expected.header);
    t.deepEqual(items, expected.items);
  });
}

test('error items carry a message naming the line', async (t) => {
  const source = createRecordSource({ input: fixture('ragged.csv') });
  const errors: RecordItem[] = [];
  for await (const item of source) if (item.error) errors.push(item);
  t.is(errors[0]!.error!.message, 'Line 3 has 4 cells but the header has 3 (too many: an unquoted delimiter in a value?)');
  t.is(errors[1]!.error!.message, 'Line 4 has 2 cells but the header has 3 (too few)');
  const unclosed = createRecordSource({ input: fixture('unclosed-quote.csv') });
  let message = '';
  for await (const item of unclosed) if (item.error) message = item.error.message;
  t.regex(message, /^Quote opened on line 3 is never closed/);
});

test('--encoding latin1 decodes ISO-8859-1 without a warning', async (t) => {
  const { layout, items, warnings } = await readAll({ input: fixture('latin1.csv'), encoding: 'latin1' });
  t.is(layout.encoding, 'latin1');
  t.is(layout.delimiter, ';');
  t.deepEqual(items, [
    [2, ['José Müller', 'jose@example.com']],
    [3, ['Søren Ærø', 'soren@example.com']],
  ]);
  t.deepEqual(warnings, []);
});

test('--encoding iso-8859-1 and windows-1252 are accepted; a BOM wins over the option with a warning', async (t) => {
  t.is((await readAll({ input: fixture('latin1.csv'), encoding: 'ISO-8859-1' })).items[0]![1][0], 'José Müller');
  const { layout, items, warnings } = await readAll({ input: fixture('utf16le-bom.csv'), encoding: 'windows-1252' });
  t.is(layout.encoding, 'utf16le');
  t.deepEqual(items, accents);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /utf16le byte-order mark: decoded as utf16le, not windows-1252/);
});

test('an unknown --encoding is a ConfigError listing the choices', (t) => {
  const error = t.throws(() => createRecordSource({ input: fixture('utf8-bom.csv'), encoding: 'klingon' }));
  t.true(error instanceof PylonCliError);
  t.is((error as PylonCliError).code, 'CONFIG_INVALID_OPTION');
  t.regex(error!.message, /`--encoding`: expected one of utf8, utf16le, utf16be, windows-1252, latin1/);
  t.regex(error!.message, /"klingon"/);
});

test('--delimiter overrides sniffing; tab can be named', async (t) => {
  const { layout, items } = await readAll({ input: fixture('semicolon-sniffed.csv'), delimiter: ',' });
  t.is(layout.delimiter, ',');
  t.deepEqual(layout.header, ['name;email;custom.notes']);
  t.deepEqual(items[0], [2, ['Doe', ' John;john@example.com;likes a', ' b and c'], 'CSV_RECORD_INCONSISTENT_COLUMNS']);
  t.is((await readAll({ input: fixture('tab.tsv'), delimiter: 'tab' })).layout.delimiter, '\t');
  t.is((await readAll({ input: fixture('sep-semicolon.csv'), delimiter: ',' })).layout.header.length, 1, 'the option wins over sep=');
});

test('a bad --delimiter is a ConfigError', (t) => {
  for (const bad of [';;', '"', '', '\n']) {
    const error = t.throws(() => createRecordSource({ input: fixture('utf8-bom.csv'), delimiter: bad }));
    t.is((error as PylonCliError).code, 'CONFIG_INVALID_OPTION');
  }
});

test('missing file: INPUT_NOT_FOUND with the path; directory: INPUT_UNREADABLE', async (t) => {
  const missing = join(fixtures, 'no-such-file.csv');
  const error = await t.throwsAsync(createRecordSource({ input: missing }).open());
  t.is((error as PylonCliError).code, 'INPUT_NOT_FOUND');
  t.is(error!.name, 'ConfigError');
  t.true(error!.message.includes(missing));
  const dir = await t.throwsAsync(createRecordSource({ input: fixtures }).open());
  t.is((dir as PylonCliError).code, 'INPUT_UNREADABLE');
  const iterate = async () => {
    for await (const _ of createRecordSource({ input: missing })) t.fail();
  };
  t.is(((await t.throwsAsync(iterate())) as PylonCliError).code, 'INPUT_NOT_FOUND');
});

test('empty file, BOM only, or only a sep= line: CSV_MALFORMED ConfigError', async (t) => {
  for (const [file, message] of [
    ['empty.csv', /empty.csv is empty: expected a header line/],
    ['bom-only.csv', /bom-only.csv has no header line/],
    ['sep-only.csv', /sep-only.csv has no header line after its sep= line/],
  ] as const) {
    const error = await t.throwsAsync(createRecordSource({ input: fixture(file) }).header());
    t.is((error as PylonCliError).code, 'CSV_MALFORMED', file);
    t.is(error!.name, 'ConfigError');
    t.regex(error!.message, message);
  }
});

test('a malformed header is a CSV_MALFORMED ConfigError', async (t) => {
  const error = await t.throwsAsync(createRecordSource({ input: Readable.from([Buffer.from('"name"x,email\na,b\n')]) }).open());
  t.is((error as PylonCliError).code, 'CSV_MALFORMED');
  t.regex(error!.message, /header of input \(line 1\) is malformed: Invalid closing quote/);
});

test('invalid UTF-8 after the first 64 KiB: the row fails with ROW_ENCODING, its byte read as windows-1252, and a warning names the line', async (t) => {
  const good = 'name,email\n' + 'Ann,ann@example.com\n'.repeat(5000);
  const bytes = Buffer.concat([Buffer.from(good), Buffer.from([0x4a, 0x6f, 0x73, 0xe9, 0x2c, 0x6a, 0x40, 0x78, 0x2e, 0x63, 0x6f, 0x0a])]);
  const chunks = Array.from({ length: Math.ceil(bytes.length / 16384) }, (_, i) => bytes.subarray(i * 16384, (i + 1) * 16384));
  const { layout, items, warnings } = await readAll({ input: Readable.from(chunks) });
  t.is(layout.encoding, 'utf8');
  t.deepEqual(items.at(-1), [5002, ['José', 'j@x.co'], 'ROW_ENCODING']);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /input is not valid UTF-8 near line \d+/);
});

test('a UTF-8 file holding a literal U+FFFD (bytes EF BF BD) is valid UTF-8: read as written, no error, no warning', async (t) => {
  const bytes = Buffer.from('name,email\nRenée \uFFFD Utf,renee@x.co\nAnn,ann@x.co\n', 'utf8');
  for (const chunks of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
    const { layout, items, warnings } = await readAll({ input: Readable.from(chunks) });
    t.is(layout.encoding, 'utf8');
    t.deepEqual(items, [
      [2, ['Renée \uFFFD Utf', 'renee@x.co']],
      [3, ['Ann', 'ann@x.co']],
    ]);
    t.deepEqual(warnings, []);
  }
});

test('a Latin-1 byte in a UTF-8 file: ROW_ENCODING, the cell read as windows-1252 with every byte kept (however the chunks fall), the message naming the value', async (t) => {
  const bytes = Buffer.concat([
    Buffer.from('name,email\nRenée \uFFFD Utf,renee@x.co\nJos'),
    Buffer.from([0xe9, 0x20, 0x80, 0x81, 0xc3]),
    Buffer.from(' Latin,jose@x.co\n'),
  ]);
  for (const chunks of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
    const source = createRecordSource({ input: Readable.from(chunks) });
    const items: RecordItem[] = [];
    for await (const item of source) items.push(item);
    t.is(items.length, 2);
    t.deepEqual(items[0]!.cells, ['Renée \uFFFD Utf', 'renee@x.co']);
    t.is(items[0]!.error, undefined);
    t.deepEqual(items[1]!.cells, ['José €\u0081Ã Latin', 'jose@x.co']);
    t.is(items[1]!.error?.code, 'ROW_ENCODING');
    t.regex(items[1]!.error!.message, /^Line 3 holds bytes that are not valid UTF-8 .*read as windows-1252 in the error report: name "José €\\u0081Ã Latin"; check that value/);
  }
});

test('a UTF-8 row in a file read as windows-1252: ROW_ENCODING, the cell read as the UTF-8 it is (no mojibake in the report)', async (t) => {
  const latin = Buffer.from('name,email,note\n' + 'Zo\xeb,zoe@x.co,caf\xe9\n'.repeat(5000), 'latin1');
  const bytes = Buffer.concat([latin, Buffer.from('Renée,renee@x.co,plain\n', 'utf8')]);
  const chunks = Array.from({ length: Math.ceil(bytes.length / 16384) }, (_, i) => bytes.subarray(i * 16384, (i + 1) * 16384));
  const { layout, items, warnings } = await readAll({ input: Readable.from(chunks) });
  t.is(layout.encoding, 'windows-1252');
  t.deepEqual(items[0], [2, ['Zoë', 'zoe@x.co', 'café']]);
  t.deepEqual(items.at(-1), [5002, ['Renée', 'renee@x.co', 'plain'], 'ROW_ENCODING']);
  t.regex(warnings[0]!, /decoded as windows-1252/);
});

test('a byte windows-1252 leaves undefined (guessed or asked for): ROW_ENCODING naming the byte, kept as its C1 control; the other rows read as written', async (t) => {
  for (const byte of [0x81, 0x8d, 0x8f, 0x90, 0x9d]) {
    const bytes = Buffer.concat([Buffer.from('name,email\nZo\xeb,zoe@x.co\nJos', 'latin1'), Buffer.from([byte]), Buffer.from(',jose@x.co\nCaf\xe9,cafe@x.co\n', 'latin1')]);
    const control = String.fromCharCode(byte);
    const hex = '0x' + byte.toString(16).toUpperCase();
    for (const encoding of [undefined, 'windows-1252', 'cp1252']) {
      for (const chunks of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
        const source = createRecordSource({ input: Readable.from(chunks), encoding });
        const items: RecordItem[] = [];
        for await (const item of source) items.push(item);
        t.is((await source.open()).encoding, encoding ?? 'windows-1252');
        t.deepEqual(items.map((i) => [i.line, i.cells, i.error?.code]), [
          [2, ['Zoë', 'zoe@x.co'], undefined],
          [3, [`Jos${control}`, 'jose@x.co'], 'ROW_ENCODING'],
          [4, ['Café', 'cafe@x.co'], undefined],
        ]);
        t.is(
          items[1]!.error!.message,
          `Line 3 holds the byte ${hex}, which windows-1252 does not define (the file was read as windows-1252), kept as the control character of the same value in the error report: name "Jos\\u00${byte.toString(16)}"; check that value, correct it if wrong, and import the report again (or pass --encoding with the file's real encoding)`,
        );
      }
    }
  }
  // latin1 defines every byte: 0x81 is its C1 control, read as written.
  const { items } = await readAll({ input: Readable.from([Buffer.from('name,email\nJos\x81,jose@x.co\n', 'latin1')]), encoding: 'latin1' });
  t.deepEqual(items, [[2, ['Jos\u0081', 'jose@x.co']]]);
});

test('a malformed row with a byte that is not valid UTF-8 keeps its CSV error, its cells read as windows-1252, and says so', async (t) => {
  const bytes = Buffer.concat([Buffer.from('name,email\nRenée,r@x.co\n"Jos'), Buffer.from([0xe9]), Buffer.from('"x,j@x.co\n')]);
  const source = createRecordSource({ input: Readable.from([bytes]) });
  const items: RecordItem[] = [];
  for await (const item of source) items.push(item);
  t.is(items[1]!.error?.code, 'CSV_INVALID_CLOSING_QUOTE');
  t.true(items[1]!.cells.join(',').includes('José'));
  t.regex(items[1]!.error!.message, /not valid UTF-8, shown as windows-1252 characters in the error report/);
});

test('stdin-like streams: a UTF-16 BOM split over 1-byte chunks is still found', async (t) => {
  const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name,email\r\nZoë,z@x.io\r\n', 'utf16le')]);
  const { layout, items } = await readAll({ input: Readable.from([...bytes].map((b) => Buffer.from([b]))) });
  t.is(layout.encoding, 'utf16le');
  t.deepEqual(items, [[2, ['Zoë', 'z@x.io']]]);
});

test('header() and open() are idempotent; a source iterates once', async (t) => {
  const source = createRecordSource({ input: fixture('quoted.csv') });
  t.deepEqual(await source.header(), ['name', 'email', 'custom.notes']);
  t.is((await source.open()).delimiter, ',');
  let n = 0;
  for await (const _ of source) n++;
  t.is(n, 3);
  await t.throwsAsync(async () => {
    for await (const _ of source) n++;
  }, { message: /iterated only once/ });
});

test('backpressure: a consumer that stops pulling stops the reading', async (t) => {
  let produced = 0;
  const line = 'Some Name,some.name@example.com,a note that makes the line longer\n';
  const input = new Readable({
    highWaterMark: 16 * 1024,
    read() {
      if (produced > 50 * 1024 * 1024) return this.push(null);
      const chunk = Buffer.from(produced === 0 ? 'name,email,note\n' + line.repeat(250) : line.repeat(250));
      produced += chunk.length;
      this.push(chunk);
    },
  });
  const source = createRecordSource({ input });
  const iterator = source[Symbol.asyncIterator]();
  for (let i = 0; i < 1000; i++) await iterator.next();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const afterPause = produced;
  t.true(afterPause < 512 * 1024, `produced ${afterPause} bytes for 1000 rows`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(produced, afterPause, 'nothing more is read while the consumer waits');
  await iterator.return?.();
  t.true(input.destroyed, 'breaking out of the loop releases the input');
});

test('bytesRead follows a file read to the end', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-read-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'big.csv');
  const body = 'name,email\n' + Array.from({ length: 20000 }, (_, i) => `Person ${i},p${i}@example.com\n`).join('');
  writeFileSync(path, body);
  const source = createRecordSource({ input: path, highWaterMark: 4096 });
  let rows = 0;
  let lastLine = 0;
  for await (const item of source) {
    rows++;
    t.is(item.line, lastLine === 0 ? 2 : lastLine + 1);
    lastLine = item.line;
  }
  t.is(rows, 20000);
  t.is(source.bytesRead, Buffer.byteLength(body));
});

test('a gzip file is read through gunzip: the same records as the plain file, whatever its name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'read-gzip-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const file of ['quoted.csv', 'utf16le-bom.csv', 'windows-1252.csv']) {
    const gz = join(dir, file + '.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixture(file))));
    const renamed = join(dir, file.replace(/\.\w+$/, '') + '-compressed.csv');
    writeFileSync(renamed, readFileSync(gz));
    const plain = await readAll({ input: fixture(file) });
    for (const input of [gz, renamed]) {
      const zipped = await readAll({ input });
      t.deepEqual(zipped.items, plain.items, input);
      t.deepEqual(zipped.layout.header, plain.layout.header, input);
    }
  }
});

test('a corrupt gzip file is an INPUT_UNREADABLE error, not a crash', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'read-gzip-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const gz = gzipSync(Buffer.from('name,email\n' + 'Ann,ann@example.com\n'.repeat(5000)));
  const cut = join(dir, 'cut.csv.gz');
  writeFileSync(cut, Buffer.concat([gz.subarray(0, 200), Buffer.alloc(200, 0xff)]));
  const error = await t.throwsAsync(readAll({ input: cut }));
  t.is((error as PylonCliError).code, 'INPUT_UNREADABLE');
  t.regex(error!.message, /Cannot read .*cut\.csv\.gz/);
});

test('a binary file (NUL bytes) is a CSV_MALFORMED ConfigError that suggests UTF-16', async (t) => {
  const utf16NoBom = Buffer.from('name,email\nAnn,ann@example.com\n', 'utf16le');
  const error = await t.throwsAsync(createRecordSource({ input: Readable.from([utf16NoBom]) }).header());
  t.is((error as PylonCliError).code, 'CSV_MALFORMED');
  t.is(error!.name, 'ConfigError');
  t.regex(error!.message, /NUL bytes.*--encoding utf16le/);
  // Read as UTF-16 it is fine.
  t.deepEqual(await createRecordSource({ input: Readable.from([utf16NoBom]), encoding: 'utf16le' }).header(), ['name', 'email']);
});
