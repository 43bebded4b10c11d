/**
 * Validation of contact write bodies (POST /contacts, PATCH /contacts/{id} and
 * seed records) into a normalized ContactChanges. Pylon conventions: unknown
 * fields are ignored and `null` means "left out". Every problem found is
 * reported at once in `errors[]` of a single 400.
 */
import { PORTAL_ROLES, type CustomFieldWrite, type ExternalId, type PortalRole } from '../pylon/types.js';
import { badRequest } from './api-error.js';
import { MSG } from './messages.js';
import { MULTI_VALUED_TYPES, type Org } from './org.js';

export type WriteMode = 'create' | 'patch' | 'seed';

/**
 * The switches that decide what a write may hold where Pylon's docs are silent
 * (see the README's fidelity table). Seeds always use DEFAULT_WRITE_RULES.
 */
export interface WriteRules {
  validation: 'strict' | 'lenient';
  emptyString: 'clears' | 'rejected' | 'ignored';
  createEmail: 'optional' | 'required';
  portalRoleSlugs: boolean;
}

export const DEFAULT_WRITE_RULES: WriteRules = { validation: 'strict', emptyString: 'clears', createEmail: 'optional', portalRoleSlugs: false };

/** What a write asks for. Absent keys leave the contact unchanged. */
export interface ContactChanges {
  id?: string;
  name?: string;
  /** create: the email; patch: replaces the primary email. */
  email?: string;
  /** Replaces the whole list; `primary` is the entry marked is_primary, else the first. */
  emails?: string[];
  /** `null` removes the contact from its account. */
  accountId?: string | null;
  /** `null` clears (a `""` under emptyString=clears). */
  avatar_url?: string | null;
  phone_numbers?: string[];
  primary_phone_number?: string | null;
  /** Entries without value/values clear the field. */
  customFields?: CustomFieldWrite[];
  external_ids?: ExternalId[];
  integration_user_ids?: Array<{ id: string; source: string }>;
  portal_role?: PortalRole;
  portal_role_id?: string | null;
}

const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const PHONE_RE = /^\d{1,15}$/;
const INTEGER_RE = /^-?\d+$/;
const DECIMAL_RE = /^-?\d+(\.\d+)?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL_RE.test(value);
}

/** Lenient email rule: the spec types email as a plain string; only an address without "@" is refused. */
function isLooseEmail(value: string): boolean {
  return value.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(value);
}

export function isRfc3339(value: string): boolean {
  return DATETIME_RE.test(value) && !Number.isNaN(Date.parse(value));
}

export function isDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

function isHttpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lenient custom-field formats: Pylon types every value as a string and states no
 * format (pylon-api.md §6), so only values no reading of the type could accept are refused.
 */
function looseFormatProblem(type: string, value: string): string | undefined {
  switch (type) {
    case 'number':
    case 'decimal':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? undefined : 'a number';
    case 'boolean':
      return /^(true|false)$/i.test(value) ? undefined : '"true" or "false"';
    case 'date':
    case 'datetime':
      return Number.isNaN(Date.parse(value)) ? 'a date' : undefined;
    default:
      return formatProblem(type, value);
  }
}

/** The expected text for a custom-field type, or undefined when the value is valid. */
function formatProblem(type: string, value: string): string | undefined {
  switch (type) {
    case 'number':
      return INTEGER_RE.test(value) ? undefined : 'an integer such as "42"';
    case 'decimal':
      return DECIMAL_RE.test(value) ? undefined : 'a decimal number such as "12.50"';
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : '"true" or "false"';
    case 'date':
      return isDate(value) ? undefined : 'a date as YYYY-MM-DD';
    case 'datetime':
      return isRfc3339(value) ? undefined : 'an RFC 3339 date-time such as "2026-01-31T09:30:00Z"';
    case 'url':
      return isHttpUrl(value) ? undefined : 'an http(s) URL';
    case 'user':
      return value.trim() !== '' ? undefined : 'a user id';
    default:
      return undefined;
  }
}

type Body = Record<string, unknown>;

/** Reads a field; null counts as absent. */
function read(body: Body, key: string): unknown {
  const value = body[key];
  return value === null ? undefined : value;
}

function stringField(body: Body, key: string, errors: string[]): string | undefined {
  const value = read(body, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    errors.push(MSG.wrongType(key, 'a string'));
    return undefined;
  }
  return value;
}

function arrayField(body: Body, key: string, errors: string[], what: string): unknown[] | undefined {
  const value = read(body, key);
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    errors.push(MSG.wrongType(key, what));
    return undefined;
  }
  return value;
}

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseEmails(list: unknown[], mode: WriteMode, errors: string[], emailOk: (v: string) => boolean): string[] | undefined {
  const out: string[] = [];
  let primary: string | undefined;
  let ok = true;
  list.forEach((entry, i) => {
    const item = mode === 'seed' && typeof entry === 'string' ? { email: entry } : entry;
    if (!isObject(item) || typeof item.email !== 'string') {
      errors.push(MSG.wrongType(`emails[${i}]`, 'an object with an email string'));
      ok = false;
      return;
    }
    const email = item.email.trim();
    if (!emailOk(email)) {
      errors.push(MSG.invalidEmail(`emails[${i}]`, item.email));
      ok = false;
      return;
    }
    if (item.is_primary !== undefined && item.is_primary !== null && typeof item.is_primary !== 'boolean') {
      errors.push(MSG.wrongType(`emails[${i}].is_primary`, 'a boolean'));
      ok = false;
      return;
    }
    if (out.some((e) => e.toLowerCase() === email.toLowerCase())) {
      errors.push(MSG.duplicateEmailInList(email));
      ok = false;
      return;
    }
    if (item.is_primary === true) {
      if (primary !== undefined) {
        errors.push(MSG.severalPrimaryEmails);
        ok = false;
      }
      primary = email;
    }
    out.push(email);
  });
  if (!ok) return undefined;
  return primary === undefined ? out : [primary, ...out.filter((e) => e !== primary)];
}

function parseCustomFields(list: unknown[], org: Org, mode: WriteMode, errors: string[], rules: WriteRules): CustomFieldWrite[] {
  const out: CustomFieldWrite[] = [];
  const seen = new Set<string>();
  list.forEach((entry, i) => {
    if (!isObject(entry) || typeof entry.slug !== 'string' || entry.slug === '') {
      errors.push(MSG.customFieldSlug(i));
      return;
    }
    const slug = entry.slug;
    const def = org.field(slug);
    if (!def) return void errors.push(MSG.unknownCustomField(slug));
    if (def.is_read_only && mode !== 'seed') return void errors.push(MSG.readOnlyCustomField(slug));
    if (seen.has(slug)) return void errors.push(MSG.duplicateCustomField(slug));
    seen.add(slug);
    const value = entry.value ?? undefined;
    const values = entry.values ?? undefined;
    if (value !== undefined && values !== undefined) return void errors.push(MSG.customFieldValueAndValues(slug));
    const multi = MULTI_VALUED_TYPES.has(def.type);
    if (value === undefined && values === undefined) return void out.push({ slug });
    if (multi) {
      if (value !== undefined) return void errors.push(MSG.customFieldNeedsValues(slug));
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
        return void errors.push(MSG.wrongType(`custom_fields[${i}].values`, 'an array of strings'));
      }
      const options = org.optionSlugs(slug);
      const bad = values.find((v) => !options.has(v));
      if (bad !== undefined) return void errors.push(MSG.unknownSelectOption(slug, bad));
      const unique = [...new Set(values as string[])];
      return void out.push(unique.length === 0 ? { slug } : { slug, values: unique });
    }
    if (values !== undefined) return void errors.push(MSG.customFieldNeedsValue(slug));
    if (typeof value !== 'string') return void errors.push(MSG.wrongType(`custom_fields[${i}].value`, 'a string'));
    if (value === '') return void out.push({ slug });
    if (def.type === 'select') {
      if (!org.optionSlugs(slug).has(value)) return void errors.push(MSG.unknownSelectOption(slug, value));
    } else {
      const expected = rules.validation === 'lenient' ? looseFormatProblem(def.type, value) : formatProblem(def.type, value);
      if (expected) return void errors.push(MSG.customFieldFormat(slug, def.type, expected, value));
    }
    out.push({ slug, value });
  });
  return out;
}

function parseExternalIds(list: unknown[], errors: string[]): ExternalId[] | undefined {
  const out: ExternalId[] = [];
  for (const [i, entry] of list.entries()) {
    if (!isObject(entry) || typeof entry.external_id !== 'string' || entry.external_id.trim() === '') {
      errors.push(MSG.emptyExternalId);
      return undefined;
    }
    if (entry.label !== undefined && entry.label !== null && typeof entry.label !== 'string') {
      errors.push(MSG.wrongType(`external_ids[${i}].label`, 'a string'));
      return undefined;
    }
    if (out.some((e) => e.external_id === entry.external_id)) {
      errors.push(MSG.duplicateExternalId(entry.external_id));
      return undefined;
    }
    // The docs: "the label must be unique per object" (compared as written; no case rule is documented).
    if (typeof entry.label === 'string' && out.some((e) => e.label === entry.label)) {
      errors.push(MSG.duplicateExternalIdLabel(entry.label));
      return undefined;
    }
    out.push(typeof entry.label === 'string' ? { external_id: entry.external_id, label: entry.label } : { external_id: entry.external_id });
  }
  return out;
}

function parseAccount(body: Body, org: Org, mode: WriteMode, errors: string[]): string | null | undefined {
  const accountId = stringField(body, 'account_id', errors);
  const externalId = stringField(body, 'account_external_id', errors);
  if (accountId !== undefined && externalId !== undefined) {
    errors.push(MSG.accountIdAndExternalId);
    return undefined;
  }
  if (accountId !== undefined) {
    if (accountId === '') return mode === 'patch' ? null : undefined;
    if (!org.accountById(accountId)) errors.push(MSG.unknownAccountId(accountId));
    return accountId;
  }
  if (externalId !== undefined) {
    if (externalId === '') return void errors.push(MSG.emptyAccountExternalId);
    const account = org.accountByExternalId(externalId);
    if (!account) return void errors.push(MSG.unknownAccountExternalId(externalId));
    return account.id;
  }
  return undefined;
}

/**
 * An optional string where `""` may clear: undefined = absent, null = clear.
 * `rejected` refuses `""` naming the field; `ignored` treats it as absent.
 */
function clearableString(body: Body, key: string, errors: string[], rules: WriteRules, mode: WriteMode): string | null | undefined {
  const value = stringField(body, key, errors);
  if (value === undefined || value.trim() !== '') return value;
  if (rules.emptyString === 'ignored') return undefined;
  if (rules.emptyString === 'rejected') {
    errors.push(MSG.emptyString(key));
    return undefined;
  }
  return mode === 'patch' ? null : undefined;
}

/** Validates a write body. Throws ApiError 400 (code invalid_request) listing every problem. */
export function parseContactWrite(input: unknown, org: Org, mode: WriteMode, rules: WriteRules = DEFAULT_WRITE_RULES): ContactChanges {
  if (!isObject(input)) throw badRequest(MSG.bodyNotObject);
  const body = input;
  const errors: string[] = [];
  const changes: ContactChanges = {};
  const lenient = rules.validation === 'lenient';
  const emailOk = lenient ? isLooseEmail : isEmail;

  if (mode === 'seed') {
    const id = stringField(body, 'id', errors);
    if (id !== undefined && id !== '') changes.id = id;
  }

  const name = stringField(body, 'name', errors);
  if (name === undefined) {
    if (mode !== 'patch' && read(body, 'name') === undefined) errors.push(MSG.nameRequired);
  } else if (name.trim() === '' && !lenient) errors.push(MSG.nameEmpty);
  else changes.name = name;

  const email = stringField(body, 'email', errors);
  if (email !== undefined) {
    if (!emailOk(email.trim())) errors.push(MSG.invalidEmail('email', email));
    else changes.email = email.trim();
  } else if (mode === 'create' && rules.createEmail === 'required') errors.push(MSG.emailRequired);
  if (mode !== 'create') {
    const emails = arrayField(body, 'emails', errors, 'an array of {email, is_primary}');
    if (emails !== undefined) {
      if (email !== undefined && mode === 'patch') errors.push(MSG.emailAndEmails);
      else {
        const parsed = parseEmails(emails, mode, errors, emailOk);
        if (parsed) changes.emails = parsed;
      }
    }
  }

  const account = parseAccount(body, org, mode, errors);
  if (account !== undefined) changes.accountId = account;

  const avatar = clearableString(body, 'avatar_url', errors, rules, mode);
  if (avatar === null) changes.avatar_url = null;
  else if (avatar !== undefined) {
    const url = isHttpUrl(avatar);
    if (!url || !/\.(png|jpe?g)$/i.test(url.pathname)) errors.push(MSG.invalidAvatar(avatar));
    else changes.avatar_url = avatar;
  }

  const phones = arrayField(body, 'phone_numbers', errors, 'an array of strings');
  if (phones !== undefined) {
    const bad = phones.find((p) => typeof p !== 'string' || !PHONE_RE.test(p));
    if (bad !== undefined) errors.push(MSG.invalidPhone(String(bad)));
    else changes.phone_numbers = [...new Set(phones as string[])];
  }
  const primaryPhone = clearableString(body, 'primary_phone_number', errors, rules, mode);
  if (primaryPhone === null) changes.primary_phone_number = null;
  else if (primaryPhone !== undefined) {
    if (!PHONE_RE.test(primaryPhone)) errors.push(MSG.invalidPrimaryPhone(primaryPhone));
    else changes.primary_phone_number = primaryPhone;
  }

  const customFields = arrayField(body, 'custom_fields', errors, 'an array of {slug, value | values}');
  if (customFields !== undefined) changes.customFields = parseCustomFields(customFields, org, mode, errors, rules);

  const externalIds = arrayField(body, 'external_ids', errors, 'an array of {external_id, label}');
  if (externalIds !== undefined) {
    const parsed = parseExternalIds(externalIds, errors);
    if (parsed) changes.external_ids = parsed;
  }

  if (mode === 'seed') {
    const integrations = arrayField(body, 'integration_user_ids', errors, 'an array of {id, source}');
    if (integrations?.every((e) => isObject(e) && typeof e.id === 'string' && typeof e.source === 'string')) {
      changes.integration_user_ids = integrations.map((e) => ({ id: (e as Body).id as string, source: (e as Body).source as string }));
    }
  }

  const role = stringField(body, 'portal_role', errors);
  if (role !== undefined) {
    if ((PORTAL_ROLES as readonly string[]).includes(role)) changes.portal_role = role as PortalRole;
    // The older docs revision: portal_role "can also be a custom role slug"; kept as the role id.
    else if (rules.portalRoleSlugs && /^[a-z0-9][a-z0-9_-]*$/i.test(role)) changes.portal_role_id = role;
    else errors.push(MSG.invalidPortalRole(role));
  }
  const roleId = clearableString(body, 'portal_role_id', errors, rules, mode);
  if (roleId !== undefined) changes.portal_role_id = roleId;

  if (errors.length > 0) throw badRequest(errors);
  return changes;
}
