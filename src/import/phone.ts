import { createRequire } from 'node:module';
import type { CountryCode } from 'libphonenumber-js/max';
import { splitMulti } from '../columns.js';
import { InternalError, invalidOption } from '../errors.js';

/**
 * Phone numbers as a source system stored them → E.164 digits, the form Pylon
 * keeps (`phone_numbers`: digits only, at most 15, no `+`). Pure.
 *
 * - `+44 20 7946 0958`, `0044 20 7946 0958` → `442079460958` (international: no country needed).
 * - `020 7946 0958` with `--default-country GB` (or the row's own country) → `442079460958`.
 * - A national number with no country is refused, never stored as typed:
 *   its digits alone would be a different number (or none) once dialled from elsewhere.
 * - Digits alone (`447911123456`, `19998887777`, as Front writes them) that are not a valid
 *   number of the country, or with no country, are read as international (`+` digits) when
 *   that is a valid number: a valid national reading comes first.
 * - The number must be *valid* for its country (libphonenumber's full metadata:
 *   number ranges, not only lengths): `030 1234567` read as a US number, or a UK
 *   mobile that lost its leading 0 (`7911123456`) read as a US one, is refused
 *   rather than stored as `10301234567` / `17911123456`.
 * - `… x204` / `ext. 204`: the extension is dropped and reported (Pylon stores digits only).
 * - `tel:+1-415-555-0142;ext=204` (an RFC 3966 tel URI): read as the number it holds, its `;ext=` as an extension.
 * - `3.1E+09`: a spreadsheet turned the number into a float; the digits are gone.
 */

type PhoneLib = typeof import('libphonenumber-js/max');
type Countries = typeof import('i18n-iso-countries');
let lib: PhoneLib | undefined;
let countries: Countries | undefined;

/**
 * Loads libphonenumber-js with its full ("max") metadata, the only one that
 * tells a valid number from a merely possible one, and the English country
 * names of i18n-iso-countries (both cost time at start-up on a busy machine,
 * so only runs that parse phone numbers pay for them).
 */
export async function loadPhoneNumbers(): Promise<void> {
  lib ??= await import('libphonenumber-js/max');
  if (!countries) {
    const mod = (await import('i18n-iso-countries')).default;
    mod.registerLocale(createRequire(import.meta.url)('i18n-iso-countries/langs/en.json') as Parameters<Countries['registerLocale']>[0]);
    countries = mod;
  }
}

function phoneLib(): PhoneLib {
  if (!lib) throw new InternalError('libphonenumber-js is not loaded: await loadPhoneNumbers() first');
  return lib;
}

/** The shape of a `--default-country` value (checked against libphonenumber's list by resolveCountry once it is loaded). */
export function countryShape(value: string | undefined, flag = '--default-country'): string | undefined {
  if (value === undefined || value === '') return undefined;
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) throw invalidOption(flag, 'an ISO 3166-1 alpha-2 country code such as US, GB, DE, FR', value);
  return code === 'UK' ? 'GB' : code;
}

export type PhoneIssueCode = 'ROW_INVALID_PHONE' | 'ROW_PHONE_NO_COUNTRY' | 'ROW_PHONE_SPREADSHEET' | 'ROW_UNKNOWN_COUNTRY';

export type PhoneResult =
  | { ok: true; digits: string; extension?: string }
  | { ok: false; code: PhoneIssueCode; message: string };

/** What to do with a number that cannot be stored: leave it out of the contact (with a warning), or fail the row. */
export type BadPhonePolicy = 'drop' | 'fail';
export const BAD_PHONE_POLICIES: readonly BadPhonePolicy[] = ['drop', 'fail'];

const SCIENTIFIC = /^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$/;
const EXTENSION = /\s*(?:;?\s*ext\.?|x|#|extension)\s*(\d{1,7})\s*$/i;

/** Resolves a `--default-country` value: an ISO 3166-1 alpha-2 code libphonenumber knows (GB, US, DE…); `UK` is taken as GB. Needs loadPhoneNumbers(). */
export function resolveCountry(value: string | undefined, flag = '--default-country'): CountryCode | undefined {
  if (value === undefined || value === '') return undefined;
  let code = value.trim().toUpperCase();
  if (code === 'UK') code = 'GB';
  if (!/^[A-Z]{2}$/.test(code) || !phoneLib().isSupportedCountry(code)) throw invalidOption(flag, 'an ISO 3166-1 alpha-2 country code such as US, GB, DE, FR', value);
  return code as CountryCode;
}

/**
 * The languages whose country names a country cell may hold: those of the shipped presets (a localised HubSpot
 * export writes the country in the portal's language: `Deutschland`, `日本`, `Sverige`) and other common ones.
 */
export const COUNTRY_NAME_LANGUAGES: readonly string[] = ['en', 'de', 'es', 'fi', 'fr', 'it', 'ja', 'nl', 'pl', 'pt', 'sv', 'da', 'nb', 'cs', 'hu', 'ro', 'tr', 'ru', 'uk', 'el', 'zh', 'zh-Hant', 'ko'];

/** Names people write that no language's name for a country is (the parts of the UK, old and local names). */
const COUNTRY_ALIASES: Record<string, string> = {
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  britain: 'GB',
  holland: 'NL',
  'korea, south': 'KR',
  'u.s.': 'US',
  'u.s.a.': 'US',
  america: 'US',
};

/** A name as the country map keys it: NFC, lower-cased, one kind of apostrophe, single spaces, no leading "the". */
function countryKey(name: string): string {
  return name.normalize('NFC').toLowerCase().replace(/[’‘`´]/g, "'").replace(/\s+/g, ' ').trim().replace(/^the /, '');
}

/** The same key without accents (`osterreich`, `etats-unis`): only Latin, Greek and Cyrillic diacritics, so other scripts keep their vowel signs. */
function withoutAccents(key: string): string {
  return key.normalize('NFD').replace(/[\u0300-\u036f]/g, '').normalize('NFC');
}

let countryNames: Map<string, CountryCode> | undefined;

/**
 * Country name → ISO code, in every language of COUNTRY_NAME_LANGUAGES (ICU's names, long and short, through
 * Intl.DisplayNames; Node ships full ICU) for each region libphonenumber knows, plus i18n-iso-countries' English
 * variants (`Korea, Republic of`) and the aliases. Each key also without its accents. A name two countries share
 * in some language (`Kongo`) is left out: never a guess. Built once, on the first country name a run reads (a code
 * needs none): asking ICU for every name costs a noticeable part of a second at start-up (docs/migrate.md).
 */
function countryNameMap(): Map<string, CountryCode> {
  if (countryNames) return countryNames;
  const names = new Map<string, CountryCode>();
  const shared = new Set<string>();
  const add = (name: string, code: CountryCode) => {
    const key = countryKey(name);
    for (const k of new Set([key, withoutAccents(key)])) {
      if (k === '' || shared.has(k)) continue;
      const before = names.get(k);
      if (before === undefined) names.set(k, code);
      else if (before !== code) {
        names.delete(k);
        shared.add(k);
      }
    }
  };
  const lib = phoneLib();
  const codes = lib.getCountries();
  for (const lang of COUNTRY_NAME_LANGUAGES) {
    for (const style of ['long', 'short'] as const) {
      const display = new Intl.DisplayNames([lang], { type: 'region', style, fallback: 'none' });
      for (const code of codes) {
        const name = display.of(code);
        if (name !== undefined && name !== code) add(name, code);
      }
    }
  }
  for (const [code, variants] of Object.entries(countries!.getNames('en', { select: 'all' }))) {
    if (lib.isSupportedCountry(code)) for (const name of variants) add(name, code as CountryCode);
  }
  for (const [name, code] of Object.entries(COUNTRY_ALIASES)) names.set(countryKey(name), code as CountryCode);
  countryNames = names;
  return names;
}

/**
 * A country as a source's country column holds it → the ISO code libphonenumber
 * uses: alpha-2 (`GB`, `us`, `UK`), alpha-3 (`DEU`), or a name in English or
 * another language of COUNTRY_NAME_LANGUAGES, with or without its accents
 * (`United States`, `USA`, `England`, `The Netherlands`, `Deutschland`,
 * `Osterreich`, `日本`, `Vereinigtes Königreich`). Anything else is `undefined`,
 * never a guess. Needs loadPhoneNumbers().
 */
export function countryFromCell(value: string): CountryCode | undefined {
  const text = value.trim().replace(/\s+/g, ' ');
  if (text === '') return undefined;
  const lib = phoneLib();
  const known = (code: string | undefined): CountryCode | undefined => (code !== undefined && lib.isSupportedCountry(code) ? (code as CountryCode) : undefined);
  const upper = text.toUpperCase();
  if (/^[A-Z]{2}$/.test(upper)) return known(upper === 'UK' ? 'GB' : upper);
  if (/^[A-Z]{3}$/.test(upper)) {
    const fromAlpha3 = known(countries!.alpha3ToAlpha2(upper));
    if (fromAlpha3) return fromAlpha3;
  }
  const map = countryNameMap();
  const key = countryKey(text);
  for (const k of [key, key.replace(/\.$/, '')]) {
    const code = map.get(k) ?? map.get(withoutAccents(k));
    if (code) return code;
  }
  return undefined;
}

/**
 * One phone number as stored in a source → E.164 digits, or why not. `country`
 * reads national numbers (the row's own country, else `--default-country`);
 * `countryFrom` names where it came from in messages.
 */
/**
 * A cell holding two or more numbers (`+1 415 555 0142 / +1 415 555 0143`, `… or …`, `…, …`, `… | …`), as
 * sources write them, split into its numbers; `;` is split before (splitMulti). Split only where every part
 * has at least 7 digits, so `+1 415 555 0142,12` (a pause and an extension) stays one number.
 */
export function splitPhoneCell(cell: string): string[] {
  const parts = cell.split(/\s*[,/|]\s*|\s+(?:or|and)\s+/i).map((p) => p.trim()).filter((p) => p !== '');
  return parts.length > 1 && parts.every((p) => (p.match(/\d/g)?.length ?? 0) >= 7) ? parts : [cell];
}

/**
 * An RFC 3966 tel URI (`tel:+1-415-555-0142;ext=204`, as CRMs and vCards write numbers) → the number it holds and its
 * `;ext=` extension; undefined for anything else. A local number's `;phone-context=+1-415` (a global prefix) is put
 * before it; a domain context says nothing of the country, so such a number is read as national. Other parameters
 * (`;isub=`) are not part of the number.
 */
export function telUri(value: string): { number: string; extension?: string } | undefined {
  const match = /^\s*tel:(.*)$/i.exec(value);
  if (!match) return undefined;
  let text = match[1]!;
  try {
    text = decodeURIComponent(text);
  } catch {
    // A stray `%`: read as written.
  }
  const [number = '', ...params] = text.split(';');
  let extension: string | undefined;
  let context = '';
  for (const param of params) {
    const [key = '', val = ''] = param.split('=');
    if (/^ext$/i.test(key.trim())) extension = val.replace(/[\s\-.()]/g, '');
    else if (/^phone-context$/i.test(key.trim()) && val.trim().startsWith('+') && !number.trim().startsWith('+')) context = val.trim();
  }
  return { number: `${context}${number}`.trim(), ...(extension ? { extension } : {}) };
}

/**
 * A cell's numbers split on `;`, but a tel URI's parameters (`tel:+14155550142;ext=204`) stay with their number: a part
 * `key=value` after a tel URI is its parameter, not a number of its own.
 */
export function splitPhoneList(cell: string): string[] {
  const parts: string[] = [];
  for (const part of splitMulti(cell)) {
    const last = parts.at(-1);
    if (last !== undefined && /^\s*tel:/i.test(last) && /^[a-z][a-z0-9-]*=/i.test(part)) parts[parts.length - 1] = `${last};${part}`;
    else parts.push(part);
  }
  return parts;
}

export function normalizePhoneNumber(raw: string, country?: CountryCode, countryFrom = ''): PhoneResult {
  const value = raw.trim();
  const shown = JSON.stringify(value);
  const tel = telUri(value);
  if (tel) {
    const read = normalizePhoneNumber(tel.number, country, countryFrom);
    if (!read.ok) return { ...read, message: read.message.replace(JSON.stringify(tel.number), shown) };
    return tel.extension ? { ...read, extension: tel.extension } : read;
  }
  if (SCIENTIFIC.test(value)) {
    return {
      ok: false,
      code: 'ROW_PHONE_SPREADSHEET',
      message: `Phone number ${shown} is in scientific notation: a spreadsheet turned it into a number and its digits are lost; format the column as text in the source and export it again`,
    };
  }
  let text = value;
  let extension: string | undefined;
  const ext = EXTENSION.exec(text);
  if (ext && /\d/.test(text.slice(0, ext.index))) {
    extension = ext[1];
    text = text.slice(0, ext.index);
  }
  // 00 is the international prefix, and `+00…` (`+0044 20 …`) the same number with a + typed before it: never a country code.
  text = text.replace(/^\s*\+?\s*00\s*(?=[1-9])/, '+');
  const international = text.trimStart().startsWith('+');
  // Digits alone may be an international number without its + (Front writes 19998887777, 447911123456): one that
  // is not a valid number of the country (or with no country) is read as +<digits> when that is a valid number.
  const bare = international ? undefined : /^\s*([1-9]\d*)\s*$/.exec(text)?.[1];
  const asInternational = bare === undefined ? undefined : phoneLib().parsePhoneNumberFromString(`+${bare}`);
  const fallback = asInternational?.isValid() ? asInternational : undefined;
  const stored = (parsed: { number: string; ext?: string }): PhoneResult => {
    const digits = parsed.number.slice(1);
    if (digits.length > 15) return { ok: false, code: 'ROW_INVALID_PHONE', message: `Phone number ${shown} has more than 15 digits` };
    // An extension libphonenumber reads that EXTENSION does not (`,12`, a dialling pause): dropped all the same, and said.
    const ext = extension ?? (parsed.ext || undefined);
    return ext ? { ok: true, digits, extension: ext } : { ok: true, digits };
  };
  // Why +<digits> is no number either, for the messages below.
  const internationalReason = bare === undefined ? undefined : `+${bare}: ${asInternational?.isPossible() ? 'no such number range' : 'wrong number of digits'}`;
  const notInternational = internationalReason === undefined ? '' : `, nor as an international number (${internationalReason})`;
  // Text is no number, whatever the country: said before the country, whose advice (+<country code>) does not fit it.
  if (/[a-z]/i.test(text)) {
    return { ok: false, code: 'ROW_INVALID_PHONE', message: `Phone number ${shown} holds letters` };
  }
  if (!international && !country) {
    if (fallback) return stored(fallback);
    return {
      ok: false,
      code: 'ROW_PHONE_NO_COUNTRY',
      message: `Phone number ${shown} has no country code${internationalReason === undefined ? '' : ` and is not valid as an international number either (${internationalReason})`}: write it as +<country code> <number>, or pass --default-country (e.g. --default-country GB) to read national numbers`,
    };
  }
  const parsed = phoneLib().parsePhoneNumberFromString(text, international ? undefined : country);
  const where = international ? '' : ` in ${country}${countryFrom}`;
  if (!parsed || !parsed.isPossible()) {
    if (fallback) return stored(fallback);
    return { ok: false, code: 'ROW_INVALID_PHONE', message: `Phone number ${shown} is not a possible number${where} (wrong number of digits)${notInternational}` };
  }
  if (!parsed.isValid()) {
    if (fallback) return stored(fallback);
    return { ok: false, code: 'ROW_INVALID_PHONE', message: `Phone number ${shown} is not a valid number${where} (no such number range${international ? ` for +${parsed.countryCallingCode}` : ''})${notInternational}` };
  }
  return stored(parsed);
}
