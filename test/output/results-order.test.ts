/** inLineOrder: a report written in `_line` order from rows that end in any order, holding at most a window of them. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createResultsReport, inLineOrder } from '../../src/run/report.js';

test('rows are written in line order once the window is full, and the rest in order on commit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-order-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'results.csv');
  const inner = await createResultsReport(path, false);
  const report = inLineOrder(inner, 3);
  for (const line of [4, 2, 3, 6, 5, 8, 7, 9]) await report.write({ line, action: 'created' });
  t.is(inner.rows, 5, 'at most the window is held back');
  t.is(report.rows, 8);
  await report.commit();
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
  t.deepEqual(lines, [2, 3, 4, 5, 6, 7, 8, 9]);
});
