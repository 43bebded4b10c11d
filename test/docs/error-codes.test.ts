/**
 * docs/errors.md and the code list are one list: every run code of `ERROR_CODES` (the
 * `ErrorCode` type) has its row in the "Run codes" table and every row there names a code of
 * the list; the same for the row codes (`ROW_ISSUE_CODES`) and the "Row codes" table. They had
 * drifted apart (RUN_ABORTED undocumented, RUN_UNDO_INCOMPLETE not in the type).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ERROR_CODES } from '../../src/errors.js';
import { ROW_ISSUE_CODES } from '../../src/import/desired.js';
import { REPO } from '../helpers/cli.js';

const doc = readFileSync(join(REPO, 'docs', 'errors.md'), 'utf8');

/** The codes in the first cell of each row of the table under `heading` (a cell may name several: `A`, `B`). */
function tableCodes(heading: string): string[] {
  const start = doc.indexOf(`\n${heading}`);
  if (start < 0) throw new Error(`no "${heading}" section in docs/errors.md`);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const codes: string[] = [];
  for (const line of section.split('\n')) {
    const first = /^\|([^|]*)\|/.exec(line)?.[1] ?? '';
    for (const [, code] of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) codes.push(code);
  }
  return codes;
}

const sorted = (codes: Iterable<string>) => [...new Set(codes)].sort();

test('every run code has its row in docs/errors.md "Run codes", and every row there is a code', (t) => {
  t.deepEqual(sorted(tableCodes('## Run codes')), sorted(ERROR_CODES));
});

test('every row code has its row in docs/errors.md "Row codes", and every row there is a code', (t) => {
  t.deepEqual(sorted(tableCodes('## Row codes')), sorted(ROW_ISSUE_CODES));
});
