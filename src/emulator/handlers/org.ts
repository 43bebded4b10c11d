/** /custom-fields, /accounts, /accounts/{id}, /me: the organisation's fixed data. */
import type { Account, ExternalId } from '../../pylon/types.js';
import { ApiError, badRequest } from '../api-error.js';
import { uuidLike } from '../request-id.js';
import { decodeCursor, encodeCursor, parseBodyLimit, parseQueryLimit } from '../cursor.js';
import { CODES, MSG } from '../messages.js';
import { dataBody, emptyBody, pageBody } from '../respond.js';
import type { EmulatorContext, RequestInfo } from '../context.js';

const OBJECT_TYPES = new Set(['account', 'issue', 'contact', 'task', 'project', 'meeting', 'opportunity']);

export function listCustomFields({ org, options }: EmulatorContext, req: RequestInfo): string {
  const objectType = req.query.get('object_type');
  if (objectType === null || objectType === '') throw new ApiError(400, CODES.invalidRequest, MSG.objectTypeRequired);
  if (!OBJECT_TYPES.has(objectType)) throw new ApiError(400, CODES.invalidRequest, MSG.invalidObjectType(objectType));
  const fields = org.customFields.filter((f) => f.object_type === objectType);
  return pageBody(fields.map((f) => JSON.stringify(f)), undefined, options, req.requestId);
}

export function listAccounts({ org, options }: EmulatorContext, req: RequestInfo): string {
  const limit = parseQueryLimit(req.query.get('limit'), options.maxPageSize);
  const from = decodeCursor(req.query.get('cursor') ?? undefined);
  const page = org.accounts.slice(from, from + limit);
  const next = from + limit < org.accounts.length ? encodeCursor(from + limit) : undefined;
  return pageBody(page.map((a) => JSON.stringify(a)), next, options, req.requestId);
}

export function getCustomField({ org }: EmulatorContext, req: RequestInfo): string {
  const field = org.customFields.find((f) => f.id === req.params.id || f.slug === req.params.id);
  if (!field) throw new ApiError(404, CODES.notFound, MSG.customFieldNotFound);
  return dataBody(JSON.stringify(field), req.requestId);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * POST /accounts: name required; domains (one of them primary_domain), the
 * deprecated domain, external_ids, tags, account_type. A taken external id is
 * refused like a contact's.
 */
export function createAccount({ org }: EmulatorContext, req: RequestInfo): string {
  if (!isObject(req.body)) throw badRequest(MSG.bodyNotObject);
  const b = req.body;
  const errors: string[] = [];
  if (typeof b.name !== 'string' || b.name.trim() === '') errors.push(MSG.nameRequired);
  for (const key of ['domain', 'primary_domain', 'account_type', 'logo_url', 'owner_id'] as const) {
    if (b[key] !== undefined && b[key] !== null && typeof b[key] !== 'string') errors.push(MSG.wrongType(key, 'a string'));
  }
  for (const key of ['domains', 'tags'] as const) if (b[key] !== undefined && b[key] !== null && !strings(b[key])) errors.push(MSG.wrongType(key, 'an array of strings'));
  const ext = b.external_ids ?? undefined;
  const externalIds: ExternalId[] = [];
  if (ext !== undefined) {
    if (!Array.isArray(ext) || ext.some((e) => !isObject(e) || typeof e.external_id !== 'string' || e.external_id === '')) errors.push(MSG.emptyExternalId);
    else for (const e of ext as Array<Record<string, unknown>>) {
      if (org.accountByExternalId(e.external_id as string)) errors.push(MSG.accountExternalIdTaken(e.external_id as string));
      externalIds.push(typeof e.label === 'string' ? { external_id: e.external_id as string, label: e.label } : { external_id: e.external_id as string });
    }
  }
  const domains = strings(b.domains) ? b.domains : typeof b.domain === 'string' && b.domain !== '' ? [b.domain] : [];
  const primary = typeof b.primary_domain === 'string' && b.primary_domain !== '' ? b.primary_domain : domains[0];
  if (primary !== undefined && !domains.includes(primary)) errors.push(MSG.primaryDomainNotListed(primary));
  if (errors.length > 0) throw badRequest(errors);
  const now = new Date().toISOString();
  const account: Account = { id: uuidLike(), name: b.name as string };
  if (primary !== undefined) Object.assign(account, { domain: primary, domains, primary_domain: primary });
  if (externalIds.length > 0) account.external_ids = externalIds;
  if (strings(b.tags)) account.tags = b.tags;
  account.type = typeof b.account_type === 'string' ? b.account_type : 'customer';
  Object.assign(account, { created_at: now, updated_at: now });
  org.addAccount(account);
  return dataBody(JSON.stringify(account), req.requestId);
}

type AccountTest = (a: Account) => boolean;

const ACCOUNT_FIELDS: Record<string, (a: Account) => string[]> = {
  id: (a) => [a.id],
  name: (a) => [a.name],
  domains: (a) => a.domains ?? (a.domain ? [a.domain] : []),
  tags: (a) => a.tags ?? [],
  external_ids: (a) => (a.external_ids ?? []).map((e) => e.external_id),
  owner_id: () => [],
};

function accountFilter(node: unknown, depth: number): AccountTest {
  if (depth > 3) throw badRequest(MSG.filterDepth);
  if (!isObject(node)) throw badRequest(MSG.filterRequired);
  const op = node.operator;
  if (op === 'and' || op === 'or') {
    if (!Array.isArray(node.subfilters) || node.subfilters.length === 0) throw badRequest(MSG.filterSubfilters(op));
    const subs = node.subfilters.map((n) => accountFilter(n, depth + 1));
    return op === 'and' ? (a) => subs.every((f) => f(a)) : (a) => subs.some((f) => f(a));
  }
  const field = node.field;
  if (typeof field !== 'string' || !(field in ACCOUNT_FIELDS)) throw badRequest(MSG.filterUnknownAccountField(String(field)));
  const get = ACCOUNT_FIELDS[field];
  const values = strings(node.values) ? node.values : typeof node.value === 'string' ? [node.value] : undefined;
  const need = () => {
    if (!values) throw badRequest(MSG.filterValues(String(op)));
    return values;
  };
  switch (op) {
    case 'equals':
    case 'in':
    case 'contains': {
      const xs = need();
      return (a) => get(a).some((v) => xs.includes(v));
    }
    case 'not_equals':
    case 'not_in':
    case 'does_not_contain': {
      const xs = need();
      return (a) => !get(a).some((v) => xs.includes(v));
    }
    case 'string_contains': {
      const x = need()[0].toLowerCase();
      return (a) => get(a).some((v) => v.toLowerCase().includes(x));
    }
    case 'is_set':
      return (a) => get(a).length > 0;
    case 'is_unset':
      return (a) => get(a).length === 0;
    default:
      throw badRequest(MSG.filterOperatorForField(String(op), field));
  }
}

/** POST /accounts/search: the spec's account fields (id, name, domains, tags, external_ids, owner_id) and search_text. */
export function searchAccounts({ org, options }: EmulatorContext, req: RequestInfo): string {
  if (!isObject(req.body)) throw badRequest(MSG.bodyNotObject);
  const body = req.body;
  const limit = parseBodyLimit(body.limit, options.maxPageSize);
  const from = decodeCursor(body.cursor);
  const filter = body.filter === undefined || body.filter === null ? () => true : accountFilter(body.filter, 1);
  const text = typeof body.search_text === 'string' ? body.search_text.toLowerCase() : '';
  const hits = org.accounts.filter((a) => filter(a) && (text === '' || a.name.toLowerCase().includes(text) || (a.domains ?? []).some((d) => d.includes(text))));
  const page = hits.slice(from, from + limit);
  const next = from + limit < hits.length ? encodeCursor(from + limit) : undefined;
  return pageBody(page.map((a) => JSON.stringify(a)), next, options, req.requestId);
}

export function getAccount({ org }: EmulatorContext, req: RequestInfo): string {
  const account = org.findAccount(req.params.id);
  if (!account) throw new ApiError(404, CODES.notFound, MSG.accountNotFound);
  return dataBody(JSON.stringify(account), req.requestId);
}

/** DELETE /accounts/{id}: the account goes; contacts in it keep their `account_id` (Pylon does not say what becomes of them). */
export function deleteAccount({ org }: EmulatorContext, req: RequestInfo): string {
  if (!org.removeAccount(req.params.id)) throw new ApiError(404, CODES.notFound, MSG.accountNotFound);
  return emptyBody(req.requestId);
}

export function getMe({ org }: EmulatorContext, req: RequestInfo): string {
  return dataBody(JSON.stringify(org.me), req.requestId);
}
