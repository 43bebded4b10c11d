import test from 'ava';
import { parseSpreadsheetDate, parseSpreadsheetNumber, type NumberFormat } from '../../src/import/spreadsheet-values.js';

const shown = (r: ReturnType<typeof parseSpreadsheetDate>) => (r.ok ? r.value : `fail: ${r.reason}`);

/** Date cell, stated format (or none), result: the ISO date, or the start of the reason it is refused. */
const DATES: Array<[string, string | undefined, string]> = [
  ['2024-11-02', undefined, '2024-11-02'],
  ['2024-11-02 14:30', undefined, '2024-11-02'],
  ['2024/11/2', undefined, '2024-11-02'],
  ['2.11.2024', undefined, '2024-11-02'],
  ['02.11.2024', undefined, '2024-11-02'],
  ['13/2/2024', undefined, '2024-02-13'],
  ['2/13/2024', undefined, '2024-02-13'],
  ['2/2/2024', undefined, '2024-02-02'],
  ['2 Nov 2024', undefined, '2024-11-02'],
  ['2-Nov-2024', undefined, '2024-11-02'],
  ['Nov 2, 2024', undefined, '2024-11-02'],
  ['November 2, 2024', undefined, '2024-11-02'],
  ['11/2/2024', undefined, 'fail: "11/2/2024" is ambiguous: 2024-11-02 as month/day/year (US) or 2024-02-11 as day/month/year'],
  ['11/2/24', undefined, 'fail: "11/2/24" has a two-digit year'],
  ['31/2/2024', undefined, 'fail: "31/2/2024" is not a calendar date'],
  ['2 Foo 2024', undefined, 'fail: "2 Foo 2024" is not a calendar date'],
  ['soon', undefined, 'fail: "soon" is not a date'],
  ['11/2/2024', 'MM/DD/YYYY', '2024-11-02'],
  ['11/2/2024', 'DD/MM/YYYY', '2024-02-11'],
  ['02.11.2024', 'DD.MM.YYYY', '2024-11-02'],
  ['2024-11-02', 'YYYY-MM-DD', '2024-11-02'],
  ['13/2/2024', 'MM/DD/YYYY', 'fail: "13/2/2024" is not a calendar date in the map\'s format MM/DD/YYYY'],
  ['11-2-2024', 'MM/DD/YYYY', 'fail: "11-2-2024" is not a date in the map\'s format MM/DD/YYYY'],
  ['11/2/24', 'MM/DD/YYYY', 'fail: "11/2/24" is not a date in the map\'s format MM/DD/YYYY (a four-digit year)'],
];

for (const [input, format, expected] of DATES) {
  test(`date ${JSON.stringify(input)}${format ? ` as ${format}` : ''} → ${expected}`, (t) => {
    const result = shown(parseSpreadsheetDate(input, format));
    if (expected.startsWith('fail: ')) t.true(result.startsWith(expected), result);
    else t.is(result, expected);
  });
}

/** Number cell, whole?, stated format (or none), result. */
const NUMBERS: Array<[string, boolean, NumberFormat | undefined, string]> = [
  ['1250', true, undefined, '1250'],
  ['1,250', true, undefined, '1250'],
  ['1,250,000', true, undefined, '1250000'],
  ['1 250', true, undefined, '1250'],
  ["1'250", true, undefined, '1250'],
  ['-1,250', true, undefined, '-1250'],
  ['1.250', true, undefined, 'fail: "1.250" is ambiguous in a whole-number field'],
  ['1,25', true, undefined, 'fail: "1,25" is not a whole number'],
  ['1,250.5', false, undefined, '1250.5'],
  ['1.250,5', false, undefined, '1250.5'],
  ['1 250,5', false, undefined, '1250.5'],
  ['12,5', false, undefined, '12.5'],
  ['1.25', false, undefined, '1.25'],
  ['1,250', false, undefined, 'fail: "1,250" is ambiguous: 1250 with a comma grouping thousands, or 1.250 with a decimal comma'],
  ['1,2,3', false, undefined, 'fail: "1,2,3" is not a decimal number'],
  ['12,34.5', false, undefined, 'fail: "12,34.5" is not a decimal number'],
  ['1,250', false, '1,234.5', '1250'],
  ['1,250', false, '1.234,5', '1.250'],
  ['1.250', true, '1.234,5', '1250'],
  ['1.234.567,89', false, '1.234,5', '1234567.89'],
  ['1,234.5', false, '1.234,5', 'fail: "1,234.5" is not a decimal number in the map\'s format 1.234,5'],
];

for (const [input, whole, format, expected] of NUMBERS) {
  test(`${whole ? 'whole' : 'decimal'} ${JSON.stringify(input)}${format ? ` as ${format}` : ''} → ${expected}`, (t) => {
    const result = shown(parseSpreadsheetNumber(input, whole, format));
    if (expected.startsWith('fail: ')) t.true(result.startsWith(expected), result);
    else t.is(result, expected);
  });
}
