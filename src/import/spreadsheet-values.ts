/**
 * Dates and numbers as spreadsheets and CRMs write them → the forms Pylon's
 * custom fields take (`YYYY-MM-DD`, `1250`, `1250.5`). Pure. A value is read
 * only where it has one reading: `13/2/2024` is 13 February, but `11/2/2024`
 * is November 2 in the US and 11 February elsewhere, so it is refused with the
 * reason unless the map states the source's format (`"date": "MM/DD/YYYY"`).
 * Likewise `1,250` is a thousand and more in one convention and one and a
 * quarter in another: a whole-number field reads it (a decimal comma cannot
 * give a whole number), a decimal field needs the format stated.
 */

export type Parsed = { ok: true; value: string } | { ok: false; reason: string };

/** How a map states a column's date format: DD/MM/YYYY, MM/DD/YYYY, YYYY-MM-DD, D.M.YYYY… (D, DD, M, MM, YYYY and one separator). */
export const DATE_FORMAT = /^(?:(DD?|MM?)([/.\- ])(DD?|MM?)\2YYYY|YYYY([/.\- ])(MM?)\4(DD?))$/;

/** How a map states a column's number format: which separator groups thousands and which marks decimals. */
export const NUMBER_FORMATS = ['1,234.5', '1.234,5', '1 234,5', '1 234.5', "1'234.5"] as const;
export type NumberFormat = (typeof NUMBER_FORMATS)[number];

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

function isoDate(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** An English month name or its abbreviation (`Nov`, `Nov.`, `Sept`) → 1–12. */
function monthOf(name: string): number | undefined {
  const n = name.replace(/\.$/, '').toLowerCase();
  if (n.length < 3) return undefined;
  const i = MONTHS.findIndex((m) => m.startsWith(n));
  return i === -1 ? undefined : i + 1;
}

/**
 * A date cell → `YYYY-MM-DD`. Without a stated format: ISO (`2024-11-02`, also
 * with a time, which is dropped), `2024/11/02`, `2.11.2024` (dots: day first),
 * month names (`2 Nov 2024`, `Nov 2, 2024`, `2-Nov-2024`), and `a/b/YYYY` when
 * only one reading is a date. With a format, exactly that format.
 */
export function parseSpreadsheetDate(raw: string, format?: string): Parsed {
  const v = raw.trim();
  const shown = JSON.stringify(v);
  if (format !== undefined) {
    const f = DATE_FORMAT.exec(format)!;
    const yearFirst = f[4] !== undefined;
    const sep = (yearFirst ? f[4] : f[2])!;
    const parts = v.split(sep);
    if (parts.length !== 3 || parts.some((p) => !/^\d+$/.test(p))) return { ok: false, reason: `${shown} is not a date in the map's format ${format}` };
    const [a, b, c] = parts.map(Number) as [number, number, number];
    const [year, month, day] = yearFirst ? [a, b, c] : f[1]!.startsWith('D') ? [c, b, a] : [c, a, b];
    if (parts[yearFirst ? 0 : 2]!.length !== 4) return { ok: false, reason: `${shown} is not a date in the map's format ${format} (a four-digit year)` };
    const iso = isoDate(year, month, day);
    return iso ? { ok: true, value: iso } : { ok: false, reason: `${shown} is not a calendar date in the map's format ${format}` };
  }
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(v) ?? /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/.exec(v);
  if (m) {
    const iso = isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
    return iso ? { ok: true, value: iso } : { ok: false, reason: `${shown} is not a date (YYYY-MM-DD): no such day` };
  }
  m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(v);
  if (m) {
    const iso = isoDate(Number(m[3]), Number(m[2]), Number(m[1]));
    return iso ? { ok: true, value: iso } : { ok: false, reason: `${shown} is not a calendar date (read as day.month.year)` };
  }
  m = /^(\d{1,2})[ -]([a-z]+\.?)[ ,-]+(\d{4})$/i.exec(v);
  if (m) {
    const month = monthOf(m[2]!);
    const iso = month ? isoDate(Number(m[3]), month, Number(m[1])) : undefined;
    return iso ? { ok: true, value: iso } : { ok: false, reason: `${shown} is not a calendar date` };
  }
  m = /^([a-z]+\.?) (\d{1,2}),? (\d{4})$/i.exec(v);
  if (m) {
    const month = monthOf(m[1]!);
    const iso = month ? isoDate(Number(m[3]), month, Number(m[2])) : undefined;
    return iso ? { ok: true, value: iso } : { ok: false, reason: `${shown} is not a calendar date` };
  }
  m = /^(\d{1,2})([/-])(\d{1,2})\2(\d{4})$/.exec(v);
  if (m) {
    const [a, b, year] = [Number(m[1]), Number(m[3]), Number(m[4])];
    const dayFirst = isoDate(year, b, a);
    const monthFirst = isoDate(year, a, b);
    if (dayFirst && monthFirst && dayFirst !== monthFirst) {
      return { ok: false, reason: `${shown} is ambiguous: ${monthFirst} as month/day/year (US) or ${dayFirst} as day/month/year; write it as YYYY-MM-DD, or state the column's format in the map ("date": "MM/DD/YYYY" or "DD/MM/YYYY")` };
    }
    const iso = dayFirst ?? monthFirst;
    return iso ? { ok: true, value: iso } : { ok: false, reason: `${shown} is not a calendar date` };
  }
  if (/^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}$/.test(v)) return { ok: false, reason: `${shown} has a two-digit year; write the year in full, or the date as YYYY-MM-DD` };
  return { ok: false, reason: `${shown} is not a date (YYYY-MM-DD, or a spreadsheet form such as 13/2/2024, 2.11.2024, 2 Nov 2024)` };
}

function separators(format: NumberFormat): { group: string; decimal: string } {
  return { group: format[1]!, decimal: format[5]! };
}

/**
 * A number cell → digits with an optional `-` and `.` fraction. Without a
 * stated format: plain numbers (`1250`, `-3.5`), thousands in groups of three
 * with commas, spaces or apostrophes (`1,250`, `1 250 000`), both separators
 * (`1,250.5`, `1.250,5`: the last one is the decimal mark), and a lone decimal
 * comma that cannot be a thousands separator (`1,5`). `whole` asks for a whole
 * number, which settles `1,250` and `1.250`; a decimal `1,250` is ambiguous.
 */
export function parseSpreadsheetNumber(raw: string, whole: boolean, format?: NumberFormat): Parsed {
  const v = raw.trim().replace(/[\u00a0\u202f]/g, ' ');
  const shown = JSON.stringify(raw.trim());
  const kind = whole ? 'a whole number' : 'a decimal number';
  const sign = /^[+-]/.test(v) ? v[0] : '';
  const body = sign ? v.slice(1).trim() : v;
  const done = (int: string, fraction: string | undefined): Parsed => {
    const digits = int.replace(/^0+(?=\d)/, '');
    if (whole && fraction !== undefined && /[1-9]/.test(fraction)) return { ok: false, reason: `${shown} is not a whole number` };
    const f = whole ? '' : fraction ? `.${fraction}` : '';
    const zero = /^0*$/.test(digits) && !/[1-9]/.test(f);
    return { ok: true, value: `${sign === '-' && !zero ? '-' : ''}${digits}${f}` };
  };
  if (format !== undefined) {
    const { group, decimal } = separators(format);
    const parts = body.split(decimal);
    if (parts.length > 2) return { ok: false, reason: `${shown} is not ${kind} in the map's format ${format}` };
    const [int, fraction] = parts as [string, string | undefined];
    const grouped = group === ' ' ? /^\d{1,3}(?: \d{3})*$/ : new RegExp(`^\\d{1,3}(?:\\${group}\\d{3})*$`);
    if (!(/^\d+$/.test(int) || grouped.test(int)) || (fraction !== undefined && !/^\d+$/.test(fraction))) return { ok: false, reason: `${shown} is not ${kind} in the map's format ${format}` };
    return done(int.split(group).join(''), fraction);
  }
  let m = /^(\d+)(?:\.(\d+))?$/.exec(body);
  if (m) {
    if (whole && m[2] !== undefined && m[2].length === 3 && /^\d{1,3}$/.test(m[1]!)) {
      return { ok: false, reason: `${shown} is ambiguous in a whole-number field: 1.250 is a thousand and more where the dot groups thousands, one and a quarter where it marks decimals; write ${m[1]}${m[2]} or state the column's format in the map ("number": "1.234,5")` };
    }
    return done(m[1]!, m[2]);
  }
  m = /^(\d{1,3}(?:([, '])\d{3})+)(?:\.(\d+))?$/.exec(body);
  if (m) {
    const grouped = m[1]!;
    if (m[2] === ',' && m[3] === undefined && !whole && /^\d{1,3},\d{3}$/.test(grouped)) {
      return { ok: false, reason: `${shown} is ambiguous: ${grouped.replace(',', '')} with a comma grouping thousands, or ${grouped.replace(',', '.')} with a decimal comma; write it without the comma, or state the column's format in the map ("number": "1,234.5" or "1.234,5")` };
    }
    return done(grouped.split(m[2]!).join(''), m[3]);
  }
  m = /^(\d{1,3}(?:[. ]\d{3})+),(\d+)$/.exec(body) ?? /^(\d+),(\d+)$/.exec(body);
  if (m) {
    if (/^\d{1,3},\d{3}$/.test(body)) return { ok: false, reason: `${shown} is ambiguous` };
    return done(m[1]!.replace(/[. ]/g, ''), m[2]);
  }
  return { ok: false, reason: `${shown} is not ${kind}` };
}

/**
 * An id a spreadsheet wrote as a number in scientific notation (`1.23457E+19`, or `1,23457E+19` with a
 * decimal comma): its last digits are lost, and another id could read the same. The XLSX reader writes
 * a number beyond 2^53 so, so the error report of such a row fails again rather than importing a wrong id.
 * No id the sources give (Salesforce, HubSpot, Zendesk…) holds a `+`, so this never refuses a real one.
 */
export function lostDigitsId(value: string): boolean {
  return /^-?\d(?:[.,]\d+)?E\+\d+$/i.test(value);
}

/** Why a row holding such an id fails (ROW_XLSX_LOST_DIGITS), naming the column the user fixes (`column`: the file's, in a migration). */
export function lostDigitsMessage(value: string, column: string): string {
  return `Column ${column} holds ${value}, a number in scientific notation: a spreadsheet stored this id as a number and its last digits are lost (another id could read the same); type the real id in its place, or format the column as text in the source and export it again`;
}
