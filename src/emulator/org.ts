/** The organisation's fixed data (accounts, custom-field definitions, /me), indexed for lookups. */
import type { Account, CustomFieldDefinition, Me, MiniAccount } from '../pylon/types.js';

export interface Org {
  me: Me;
  accounts: Account[];
  customFields: CustomFieldDefinition[];
  /** Account by id or by any of its external ids (GET /accounts/{id} accepts both). */
  findAccount(idOrExternalId: string): Account | undefined;
  accountById(id: string): Account | undefined;
  accountByExternalId(externalId: string): Account | undefined;
  /** The contact's `account` object; one shared instance per account. */
  miniAccount(id: string): MiniAccount;
  field(slug: string): CustomFieldDefinition | undefined;
  /** Option slugs of a select or multiselect field. */
  optionSlugs(slug: string): Set<string>;
  /** Adds an account (POST /accounts). */
  addAccount(account: Account): void;
  /** Removes the account with this id or external id (DELETE /accounts/{id}); false when there is none. Contacts keep their `account_id`. */
  removeAccount(idOrExternalId: string): boolean;
}

export const MULTI_VALUED_TYPES = new Set(['multiselect']);

export function createOrg(input: { me: Me; accounts: Account[]; customFields: CustomFieldDefinition[] }): Org {
  const accounts = [...input.accounts];
  const byId = new Map<string, Account>();
  const byExternal = new Map<string, Account>();
  const minis = new Map<string, MiniAccount>();
  const index = (account: Account) => {
    byId.set(account.id, account);
    for (const ext of account.external_ids ?? []) byExternal.set(ext.external_id, account);
    const mini: MiniAccount = { id: account.id };
    if (account.external_ids?.length) mini.external_ids = account.external_ids.map((e) => ({ ...e }));
    minis.set(account.id, mini);
  };
  accounts.forEach(index);
  const fields = new Map(input.customFields.map((f) => [f.slug, f]));
  const options = new Map(input.customFields.map((f) => [f.slug, new Set((f.select_metadata?.options ?? []).map((o) => o.slug))]));
  return {
    me: input.me,
    accounts,
    customFields: input.customFields,
    findAccount: (key) => byId.get(key) ?? byExternal.get(key),
    accountById: (id) => byId.get(id),
    accountByExternalId: (ext) => byExternal.get(ext),
    miniAccount: (id) => minis.get(id) ?? { id },
    field: (slug) => fields.get(slug),
    optionSlugs: (slug) => options.get(slug) ?? new Set(),
    addAccount(account) {
      accounts.push(account);
      index(account);
    },
    removeAccount(key) {
      const account = byId.get(key) ?? byExternal.get(key);
      if (!account) return false;
      byId.delete(account.id);
      for (const ext of account.external_ids ?? []) byExternal.delete(ext.external_id);
      accounts.splice(accounts.indexOf(account), 1);
      return true;
    },
  };
}
