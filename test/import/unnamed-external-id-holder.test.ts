/**
 * unnamedExternalIdHolder: a refusal without exists_id is ROW_EXTERNAL_ID_TAKEN only when its words say the row's
 * external id (the whole id, not a part of another) is taken. A refusal about something else that merely names an
 * external id (a validation of the id itself, an account's external id that contains the row's id, an id sent twice)
 * keeps Pylon's own code (ROW_API_REJECTED): the row is not told another contact holds its id when none does.
 */
import test from 'ava';
import { unnamedExternalIdHolder } from '../../src/import/identity.js';

const refusal = (status: number, words: string) => ({ status, errors: [words], message: words });
const row = (external_id: string) => ({ external_id, external_id_label: 'crm' });

test('a taken external id, said in the emulator\'s or other words, is ROW_EXTERNAL_ID_TAKEN', (t) => {
  t.is(unnamedExternalIdHolder(row('101'), refusal(409, 'A contact with external id "101" already exists'))?.code, 'ROW_EXTERNAL_ID_TAKEN');
  t.is(unnamedExternalIdHolder(row('C-7'), refusal(400, 'external_id C-7 is already in use by another contact'))?.code, 'ROW_EXTERNAL_ID_TAKEN');
  t.is(unnamedExternalIdHolder(row('C-7'), refusal(422, 'external_ids: value "C-7" must be unique'))?.code, 'ROW_EXTERNAL_ID_TAKEN');
});

test('a refusal about something else that merely names an external id is not ROW_EXTERNAL_ID_TAKEN', (t) => {
  // A validation of the row's id itself.
  t.is(unnamedExternalIdHolder(row('CRM 7'), refusal(400, 'external_ids[0].external_id "CRM 7" must not contain spaces')), undefined);
  t.is(unnamedExternalIdHolder(row('x'.repeat(300)), refusal(400, `external id "${'x'.repeat(300)}" is longer than 255 characters`)), undefined);
  // The row's id sent twice in one request (the emulator's words): not another contact's.
  t.is(unnamedExternalIdHolder(row('C-7'), refusal(400, 'external id "C-7" is used more than once')), undefined);
  // An account's external id that contains the row's id as a part of it.
  t.is(unnamedExternalIdHolder(row('100'), refusal(404, 'No account with external id "ACC-1001"')), undefined);
  // Another id taken, whose digits contain the row's: not the row's id.
  t.is(unnamedExternalIdHolder(row('100'), refusal(409, 'A contact with external id "1001" already exists')), undefined);
});
