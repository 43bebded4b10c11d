import test from 'ava';
import { stringify } from 'csv-stringify/sync';
import { csvPage, csvPieces } from '../../src/export/sink.js';

/** Deterministic cells from an alphabet of every character csv-stringify treats specially, and plain ones. */
function randomRows(seed: number, count: number): string[][] {
  const alphabet = ['a', 'Z', '9', ' ', ',', '"', '\n', '\r', '\t', '=', '+', '-', '@', "'", '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20', 'é', '😀', ';', '\\'];
  let state = seed;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(6) }, () => Array.from({ length: next(5) }, () => alphabet[next(alphabet.length)]).join('')),
  );
}

const EDGES: string[][] = [
  ['', '', ''],
  ['plain', 'with,comma', 'with "quote"', 'line\nbreak', 'carriage\rreturn', 'crlf\r\n'],
  ['=SUM(A1)', '+1', '-1', '@cmd', '\tlead tab', '\rlead cr', '\uFF1Dwide', 'mid=dle', "'already"],
  ['"', '""', ',', '\n', ' leading and trailing space '],
  ['["a","b"]', '{"k":"v"}', '[{"label":"zendesk","id":"361001"}]'],
];

for (const excelSafe of [false, true]) {
  test(`csvPage writes what csv-stringify writes, byte for byte (escape_formulas ${excelSafe})`, (t) => {
    t.is(csvPage(EDGES, excelSafe), stringify(EDGES, { escape_formulas: excelSafe }));
    for (const seed of [1, 2, 3, 4, 5]) {
      const rows = randomRows(seed, 2_000);
      t.is(csvPage(rows, excelSafe), stringify(rows, { escape_formulas: excelSafe }), `seed ${seed}`);
    }
    t.is(csvPage([], excelSafe), '');
  });
}

test('csvPage hands a row with a cell that is not a string to csv-stringify', (t) => {
  const rows = [['a', null, 'b'], ['=x', undefined, '1,2']] as unknown as string[][];
  t.is(csvPage(rows, true), stringify(rows, { escape_formulas: true }));
  t.is(csvPage(rows, false), 'a,,b\n=x,,"1,2"\n');
});

test('csvPieces: the same text as csv-stringify in whole lines, a piece per 64 rows, each ending with its line break', (t) => {
  for (const excelSafe of [false, true]) {
    for (const count of [1, 63, 64, 65, 999]) {
      const rows = [...EDGES, ...randomRows(count, count)].slice(0, count);
      const pieces = csvPieces(rows, excelSafe);
      t.is(pieces.join(''), stringify(rows, { escape_formulas: excelSafe }), `${count} rows, escape_formulas ${excelSafe}`);
      t.is(pieces.length, Math.ceil(count / 64));
      // Each piece holds exactly its rows: cut at record boundaries, not inside a quoted cell's line break.
      pieces.forEach((piece, i) => t.is(piece, stringify(rows.slice(i * 64, (i + 1) * 64), { escape_formulas: excelSafe })));
    }
  }
  t.deepEqual(csvPieces([], false), []);
});

test('csvPage: a row whose cells need nothing keeps its cells as they were (the row is joined, not copied), one that needs quoting is not changed in place', (t) => {
  const plain = ['a', '', 'b c', 'é😀'];
  const quoted = ['x', 'with,comma', 'say "hi"', ''];
  const before = [...quoted];
  t.is(csvPage([plain, quoted], false), 'a,,b c,é😀\nx,"with,comma","say ""hi""",\n');
  t.deepEqual(quoted, before);
});
