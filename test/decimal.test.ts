import test from 'ava';
import { canonicalDecimal, sameDecimal } from '../src/decimal.js';
import { diffContact, sameCustomValue } from '../src/import/plan.js';
import type { Contact, CustomFieldDefinition } from '../src/pylon/types.js';

test('canonical decimals: zeros, signs and exponents, no float parsing', (t) => {
  t.is(canonicalDecimal('007.50'), '7.5');
  t.is(canonicalDecimal('-0.0'), '0');
  t.is(canonicalDecimal('+12'), '12');
  t.is(canonicalDecimal('1e3'), '1000');
  t.is(canonicalDecimal('15e-1'), '1.5');
  t.is(canonicalDecimal('.5'), '0.5');
  t.is(canonicalDecimal('5.'), '5');
  t.is(canonicalDecimal('0.00100'), '0.001');
  t.is(canonicalDecimal('-123456789012345678901234567890.000000000000000000001'), '-123456789012345678901234567890.000000000000000000001');
  t.is(canonicalDecimal(''), undefined);
  t.is(canonicalDecimal('.'), undefined);
  t.is(canonicalDecimal('1,5'), undefined);
  t.is(canonicalDecimal('NaN'), undefined);
  t.is(canonicalDecimal('1e99999'), undefined);
});

test('9007199254740993 is not 9007199254740992 (a double calls them equal); 1.50 is 1.5', (t) => {
  t.is(Number('9007199254740993'), Number('9007199254740992'), 'the double comparison this replaces');
  t.false(sameDecimal('9007199254740993', '9007199254740992'));
  t.false(sameDecimal('0.1000000000000000055511151231257827', '0.1'));
  t.true(sameDecimal('1.50', '1.5'));
  t.true(sameDecimal('1e2', '100'));
  t.false(sameCustomValue({ value: '9007199254740993' }, { value: '9007199254740992' }, 'number'));
  t.false(sameCustomValue({ value: '12345678901234567.1' }, { value: '12345678901234567.2' }, 'decimal'));
  t.true(sameCustomValue({ value: '2.50' }, { value: '2.5' }, 'decimal'));
  t.true(sameCustomValue({ value: 'n/a' }, { value: 'n/a' }, 'number'), 'texts that are not numbers compare as text');
});

test('the import decides "unchanged" by decimals: a big id one apart is a change', (t) => {
  const field: CustomFieldDefinition = { slug: 'erp_id', label: 'ERP id', type: 'number', object_type: 'contact' } as CustomFieldDefinition;
  const contact = { id: 'c1', name: 'A', email: 'a@example.com', custom_fields: { erp_id: { slug: 'erp_id', value: '9007199254740992' } } } as unknown as Contact;
  const customFields = new Map([['erp_id', field]]);
  const changed = diffContact({ custom: { erp_id: { value: '9007199254740993' } } } as never, contact, { customFields } as never);
  t.deepEqual(changed.changes, [{ column: 'custom.erp_id', from: '9007199254740992', to: '9007199254740993' }]);
  const same = diffContact({ custom: { erp_id: { value: '9007199254740992' } } } as never, contact, { customFields } as never);
  t.deepEqual(same.changes, []);
});
