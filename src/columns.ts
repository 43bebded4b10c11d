/**
 * The CSV shape of a contact, shared by import, export and update so that an
 * export re-imports unchanged. Order here is the documented export order.
 */

/** Standard columns, in export order. `emails` is exported, read back on import only for matching. */
export const STANDARD_COLUMNS = [
  'id',
  'name',
  'email',
  'emails',
  'account_id',
  'avatar_url',
  'portal_role',
  'portal_role_id',
  'phone_numbers',
  'primary_phone_number',
] as const;
export type StandardColumn = (typeof STANDARD_COLUMNS)[number];

/** Columns the import accepts besides `custom.<slug>`. */
export const IMPORT_COLUMNS = [
  'name',
  'email',
  'emails',
  'account_id',
  'account_external_id',
  'avatar_url',
  'portal_role',
  'portal_role_id',
  'phone_numbers',
  'primary_phone_number',
  'id',
  'external_id',
  'external_id_label',
  'account_id_if_unset',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/**
 * Columns the export writes on request (`--columns`) that the import reads
 * past: the contact's and its account's external id lists and the
 * integration user ids. Pylon owns the integration ids and the account's ids;
 * a contact's one external id is set with `external_id` (+ `external_id_label`).
 */
export const EXPORT_ONLY_COLUMNS = ['external_ids', 'account_external_ids', 'integration_user_ids'] as const;

/** Prefix of custom-field columns: `custom.<slug>` (slugs may contain dots). */
export const CUSTOM_PREFIX = 'custom.';

/** Separator of multi-valued cells (emails, phone_numbers, multiselect custom fields). */
export const MULTI_SEPARATOR = ';';

/** Columns starting with this are ignored on import, so an error report re-imports as it is. */
export const META_PREFIX = '_';

export function customColumn(slug: string): string {
  return CUSTOM_PREFIX + slug;
}

export function splitMulti(cell: string): string[] {
  return cell
    .split(MULTI_SEPARATOR)
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

export function joinMulti(values: readonly string[] | undefined): string {
  return (values ?? []).join(MULTI_SEPARATOR);
}
