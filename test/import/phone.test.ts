import test from 'ava';
import { countryFromCell, loadPhoneNumbers, normalizePhoneNumber, resolveCountry } from '../../src/import/phone.js';

test.before(loadPhoneNumbers);

/** The table in the README: input, --default-country, stored value or error code. */
export const PHONE_TABLE: Array<[string, string | undefined, string]> = [
  ['+44 20 7946 0958', undefined, '442079460958'],
  ['0044 20 7946 0958', undefined, '442079460958'],
  ['020 7946 0958', 'GB', '442079460958'],
  ['02079460958', 'GB', '442079460958'],
  ['020 7946 0958', undefined, 'ROW_PHONE_NO_COUNTRY'],
  // Text is no number whatever the country: said to hold letters, never to need a country code.
  ['not a phone', undefined, 'ROW_INVALID_PHONE'],
  ['(415) 555-0142', 'US', '14155550142'],
  ['415.555.0142', 'US', '14155550142'],
  ['+1 415 555 0150 x204', undefined, '14155550150 (extension 204 reported)'],
  ['+1 (310) 820-7129 ext. 12', undefined, '13108207129 (extension 12 reported)'],
  ['030 1234567', 'DE', '49301234567'],
  ['06 12 34 56 78', 'FR', '33612345678'],
  ['+81 3-1234-5678', 'US', '81312345678'],
  ['3.1E+09', 'US', 'ROW_PHONE_SPREADSHEET'],
  ['3,10821E+09', 'US', 'ROW_PHONE_SPREADSHEET'],
  ['12345', 'US', 'ROW_INVALID_PHONE'],
  ['call me', 'US', 'ROW_INVALID_PHONE'],
  // Valid, not merely possible: a number of another country read with the wrong one is refused, never stored.
  ['030 1234567', 'US', 'ROW_INVALID_PHONE'],
  ['7911123456', 'GB', '447911123456'],
  ['7911123456', 'US', 'ROW_INVALID_PHONE'],
  // Ofcom's drama range (07700 900000-900999) is reserved for fiction: no such number exists.
  ['7700900123', 'GB', 'ROW_INVALID_PHONE'],
  ['7700900123', 'US', 'ROW_INVALID_PHONE'],
  ['+1 555 0100', undefined, 'ROW_INVALID_PHONE'],
  // Digits alone that are no valid number of the country (or with none) are tried as international: Front writes 19998887777.
  ['19998887777', undefined, 'ROW_PHONE_NO_COUNTRY'],
  ['14155550142', undefined, '14155550142'],
  ['447911123456', undefined, '447911123456'],
  ['14155550142', 'US', '14155550142'],
  ['447911123456', 'US', '447911123456'],
  ['14155550142', 'GB', '14155550142'],
  ['447911123456', 'GB', '447911123456'],
  ['4479111234', undefined, 'ROW_PHONE_NO_COUNTRY'],
  ['9998887777', 'US', 'ROW_INVALID_PHONE'],
  // RFC 3966 tel URIs, as CRMs and vCards write numbers: the number they hold, `;ext=` as an extension.
  ['tel:+14155550142', undefined, '14155550142'],
  ['TEL:+1-415-555-0142;ext=204', undefined, '14155550142 (extension 204 reported)'],
  ['tel:555-0142;phone-context=+1-415', undefined, '14155550142'],
  ['tel:020-7946-0958;phone-context=example.com', 'GB', '442079460958'],
  ['tel:020-7946-0958', undefined, 'ROW_PHONE_NO_COUNTRY'],
  ['tel:call-me', undefined, 'ROW_INVALID_PHONE'],
];

for (const [input, country, expected] of PHONE_TABLE) {
  test(`${JSON.stringify(input)} with ${country ?? 'no default country'} → ${expected}`, (t) => {
    const result = normalizePhoneNumber(input, resolveCountry(country));
    const shown = result.ok ? result.digits + (result.extension ? ` (extension ${result.extension} reported)` : '') : result.code;
    t.is(shown, expected);
    if (!result.ok) t.true(result.message.includes(JSON.stringify(input)), result.message);
  });
}

test('a national number without a country says how to fix it', (t) => {
  const result = normalizePhoneNumber('020 7946 0958');
  t.false(result.ok);
  if (!result.ok) t.regex(result.message, /--default-country/);
});

test('resolveCountry: ISO codes (UK taken as GB); anything else is a usage error naming the flag', (t) => {
  t.is(resolveCountry('gb'), 'GB');
  t.is(resolveCountry('UK'), 'GB');
  t.is(resolveCountry(undefined), undefined);
  const error = t.throws(() => resolveCountry('XX'));
  t.is((error as { code?: string }).code, 'CONFIG_INVALID_OPTION');
  t.regex(error!.message, /--default-country.*got "XX"/);
  t.throws(() => resolveCountry('Germany'), { message: /--default-country/ });
});

test('a number refused for its country says it is not valid there, and which country read it', (t) => {
  const result = normalizePhoneNumber('030 1234567', 'US', ' (column Country "United States")');
  t.false(result.ok);
  if (!result.ok) t.is(result.message, 'Phone number "030 1234567" is not a valid number in US (column Country "United States") (no such number range)');
});

test('digits alone that are no number of the country nor an international number say both', (t) => {
  const none = normalizePhoneNumber('4479111234');
  t.false(none.ok);
  if (!none.ok) t.is(none.message, 'Phone number "4479111234" has no country code and is not valid as an international number either (+4479111234: wrong number of digits): write it as +<country code> <number>, or pass --default-country (e.g. --default-country GB) to read national numbers');
  const us = normalizePhoneNumber('9998887777', 'US');
  t.false(us.ok);
  if (!us.ok) t.is(us.message, 'Phone number "9998887777" is not a valid number in US (no such number range), nor as an international number (+9998887777: wrong number of digits)');
});

/** A country column's cell → the ISO code that reads the row's national numbers; undefined (never a guess) otherwise. */
const COUNTRY_CELLS: Array<[string, ReturnType<typeof countryFromCell>]> = [
  ['GB', 'GB'],
  ['gb', 'GB'],
  ['UK', 'GB'],
  ['DEU', 'DE'],
  ['usa', 'US'],
  ['United States', 'US'],
  ['United States of America', 'US'],
  ['U.S.', 'US'],
  ['United Kingdom', 'GB'],
  ['England', 'GB'],
  ['Great Britain', 'GB'],
  ['  germany ', 'DE'],
  ['The Netherlands', 'NL'],
  ['Holland', 'NL'],
  ['France', 'FR'],
  ['Czechia', 'CZ'],
  ['South Korea', 'KR'],
  // Names in the languages of the presets and others (ICU's, accents kept or stripped), and the English ISO variants.
  ['日本', 'JP'],
  ['Sverige', 'SE'],
  ['Suomi', 'FI'],
  ['Polska', 'PL'],
  ['Frankreich', 'FR'],
  ['Vereinigtes Königreich', 'GB'],
  ['vereinigtes konigreich', 'GB'],
  ['Österreich', 'AT'],
  ['Osterreich', 'AT'],
  ['ÉTATS-UNIS', 'US'],
  ['Côte d’Ivoire', 'CI'],
  ['Deutschland', 'DE'],
  ['Korea, Republic of', 'KR'],
  ['Czech Republic', 'CZ'],
  ['대한민국', 'KR'],
  ['Россия', 'RU'],
  // A name two countries share in some language is no country: never a guess.
  ['Kongo', undefined],
  ['Korea', undefined],
  ['Narnia', undefined],
  ['XX', undefined],
  ['123', undefined],
  ['n/a', undefined],
  ['', undefined],
];

for (const [cell, expected] of COUNTRY_CELLS) {
  test(`country cell ${JSON.stringify(cell)} → ${expected ?? 'not a country'}`, (t) => {
    t.is(countryFromCell(cell), expected);
  });
}
