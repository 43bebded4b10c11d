import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ApiResult, PylonClient } from '../pylon/api.js';
import { PylonApiError, isRefusal } from '../pylon/errors.js';
import type { Contact, ContactPatch } from '../pylon/types.js';
import type { RowIssue } from './desired.js';
import { deadPartials, partialPathFor } from '../output/output-file.js';

/**
 * Fields the CLI clears by sending `""` (the clear token, and undo files that
 * restore an empty value). Pylon documents no way to clear them: `null` is
 * ignored (conventions page), and a third-party live probe reports that `""`
 * clears. Other servers may refuse `""` (400) or accept and ignore it, so the
 * answer is checked, and what it showed is remembered (ServerMemory).
 */
export const CLEARED_BY_EMPTY_STRING = ['avatar_url', 'portal_role_id', 'primary_phone_number'] as const;
export type ClearedField = (typeof CLEARED_BY_EMPTY_STRING)[number];

export interface UnclearedField {
  field: string;
  reason: string;
}

interface Learnt {
  /** What the server's answer showed, without the row's values. */
  reason: string;
  /** When (ISO 8601). */
  at: string;
  /** A measured duration (the search lag), in ms. */
  ms?: number;
}

/**
 * Which of the `""` clears a server (an API host) has been seen not to take,
 * whether it takes a contact external id held under another label, how long
 * its search lags behind writes and when a run last wrote contacts to it,
 * remembered in a file of the tool's state folder so that a later run, its dry
 * run included, reports those clears without sending them again: a second run
 * of the same file then writes nothing, and its dry run counts what it does.
 * Without a path it remembers for the run only. Only a run that writes learns;
 * a missing or unreadable file is no knowledge, and one that cannot be written
 * costs the next run one more try, nothing else.
 *
 * What is learnt belongs to an organisation on a host (`<host>/<organisation id>` in the file,
 * the organisation from `GET /me`), not to the host alone: two organisations on api.usepylon.com,
 * or two servers started in turn on one local port, may answer differently. An entry kept under
 * the host alone (written before that) is read by no organisation, so it is learnt again.
 */
export class ServerMemory {
  private readonly learnt = new Map<string, Learnt>();
  /** The entry's name in the file. */
  private readonly key: string;

  constructor(
    private readonly host: string,
    readonly path?: string,
    organization?: string,
  ) {
    this.key = organization ? `${host}/${organization}` : host;
    if (!path) return;
    // The partial copy a run killed while saving left (the file itself was never touched).
    for (const stale of deadPartials(path)) rmSync(stale, { force: true });
    for (const [field, entry] of Object.entries(readMemory(path)[this.key] ?? {})) {
      if (typeof entry?.reason === 'string' && typeof entry.at === 'string') this.learnt.set(field, entry);
    }
  }

  /** Why this server does not clear `field` with `""`, if it has shown so. */
  known(field: string): UnclearedField | undefined {
    const entry = this.learnt.get(field);
    if (!entry) return undefined;
    const forget = this.path ? `; delete ${this.path} to have the next run try "" again` : '';
    return { field, reason: `${entry.reason}; seen ${entry.at.slice(0, 10)}, so "" was not sent again${forget}` };
  }

  /** Records the fields a server's answer showed it does not clear, and keeps them in the file. */
  learn(uncleared: ReadonlyArray<{ field: string; general: string }>, onError?: (message: string) => void): void {
    const fresh = uncleared.filter((u) => !this.learnt.has(u.field));
    if (fresh.length === 0) return;
    const at = new Date().toISOString();
    for (const u of fresh) this.learnt.set(u.field, { reason: u.general, at });
    this.save(fresh.map((u) => u.field), (why) => onError?.(`could not record in ${this.path} that ${this.host} does not clear ${fresh.map((u) => u.field).join(', ')} with "" (${why}); the next run will try it again`));
  }

  /**
   * Whether this server was seen to refuse a contact external id another contact holds under another label
   * (Pylon documents external ids as unique per object type) or to take it (ids kept per label), and when.
   * Undefined: not seen yet.
   */
  externalIdUnderOtherLabel(): { takes: boolean; at: string } | undefined {
    const entry = this.learnt.get(EXTERNAL_ID_ENTRY);
    if (entry?.reason === TAKES || entry?.reason === REFUSES) return { takes: entry.reason === TAKES, at: entry.at };
    return undefined;
  }

  /** Records what a write carrying an external id held under another label showed (the last answer counts). */
  learnExternalIdUnderOtherLabel(takes: boolean, onError?: (message: string) => void): void {
    const reason = takes ? TAKES : REFUSES;
    if (this.learnt.get(EXTERNAL_ID_ENTRY)?.reason === reason) return;
    this.learnt.set(EXTERNAL_ID_ENTRY, { reason, at: new Date().toISOString() });
    this.save([EXTERNAL_ID_ENTRY], (why) => onError?.(`could not record in ${this.path} whether ${this.host} takes an external id held under another label (${why}); the next dry run will not know it`));
  }

  /**
   * Whether PATCH `email` on this server was seen to keep the primary it replaces (as the primary, or as a secondary address:
   * the run then sends a second PATCH, `emails`, to make the row's address the only primary), or to replace it, and when.
   * Undefined: not seen yet. The dry run counts that second PATCH from it.
   */
  patchEmailKeepsReplaced(): { keeps: boolean; at: string } | undefined {
    const entry = this.learnt.get(PATCH_EMAIL_ENTRY);
    if (entry?.reason === KEEPS_REPLACED || entry?.reason === REPLACES) return { keeps: entry.reason === KEEPS_REPLACED, at: entry.at };
    return undefined;
  }

  /** Records what a PATCH `email` replacing a primary showed (the last answer counts). */
  learnPatchEmail(keeps: boolean, onError?: (message: string) => void): void {
    const reason = keeps ? KEEPS_REPLACED : REPLACES;
    if (this.learnt.get(PATCH_EMAIL_ENTRY)?.reason === reason) return;
    this.learnt.set(PATCH_EMAIL_ENTRY, { reason, at: new Date().toISOString() });
    this.save([PATCH_EMAIL_ENTRY], (why) => onError?.(`could not record in ${this.path} what ${this.host}'s PATCH email does with the address it replaces (${why}); the next dry run will not know it`));
  }

  /** Search's lag (ms) as last measured on this server (search-visibility.ts), and when. Undefined: never measured. */
  searchLag(): { ms: number; at: string } | undefined {
    const entry = this.learnt.get(SEARCH_LAG_ENTRY);
    return typeof entry?.ms === 'number' && entry.ms >= 0 ? { ms: entry.ms, at: entry.at } : undefined;
  }

  /** Records the search lag a run measured (the last measure counts: 0 too, a server whose search caught up). */
  learnSearchLag(ms: number, onError?: (message: string) => void): void {
    if (this.learnt.get(SEARCH_LAG_ENTRY)?.ms === ms) return;
    this.learnt.set(SEARCH_LAG_ENTRY, { reason: 'search showed a contact just created only after this long (ms)', at: new Date().toISOString(), ms });
    this.save([SEARCH_LAG_ENTRY], (why) => onError?.(`could not record in ${this.path} how long ${this.host}'s search lags (${why}); the next run will not wait for it`));
  }

  /** A time (ms since the epoch) no earlier than the last contact write a run sent to this server; undefined: none recorded. */
  lastWriteAt(): number | undefined {
    const at = Date.parse(this.learnt.get(LAST_WRITE_ENTRY)?.at ?? '');
    return Number.isNaN(at) ? undefined : at;
  }

  /**
   * Called as a contact write is sent. What is kept is a lease: a time a little
   * ahead of now, renewed once it has passed, so the file is written once per
   * WRITE_LEASE_MS of writing, yet always holds a time no earlier than the last
   * write, even after a kill -9.
   */
  noteWrite(onError?: (message: string) => void): void {
    const now = Date.now();
    if ((this.lastWriteAt() ?? 0) >= now) return;
    this.learnt.set(LAST_WRITE_ENTRY, { reason: 'a run sent contact writes until about this time (search may lag behind them)', at: new Date(now + WRITE_LEASE_MS).toISOString() });
    this.save([LAST_WRITE_ENTRY], (why) => onError?.(`could not record in ${this.path} when this run wrote to ${this.host} (${why}); a run started within search's lag may not find these contacts`));
  }

  /** Where this is kept, named in messages: the file, or this run only. */
  get where(): string {
    return this.path ?? 'this run';
  }

  get hostName(): string {
    return this.host;
  }

  private save(keys: readonly string[], onError: (why: string) => void): void {
    if (!this.path) return;
    try {
      // Read again before writing: another run may have learnt about another host (or organisation) meanwhile.
      const all = readMemory(this.path);
      all[this.key] = { ...all[this.key], ...Object.fromEntries(keys.map((key) => [key, this.learnt.get(key)!])) };
      mkdirSync(dirname(this.path), { recursive: true });
      // The partial sibling every output uses, which a later run sweeps if this one dies before the rename.
      const temp = partialPathFor(this.path);
      writeFileSync(temp, JSON.stringify(all, null, 2) + '\n');
      renameSync(temp, this.path);
    } catch (error) {
      onError((error as Error).message);
    }
  }
}

/** The entry of a host in servers.json saying whether it takes a contact external id another contact holds under another label. */
const EXTERNAL_ID_ENTRY = 'external_id_under_other_label';
const TAKES = 'took an external id another contact holds under another label (ids kept per label)';
const REFUSES = 'refused an external id another contact holds under another label (ids unique per contact type, as Pylon documents)';

/** The entries of a host in servers.json with search's measured lag and the time of the last contact write (see `noteWrite`). */
const SEARCH_LAG_ENTRY = 'search_lag';
const PATCH_EMAIL_ENTRY = 'patch_email';
const KEEPS_REPLACED = 'PATCH email kept the primary it replaced (as the primary or a secondary address): a PATCH emails follows';
const REPLACES = 'PATCH email replaced the primary';
const LAST_WRITE_ENTRY = 'last_contact_write';
const WRITE_LEASE_MS = 2_000;

function readMemory(path: string): Record<string, Record<string, Learnt>> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, Record<string, Learnt>>) : {};
  } catch {
    return {};
  }
}

/**
 * Takes the `""` clears a server is known not to take out of a planned PATCH
 * (and its changes): they are reported, not sent. The phone list sent only to
 * carry a cleared primary goes with it.
 */
export function withoutKnownUncleared<Change extends { column: string }>(
  body: ContactPatch,
  changes: readonly Change[],
  memory: ServerMemory | undefined,
): { body: ContactPatch; changes: Change[]; uncleared: UnclearedField[] } {
  const uncleared = memory ? CLEARED_BY_EMPTY_STRING.filter((field) => body[field] === '').flatMap((field) => memory.known(field) ?? []) : [];
  if (uncleared.length === 0) return { body, changes: [...changes], uncleared };
  const fields = uncleared.map((u) => u.field);
  const rest: ContactPatch = { ...body };
  for (const field of fields) delete rest[field as ClearedField];
  if (fields.includes('primary_phone_number') && !changes.some((c) => c.column === 'phone_numbers')) delete rest.phone_numbers;
  return { body: rest, changes: changes.filter((c) => !fields.includes(c.column)), uncleared };
}

/**
 * Sends a PATCH and reports the `""` clears that did not take: refused with a
 * 400 (the rest of the PATCH is then sent without them), answered 200 with the
 * old value kept, or known from `memory` not to take (not sent; with nothing
 * else to send, no call is made and `res` is undefined). What an answer shows
 * is remembered. Other errors are thrown as they are.
 */
export async function updateWithClears(
  client: PylonClient,
  id: string,
  body: ContactPatch,
  signal?: AbortSignal,
  onSent?: () => void,
  memory?: ServerMemory,
  onNote?: (message: string) => void,
  drop?: string,
  keep?: string,
): Promise<UpdateAnswer> {
  const answer = await patchWithClears(client, id, body, signal, onSent, memory, onNote);
  // What PATCH email did with the primary it replaced, remembered for the dry run's count of PATCHes (makePrimary's follow-up).
  if (body.email !== undefined && answer.res?.data.email !== undefined && drop !== undefined && !sameEmail(drop, body.email)) {
    const kept = !sameEmail(answer.res.data.email, body.email) || (answer.res.data.emails ?? []).some((e) => sameEmail(e, drop));
    memory?.learnPatchEmail(kept, onNote);
  }
  return body.email === undefined || answer.res === undefined ? answer : { ...answer, ...(await makePrimary(client, id, body.email, answer.res, signal, drop, keep)) };
}

export interface UpdateAnswer {
  res?: ApiResult<Contact>;
  uncleared: UnclearedField[];
  /** The row's email is still not the contact's primary address after both ways of making it so: why (the row fails). */
  notPrimary?: string;
  /**
   * An undo row's primary is back, but Pylon refused the PATCH `emails` dropping the address the run set (`drop`),
   * which the contact still holds as a secondary one: why, with the refusal's status and request id (the row fails).
   */
  notDropped?: { message: string; status?: number; requestId?: string };
  /**
   * The follow-up PATCH `emails` failed otherwise than by a refusal (a 401, a timeout, a 5xx after retries): `res`
   * (the first PATCH) was applied all the same. The caller writes the row's undo row, then throws this.
   */
  error?: unknown;
}

/** One address whatever its case, surrounding spaces or Unicode form (as diffContact compares them). */
export const sameEmail = (a: string | undefined, b: string) => a !== undefined && a.trim().normalize('NFC').toLowerCase() === b.trim().normalize('NFC').toLowerCase();

/**
 * PATCH `email` may add the address rather than make it the primary (undocumented: pylon-api.md §10 q7), and the
 * row would be reported updated with its old primary kept. Seen in the answer, the documented `emails` list with
 * `is_primary` is sent: the row's email primary, the contact's other addresses kept but for the primary it replaces,
 * as a PATCH `email` that replaces does. Still not primary after that: the row fails, saying what the contact holds.
 * `drop` (an import row: the primary its email replaces; an undo row: the address the run set, which the contact did
 * not hold before it): PATCH `email` may keep it as a secondary address (a server that demotes the replaced primary);
 * the same `emails` list, without it, is sent, so the contact ends as a PATCH `email` that replaces leaves it.
 */
async function makePrimary(client: PylonClient, id: string, email: string, res: ApiResult<Contact>, signal?: AbortSignal, drop?: string, keep?: string): Promise<Partial<UpdateAnswer>> {
  if (res.data.email === undefined) return {};
  const primary = sameEmail(res.data.email, email);
  const stale = drop !== undefined && !sameEmail(drop, email) && (res.data.emails ?? []).some((e) => sameEmail(e, drop));
  // `keep` (an undo row): the address the run made the primary, which the contact held before it; a PATCH email that replaces drops it.
  // Kept in another spelling (the run's row wrote it so) counts as lost: the undo puts back the contact's own.
  const lost = keep !== undefined && !sameEmail(keep, email) && !(res.data.emails ?? []).some((e) => e === keep);
  if (primary && !stale && !lost) return {};
  const replaced = primary ? undefined : res.data.email;
  const others = (res.data.emails ?? []).filter((e) => !sameEmail(e, email) && !sameEmail(replaced, e) && !sameEmail(keep, e) && !(stale && sameEmail(e, drop!)));
  if (keep !== undefined && !sameEmail(keep, email)) others.push(keep);
  let again: ApiResult<Contact>;
  try {
    again = await client.updateContact(id, { emails: [{ email, is_primary: true }, ...others.map((e) => ({ email: e }))] }, { signal });
  } catch (error) {
    if (!isRefusal(error)) return { error };
    // The address is the primary already (an undo row), but the contact still holds the address the run set.
    if (primary && lost) {
      return {
        notDropped: {
          message: `${email} is the primary email again, but the contact no longer holds ${keep}, which it held before the run as a secondary address: Pylon refused PATCH emails with it (${error.status}: ${error.errors.join('; ') || error.message}). The row's other values were restored; add ${keep} to the contact in Pylon's UI, or run this undo file again`,
          status: error.status,
          requestId: error.requestId,
        },
      };
    }
    if (primary) {
      return {
        notDropped: {
          message: `${email} is the primary email again, but the contact still holds ${drop} (the address the run set) as a secondary address: Pylon refused PATCH emails without it (${error.status}: ${error.errors.join('; ') || error.message}). The row's other values were restored; remove ${drop} from the contact in Pylon's UI, or run this undo file again`,
          status: error.status,
          requestId: error.requestId,
        },
      };
    }
    return {
      notPrimary: `Pylon kept ${replaced} as the primary email: PATCH email added ${email} as a secondary address, and Pylon refused PATCH emails with ${email} marked primary (${error.status}: ${error.errors.join('; ') || error.message}). The row's other changes were applied; make ${email} the primary address in Pylon's UI`,
    };
  }
  if (sameEmail(again.data.email, email)) return { res: again };
  return {
    res: again,
    notPrimary: `Pylon kept ${again.data.email ?? 'no address'} as the primary email: PATCH email added ${email} as a secondary address, and PATCH emails with ${email} marked primary did not make it the primary either. The row's other changes were applied; make ${email} the primary address in Pylon's UI`,
  };
}

async function patchWithClears(
  client: PylonClient,
  id: string,
  body: ContactPatch,
  signal?: AbortSignal,
  onSent?: () => void,
  memory?: ServerMemory,
  onNote?: (message: string) => void,
): Promise<UpdateAnswer> {
  const known = memory ? CLEARED_BY_EMPTY_STRING.filter((field) => body[field] === '').flatMap((field) => memory.known(field) ?? []) : [];
  if (known.length > 0) {
    body = { ...body };
    for (const { field } of known) delete body[field as ClearedField];
    if (known.some((u) => u.field === 'primary_phone_number') && !hasOtherKeys(body, ['phone_numbers'])) delete body.phone_numbers;
    if (Object.keys(body).length === 0) return { uncleared: known };
  }
  const empties = CLEARED_BY_EMPTY_STRING.filter((field) => body[field] === '');
  if (empties.length === 0) return { res: await client.updateContact(id, body, { signal, onSent }), uncleared: known };
  try {
    const res = await client.updateContact(id, body, { signal, onSent });
    const kept = empties.filter((field) => typeof res.data[field] === 'string' && res.data[field] !== '');
    memory?.learn(kept.map((field) => ({ field, general: IGNORED })), onNote);
    return { res, uncleared: [...known, ...kept.map((field) => ({ field, reason: `Pylon answered 200 but kept ${JSON.stringify(res.data[field])}: it ignores "" here` }))] };
  } catch (error) {
    if (!isRefusal(error)) throw error;
    const why = error.errors.join('; ') || error.message;
    const rest: ContactPatch = { ...body };
    for (const field of empties) delete rest[field];
    // Pylon wants the primary among phone_numbers; sent alone, the list changes nothing.
    if (empties.includes('primary_phone_number') && body.phone_numbers !== undefined && !hasOtherKeys(rest, ['phone_numbers'])) delete rest.phone_numbers;
    const reason = `Pylon refused "" (${error.status}: ${why})`;
    const res = Object.keys(rest).length > 0 ? await client.updateContact(id, rest, { signal, onSent }) : await client.getContact(id, { signal });
    // Learnt only once the PATCH without the "" went through: a 400 for another reason would fail it too.
    memory?.learn(empties.map((field) => ({ field, general: reason })), onNote);
    return { res, uncleared: [...known, ...empties.map((field) => ({ field, reason }))] };
  }
}

/** Whether a PATCH that went out and then threw `error` may have changed the contact: anything but a refusal the server answered. */
export function mayHaveChanged(error: unknown): boolean {
  return !(error instanceof PylonApiError) || error.maybeApplied;
}

const IGNORED = 'Pylon answered 200 but kept the value: it ignores "" here';

function hasOtherKeys(body: ContactPatch, except: string[]): boolean {
  return Object.keys(body).some((k) => !except.includes(k));
}

/**
 * The row's issue when some fields could not be cleared. `othersApplied`: the
 * row's other changes were sent (false: nothing else differed, nothing was sent).
 */
export function unclearedIssue(uncleared: readonly UnclearedField[], othersApplied = true): RowIssue {
  const fields = uncleared.map((u) => u.field);
  const rest = othersApplied ? "The row's other changes were applied" : 'Nothing else in the row differs, so nothing was sent';
  return {
    code: 'ROW_CANNOT_CLEAR',
    field: fields[0],
    message: `Not cleared: ${uncleared.map((u) => `${u.field} (${u.reason})`).join('; ')}. ${rest}; this server offers no other way to clear ${fields.length > 1 ? 'these fields' : 'this field'}: clear it in Pylon's UI, or leave the cell empty to keep the value`,
  };
}
