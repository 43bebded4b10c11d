/**
 * POST /accounts (migration support, issue 13): the minimum the import's
 * --create-accounts needs. Validates name, domains/primary_domain and
 * external_ids (unique: a taken one is a 400 with exists_id), adds the account
 * to the organisation, and answers it like GET /accounts/{id}.
 * Kept apart from handlers/org.ts so the emulator's own accounts work can replace it.
 */
import { randomUUID } from 'node:crypto';
import type { Account } from '../../pylon/types.js';
import { ApiError } from '../api-error.js';
import { CODES, MSG } from '../messages.js';
import { dataBody } from '../respond.js';
import type { EmulatorContext, RequestInfo } from '../routes.js';

export function createAccount({ org }: EmulatorContext, req: RequestInfo): string {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const errors: string[] = [];
  if (typeof body.name !== 'string' || body.name.trim() === '') errors.push(MSG.nameRequired);
  const domains = body.domains === undefined ? [] : body.domains;
  if (!Array.isArray(domains) || domains.some((d) => typeof d !== 'string' || d.trim() === '')) errors.push(MSG.wrongType('domains', 'an array of domain names'));
  if (body.primary_domain !== undefined && (typeof body.primary_domain !== 'string' || !(domains as string[]).includes(body.primary_domain))) {
    errors.push('primary_domain must be one of domains');
  }
  const externalIds = body.external_ids === undefined ? [] : body.external_ids;
  if (!Array.isArray(externalIds) || externalIds.some((e) => typeof e !== 'object' || e === null || typeof e.external_id !== 'string' || e.external_id === '')) {
    errors.push(MSG.wrongType('external_ids', 'an array of {external_id, label}'));
  }
  if (errors.length > 0) throw new ApiError(400, CODES.invalidRequest, errors);
  for (const e of externalIds as Array<{ external_id: string }>) {
    const owner = org.accountByExternalId(e.external_id);
    if (owner) throw new ApiError(400, CODES.alreadyExists, `An account with external id "${e.external_id}" already exists`, { existsId: owner.id });
  }
  const list = (domains as string[]).map((d) => d.trim().toLowerCase());
  const account: Account = {
    id: randomUUID(),
    name: (body.name as string).trim(),
    ...(list.length > 0 ? { domain: (body.primary_domain as string | undefined) ?? list[0], domains: list, primary_domain: (body.primary_domain as string | undefined) ?? list[0] } : {}),
    ...((externalIds as unknown[]).length > 0 ? { external_ids: externalIds as Account['external_ids'] } : {}),
    tags: [],
    type: typeof body.account_type === 'string' ? body.account_type : 'customer',
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
  };
  org.addAccount(account);
  return dataBody(JSON.stringify(account), req.requestId);
}
