import type { ApiResult, PylonClient } from '../pylon/api.js';
import { PylonApiError } from '../pylon/errors.js';
import type { Contact, ContactPatch } from '../pylon/types.js';
import type { RowIssue } from './desired.js';

/**
 * Fields the CLI clears by sending `""` (the clear token, and undo files that
 * restore an empty value). Pylon documents no way to clear them: `null` is
 * ignored (conventions page), and a third-party live probe reports that `""`
 * clears. Other servers may refuse `""` (400) or accept and ignore it, so the
 * answer is checked.
 */
export const CLEARED_BY_EMPTY_STRING = ['avatar_url', 'portal_role_id', 'primary_phone_number'] as const;

export interface UnclearedField {
  field: string;
  reason: string;
}

/**
 * Sends a PATCH and reports the `""` clears that did not take: refused with a
 * 400 (the rest of the PATCH is then sent without them) or answered 200 with
 * the old value kept. Other errors are thrown as they are.
 */
export async function updateWithClears(
  client: PylonClient,
  id: string,
  body: ContactPatch,
  signal?: AbortSignal,
  onSent?: () => void,
): Promise<{ res: ApiResult<Contact>; uncleared: UnclearedField[] }> {
  const empties = CLEARED_BY_EMPTY_STRING.filter((field) => body[field] === '');
  if (empties.length === 0) return { res: await client.updateContact(id, body, { signal, onSent }), uncleared: [] };
  try {
    const res = await client.updateContact(id, body, { signal, onSent });
    const kept = empties.filter((field) => typeof res.data[field] === 'string' && res.data[field] !== '');
    return { res, uncleared: kept.map((field) => ({ field, reason: `Pylon answered 200 but kept ${JSON.stringify(res.data[field])}: it ignores "" here` })) };
  } catch (error) {
    if (!(error instanceof PylonApiError) || error.status !== 400) throw error;
    const why = error.errors.join('; ') || error.message;
    const rest: ContactPatch = { ...body };
    for (const field of empties) delete rest[field];
    // Pylon wants the primary among phone_numbers; sent alone, the list changes nothing.
    if (empties.includes('primary_phone_number') && body.phone_numbers !== undefined && !hasOtherKeys(rest, ['phone_numbers'])) delete rest.phone_numbers;
    const uncleared = empties.map((field) => ({ field, reason: `Pylon refused "" (400: ${why})` }));
    const res = Object.keys(rest).length > 0 ? await client.updateContact(id, rest, { signal, onSent }) : await client.getContact(id, { signal });
    return { res, uncleared };
  }
}

function hasOtherKeys(body: ContactPatch, except: string[]): boolean {
  return Object.keys(body).some((k) => !except.includes(k));
}

/** The row's issue when some fields could not be cleared: the rest of the row was applied. */
export function unclearedIssue(uncleared: readonly UnclearedField[]): RowIssue {
  const fields = uncleared.map((u) => u.field);
  return {
    code: 'ROW_CANNOT_CLEAR',
    field: fields[0],
    message: `Not cleared: ${uncleared.map((u) => `${u.field} (${u.reason})`).join('; ')}. The row's other changes were applied; this server offers no other way to clear ${fields.length > 1 ? 'these fields' : 'this field'}`,
  };
}
