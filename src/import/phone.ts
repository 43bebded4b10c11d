import type { CountryCode } from 'libphonenumber-js/min';
import { InternalError, invalidOption } from '../errors.js';

/**
 * Phone numbers as a source system stored them → E.164 digits, the form Pylon
 * keeps (`phone_numbers`: digits only, at most 15, no `+`). Pure.
 *
 * - `+44 20 7946 0958`, `0044 20 7946 0958` → `442079460958` (international: no country needed).
 * - `020 7946 0958` with `--default-country GB` → `442079460958`.
 * - A national number with no default country is refused, never stored as typed:
 *   its digits alone would be a different number (or none) once dialled from elsewhere.
 * - `… x204` / `ext. 204`: the extension is dropped and reported (Pylon stores digits only).
 * - `3.1E+09`: a spreadsheet turned the number into a float; the digits are gone.
 */

type PhoneLib = typeof import('libphonenumber-js/min');
let lib: PhoneLib | undefined;

/**
 * Loads libphonenumber-js (its metadata costs a few hundred ms at start-up on a
 * busy machine, so only runs that parse phone numbers pay for it).
 */
export async function loadPhoneNumbers(): Promise<void> {
  lib ??= await import('libphonenumber-js/min');
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

export type PhoneIssueCode = 'ROW_INVALID_PHONE' | 'ROW_PHONE_NO_COUNTRY' | 'ROW_PHONE_SPREADSHEET';

export type PhoneResult =
  | { ok: true; digits: string; extension?: string }
  | { ok: false; code: PhoneIssueCode; message: string };

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

export function normalizePhoneNumber(raw: string, defaultCountry?: CountryCode): PhoneResult {
  const value = raw.trim();
  const shown = JSON.stringify(value);
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
  text = text.replace(/^\s*00(?=[1-9])/, '+');
  const international = text.trimStart().startsWith('+');
  if (!international && !defaultCountry) {
    return {
      ok: false,
      code: 'ROW_PHONE_NO_COUNTRY',
      message: `Phone number ${shown} has no country code: write it as +<country code> <number>, or pass --default-country (e.g. --default-country GB) to read national numbers`,
    };
  }
  if (/[a-z]/i.test(text)) {
    return { ok: false, code: 'ROW_INVALID_PHONE', message: `Phone number ${shown} holds letters` };
  }
  const parsed = phoneLib().parsePhoneNumberFromString(text, international ? undefined : defaultCountry);
  if (!parsed || !parsed.isPossible()) {
    return {
      ok: false,
      code: 'ROW_INVALID_PHONE',
      message: `Phone number ${shown} is not a possible number${international ? '' : ` in ${defaultCountry}`} (wrong number of digits)`,
    };
  }
  const digits = parsed.number.slice(1);
  if (digits.length > 15) return { ok: false, code: 'ROW_INVALID_PHONE', message: `Phone number ${shown} has more than 15 digits` };
  return extension ? { ok: true, digits, extension } : { ok: true, digits };
}
