import test from 'ava';
import { parseFilterExpression, resolveFilter } from '../../src/pylon/filter-expr.js';

const cases: Array<[string, unknown]> = [
  ['email~@acme.com', { field: 'email', operator: 'string_contains', value: '@acme.com' }],
  ['email!~@gmail.com', { field: 'email', operator: 'string_does_not_contain', value: '@gmail.com' }],
  ['account_id=acc_1', { field: 'account_id', operator: 'equals', value: 'acc_1' }],
  ['  account_id != acc_1 ', { field: 'account_id', operator: 'not_equals', value: 'acc_1' }],
  ['email in a@x.com|b@x.com', { field: 'email', operator: 'in', values: ['a@x.com', 'b@x.com'] }],
  ['id NOT IN c_1 | c_2', { field: 'id', operator: 'not_in', values: ['c_1', 'c_2'] }],
  ['account_id is unset', { field: 'account_id', operator: 'is_unset' }],
  ['contact.salesforce.Id__c is set', { field: 'contact.salesforce.Id__c', operator: 'is_set' }],
  ['name="Smith and Sons"', { field: 'name', operator: 'equals', value: 'Smith and Sons' }],
  ['name in "a|b"|c', { field: 'name', operator: 'in', values: ['a|b', 'c'] }],
  ['name=x=y', { field: 'name', operator: 'equals', value: 'x=y' }],
  // A quoted value may hold what an unquoted one may not (the word "or", &&, a comma in a list).
  ['name="Tom or Jerry"', { field: 'name', operator: 'equals', value: 'Tom or Jerry' }],
  ['name="a|b"', { field: 'name', operator: 'equals', value: 'a|b' }],
  ['name in "Smith, John"|Doe', { field: 'name', operator: 'in', values: ['Smith, John', 'Doe'] }],
  ['name=Smith, John', { field: 'name', operator: 'equals', value: 'Smith, John' }],
  ['name=Orwell', { field: 'name', operator: 'equals', value: 'Orwell' }],
  [
    'email~@acme.com and account_id=acc_1 AND tier in gold|silver',
    {
      operator: 'and',
      subfilters: [
        { field: 'email', operator: 'string_contains', value: '@acme.com' },
        { field: 'account_id', operator: 'equals', value: 'acc_1' },
        { field: 'tier', operator: 'in', values: ['gold', 'silver'] },
      ],
    },
  ],
  [
    '{"operator":"or","subfilters":[{"field":"email","operator":"equals","value":"a@x.com"},{"field":"name","operator":"string_contains","value":"Ada"}]}',
    {
      operator: 'or',
      subfilters: [
        { field: 'email', operator: 'equals', value: 'a@x.com' },
        { field: 'name', operator: 'string_contains', value: 'Ada' },
      ],
    },
  ],
];

for (const [text, expected] of cases) {
  test(`parses ${text}`, (t) => {
    t.deepEqual(parseFilterExpression(text), expected);
  });
}

const bad: Array<[string, RegExp]> = [
  ['', /an empty filter/],
  ['email', /cannot read "email"/],
  ['email=', /missing value/],
  ['email in a||b', /missing value/],
  ['email~x and ', /an empty expression|cannot read/],
  ['name="unterminated', /bad quoted value/],
  // Other grammars' joiners are refused, not read into the value (which matched nobody, or with != everybody).
  ['email=a@x.com or email=b@x.com', /"or" does not join expressions \(only " and " does; for one of several values write field in a\|b/],
  ['email!=a@x.com OR email!=b@x.com', /"OR" does not join expressions/],
  ['tier=gold && email~acme', /"&&" does not join expressions/],
  ['tier=gold || email~acme', /"\|\|" does not join expressions/],
  ['email in a@x.com,b@x.com', /a comma in "a@x.com,b@x.com" \(the values of "in" are separated with \|: field in a\|b/],
  ['email not in a@x.com, b@x.com|c@x.com', /a comma in/],
  // `|` after = is not "or": the one address "a@x.com|b@x.com" would match nobody, silently.
  ['email=a@x.com|b@x.com', /"\|" is not "or" after "=": it separates the values of "in" only \(for any of several values write email in a@x\.com\|b@x\.com; quote a value that holds a \|: email="a@x\.com\|b@x\.com"\)/],
  ['email!=a@x.com|b@x.com', /for none of several values write email not in a@x\.com\|b@x\.com/],
  ['name~acme|corp', /"~" takes one text/],
  ['{not json', /bad JSON/],
  ['{"operator":"matches","field":"email","value":"x"}', /unknown operator "matches"/],
  ['{"operator":"and","subfilters":[]}', /non-empty subfilters/],
  ['{"operator":"equals","value":"x"}', /"equals" needs a field/],
  [
    '{"operator":"and","subfilters":[{"operator":"or","subfilters":[{"operator":"and","subfilters":[{"field":"a","operator":"equals","value":"1"}]}]}]}',
    /at most 3 levels/,
  ],
];

for (const [text, message] of bad) {
  test(`rejects ${JSON.stringify(text)} with a ConfigError`, (t) => {
    const error = t.throws(() => parseFilterExpression(text, '--filter'));
    t.like(error, { name: 'ConfigError', code: 'CONFIG_INVALID_OPTION', option: '--filter' });
    t.regex(error!.message, message);
    t.true(error!.message.startsWith('Invalid option `--filter`: '));
  });
}

const definitions = [
  { slug: 'interests', type: 'multiselect' },
  { slug: 'tier', type: 'select' },
  { slug: 'notes', type: 'text' },
  { slug: 'seats', type: 'number' },
  { slug: 'vip', type: 'boolean' },
  { slug: 'stars', type: 'rating' },
];
const resolved: Array<[string, unknown]> = [
  // not_equals is not among email's (or id's, account_id's, name's) operators; not_in of the one value means the same.
  ['email!=x@y.com', { field: 'email', operator: 'not_in', values: ['x@y.com'] }],
  ['account_id!=acc_1', { field: 'account_id', operator: 'not_in', values: ['acc_1'] }],
  ['email~@acme.com', { field: 'email', operator: 'string_contains', value: '@acme.com' }],
  // A multiselect field takes contains / does_not_contain of one option.
  ['interests=api', { field: 'interests', operator: 'contains', value: 'api' }],
  ['interests!=api', { field: 'interests', operator: 'does_not_contain', value: 'api' }],
  ['interests in billing', { field: 'interests', operator: 'contains', value: 'billing' }],
  [
    'interests in api|billing',
    { operator: 'or', subfilters: [{ field: 'interests', operator: 'contains', value: 'api' }, { field: 'interests', operator: 'contains', value: 'billing' }] },
  ],
  [
    'interests not in api|billing and email~@a',
    {
      operator: 'and',
      subfilters: [
        { operator: 'and', subfilters: [{ field: 'interests', operator: 'does_not_contain', value: 'api' }, { field: 'interests', operator: 'does_not_contain', value: 'billing' }] },
        { field: 'email', operator: 'string_contains', value: '@a' },
      ],
    },
  ],
  ['interests is set', { field: 'interests', operator: 'is_set' }],
  ['{"field":"interests","operator":"contains","value":"api"}', { field: 'interests', operator: 'contains', value: 'api' }],
  // Other custom fields: an operator of the field's type is sent as written.
  ['notes~renew', { field: 'notes', operator: 'string_contains', value: 'renew' }],
  ['tier in gold|silver', { field: 'tier', operator: 'in', values: ['gold', 'silver'] }],
  ['{"field":"seats","operator":"greater_than","value":"10"}', { field: 'seats', operator: 'greater_than', value: '10' }],
  // A type the operator table does not know (a newer Pylon type) is sent as written.
  ['stars~4', { field: 'stars', operator: 'string_contains', value: '4' }],
];
for (const [text, expected] of resolved) {
  test(`resolveFilter: ${text}`, (t) => {
    t.deepEqual(resolveFilter(parseFilterExpression(text), definitions), expected);
  });
}

const refused: Array<[string, RegExp]> = [
  ['email!~@gmail.com', /^Invalid option `--where`: cannot filter email with !~ \(string_does_not_contain\): Pylon's search takes email with =, !=, in, not in, ~ only \(the API allows equals, in, not_in, string_contains on it/],
  ['id~c_', /cannot filter id with ~ \(string_contains\): Pylon's search takes id with =, !=, in, not in only/],
  ['interests~api', /cannot filter interests with ~ \(string_contains\): .*= and != \(has \/ lacks an option\), in and not in/],
  ['interests!~api', /cannot filter interests with !~/],
  ['custom.tier=gold', /custom fields are filtered by their bare slug: write tier/],
  ['tier~gol', /^Invalid option `--where`: cannot filter tier with ~ \(string_contains\): Pylon's search takes tier with =, !=, in, not in, is set, is unset only: it is a select field\.$/],
  ['seats!~5', /cannot filter seats with !~ \(string_does_not_contain\): Pylon's search takes seats with =, !=, in, not in, is set, is unset and, in a JSON filter, greater_than, less_than, greater_than_or_equals, less_than_or_equals only: it is a number field/],
  ['vip in true', /cannot filter vip with in: Pylon's search takes vip with =, !=, is set, is unset only: it is a boolean field/],
  ['{"field":"notes","operator":"greater_than","value":"a"}', /cannot filter notes with greater_than: .*it is a text field/],
];
for (const [text, message] of refused) {
  test(`resolveFilter refuses ${text}`, (t) => {
    const error = t.throws(() => resolveFilter(parseFilterExpression(text), definitions));
    t.regex(error!.message, message);
    t.is((error as { code?: string }).code, 'CONFIG_INVALID_OPTION');
  });
}

test('resolveFilter: a multiselect "in" that would nest past three levels is refused, naming the limit', (t) => {
  const text = '{"operator":"and","subfilters":[{"operator":"or","subfilters":[{"field":"interests","operator":"in","values":["a","b"]}]}]}';
  const error = t.throws(() => resolveFilter(parseFilterExpression(text), definitions, '--filter'));
  t.regex(error!.message, /^Invalid option `--filter`: .*deeper than the 3 levels/);
});

const withOptions = [
  { slug: 'tier', type: 'select', select_metadata: { options: [{ slug: 'gold', label: 'Gold' }, { slug: 'silver', label: 'Silver' }] } },
  { slug: 'interests', type: 'multiselect', select_metadata: { options: [{ slug: 'api', label: 'API' }, { slug: 'billing', label: 'Billing' }] } },
];

test('resolveFilter: a select or multiselect label is sent as its option slug, said once per label', (t) => {
  const notes: string[] = [];
  const note = (m: string) => notes.push(m);
  t.deepEqual(resolveFilter(parseFilterExpression('tier=Gold'), withOptions, '--filter', note), { field: 'tier', operator: 'equals', value: 'gold' });
  t.deepEqual(resolveFilter(parseFilterExpression('tier in gold|SILVER'), withOptions, '--filter', note), { field: 'tier', operator: 'in', values: ['gold', 'silver'] });
  t.deepEqual(resolveFilter(parseFilterExpression('interests=API'), withOptions, '--filter', note), { field: 'interests', operator: 'contains', value: 'api' });
  t.deepEqual(notes, [
    '--filter: tier "Gold" is taken as the option gold (Gold); search matches options by value.',
    '--filter: tier "SILVER" is taken as the option silver (Silver); search matches options by value.',
    '--filter: interests "API" is taken as the option api (API); search matches options by value.',
  ]);
});

test('resolveFilter: a select value that is no option value or label is refused, listing the options', (t) => {
  const error = t.throws(() => resolveFilter(parseFilterExpression('tier!=Platinum'), withOptions));
  t.is(error!.message, 'Invalid option `--where`: tier has no option "Platinum"; Pylon\'s search matches it by option value: gold (Gold), silver (Silver).');
  // An operator the field does not take is refused as such, not as an unknown option.
  t.regex(t.throws(() => resolveFilter(parseFilterExpression('tier~Plat'), withOptions))!.message, /cannot filter tier with ~/);
});
