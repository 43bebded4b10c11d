/** Deterministic contacts for the update tests: a mix of roles, accounts, domains and custom fields. */
import { DEFAULT_ACCOUNTS, type ContactStore, type ContactSeed } from '../../src/emulator/index.js';

export const ACME_ACCOUNT = DEFAULT_ACCOUNTS[0].id;
export const GLOBEX_ACCOUNT = DEFAULT_ACCOUNTS[1].id;
const INITECH_ACCOUNT = DEFAULT_ACCOUNTS[2].id;

const ROLES = ['member', 'admin', 'no_access'] as const;
const TIERS = [undefined, 'silver', 'gold', 'bronze'] as const;
const DOMAINS: Array<[string, string | undefined]> = [
  ['acme.com', ACME_ACCOUNT],
  ['acme.example', ACME_ACCOUNT],
  ['globex.example', GLOBEX_ACCOUNT],
  ['initech.example', INITECH_ACCOUNT],
  ['example.com', undefined],
];

/** Contact i: `person<i>@<domain>`; role, tier and account vary with i so any slice holds a mix. */
export function contactSeed(i: number): ContactSeed {
  const [domain, account] = DOMAINS[i % DOMAINS.length];
  const custom: Record<string, string | string[]> = {};
  const tier = TIERS[(i >> 2) % TIERS.length];
  if (tier) custom.tier = tier;
  if (i % 3 === 0) custom.seats = String(1 + (i % 97));
  if (i % 6 === 1) custom.interests = ['api', 'security'];
  return {
    name: `Person ${i}`,
    email: `person${i}@${domain}`,
    ...(account ? { account_id: account } : {}),
    portal_role: ROLES[(i >> 1) % ROLES.length],
    ...(i % 8 === 0 ? { phone_numbers: [`1555${String(i).padStart(7, '0')}`] } : {}),
    custom_fields: custom,
  };
}

export function seedContacts(store: ContactStore, count: number): void {
  for (let i = 0; i < count; i++) store.insert(contactSeed(i));
}
