import type { PortalRole } from '../pylon/types.js';

/**
 * What one validated CSV row asks for. For every field: `undefined` = the cell was
 * empty, leave the field as it is; `null` = the cell held the clear token, clear
 * the field; otherwise the new value, already normalised (trimmed, option labels
 * turned into slugs, phone numbers reduced to digits).
 */
export interface DesiredContact {
  /** Pylon contact id, when the file has an `id` column: match by id instead of email. */
  id?: string;
  name?: string | null;
  /** Primary email, trimmed; case kept as written. */
  email?: string | null;
  /** Secondary emails from an `emails` column (used for matching; not written). */
  emails?: string[];
  account_id?: string | null;
  account_external_id?: string;
  /** The account found by --account-match: set only when the contact has no account yet. */
  account_id_if_unset?: string;
  /** The source system's id of this contact, kept in Pylon's `external_ids` and matched on before the email. */
  external_id?: string;
  /** The external id's label (the source system); `import` when not given. */
  external_id_label?: string;
  /** An undo file's clear token in the external id column: the id held under `external_id_label` is taken off (the run being undone added it). */
  external_id_cleared?: boolean;
  avatar_url?: string | null;
  portal_role?: PortalRole;
  portal_role_id?: string | null;
  phone_numbers?: string[] | null;
  /**
   * A migration dropped some of the row's numbers (not valid for their country, letters, spreadsheet-mangled): the
   * list is not the source's whole list, so the numbers a contact holds are kept beside it, never removed for it.
   */
  phones_incomplete?: boolean;
  primary_phone_number?: string | null;
  /** Custom fields by slug: a single value, a list for multiselect, or null to clear. */
  custom: Record<string, DesiredCustomValue>;
  /** Values given for read-only custom fields: allowed only when equal to what Pylon holds. */
  readOnly?: Record<string, Exclude<DesiredCustomValue, null>>;
}

export type DesiredCustomValue = { value: string } | { values: string[] } | null;

/** One problem found in a row. Codes are stable (documented in docs/errors.md). */
export interface RowIssue {
  code: RowIssueCode;
  /** The CSV column (header as written in the file) or field the issue is about. */
  field?: string;
  message: string;
}

/** Every row code, as a list the tests compare with docs/errors.md's "Row codes" table (test/docs/error-codes.test.ts). */
export const ROW_ISSUE_CODES = [
  'ROW_MALFORMED',
  'ROW_ENCODING',
  'ROW_REPEATED_HEADER',
  'ROW_NAME_REQUIRED',
  'ROW_EMAIL_REQUIRED',
  'ROW_INVALID_EMAIL',
  'ROW_INVALID_ROLE',
  'ROW_ACCOUNT_CONFLICT',
  'ROW_INVALID_AVATAR',
  'ROW_INVALID_PHONE',
  'ROW_PRIMARY_PHONE_NOT_LISTED',
  'ROW_CUSTOM_FIELD_UNKNOWN',
  'ROW_CUSTOM_FIELD_READ_ONLY',
  'ROW_CUSTOM_FIELD_INVALID',
  'ROW_CANNOT_CLEAR',
  'ROW_DUPLICATE_IN_FILE',
  'ROW_AMBIGUOUS_MATCH',
  'ROW_NOT_FOUND',
  'ROW_DRIFTED',
  'ROW_ID_REQUIRED',
  'ROW_ACCOUNT_NOT_FOUND',
  'ROW_API_REJECTED',
  'ROW_API_FAILED',
  'ROW_MAP_NO_VALUE',
  'ROW_PHONE_NO_COUNTRY',
  'ROW_PHONE_SPREADSHEET',
  'ROW_UNKNOWN_COUNTRY',
  'ROW_XLSX_LOST_DIGITS',
  'ROW_XLSX_FORMULA_NO_VALUE',
  'ROW_FIELD_TWICE',
  'ROW_ACCOUNT_AMBIGUOUS',
  'ROW_EXTERNAL_ID_TAKEN',
  'ROW_EXTERNAL_ID_MISSING',
  'ROW_INVALID_EXTERNAL_ID',
  'ROW_EMAIL_OF_OTHER_RECORD',
  'ROW_EMAIL_TAKEN',
  'ROW_TOO_LARGE',
  'ROW_EMAIL_NOT_PRIMARY',
  'ROW_MERGED_BY_SERVER',
] as const;

export type RowIssueCode = (typeof ROW_ISSUE_CODES)[number];

/**
 * A row's code for a write the server refused or kept failing: a 413 (Payload Too Large, from a server or a proxy in
 * front of it that takes less than this tool's 1 MiB) is the row's size, as the check before the call says
 * (ROW_TOO_LARGE); any other 4xx a refusal; the rest a failure.
 */
export function rowCodeOfApiError(api: { status?: number } | undefined): RowIssueCode {
  if (api?.status === 413) return 'ROW_TOO_LARGE';
  return api && api.status !== undefined && api.status < 500 ? 'ROW_API_REJECTED' : 'ROW_API_FAILED';
}

/** The message for `rowCodeOfApiError`'s code: the server's words, and for a 413 what to do about it. */
export function rowMessageOfApiError(api: { status?: number; errors: readonly string[]; message: string } | undefined, error: unknown): string {
  const words = api ? api.errors.join('; ') || api.message : String(error);
  if (api?.status !== 413) return words;
  return `The server refused the write as too large (413 Payload Too Large: ${words}); nothing was written for this row. Shorten its longest values (a pasted document in a name or a custom field?) and import it again`;
}

/** Names of contact fields as a server's error may word them, most specific first at each place in the text. */
const FIELD_WORDS: ReadonlyArray<readonly [string, string]> = [
  ['account_?external_?ids?|account_with_(?:the_|this_)?external_?ids?', 'account_external_id'],
  ['account_?ids?|accounts?', 'account_id'],
  ['primary_?phone(?:_?numbers?)?', 'primary_phone_number'],
  ['phone(?:_?numbers?)?', 'phone_numbers'],
  ['(?:portal_?)?role_?ids?', 'portal_role_id'],
  ['(?:portal_?)?roles?', 'portal_role'],
  ['avatar(?:_?urls?)?', 'avatar_url'],
  ['emails', 'emails'],
  ['e_?mail(?:_?address(?:es)?)?', 'email'],
  ['external_?ids?', 'external_id'],
  ['names?', 'name'],
];
const FIELD_WORD = new RegExp(`(?<![a-z0-9])(?:${FIELD_WORDS.map(([words], i) => `(?<f${i}>${words})`).join('|')})(?![a-z0-9])`);
/** A custom field the text names by slug: `Custom field "tier"`, `custom_fields.tier`, `custom_fields[tier]`. */
const CUSTOM_SLUG = /custom[ _-]?fields?\s*(?:["'“‘]([^"'”’]+)["'”’]|[.[]\s*([a-z_][\w-]*))/i;

/**
 * The column of a row the server's refusal names, for the error report's `_error_field`: the body's `field` (or
 * `param`) attribute when it has one, else the first contact field its message names, however it is worded
 * (`account_id`, `accountId`, "No account with id …", "Invalid phone number", `Custom field "tier" …`). Quoted
 * values are not read as names. `sent`: the row's columns (`custom.<slug>` for custom fields): a message naming
 * only "account" or "custom field" is the one of them the row sent. Undefined when nothing names a field.
 */
export function rowFieldOfApiError(api: { errors: readonly string[]; field?: string } | undefined, sent: readonly string[] = []): string | undefined {
  const raw = api?.field ?? api?.errors.join(' ');
  if (!raw) return undefined;
  const slug = CUSTOM_SLUG.exec(raw);
  if (slug) return `custom.${slug[1] ?? slug[2]}`;
  // camelCase and spaces as snake_case; quoted values (an address, an id) dropped.
  const text = raw.replace(/"[^"]*"|“[^”]*”/g, ' ').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase().replace(/[\s-]+/g, '_');
  if (/custom_?fields?/.test(text)) {
    const customs = sent.filter((c) => c.startsWith('custom.'));
    return customs.length === 1 ? customs[0] : 'custom_fields';
  }
  const groups = FIELD_WORD.exec(text)?.groups;
  const i = groups ? Object.values(groups).findIndex((g) => g !== undefined) : -1;
  if (i === -1) return api?.field;
  const field = FIELD_WORDS[i]![1];
  // "Account not found!": the account column the row has.
  if (field === 'account_id' && !sent.includes('account_id')) return sent.find((c) => c === 'account_external_id' || c === 'account_id_if_unset') ?? field;
  return field;
}

/** The columns a row sets (`custom.<slug>` for custom fields), for `rowFieldOfApiError`. */
export function sentColumns(desired: DesiredContact): string[] {
  const { custom, readOnly, ...fields } = desired;
  return [...Object.keys(fields).filter((k) => fields[k as keyof typeof fields] !== undefined), ...Object.keys({ ...custom, ...readOnly }).map((slug) => `custom.${slug}`)];
}
