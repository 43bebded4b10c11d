/**
 * mergeIssue (write-policy.ts): what in a create's answer shows a contact that existed before it. A genuine create's
 * answer, however the server spells what it stored, is never taken for a merged one.
 */
import test from 'ava';
import { IDEMPOTENCY_LABEL, mergeIssue } from '../../src/import/write-policy.js';

const sent = { email: 'ann@acme.example', external_ids: [{ external_id: '001A', label: 'salesforce' }], phone_numbers: ['14155550199', '12025550123'], primary_phone_number: '12025550123' };

test('a genuine create: its own address in another case, Unicode form or spacing, its ids, the idempotency key, its numbers formatted: not merged', (t) => {
  t.is(
    mergeIssue(sent, {
      id: 'c1',
      email: ' Ann@ACME.example ',
      emails: ['ann@acme.example'],
      external_ids: [
        { external_id: '001A', label: 'salesforce' },
        { external_id: 'k-1', label: IDEMPOTENCY_LABEL },
      ],
      phone_numbers: ['+1 415 555 0199', '+1 (202) 555-0123'],
      primary_phone_number: '+1 (202) 555-0123',
    }),
    undefined,
  );
  t.is(mergeIssue({ email: 'ann@acme.example' }, { id: 'c1', email: 'ann@acme.example' }), undefined);
});

test('a holder: another address, another id, or a number the create did not send, each named', (t) => {
  t.regex(mergeIssue(sent, { id: 'h1', email: 'ann@acme.example', emails: ['ann@acme.example', 'old@acme.example'] })!.message, /the address old@acme\.example/);
  t.regex(mergeIssue(sent, { id: 'h1', email: 'ann@acme.example', external_ids: [{ external_id: 'hs-9', label: 'hubspot' }] })!.message, /the external id hs-9 \(hubspot\)/);
  const issue = mergeIssue({ email: 'ann@acme.example', external_ids: sent.external_ids }, { id: 'h1', email: 'ann@acme.example', external_ids: sent.external_ids, phone_numbers: ['14155550101'], primary_phone_number: '14155550101' });
  t.is(issue?.code, 'ROW_MERGED_BY_SERVER');
  t.regex(issue!.message, /contact h1, which existed before it \(it holds the phone number 14155550101, which the create did not send\)/);
});
