import { sameDecimal } from '../decimal.js';
import type { Contact, ContactCreate, ContactPatch, CustomFieldDefinition, CustomFieldWrite } from '../pylon/types.js';
import { CUSTOM_PREFIX, joinMulti } from '../columns.js';
import type { DesiredContact, DesiredCustomValue, RowIssue } from './desired.js';
import { unclearedIssue, withoutKnownUncleared, type ServerMemory, type UnclearedField } from './clears.js';

export type ImportMode = 'upsert' | 'create' | 'update';

import { DEFAULT_EXTERNAL_ID_LABEL } from './lookup-key.js';

export { DEFAULT_EXTERNAL_ID_LABEL };

/** One changed field, in CSV terms: column name and cell values before and after. */
export interface FieldChange {
  column: string;
  from: string;
  to: string;
  /**
   * `account_external_id` only: the account ids behind the external ids (`to` is empty when the
   * new account's id is not known). `from`/`to` are external ids, for the plan; an undo row
   * restores the account by its id, the one thing every contact has (undo-rows.ts).
   */
  accountId?: { from: string; to: string };
  /** `external_id` only: the label the id is held under, which an undo row needs to put the previous id back. */
  label?: string;
  /**
   * `email` only: the contact held `to` as a secondary address before the run (a row naming its contact by id or
   * external id made it the primary), spelt so. Its undo row keeps the address (`_held.email`) rather than dropping it.
   */
  held?: string;
}

export type Plan =
  | { action: 'create'; body: ContactCreate; changes: FieldChange[] }
  /**
   * `uncleared`: clears the server is known not to take, left out of the body: the row fails once the rest is sent.
   * `replacedEmail`: the primary an earlier run's PATCH email replaced, for the follow-up a resume sends (no change of its
   * own): dropped should the contact still hold it as a secondary address.
   */
  | { action: 'update'; id: string; body: ContactPatch; changes: FieldChange[]; uncleared?: UnclearedField[]; replacedEmail?: string }
  | { action: 'unchanged'; id: string }
  | { action: 'skip'; id: string; reason: string }
  | { action: 'fail'; issue: RowIssue };

export interface PlanContext {
  mode: ImportMode;
  customFields: ReadonlyMap<string, CustomFieldDefinition>;
  /** Account ids known to carry an external id (from GET /accounts/{external id}); used to compare. */
  accountIdForExternalId?: (externalId: string) => string | undefined;
  /** The `""` clears this server was seen not to take (by an earlier run too): planned as failures, never sent. */
  clears?: ServerMemory;
}

/**
 * Decides what one row does, given the contact it matched (if any). Pure: the
 * same inputs always give the same plan, and an update sends only the fields
 * whose value actually changes.
 */
export function planRow(desired: DesiredContact, existing: Contact | undefined, context: PlanContext): Plan {
  for (const [slug, value] of Object.entries(desired.readOnly ?? {})) {
    const current = existing?.custom_fields?.[slug];
    if (!existing || !sameCustomValue(value, current, context.customFields.get(slug)?.type)) {
      const definition = context.customFields.get(slug);
      return fail(
        'ROW_CUSTOM_FIELD_READ_ONLY',
        CUSTOM_PREFIX + slug,
        `Custom field ${slug} is read-only${definition?.source ? ` (synced from ${definition.source})` : ''}: it can hold only the value Pylon has (${current ? JSON.stringify(customCell(current.values ? { values: current.values } : { value: current.value ?? '' })) : 'none'}); leave the cell empty`,
      );
    }
  }
  if (existing === undefined) {
    if (context.mode === 'update') {
      // Said as a fact about the contact: an `update` (no --mode given) never creates either.
      return fail(
        'ROW_NOT_FOUND',
        desired.id ? 'id' : 'email',
        desired.id
          ? `No contact has id ${desired.id}: it was deleted, or belongs to another organisation; nothing was written`
          : `No contact has email ${desired.email}; an update changes existing contacts only: use import to create it`,
      );
    }
    if (desired.id) return fail('ROW_NOT_FOUND', 'id', `No contact has id ${desired.id}; rows with an id only update`);
    return planCreate(desired);
  }
  if (context.mode === 'create') {
    return { action: 'skip', id: existing.id, reason: `a contact with this email already exists (${existing.id}); --mode create never updates` };
  }
  const diff = diffContact(desired, existing, context);
  // A clear the server does not take fails the row in the dry run as in the real run, and is not sent again.
  const { body, changes, uncleared } = withoutKnownUncleared(diff.body, diff.changes, context.clears);
  if (changes.length === 0) return uncleared.length > 0 ? { action: 'fail', issue: unclearedIssue(uncleared, false) } : { action: 'unchanged', id: existing.id };
  return { action: 'update', id: existing.id, body, changes, ...(uncleared.length > 0 ? { uncleared } : {}) };
}

function fail(code: RowIssue['code'], field: string, message: string): Plan {
  return { action: 'fail', issue: { code, field, message } };
}

function planCreate(desired: DesiredContact): Plan {
  if (typeof desired.name !== 'string' || desired.name === '') {
    return fail('ROW_NAME_REQUIRED', 'name', 'A name is required to create a contact');
  }
  const body: ContactCreate = { name: desired.name };
  const changes: FieldChange[] = [{ column: 'name', from: '', to: desired.name }];
  const set = <K extends keyof ContactCreate>(key: K, value: ContactCreate[K] | null | undefined, cell: string) => {
    if (value === undefined || value === null) return;
    body[key] = value;
    changes.push({ column: key, from: '', to: cell });
  };
  set('email', desired.email, desired.email ?? '');
  set('account_id', desired.account_id, desired.account_id ?? '');
  set('account_external_id', desired.account_external_id, desired.account_external_id ?? '');
  if (desired.account_id === undefined && desired.account_external_id === undefined) set('account_id', desired.account_id_if_unset, desired.account_id_if_unset ?? '');
  if (desired.external_id !== undefined) set('external_ids', [{ external_id: desired.external_id, label: desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL }], desired.external_id);
  set('avatar_url', desired.avatar_url, desired.avatar_url ?? '');
  set('portal_role', desired.portal_role, desired.portal_role ?? '');
  set('portal_role_id', desired.portal_role_id, desired.portal_role_id ?? '');
  if (desired.phone_numbers) set('phone_numbers', desired.phone_numbers, joinMulti(desired.phone_numbers));
  set('primary_phone_number', desired.primary_phone_number, desired.primary_phone_number ?? '');
  const custom: CustomFieldWrite[] = [];
  for (const [slug, value] of Object.entries(desired.custom)) {
    if (value === null) continue; // nothing to clear on a new contact
    custom.push({ slug, ...value });
    changes.push({ column: CUSTOM_PREFIX + slug, from: '', to: customCell(value) });
  }
  if (custom.length > 0) body.custom_fields = custom;
  return { action: 'create', body, changes };
}

/** The PATCH body holding only what differs between the row and the contact, and the changes in CSV terms. */
export function diffContact(
  desired: DesiredContact,
  existing: Contact,
  context: Pick<PlanContext, 'customFields' | 'accountIdForExternalId'>,
): { body: ContactPatch; changes: FieldChange[] } {
  const body: ContactPatch = {};
  const changes: FieldChange[] = [];
  const note = (column: string, from: string | undefined, to: string) => changes.push({ column, from: from ?? '', to });

  if (typeof desired.name === 'string' && desired.name !== (existing.name ?? '')) {
    body.name = desired.name;
    note('name', existing.name, desired.name);
  }
  // A row matched through one of the contact's addresses leaves its addresses
  // alone: sending `email` would make a secondary address the primary one. A row
  // naming its contact by id or external id gives it its primary address: one the
  // contact holds as a secondary address only (a PATCH email that added it) is sent.
  const named = Boolean(desired.id) || (desired.external_id !== undefined && (existing.external_ids ?? []).some((e) => e.external_id === desired.external_id && e.label === (desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL)));
  const addresses = [existing.email ?? '', ...(named ? [] : (existing.emails ?? []))].map((e) => e.normalize('NFC').toLowerCase());
  if (typeof desired.email === 'string' && !addresses.includes(desired.email.toLowerCase())) {
    body.email = desired.email;
    note('email', existing.email, desired.email);
    const held = (existing.emails ?? []).find((e) => e.normalize('NFC').toLowerCase() === desired.email!.normalize('NFC').toLowerCase());
    if (held !== undefined) changes[changes.length - 1]!.held = held;
  }
  const currentAccount = existing.account?.id ?? '';
  if (desired.account_id !== undefined) {
    const wanted = desired.account_id ?? '';
    if (wanted !== currentAccount) {
      body.account_id = wanted;
      note('account_id', currentAccount, wanted);
    }
  } else if (desired.account_external_id !== undefined) {
    const externalIds = existing.account?.external_ids?.map((e) => e.external_id) ?? [];
    const resolved = context.accountIdForExternalId?.(desired.account_external_id);
    const same = externalIds.includes(desired.account_external_id) || (resolved !== undefined && resolved === currentAccount);
    if (!same) {
      body.account_external_id = desired.account_external_id;
      note('account_external_id', externalIds[0], desired.account_external_id);
      changes[changes.length - 1].accountId = { from: currentAccount, to: resolved ?? '' };
    }
  }
  // An account found by --account-match never replaces the one a contact has.
  if (desired.account_id_if_unset !== undefined && desired.account_id === undefined && desired.account_external_id === undefined && !existing.account?.id) {
    body.account_id = desired.account_id_if_unset;
    note('account_id', '', desired.account_id_if_unset);
  }
  // The source's id joins the contact's external ids (PATCH replaces the set: the others are sent back; one per label).
  if (desired.external_id !== undefined) {
    const current = existing.external_ids ?? [];
    const label = desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL;
    // (label, id) pairs: the same id under another label is another system's (a conflict the dispatcher fails first).
    if (!current.some((e) => e.external_id === desired.external_id && e.label === label)) {
      const kept = current.filter((e) => e.label !== label);
      body.external_ids = [...kept, { external_id: desired.external_id, label }];
      note('external_id', current.find((e) => e.label === label)?.external_id, desired.external_id);
      changes[changes.length - 1].label = label;
    }
  }
  // An undo of a run that added an id under a label the contact had none under: that id goes, the others are sent back.
  if (desired.external_id_cleared && desired.external_id === undefined) {
    const current = existing.external_ids ?? [];
    const label = desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL;
    const held = current.find((e) => e.label === label);
    if (held) {
      body.external_ids = current.filter((e) => e.label !== label);
      note('external_id', held.external_id, '');
      changes[changes.length - 1].label = label;
    }
  }
  stringField('avatar_url', desired.avatar_url, existing.avatar_url, body, note);
  if (desired.portal_role !== undefined && desired.portal_role !== existing.portal_role) {
    body.portal_role = desired.portal_role;
    note('portal_role', existing.portal_role, desired.portal_role);
  }
  stringField('portal_role_id', desired.portal_role_id, existing.portal_role_id, body, note);
  if (desired.phone_numbers !== undefined) {
    const listed = desired.phone_numbers ?? [];
    // Some of the row's numbers were dropped (unreadable): the contact's numbers are kept beside the ones read.
    const wanted = desired.phones_incomplete ? [...listed, ...(existing.phone_numbers ?? []).filter((n) => !listed.includes(n))] : listed;
    if (!sameSet(wanted, existing.phone_numbers ?? [])) {
      body.phone_numbers = wanted;
      note('phone_numbers', joinMulti(existing.phone_numbers), joinMulti(wanted));
    }
  }
  if (desired.primary_phone_number !== undefined) {
    const wanted = desired.primary_phone_number ?? '';
    if (wanted !== (existing.primary_phone_number ?? '')) {
      body.primary_phone_number = wanted;
      // Pylon wants the primary among phone_numbers: send the list with it.
      body.phone_numbers ??= existing.phone_numbers ?? [];
      note('primary_phone_number', existing.primary_phone_number, wanted);
    }
  }

  const custom: CustomFieldWrite[] = [];
  for (const [slug, wanted] of Object.entries(desired.custom)) {
    const current = existing.custom_fields?.[slug];
    const currentCell = current === undefined ? '' : customCell(current.values ? { values: current.values } : { value: current.value ?? '' });
    const definition = context.customFields.get(slug);
    if (wanted === null) {
      if (currentCell !== '') {
        custom.push({ slug });
        note(CUSTOM_PREFIX + slug, currentCell, '');
      }
      continue;
    }
    if (!sameCustomValue(wanted, current, definition?.type)) {
      custom.push({ slug, ...wanted });
      note(CUSTOM_PREFIX + slug, currentCell, customCell(wanted));
    }
  }
  if (custom.length > 0) body.custom_fields = custom;
  return { body, changes };
}

type StringKey = 'avatar_url' | 'portal_role_id';

function stringField(
  key: StringKey,
  wanted: string | null | undefined,
  current: string | undefined,
  body: ContactPatch,
  note: (column: string, from: string | undefined, to: string) => void,
) {
  if (wanted === undefined) return;
  const target = wanted ?? '';
  if (target === (current ?? '')) return;
  body[key] = target;
  note(key, current, target);
}

export function customCell(value: Exclude<DesiredCustomValue, null>): string {
  return 'values' in value ? joinMulti(value.values) : value.value;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((v, i) => v === sb[i]);
}

/** Compares a wanted custom value with what Pylon holds, by the field's type (1.50 = 1.5 as decimals, same instant = same datetime). */
export function sameCustomValue(
  wanted: Exclude<DesiredCustomValue, null>,
  current: { value?: string; values?: string[] } | undefined,
  type: string | undefined,
): boolean {
  if ('values' in wanted) return sameSet(wanted.values, current?.values ?? (current?.value ? [current.value] : []));
  const have = current?.value ?? (current?.values?.length === 1 ? current.values[0] : undefined);
  if (have === undefined) return false;
  switch (type) {
    case 'number':
    case 'decimal':
      // As decimals, not doubles: 9007199254740993 is not 9007199254740992.
      return sameDecimal(wanted.value, have);
    case 'datetime': {
      const a = Date.parse(wanted.value);
      const b = Date.parse(have);
      return Number.isFinite(a) && Number.isFinite(b) ? a === b : wanted.value === have;
    }
    case 'boolean':
      return wanted.value.toLowerCase() === have.toLowerCase();
    default:
      return wanted.value === have;
  }
}
