import test from 'ava';
import { parseFilterExpression } from '../../src/pylon/filter-expr.js';

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
