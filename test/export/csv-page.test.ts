import test from 'ava';
import { stringify } from 'csv-stringify/sync';
import { csvPage } from '../../src/export/sink.js';

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
