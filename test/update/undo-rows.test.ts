import test from 'ava';
import { isConditionalUndo, plannedFromUndoRow, undoCells, undoColumns, UNDO_CLEAR_TOKEN } from '../../src/update/undo-rows.js';

test('undo rows record the previous value and the value set; empty values as the clear token', (t) => {
  const columns = undoColumns(['email', 'portal_role', 'custom.tier']);
  t.deepEqual(columns, ['id', 'email', 'portal_role', 'custom.tier', '_set.portal_role', '_set.custom.tier']);
  const cells = undoCells(columns, 'c1', 'a@x.com', [
    { column: 'portal_role', from: 'member', to: 'admin' },
    { column: 'custom.tier', from: '', to: 'gold' },
  ]);
  t.deepEqual(cells, ['c1', 'a@x.com', 'member', UNDO_CLEAR_TOKEN, 'admin', 'gold']);
  t.true(isConditionalUndo(columns));
  t.false(isConditionalUndo(['id', 'email', 'portal_role']), 'undo files of earlier versions apply as before');
  // With an id column, the email is a field the run can change: it gets a _set. column too.
  t.deepEqual(undoColumns(['id', 'email', 'name']), ['id', 'email', 'name', '_set.email', '_set.name']);
});

test('an undo row read back is a plan: from the value set, to the previous value', (t) => {
  const header = ['id', 'email', 'portal_role', 'custom.tier', 'custom.seats', '_set.portal_role', '_set.custom.tier'];
  const planned = plannedFromUndoRow(header, ['c1', 'a@x.com', 'member', UNDO_CLEAR_TOKEN, '7', 'admin', 'gold']);
  t.deepEqual(planned, {
    id: 'c1',
    email: 'a@x.com',
    changes: [
      { column: 'portal_role', from: 'admin', to: 'member' },
      { column: 'custom.tier', from: 'gold', to: '' },
      // No value set recorded (a row merged from an older undo file): reverted without the check.
      { column: 'custom.seats', from: '', to: '7', unchecked: true },
    ],
  });
  t.is(plannedFromUndoRow(header, ['', 'a@x.com', 'member']), undefined, 'a row without an id is not a contact');
});
