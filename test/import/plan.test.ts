import test from 'ava';
import { planRow, diffContact, sameCustomValue, type PlanContext } from '../../src/import/plan.js';
import type { DesiredContact } from '../../src/import/desired.js';
import type { Contact, CustomFieldDefinition } from '../../src/pylon/types.js';

const fields = new Map<string, CustomFieldDefinition>([
  ['tier', { id: 'f1', slug: 'tier', label: 'Tier', type: 'select', object_type: 'contact' }],
  ['interests', { id: 'f2', slug: 'interests', label: 'Interests', type: 'multiselect', object_type: 'contact' }],
  ['mrr', { id: 'f3', slug: 'mrr', label: 'MRR', type: 'decimal', object_type: 'contact' }],
  ['last_seen_at', { id: 'f4', slug: 'last_seen_at', label: 'Last seen', type: 'datetime', object_type: 'contact' }],
]);
const upsert: PlanContext = { mode: 'upsert', customFields: fields };

const desired = (over: Partial<DesiredContact>): DesiredContact => ({ custom: {}, ...over });
const contact: Contact = {
  id: 'c1',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  emails: ['ada@example.com'],
  portal_role: 'member',
  account: { id: 'acc-1', external_ids: [{ external_id: 'acme' }] },
  phone_numbers: ['15551234567'],
  primary_phone_number: '15551234567',
  custom_fields: {
    tier: { slug: 'tier', value: 'gold' },
    interests: { slug: 'interests', values: ['api', 'billing'] },
    mrr: { slug: 'mrr', value: '10.50' },
    last_seen_at: { slug: 'last_seen_at', value: '2026-01-02T03:04:05Z' },
  },
};

test('a new email creates the contact with every given field', (t) => {
  const plan = planRow(
    desired({ name: 'Grace', email: 'grace@example.com', portal_role: 'admin', custom: { tier: { value: 'silver' }, interests: null } }),
    undefined,
    upsert,
  );
  t.is(plan.action, 'create');
  if (plan.action !== 'create') return;
  t.deepEqual(plan.body, { name: 'Grace', email: 'grace@example.com', portal_role: 'admin', custom_fields: [{ slug: 'tier', value: 'silver' }] });
  t.deepEqual(plan.changes.map((c) => c.column), ['name', 'email', 'portal_role', 'custom.tier']);
});

test('creating needs a name', (t) => {
  const plan = planRow(desired({ email: 'x@example.com' }), undefined, upsert);
  t.deepEqual(plan, { action: 'fail', issue: { code: 'ROW_NAME_REQUIRED', field: 'name', message: 'A name is required to create a contact' } });
});

test('update mode never creates, create mode never updates', (t) => {
  const missing = planRow(desired({ name: 'N', email: 'n@example.com' }), undefined, { ...upsert, mode: 'update' });
  t.is(missing.action, 'fail');
  if (missing.action === 'fail') t.is(missing.issue.code, 'ROW_NOT_FOUND');
  const existing = planRow(desired({ name: 'Other', email: 'ada@example.com' }), contact, { ...upsert, mode: 'create' });
  t.is(existing.action, 'skip');
});

test('a row equal to the contact is unchanged, whatever the email case and value formats', (t) => {
  const plan = planRow(
    desired({
      name: 'Ada Lovelace',
      email: 'ADA@Example.com',
      portal_role: 'member',
      account_id: 'acc-1',
      phone_numbers: ['15551234567'],
      custom: {
        tier: { value: 'gold' },
        interests: { values: ['billing', 'api'] },
        mrr: { value: '10.5' },
        last_seen_at: { value: '2026-01-02T03:04:05.000Z' },
      },
    }),
    contact,
    upsert,
  );
  t.deepEqual(plan, { action: 'unchanged', id: 'c1' });
});

test('an update sends only the fields that differ', (t) => {
  const plan = planRow(desired({ name: 'Ada Lovelace', email: 'ada@example.com', portal_role: 'admin', custom: { tier: { value: 'gold' }, mrr: { value: '12' } } }), contact, upsert);
  t.is(plan.action, 'update');
  if (plan.action !== 'update') return;
  t.is(plan.id, 'c1');
  t.deepEqual(plan.body, { portal_role: 'admin', custom_fields: [{ slug: 'mrr', value: '12' }] });
  t.deepEqual(plan.changes, [
    { column: 'portal_role', from: 'member', to: 'admin' },
    { column: 'custom.mrr', from: '10.50', to: '12' },
  ]);
});

test('a clear token clears only what is set', (t) => {
  const { body, changes } = diffContact(desired({ custom: { tier: null, mrr: null }, avatar_url: null }), { ...contact, custom_fields: { tier: { slug: 'tier', value: 'gold' } } }, upsert);
  t.deepEqual(body, { custom_fields: [{ slug: 'tier' }] });
  t.deepEqual(changes, [{ column: 'custom.tier', from: 'gold', to: '' }]);
});

test('account by external id compares against the account it names', (t) => {
  const same = diffContact(desired({ account_external_id: 'acme' }), contact, upsert);
  t.deepEqual(same.body, {});
  const resolved = diffContact(desired({ account_external_id: 'globex' }), { ...contact, account: { id: 'acc-2' } }, { ...upsert, accountIdForExternalId: (e) => (e === 'globex' ? 'acc-2' : undefined) });
  t.deepEqual(resolved.body, {});
  const moved = diffContact(desired({ account_external_id: 'globex' }), contact, upsert);
  t.deepEqual(moved.body, { account_external_id: 'globex' });
});

test('custom values compare by type', (t) => {
  t.true(sameCustomValue({ value: '1.50' }, { value: '1.5' }, 'decimal'));
  t.false(sameCustomValue({ value: '1.50' }, { value: '1.5' }, 'text'));
  t.true(sameCustomValue({ value: 'TRUE' }, { value: 'true' }, 'boolean'));
  t.true(sameCustomValue({ values: ['b', 'a'] }, { values: ['a', 'b'] }, 'multiselect'));
  t.false(sameCustomValue({ values: ['a'] }, { values: ['a', 'b'] }, 'multiselect'));
  t.false(sameCustomValue({ value: 'x' }, undefined, 'text'));
});

test('a read-only custom value passes only when Pylon already holds it', (t) => {
  const sf = 'contact.salesforce.Contact_ID_for_Pylon__c';
  const readOnlyFields = new Map(fields).set(sf, { id: 'f9', slug: sf, label: 'SF id', type: 'text', object_type: 'contact', is_read_only: true, source: 'salesforce' });
  const context = { ...upsert, customFields: readOnlyFields };
  const holding = { ...contact, custom_fields: { ...contact.custom_fields, [sf]: { slug: sf, value: '003A' } } };
  t.deepEqual(planRow(desired({ email: 'ada@example.com', readOnly: { [sf]: { value: '003A' } } }), holding, context), { action: 'unchanged', id: 'c1' });
  const changed = planRow(desired({ email: 'ada@example.com', readOnly: { [sf]: { value: '003B' } } }), holding, context);
  t.is(changed.action, 'fail');
  if (changed.action === 'fail') {
    t.is(changed.issue.code, 'ROW_CUSTOM_FIELD_READ_ONLY');
    t.is(changed.issue.field, `custom.${sf}`);
    t.regex(changed.issue.message, /synced from salesforce.*"003A"/);
  }
  const created = planRow(desired({ name: 'New', email: 'new@example.com', readOnly: { [sf]: { value: '003C' } } }), undefined, context);
  t.is(created.action, 'fail');
});

test('a row matched through a secondary email does not make it the primary one', (t) => {
  const withSecondary: Contact = { ...contact, emails: ['ada@example.com', 'ada@home.example'] };
  t.deepEqual(planRow(desired({ email: 'ADA@home.example', name: 'Ada Lovelace' }), withSecondary, upsert), { action: 'unchanged', id: 'c1' });
  const byId = diffContact(desired({ id: 'c1', email: 'new@example.com' }), withSecondary, upsert);
  t.deepEqual(byId.body, { email: 'new@example.com' });
});
