import test from 'ava';
import { isConditionalUndo, plannedFromUndoRow, readUndoRows, undoCells, undoColumns, UNDO_CLEAR_TOKEN } from '../../src/update/undo-rows.js';

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
  t.deepEqual(undoColumns(['id', 'email', 'name']), ['id', 'email', 'name', '_set.email', '_set.name', '_held.email']);
});

test('an account set by its external id, or by a migration\'s account match, is restored by the account id it replaced', (t) => {
  const columns = undoColumns(['email', 'name', 'account_external_id', 'account_id_if_unset']);
  t.deepEqual(columns, ['id', 'email', 'name', 'account_id', '_set.name', '_set.account_id']);
  // account_external_id: `from`/`to` are external ids (for the plan); the row holds the account ids behind them.
  const byExternalId = undoCells(columns, 'c1', 'a@x.com', [{ column: 'account_external_id', from: 'acme', to: 'globex', accountId: { from: 'acc-acme', to: 'acc-globex' } }]);
  t.deepEqual(byExternalId, ['c1', 'a@x.com', '', 'acc-acme', '', 'acc-globex']);
  // A contact that had no account loses it again; a new account whose id is not known is reverted unchecked.
  const noneBefore = undoCells(columns, 'c2', 'b@x.com', [{ column: 'account_external_id', from: '', to: 'globex', accountId: { from: '', to: '' } }]);
  t.deepEqual(noneBefore, ['c2', 'b@x.com', '', UNDO_CLEAR_TOKEN, '', '']);
  // --account-match gives a contact with no account one: noted as account_id.
  const matched = undoCells(columns, 'c3', 'c@x.com', [{ column: 'account_id', from: '', to: 'acc-globex' }]);
  t.deepEqual(matched, ['c3', 'c@x.com', '', UNDO_CLEAR_TOKEN, '', 'acc-globex']);
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

test('undo rows are read with the physical line each starts on: the header is line 1, quoted line breaks and blank lines count', (t) => {
  // A record of blank cells (`,,,` a spreadsheet leaves) is no row, as for the import's reader.
  const text = '\uFEFFid,email,name,_set.name\r\nc1,a@x.com,"Ada\r\nLovelace",Ada\r\n\r\nc2,b@x.com,Bob,Robert\r\n, ,,\r\n';
  t.deepEqual(readUndoRows(text, 'x.undo.csv'), {
    header: ['id', 'email', 'name', '_set.name'],
    rows: [
      { line: 2, cells: ['c1', 'a@x.com', 'Ada\r\nLovelace', 'Ada'] },
      { line: 5, cells: ['c2', 'b@x.com', 'Bob', 'Robert'] },
    ],
  });
  // A row that cannot be read stops the run (exit 2) with its line: read wrongly, it would revert the wrong values.
  const error = t.throws(() => readUndoRows('id,email,name,_set.name\nc1,a@x.com,"Ada"x,Ada\n', 'x.undo.csv'));
  t.like(error, { name: 'ConfigError', code: 'CSV_MALFORMED' });
  t.regex(error!.message, /^x\.undo\.csv, line 2: Invalid closing quote/);
});
