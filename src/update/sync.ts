/**
 * Desired-state sync (`update members.csv --set portal_role=admin --sync --others
 * portal_role=member`): the file is the whole list of who should hold the --set
 * values; every other contact that holds them gets the --others values. Those
 * contacts are the plan's *removals*: shown apart, guarded by --max-removals,
 * and applied only as planned (a removal whose contact changed since is drifted).
 *
 * Pylon cannot search by portal role, so the holders are found by reading the
 * whole contact list once (`GET /contacts`, 999 a page).
 */
import type { PylonClient } from '../pylon/api.js';
import type { Contact } from '../pylon/types.js';
import { ConfigError } from '../errors.js';
import { paginate } from '../pylon/paginate.js';
import { resolveColumns } from '../import/columns.js';
import { validateRow } from '../import/validate.js';
import { diffContact } from '../import/plan.js';
import { UNDO_CLEAR_TOKEN } from './undo-rows.js';
import type { PlannedContact } from './plan-file.js';

export interface SyncSpec {
  /** The --set values the file's contacts hold. */
  set: Record<string, string>;
  /** What everyone else holding them gets instead (columns among --set's). */
  others: Record<string, string>;
}

/** Checks --others against --set: each --others field must be one --set gives. */
export function checkSyncSpec(spec: SyncSpec): void {
  const keys = Object.keys(spec.others);
  if (keys.length === 0) throw new ConfigError('CONFIG_INVALID_OPTION', '--sync needs --others field=value: what everyone not in the file gets instead (e.g. --others portal_role=member).', { option: '--others' });
  for (const key of keys) {
    if (!(key in spec.set)) {
      throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`--others\`: ${key} is not set with --set, so there is no value to take away (got --others ${key}=${spec.others[key]}).`, { option: '--others' });
    }
    if (spec.others[key] === spec.set[key]) throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`--others\`: ${key}=${spec.others[key]} is the value --set gives.`, { option: '--others' });
  }
}

/**
 * The contacts outside `keep` that hold every --others field at its --set value,
 * each with its change to the --others value (from the value it holds).
 */
export async function planRemovals(client: PylonClient, spec: SyncSpec, keep: ReadonlySet<string>, signal?: AbortSignal): Promise<PlannedContact[]> {
  const customFieldList = await client.listCustomFields({ signal });
  const customFields = new Map(customFieldList.map((f) => [f.slug, f]));
  const fields = Object.keys(spec.others);
  const columns = resolveColumns(['id', ...fields], { customFields: customFieldList });
  const context = { customFields, clearToken: UNDO_CLEAR_TOKEN };
  const desired = (values: Record<string, string>) => {
    const { desired: d, issues } = validateRow(['', ...fields.map((f) => values[f])], columns, context);
    if (issues.length > 0) throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`--others\`: ${issues.map((i) => i.message).join('; ')}`, { option: '--others' });
    return d;
  };
  const holding = desired(Object.fromEntries(fields.map((f) => [f, spec.set[f]])));
  const other = desired(spec.others);
  const removals: PlannedContact[] = [];
  const pages = paginate<Contact>((cursor) => client.listContacts({ limit: 999, ...(cursor ? { cursor } : {}) }, { signal }), { maxPages: 100_000, signal });
  for await (const page of pages) {
    for (const contact of page.data) {
      if (keep.has(contact.id)) continue;
      if (diffContact(holding, contact, { customFields }).changes.length > 0) continue; // does not hold the value
      const { changes } = diffContact(other, contact, { customFields });
      if (changes.length > 0) removals.push({ id: contact.id, ...(contact.email ? { email: contact.email } : {}), changes });
    }
  }
  return removals;
}
