/**
 * Builds a contact in Pylon's read shape from a base contact and validated
 * changes. Keys come out in one fixed order; absent values are omitted (never
 * null); `emails` (primary first) and `custom_fields` are always present.
 */
import type { Contact, CustomFieldValue } from '../pylon/types.js';
import { badRequest } from './api-error.js';
import { MSG } from './messages.js';
import type { Org } from './org.js';
import type { ContactChanges } from './validate.js';

function nextEmails(base: Contact, changes: ContactChanges): string[] {
  if (changes.emails !== undefined) return changes.emails;
  const current = base.emails ?? [];
  if (changes.email === undefined) return current;
  // `email` replaces the primary address and keeps the secondary ones.
  const primary = changes.email;
  const rest = current.filter((e, i) => !(i === 0 && base.email !== undefined) && e.toLowerCase() !== primary.toLowerCase());
  return [primary, ...rest];
}

function nextPhones(base: Contact, changes: ContactChanges): { list: string[]; primary?: string } {
  const list = changes.phone_numbers ?? base.phone_numbers ?? [];
  if (changes.primary_phone_number === null) return { list, primary: undefined };
  let primary = changes.primary_phone_number;
  if (primary !== undefined) {
    if (!list.includes(primary)) throw badRequest(MSG.primaryPhoneNotListed(primary));
  } else if (changes.phone_numbers !== undefined) {
    primary = list[0];
  } else {
    primary = base.primary_phone_number;
  }
  return { list, primary };
}

function nextCustomFields(base: Contact, changes: ContactChanges): Record<string, CustomFieldValue> {
  const current = base.custom_fields ?? {};
  if (!changes.customFields?.length) return current;
  const out: Record<string, CustomFieldValue> = { ...current };
  for (const entry of changes.customFields) {
    if (entry.values !== undefined) out[entry.slug] = { slug: entry.slug, values: entry.values };
    else if (entry.value !== undefined) out[entry.slug] = { slug: entry.slug, value: entry.value };
    else delete out[entry.slug];
  }
  return out;
}

/** Returns a new contact; `base` is not modified. Throws ApiError 400 on a primary phone not in the list. */
export function applyChanges(base: Contact, changes: ContactChanges, org: Org): Contact {
  const emails = nextEmails(base, changes);
  const phones = nextPhones(base, changes);
  const accountId = changes.accountId === undefined ? base.account?.id : changes.accountId ?? undefined;
  const portalRole = changes.portal_role ?? base.portal_role;
  const portalRoleId = changes.portal_role_id === null ? undefined : changes.portal_role_id ?? base.portal_role_id;
  const externalIds = changes.external_ids ?? base.external_ids;
  const integrations = changes.integration_user_ids ?? base.integration_user_ids;
  const avatar = changes.avatar_url === null ? undefined : changes.avatar_url ?? base.avatar_url;

  const contact: Contact = { id: base.id, name: changes.name ?? base.name };
  if (emails.length > 0) contact.email = emails[0];
  contact.emails = emails;
  if (phones.list.length > 0) contact.phone_numbers = phones.list;
  if (phones.primary !== undefined) contact.primary_phone_number = phones.primary;
  if (avatar !== undefined) contact.avatar_url = avatar;
  if (accountId !== undefined) contact.account = org.miniAccount(accountId);
  contact.custom_fields = nextCustomFields(base, changes);
  if (externalIds?.length) contact.external_ids = externalIds;
  if (integrations?.length) contact.integration_user_ids = integrations;
  if (portalRole !== undefined) contact.portal_role = portalRole;
  if (portalRoleId !== undefined) contact.portal_role_id = portalRoleId;
  return contact;
}

/** The portal role a contact gets when a create names none (the portal's default role). */
export const DEFAULT_PORTAL_ROLE = 'member' as const;
