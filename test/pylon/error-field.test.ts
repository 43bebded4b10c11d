/**
 * The field a server's refusal names, for the error report's `_error_field`: read from the body's
 * attributes by the client (over real HTTP to a scripted server), and from the message's words.
 */
import test from 'ava';
import { rowFieldOfApiError } from '../../src/import/desired.js';
import { apiError, harness } from './setup.js';

test('the client keeps a field the error body names (`field`, `param`, in an errors object, under `error`) and reads object errors\' messages', async (t) => {
  const bodies = [
    { errors: ['Invalid value'], field: 'account_id', request_id: 'r1' },
    { errors: [{ field: 'phone_numbers', message: 'Invalid phone' }], request_id: 'r2' },
    { error: { message: 'Bad account', param: 'accountId' } },
    { errors: ['Contact not found!'], request_id: 'r4' },
  ];
  const { client } = await harness(t, {}, (_req, i) => ({ status: 400, body: bodies[i] }));
  const seen = [];
  for (let i = 0; i < bodies.length; i++) {
    const error = await apiError(t, client.createContact({ name: 'Ada' }));
    seen.push([error.field, error.errors]);
  }
  t.deepEqual(seen, [
    ['account_id', ['Invalid value']],
    ['phone_numbers', ['Invalid phone']],
    ['accountId', ['Bad account']],
    [undefined, ['Contact not found!']],
  ]);
});

test('the column a refusal names, whatever its wording; quoted values are not names; "account" alone is the account column the row sent', (t) => {
  const field = (errors: string[], sent: string[] = [], attribute?: string) => rowFieldOfApiError({ errors, ...(attribute ? { field: attribute } : {}) }, sent);
  const cases: Array<[string[], string[], string | undefined, string | undefined]> = [
    [['No account with id "acct-1"'], ['account_id'], undefined, 'account_id'],
    [['Account not found!'], ['name', 'account_id'], undefined, 'account_id'],
    [['Account not found!'], ['name', 'account_external_id'], undefined, 'account_external_id'],
    [['invalid accountId'], [], undefined, 'account_id'],
    [['account id is not a valid UUID'], [], undefined, 'account_id'],
    [['No account with external id "ext-9"'], [], undefined, 'account_external_id'],
    [['Invalid value'], [], 'accountId', 'account_id'],
    [['Invalid value'], [], 'portal_role', 'portal_role'],
    [['Invalid value'], [], 'custom_fields.tier', 'custom.tier'],
    [['Invalid value'], [], 'something_else', 'something_else'],
    [['email is not a valid email address: "account@x"'], [], undefined, 'email'],
    [['Invalid email address'], [], undefined, 'email'],
    [['A contact with email "a@b.test" already exists'], [], undefined, 'email'],
    [['emails lists "a@b.test" more than once'], [], undefined, 'emails'],
    [['primary_phone_number "1" is not in phone_numbers'], [], undefined, 'primary_phone_number'],
    [['Invalid phone number: +1 555'], [], undefined, 'phone_numbers'],
    [['portal_role must be one of no_access, member, admin (got "x")'], [], undefined, 'portal_role'],
    [['Unknown portal role id'], [], undefined, 'portal_role_id'],
    [['avatar_url must be an http(s) URL'], [], undefined, 'avatar_url'],
    [['name is required'], [], undefined, 'name'],
    [['Custom field "seats" (number) expects a whole number, got "twelve"'], ['custom.seats'], undefined, 'custom.seats'],
    [['Unknown custom field "tier"'], [], undefined, 'custom.tier'],
    [['custom_fields[0].slug must be a non-empty string'], ['custom.tier'], undefined, 'custom.tier'],
    [['Custom field not found!'], ['custom.tier', 'custom.seats'], undefined, 'custom_fields'],
    [['Contact not found!'], ['account_id'], undefined, undefined],
    [['Fault injected by the emulator: HTTP 400'], ['email'], undefined, undefined],
    [[], ['email'], undefined, undefined],
  ];
  for (const [errors, sent, attribute, expected] of cases) t.is(field(errors, sent, attribute), expected, `${errors.join('; ')} (field ${attribute})`);
  t.is(rowFieldOfApiError(undefined), undefined);
});
