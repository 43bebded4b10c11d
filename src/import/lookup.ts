import type { PylonClient } from '../pylon/api.js';
import type { Contact, Filter } from '../pylon/types.js';
import { ConfigError } from '../errors.js';
import { PylonApiError, isRefusal } from '../pylon/errors.js';
import { paginate } from '../pylon/paginate.js';
import { ContactSpool, type SpoolMatch } from './contact-spool.js';
import { emailKey, keyParts, keysOfContact, matchFirst, parseKey, type HeldKeySlots, type LookupKey } from './lookup-key.js';

export { keyFor, type LookupKey } from './lookup-key.js';

/** No contact, exactly one, or several (a shared email: the row fails, never a guess). */
export type Match = SpoolMatch;

export interface Lookup {
  readonly strategy: 'search' | 'list';
  /** With the list: the keys its index holds, for the duplicate index to share (see HeldKeySlots). */
  readonly heldKeys?: HeldKeySlots;
  /** Resolves a batch of keys with as few calls as possible. */
  resolve(keys: readonly LookupKey[], signal?: AbortSignal): Promise<Map<LookupKey, Match>>;
  close(): void;
}

export interface LookupOptions {
  client: PylonClient;
  strategy: 'auto' | 'search' | 'list';
  /** Rows expected in the file (an estimate), to weigh list against search in auto mode. */
  estimatedRows: number;
  /** Keys per search call. */
  batchSize: number;
  /** Whether rows carry Pylon ids (an `id` column): only then are ids indexed in list mode. */
  byId: boolean;
  signal?: AbortSignal;
  onNote?: (message: string) => void;
  /**
   * Awaited once, before the first list page or search: waits until what an
   * earlier run just wrote shows (search-visibility.ts waitForEarlierWrites).
   * The list too: a server whose list lags behind its writes (undocumented;
   * the emulator's `--list-lag-ms`) showed a run started at once after another
   * none of that run's creates, and the run created them all again. The lag
   * waited for is the one measured on search; a list that lags where search
   * does not is not seen.
   */
  beforeLookup?: () => Promise<void>;
}

const PAGE = 999;

const SECONDARY_UNCHECKED =
  "lookup: no contact on the first page has a secondary email, so it is not known whether Pylon's search matches them; " +
  'a row whose email is only a secondary address of a contact would create a new contact. --lookup list is exact.';

const CASE_UNCHECKED =
  "lookup: no contact with an email was found, so it is not known whether Pylon's search matches emails whatever their case, nor secondary emails; " +
  'a row whose email is written in another case than its contact\'s, or is only a secondary address, would create a new contact. --lookup list is exact.';

function matchIn(contacts: Iterable<Contact>, key: LookupKey): Match {
  return matchFirst(key, (part) => matchPart(contacts, part));
}

function matchPart(contacts: Iterable<Contact>, key: LookupKey): Match {
  const found = new Map<string, Contact>();
  for (const c of contacts) {
    if (keysOfContact(c, true).includes(key)) found.set(c.id, c);
  }
  if (found.size === 0) return { kind: 'none' };
  if (found.size === 1) return { kind: 'one', contact: [...found.values()][0] };
  return { kind: 'many', ids: [...found.keys()] };
}

/**
 * Builds the lookup. `auto` reads the first list page: a small organisation is
 * then fully known after one call. Otherwise it probes whether Pylon's search
 * matches emails case-insensitively and on secondary emails (undocumented);
 * when it does not, only reading the list gives exact matches. When it does,
 * the cheaper of the two wins: ⌈rows / batch⌉ searches against ⌈contacts / 999⌉ pages.
 * `search` makes the same probe and refuses (a ConfigError, before any write)
 * where search would miss contacts. Each waits first, when asked to
 * (`beforeLookup`), for what an earlier run just wrote to show.
 */
export async function createLookup(options: LookupOptions): Promise<Lookup> {
  const { client, signal } = options;
  await options.beforeLookup?.();
  const first = await client.listContacts({ limit: PAGE }, { signal });
  // How search behaves here, probed once whichever of the paths below asks first.
  let probed: ReturnType<typeof probeSearch> | undefined;
  const probe = () => (probed ??= probeSearch(client, first.data, signal));
  if (options.strategy === 'search') {
    // Asked for by name, search is still checked: where it misses contacts, rows would
    // create duplicates of them. Better to stop before the first write.
    const semantics = await probe();
    if (!semantics.ok) {
      throw new ConfigError(
        'CONFIG_INVALID_OPTION',
        `--lookup search cannot find every contact here: Pylon's search ${semantics.why}, so rows would miss their contacts and create duplicates. Use --lookup auto or list.`,
        { option: '--lookup' },
      );
    }
    if (semantics.unchecked) options.onNote?.(semantics.unchecked);
    return searchLookup(client, options.batchSize, options.onNote);
  }
  // A list that moved is confirmed by search: by email filter where search ignores case and matches secondary emails,
  // else also by search_text (which does), so a contact stored in another case than the row's is not created twice.
  const confirm = async () => {
    const byFilter = searchLookup(client, options.batchSize, options.onNote);
    const semantics = await probe();
    if (semantics.ok) return byFilter;
    options.onNote?.(`lookup: Pylon's search ${semantics.why}: the rows the moved list holds no contact for are also searched for by text (search_text, which ignores case), one search each`);
    return textConfirmedLookup(byFilter, client, options.onNote);
  };
  if (options.strategy === 'list' || !first.hasNextPage) return listLookup(client, options.byId, confirm, options.onNote, first.data, first, signal);
  const searchSemantics = await probe();
  if (!searchSemantics.ok) {
    options.onNote?.(`lookup: reading the whole contact list, because Pylon's search ${searchSemantics.why}`);
    return listLookup(client, options.byId, confirm, options.onNote, first.data, first, signal);
  }
  const searchCalls = Math.ceil(options.estimatedRows / options.batchSize);
  // The org holds more than one page; each further page costs one call. Read the
  // list while that stays cheaper than searching; give up on it past the budget.
  return listLookup(client, options.byId, confirm, options.onNote, first.data, first, signal, searchCalls, () => {
    options.onNote?.('lookup: the contact list is larger than searching costs; searching by email instead');
    if (searchSemantics.unchecked) options.onNote?.(searchSemantics.unchecked);
    return searchLookup(client, options.batchSize, options.onNote);
  });
}

async function probeSearch(client: PylonClient, sample: Contact[], signal?: AbortSignal): Promise<{ ok: true; unchecked?: string } | { ok: false; why: string }> {
  const withEmail = await caseProbeContact(client, sample, signal);
  if (!withEmail) return sample.length > 0 ? { ok: true, unchecked: CASE_UNCHECKED } : { ok: true, unchecked: SECONDARY_UNCHECKED };
  if (withEmail.email) {
    const swapped = withEmail.email === withEmail.email.toUpperCase() ? withEmail.email.toLowerCase() : withEmail.email.toUpperCase();
    const page = await client.searchContacts({ filter: { field: 'email', operator: 'in', values: [swapped] }, limit: 10 }, { signal });
    if (!page.data.some((c) => c.id === withEmail.id)) return { ok: false, why: await missWhy(client, withEmail, 'matches emails case-sensitively here', signal) };
  }
  const withSecondary = sample.find((c) => (c.emails ?? []).some((e) => e.toLowerCase() !== (c.email ?? '').toLowerCase()));
  if (withSecondary) {
    const secondary = withSecondary.emails!.find((e) => e.toLowerCase() !== (withSecondary.email ?? '').toLowerCase())!;
    const page = await client.searchContacts({ filter: { field: 'email', operator: 'in', values: [secondary] }, limit: 10 }, { signal });
    if (!page.data.some((c) => c.id === withSecondary.id)) return { ok: false, why: await missWhy(client, withSecondary, 'does not match secondary emails here', signal) };
    return { ok: true };
  }
  return { ok: true, unchecked: SECONDARY_UNCHECKED };
}

/** Whether a contact's email can show search's case rule: it has letters, to be searched for in the other case. */
const hasCasedEmail = (c: Contact) => !!c.email && c.email.toUpperCase() !== c.email.toLowerCase();

/**
 * A contact to test search's case rule on: the first in `sample` (a list page) whose email has letters or, when
 * the page holds none (its contacts have no email), the first of one search for emails holding "@" (one call of the
 * search budget, made only then). Undefined when neither finds one (the case rule is then not known), or when the
 * page is empty (an empty organisation: nothing to test, and nothing a search could miss).
 */
async function caseProbeContact(client: PylonClient, sample: Contact[], signal?: AbortSignal): Promise<Contact | undefined> {
  const inSample = sample.find(hasCasedEmail);
  if (inSample || sample.length === 0) return inSample; // an empty organisation has nothing a search could miss
  const page = await client.searchContacts({ filter: { field: 'email', operator: 'string_contains', value: '@' }, limit: 100 }, { signal });
  return page.data.find(hasCasedEmail);
}

/**
 * Why a probe missed: search that does not find the contact by its primary
 * email as written either is behind recent writes (or broken), which says
 * nothing about case or secondary emails.
 */
async function missWhy(client: PylonClient, contact: Contact, otherwise: string, signal?: AbortSignal): Promise<string> {
  if (!contact.email) return otherwise;
  const page = await client.searchContacts({ filter: { field: 'email', operator: 'in', values: [contact.email] }, limit: 10 }, { signal });
  return page.data.some((c) => c.id === contact.id) ? otherwise : `does not find contact ${contact.id} even by its email as written (search may lag behind recent writes)`;
}

/**
 * The contacts holding `email` (primary or secondary), found with one search for the
 * email as written and lower-cased: right even where Pylon's search is case-sensitive.
 * Used to check whether a create that failed mid-flight was applied.
 */
export async function findByEmail(client: PylonClient, email: string, signal?: AbortSignal): Promise<Contact[]> {
  const lower = email.trim().toLowerCase();
  const values = withDecomposed([...new Set([email.trim(), lower])]);
  const page = await client.searchContacts({ filter: { field: 'email', operator: 'in', values }, limit: 100 }, { signal });
  return page.data.filter((c) => keysOfContact(c, false).includes(emailKey(lower)));
}

/**
 * A contact that holds `email`, looked up after a create was refused (400, 409 or 422)
 * that carries no `exists_id` (Pylon's duplicate answer is undocumented: it may
 * come without one). Undefined when no single contact holds it: then the
 * refusal was about something else, and the row fails with Pylon's message.
 */
export async function holderOfRefusedEmail(client: PylonClient, error: unknown, email: string | null | undefined, signal?: AbortSignal): Promise<string | undefined> {
  if (!isRefusal(error) || error.existsId || !email) return undefined;
  const found = await findByEmail(client, email, signal);
  return found.length === 1 ? found[0].id : undefined;
}

/** A search refused because its `in` list was longer than the server takes (no source gives Pylon's cap). */
function isTooManyValues(error: unknown, batch: number): boolean {
  return isRefusal(error) && batch > 1;
}

/**
 * Searches `batchSize` keys per call. A 400 on a batch of several keys is read as
 * a cap on `in` values below the batch: the batch is halved and the same keys
 * sent again, down to one key (where a 400 is a real error), and the smaller
 * size is kept for the rest of the run.
 */
function searchLookup(client: PylonClient, batchSize: number, onNote?: (message: string) => void): Lookup {
  let size = batchSize;
  return {
    strategy: 'search',
    async resolve(keys, signal) {
      const result = new Map<LookupKey, Match>();
      // Keys search cannot send (external ids) take no room in a batch: they are answered from what the others found.
      const all = [...new Set(keys)];
      const unique = all.filter(searchable);
      const seen: Contact[] = [];
      for (let i = 0; i < unique.length; ) {
        const batch = unique.slice(i, i + size);
        let contacts: Contact[];
        try {
          contacts = await searchBatch(client, batch, signal);
        } catch (error) {
          if (!isTooManyValues(error, batch.length)) throw error;
          size = Math.max(1, Math.floor(batch.length / 2));
          onNote?.(`lookup: search refused ${batch.length} values in one filter (${(error as PylonApiError).errors[0] ?? 'HTTP 400'}); searching ${size} at a time from now on`);
          continue;
        }
        for (const key of batch) result.set(key, matchIn(contacts, key));
        seen.push(...contacts);
        i += batch.length;
      }
      for (const key of all) if (!result.has(key)) result.set(key, matchIn(seen, key));
      return result;
    },
    close() {},
  };
}

/**
 * `byFilter`, then, for each key it found no contact for, a search by text (`search_text`, spec S4: it ignores case and
 * looks at every address of a contact) for each of the key's emails, the answers matched to the key as the list's are.
 * For a server whose email filter is case-sensitive or misses secondary emails: one search per such key.
 */
function textConfirmedLookup(byFilter: Lookup, client: PylonClient, onNote?: (message: string) => void): Lookup {
  /** A server that refuses search_text (one before spec S4): the rows are answered by the email filter alone. */
  let refused = false;
  return {
    strategy: 'search',
    async resolve(keys, signal) {
      const result = await byFilter.resolve(keys, signal);
      for (const key of keys) {
        if (refused) break;
        if (result.get(key)?.kind !== 'none') continue;
        const emails = keyParts(key).map(parseKey).filter((p) => p.kind === 'email').map((p) => p.value);
        if (emails.length === 0) continue;
        const found: Contact[] = [];
        try {
          for (const email of emails) {
            const pages = paginate((cursor) => client.searchContacts({ search_text: email, limit: PAGE, ...(cursor ? { cursor } : {}) }, { signal }), { maxPages: 1000, signal });
            for await (const page of pages) found.push(...page.data);
          }
        } catch (error) {
          if (!isRefusal(error)) throw error;
          refused = true;
          onNote?.(
            `lookup: Pylon refused a search by text (${error.status}: ${error.errors[0] ?? error.message}), so a row whose contact the moved list did not show, holding its address in another case, cannot be found: it may be created a second time. ` +
              'Run the import again once the list is still, or check the created contacts for duplicates',
          );
          break;
        }
        result.set(key, matchIn(found, key));
      }
      return result;
    },
    close() {},
  };
}

/**
 * Emails to search for: each as keyed (composed, NFC) and, where it differs, decomposed
 * (NFD). Pylon compares the address as stored, and a contact written by another tool
 * may hold `rene\u0301@…`; what comes back is matched by its NFC key all the same.
 */
function withDecomposed(emails: string[]): string[] {
  return [...new Set(emails.flatMap((e) => [e, e.normalize('NFD')]))];
}

/** Whether a key has a part search can filter on (an email or a Pylon id). */
function searchable(key: LookupKey): boolean {
  return keyParts(key).some((part) => {
    const kind = parseKey(part).kind;
    return kind === 'email' || kind === 'id';
  });
}

async function searchBatch(client: PylonClient, keys: LookupKey[], signal?: AbortSignal): Promise<Contact[]> {
  // Search cannot filter on external ids: `x:` parts find nothing here (see the README).
  const parsed = keys.flatMap(keyParts).map(parseKey);
  const emails = withDecomposed(parsed.filter((k) => k.kind === 'email').map((k) => k.value));
  const ids = parsed.filter((k) => k.kind === 'id').map((k) => k.value);
  if (emails.length === 0 && ids.length === 0) return [];
  const parts: Filter[] = [];
  if (emails.length > 0) parts.push({ field: 'email', operator: 'in', values: emails });
  if (ids.length > 0) parts.push({ field: 'id', operator: 'in', values: ids });
  const filter: Filter = parts.length === 1 ? parts[0]! : { operator: 'or', subfilters: parts };
  const found: Contact[] = [];
  const pages = paginate((cursor) => client.searchContacts({ filter, limit: PAGE, ...(cursor ? { cursor } : {}) }, { signal }), { maxPages: 1000, signal });
  for await (const page of pages) found.push(...page.data);
  return found;
}

/**
 * Reads the contact list once into a `ContactSpool` (contacts on disk, a compact
 * index in memory), then answers every key from it without further calls.
 *
 * A walk that showed a contact twice was of a list that moved while it was read (Pylon does not say its order is
 * stable; the emulator's `--list-shuffle`, `--list-churn`): with offset cursors it may have skipped others (a reordered
 * list of a fixed size skips exactly as many as it repeats). A key it found no
 * contact for is then searched for (`confirm`, by email and id; where search is case-sensitive or misses secondary
 * emails, also by text: an email held under another case was missed there, and created twice) before the row is answered "none": a row whose contact the walk skipped created a
 * second contact with its email on a server that allows that, and the dry run counted it as a create.
 */
async function listLookup(
  client: PylonClient,
  byId: boolean,
  confirm: () => Promise<Lookup>,
  onNote: ((message: string) => void) | undefined,
  firstData: Contact[],
  firstPage: { hasNextPage: boolean; cursor: string | null | undefined; requestId: string },
  signal?: AbortSignal,
  pageBudget = Infinity,
  overBudget?: () => Lookup,
): Promise<Lookup> {
  const spool = new ContactSpool(byId);
  try {
    // The first page is in hand: the generator is given it back, then follows its cursor.
    const fetch = (cursor: string | undefined) => (cursor === undefined ? Promise.resolve({ ...firstPage, data: firstData }) : client.listContacts({ limit: PAGE, cursor }, { signal }));
    let read = 0;
    for await (const page of paginate<Contact>(fetch, { signal, maxPages: Infinity })) {
      spool.add(page.data);
      read++;
      if (page.hasNextPage && read >= pageBudget && overBudget) {
        spool.close();
        return overBudget();
      }
    }
  } catch (error) {
    spool.close();
    throw error;
  }
  let search: Lookup | undefined;
  try {
    search = spool.repeats > 0 ? await confirm() : undefined;
  } catch (error) {
    spool.close();
    throw error;
  }
  if (search) {
    onNote?.(
      `lookup: the contact list moved while it was read (${spool.repeats} contact${spool.repeats === 1 ? ' was' : 's were'} listed twice, so others may not have been shown); ` +
        'rows it holds no contact for are searched for by email before they create one',
    );
  }
  return {
    strategy: 'list',
    heldKeys: { slots: spool.slotCount, held: spool.held, slotOf: (key) => spool.slotOf(key) },
    async resolve(keys) {
      const result = new Map<LookupKey, Match>();
      if (search) {
        const missed = keys.filter((key) => matchFirst(key, (part) => spool.find(part)).kind === 'none' && searchable(key));
        if (missed.length > 0) for (const [key, match] of await search.resolve(missed, signal)) if (match.kind !== 'none') result.set(key, match);
      }
      for (const key of keys) {
        if (result.has(key)) continue;
        let match = matchFirst(key, (part) => spool.find(part));
        // An id the walk did not show may still be a contact: a list whose order moved between pages skips some. It is read
        // by id before the row is failed (one GET per such row; a 404 is an id no contact has).
        const id = match.kind === 'none' ? keyParts(key).map(parseKey).find((p) => p.kind === 'id')?.value : undefined;
        if (id) match = await getById(client, id, signal);
        result.set(key, match);
      }
      return result;
    },
    close: () => spool.close(),
  };
}

async function getById(client: PylonClient, id: string, signal?: AbortSignal): Promise<Match> {
  const contact = await readById(client, id, signal);
  return contact ? { kind: 'one', contact } : { kind: 'none' };
}

/**
 * The contact whose id is `id`, or undefined when there is none: a 404, or an answer about another contact. A server may
 * take a contact external id in `/contacts/{id}` (a third-party client says Pylon's does; the spec says by id only:
 * pylon-api.md §7): an id no contact has, held by another contact as an external id, names that other contact.
 */
export async function readById(client: PylonClient, id: string, signal?: AbortSignal): Promise<Contact | undefined> {
  try {
    const contact = (await client.getContact(id, { signal })).data;
    return contact.id === id ? contact : undefined;
  } catch (error) {
    if (error instanceof PylonApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** Whether `filter` tests `email` anywhere (its own node or a subfilter). */
export function filtersOnEmail(filter: Filter): boolean {
  return filter.field === 'email' || (filter.subfilters ?? []).some(filtersOnEmail);
}

/**
 * Says (once, through `onNote`) when Pylon's search matches emails case-sensitively
 * here, which a filter on `email` (update --where, export --filter) would select by:
 * `email=ann@acme.example` then misses `Ann@Acme.example`. The same probe as
 * `--lookup search`: a contact from the first list page (or, when none there has an
 * email, from one search), searched by its email in the other case. When no contact
 * can show it, or search lags, the note says the case rule could not be told.
 */
export async function noteCaseSensitiveEmailFilter(
  client: PylonClient,
  option: '--where' | '--filter',
  instead: string,
  onNote: ((message: string) => void) | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const first = await client.listContacts({ limit: 100 }, { signal });
  // The first 100 contacts may have no email (contacts created from a chat): one search then finds one that has.
  const withEmail = await caseProbeContact(client, first.data, signal);
  const unknown = `${option} tests email, and it could not be told whether Pylon's search matches emails whatever their case here`;
  if (!withEmail?.email) {
    if (first.data.length > 0) onNote?.(`${unknown} (no contact with an email was found to test it on): if the selection misses addresses written in another case, ${instead.replace(/^To /, 'to ')}`);
    return;
  }
  const swapped = withEmail.email === withEmail.email.toUpperCase() ? withEmail.email.toLowerCase() : withEmail.email.toUpperCase();
  const page = await client.searchContacts({ filter: { field: 'email', operator: 'in', values: [swapped] }, limit: 10 }, { signal });
  if (page.data.some((c) => c.id === withEmail.id)) return;
  const why = await missWhy(client, withEmail, 'matches emails case-sensitively here', signal);
  if (!why.startsWith('matches')) {
    onNote?.(`${unknown} (search ${why}): if the selection misses addresses written in another case, ${instead.replace(/^To /, 'to ')}`);
    return;
  }
  onNote?.(
    `${option} tests email, and Pylon's search ${why}: the selection holds only addresses written in the case the filter gives (email=ann@acme.example misses Ann@Acme.example). ${instead}`,
  );
}
