/** /custom-fields, /accounts, /accounts/{id}, /me: the organisation's fixed data. */
import { ApiError } from '../api-error.js';
import { decodeCursor, encodeCursor, parseQueryLimit } from '../cursor.js';
import { CODES, MSG } from '../messages.js';
import { dataBody, pageBody } from '../respond.js';
import type { EmulatorContext, RequestInfo } from '../routes.js';

const OBJECT_TYPES = new Set(['account', 'issue', 'contact', 'task', 'project', 'meeting', 'opportunity']);

export function listCustomFields({ org, options }: EmulatorContext, req: RequestInfo): string {
  const objectType = req.query.get('object_type');
  if (objectType === null || objectType === '') throw new ApiError(400, CODES.invalidRequest, MSG.objectTypeRequired);
  if (!OBJECT_TYPES.has(objectType)) throw new ApiError(400, CODES.invalidRequest, MSG.invalidObjectType(objectType));
  const fields = org.customFields.filter((f) => f.object_type === objectType);
  return pageBody(fields.map((f) => JSON.stringify(f)), undefined, options.lastPageCursor, req.requestId);
}

export function listAccounts({ org, options }: EmulatorContext, req: RequestInfo): string {
  const limit = parseQueryLimit(req.query.get('limit'));
  const from = decodeCursor(req.query.get('cursor') ?? undefined);
  const page = org.accounts.slice(from, from + limit);
  const next = from + limit < org.accounts.length ? encodeCursor(from + limit) : undefined;
  return pageBody(page.map((a) => JSON.stringify(a)), next, options.lastPageCursor, req.requestId);
}

export function getAccount({ org }: EmulatorContext, req: RequestInfo): string {
  const account = org.findAccount(req.params.id);
  if (!account) throw new ApiError(404, CODES.notFound, MSG.accountNotFound);
  return dataBody(JSON.stringify(account), req.requestId);
}

export function getMe({ org }: EmulatorContext, req: RequestInfo): string {
  return dataBody(JSON.stringify(org.me), req.requestId);
}
