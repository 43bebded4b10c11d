import test from 'ava';
import { createAccountResolver, emptyAccountStats, indexAccounts, loadDomainParser, looseCompanyName } from '../../src/import/accounts.js';
import type { Account } from '../../src/pylon/types.js';

test.before(async () => {
  await loadDomainParser();
});

test('looseCompanyName: case, punctuation and trailing legal suffixes are left out; the first word always stays', (t) => {
  const cases: Array<[string, string]> = [
    ['Initech, Inc.', 'initech'],
    ['INITECH', 'initech'],
    ['Acme Incorporated', 'acme'],
    ['Müller GmbH & Co. KG', 'müller'],
    ['Philips N.V.', 'philips'],
    ['Banco Exemplo S.A.', 'banco exemplo'],
    ['Vandelay B.V.', 'vandelay'],
    ['Foo Labs LLC', 'foo labs'],
    ['Johnson & Johnson Inc.', 'johnson and johnson'],
    ['Co', 'co'],
    ['Ltd Inc', 'ltd'],
  ];
  for (const [name, loose] of cases) t.is(looseCompanyName(name), loose, name);
});

const account = (id: string, name: string, domain?: string): Account => ({ id, name, ...(domain ? { domains: [domain], primary_domain: domain } : {}) }) as Account;

test('by name: "Initech, Inc." uses the existing Initech as a near match (counted, never missing); two near candidates fail the row', (t) => {
  const index = indexAccounts([account('a1', 'Initech', 'initech.example'), account('a2', 'Globex'), account('a3', 'Globex Corporation')]);
  const stats = emptyAccountStats();
  const resolve = createAccountResolver(index, { match: 'name' }, stats);
  t.deepEqual(resolve({ value: 'Initech, Inc.', email: 'x@initech.example' }), { accountId: 'a1' });
  t.deepEqual(resolve({ value: 'initech', email: 'y@initech.example' }), { accountId: 'a1' }, 'exact (case) match');
  t.is(stats.missing.size, 0);
  t.deepEqual([...stats.near.entries()].map(([name, n]) => [name, n.account.id, n.rows]), [['Initech, Inc.', 'a1', 1]]);
  const ambiguous = resolve({ value: 'Globex Ltd' });
  t.like(ambiguous, { issue: { code: 'ROW_ACCOUNT_AMBIGUOUS' } });
});

test('by name with nearDomain (--create-accounts): an unknown company name at an account\'s email domain uses that account; free mail never does', (t) => {
  const index = indexAccounts([account('a1', 'Initech', 'initech.example')]);
  const stats = emptyAccountStats();
  const resolve = createAccountResolver(index, { match: 'name', nearDomain: true }, stats);
  t.deepEqual(resolve({ value: 'Initrode Labs', email: 'p@mail.initech.example' }), { accountId: 'a1' });
  t.is(resolve({ value: 'Solo Consulting', email: 'me@gmail.com' }), undefined);
  t.deepEqual([...stats.missing.values()].map((m) => m.name), ['Solo Consulting']);
  t.regex([...stats.near.values()][0]!.why, /domain initech\.example/);
  const withoutDomain = createAccountResolver(index, { match: 'name' }, emptyAccountStats());
  t.is(withoutDomain({ value: 'Initrode Labs', email: 'p@initech.example' }), undefined, 'without --create-accounts a name is not matched by domain');
});

test('companies to create are keyed by loose name: "Foo Inc" and "Foo, Inc." make one account', (t) => {
  const stats = emptyAccountStats();
  const resolve = createAccountResolver(indexAccounts([]), { match: 'name' }, stats);
  resolve({ value: 'Foo Inc' });
  resolve({ value: 'Foo, Inc.' });
  t.deepEqual([...stats.missing.values()].map((m) => [m.name, m.rows]), [['Foo Inc', 2]]);
});
