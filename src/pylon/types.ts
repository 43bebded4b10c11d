/**
 * Pylon's wire format for contacts, custom fields and accounts, from Pylon's
 * OpenAPI spec (../shared/pylon-docs/pylon-openapi.json). Read shape and write
 * shape differ: custom fields are read as a map keyed by slug and written as an array.
 */

export type PortalRole = 'no_access' | 'member' | 'admin';
export const PORTAL_ROLES: readonly PortalRole[] = ['no_access', 'member', 'admin'];

export interface ExternalId {
  external_id: string;
  label?: string;
}

export interface MiniAccount {
  id: string;
  external_ids?: ExternalId[];
}

/** A custom field value as read: `{slug, value}` or `{slug, values}`. */
export interface CustomFieldValue {
  slug: string;
  value?: string;
  values?: string[];
}

/** A contact as Pylon returns it (GET, list, search, create/patch responses). */
export interface Contact {
  id: string;
  name?: string;
  email?: string;
  emails?: string[];
  phone_numbers?: string[];
  primary_phone_number?: string;
  avatar_url?: string;
  account?: MiniAccount;
  custom_fields?: Record<string, CustomFieldValue>;
  external_ids?: ExternalId[];
  integration_user_ids?: Array<{ id: string; source: string }>;
  portal_role?: PortalRole;
  portal_role_id?: string;
}

/** A custom-field entry as written: no value/values clears the field. */
export interface CustomFieldWrite {
  slug: string;
  value?: string;
  values?: string[];
}

/** POST /contacts body. */
export interface ContactCreate {
  name: string;
  email?: string;
  account_id?: string;
  account_external_id?: string;
  avatar_url?: string;
  custom_fields?: CustomFieldWrite[];
  external_ids?: ExternalId[];
  phone_numbers?: string[];
  primary_phone_number?: string;
  portal_role?: PortalRole;
  portal_role_id?: string;
}

/** PATCH /contacts/{id} body: only the fields sent are changed. */
export interface ContactPatch extends Partial<ContactCreate> {
  emails?: Array<{ email: string; is_primary?: boolean }>;
}

export type CustomFieldType =
  | 'text'
  | 'number'
  | 'decimal'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'user'
  | 'url'
  | 'select'
  | 'multiselect';

export interface CustomFieldDefinition {
  id: string;
  slug: string;
  label: string;
  description?: string;
  type: CustomFieldType | string;
  object_type: string;
  source?: string;
  is_read_only?: boolean;
  select_metadata?: { options: Array<{ slug: string; label: string; ai_description?: string }> };
  number_metadata?: Record<string, unknown>;
  default_value?: string;
  default_values?: string[];
  created_at?: string;
  updated_at?: string;
}

export interface Account {
  id: string;
  name: string;
  domain?: string;
  domains?: string[];
  primary_domain?: string;
  external_ids?: ExternalId[];
  tags?: string[];
  type?: string;
  created_at?: string;
  updated_at?: string;
}

/** POST /accounts body (the fields the import uses). */
export interface AccountCreate {
  name: string;
  domains?: string[];
  primary_domain?: string;
  external_ids?: ExternalId[];
}

export interface Me {
  id: string;
  name: string;
  user?: { id: string; name?: string; email?: string };
}

export type FilterOperator =
  | 'equals'
  | 'not_equals'
  | 'contains'
  | 'does_not_contain'
  | 'in'
  | 'not_in'
  | 'and'
  | 'or'
  | 'time_is_after'
  | 'time_is_before'
  | 'time_range'
  | 'string_contains'
  | 'string_does_not_contain'
  | 'is_set'
  | 'is_unset'
  | 'greater_than'
  | 'less_than'
  | 'greater_than_or_equals'
  | 'less_than_or_equals';

export interface Filter {
  field?: string;
  operator: FilterOperator;
  value?: string;
  values?: string[];
  subfilters?: Filter[];
}

export interface Pagination {
  /** The next cursor. On the last page Pylon may send "", null, or nothing. */
  cursor?: string | null;
  has_next_page: boolean;
}

export interface DataEnvelope<T> {
  data: T;
  request_id: string;
}

export interface PageEnvelope<T> {
  data: T[];
  pagination: Pagination;
  request_id: string;
}

export interface ErrorEnvelope {
  errors: string[];
  request_id: string;
  code?: string;
  exists_id?: string;
}
