import test from 'ava';
import { readSepLine, sniffDelimiter } from '../../src/csv/sniff.js';

const table: Array<[string, string, boolean, string]> = [
  ['comma file with ; inside values', 'name,phone_numbers\nAnn,1;2;3\nBob,4\n', true, ','],
  ['semicolon file with commas inside values', 'name;email\nDoe, John;j@x.io\nAnn;a@x.io\n', true, ';'],
  ['tabs', 'a\tb\tc\n1\t2\t3\n', true, '\t'],
  ['pipes', 'a|b\n1|2\n', true, '|'],
  ['delimiters inside quotes do not count', '"a;b;c",d\n"1;2;3",4\n', true, ','],
  ['a quoted newline does not split the record', 'a;b\n"x\ny;z";w\n', true, ';'],
  ['consistency beats frequency', 'a,b;c;d\n1,2\n3,4\n', true, ','],
  ['header only', 'name;email', true, ';'],
  ['a single column', 'email\nann@x.io\n', true, ','],
  ['a cut last record is ignored', 'a;b\n1;2\n3,4,5,6,7', false, ';'],
];

for (const [title, text, complete, expected] of table) {
  test(`sniffDelimiter: ${title}`, (t) => {
    t.is(sniffDelimiter(text, complete), expected);
  });
}

test('readSepLine: Excel sep= line, quoted or not, any line ending', (t) => {
  t.deepEqual(readSepLine('sep=;\r\nname;email'), { delimiter: ';', length: 7 });
  t.deepEqual(readSepLine('"sep=|"\nname'), { delimiter: '|', length: 8 });
  t.deepEqual(readSepLine('SEP=\t\rname'), { delimiter: '\t', length: 6 });
  t.deepEqual(readSepLine('sep=,'), { delimiter: ',', length: 5 });
  t.is(readSepLine('separator,name\n'), undefined);
  t.is(readSepLine('name,sep=;\n'), undefined);
});
