/**
 * Decimal numbers compared as written, never through a double: 9007199254740993
 * and 9007199254740992 are two numbers (a double holds neither exactly and
 * calls them equal), while 1.50, 1.5 and 15e-1 are one.
 */

/**
 * The canonical text of a decimal number: no leading or trailing zeros, no
 * exponent, no plus sign, `0` for every zero (`007.50` → `7.5`, `-0.0` → `0`,
 * `1e3` → `1000`). Undefined for anything that is not a number, and for
 * exponents beyond ±1000 (compared as text then).
 */
export function canonicalDecimal(text: string): string | undefined {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m) return undefined;
  const [, sign, whole, fraction = '', exponent] = m;
  if (whole === '' && fraction === '') return undefined;
  const shift = exponent === undefined ? 0 : Number(exponent);
  if (!Number.isSafeInteger(shift) || Math.abs(shift) > 1000) return undefined;
  let digits = whole + fraction;
  // Where the decimal point sits in `digits`.
  let point = whole.length + shift;
  const leading = /^0*/.exec(digits)![0].length;
  digits = digits.slice(leading).replace(/0+$/, '');
  point -= leading;
  if (digits === '') return '0';
  let text_: string;
  if (point <= 0) text_ = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) text_ = digits + '0'.repeat(point - digits.length);
  else text_ = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return sign === '-' ? `-${text_}` : text_;
}

/** Whether two texts are the same decimal number; texts that are not numbers are compared as they are. */
export function sameDecimal(a: string, b: string): boolean {
  const x = canonicalDecimal(a);
  const y = canonicalDecimal(b);
  return x !== undefined && y !== undefined ? x === y : a === b;
}
