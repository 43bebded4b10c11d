import { createRequire } from 'node:module';
import type Iconv from 'iconv-lite';
import { invalidOption } from '../errors.js';

// Loaded on use: UTF-8 files, the usual case, never need it.
const require = createRequire(import.meta.url);
const iconv = (): typeof Iconv => require('iconv-lite') as typeof Iconv;

/**
 * Bytes → text for the CSV reader: byte-order marks, the `--encoding` option, and
 * a streaming decoder that keeps multi-byte characters split across chunks whole.
 */

export const COMMON_ENCODINGS = ['utf8', 'utf16le', 'utf16be', 'windows-1252', 'latin1'] as const;

/** Normalises an `--encoding` value; unknown names are a ConfigError listing the common choices. */
export function resolveEncoding(name: string | undefined): string {
  if (name === undefined) return 'utf8';
  const lower = name.trim().toLowerCase();
  if (lower === 'utf8' || lower === 'utf-8') return 'utf8';
  if (lower !== '' && iconv().encodingExists(lower)) return lower;
  throw invalidOption('--encoding', `one of ${COMMON_ENCODINGS.join(', ')} (or iso-8859-1, or any other encoding iconv-lite knows)`, name);
}

export interface Bom {
  encoding: 'utf8' | 'utf16le' | 'utf16be';
  length: number;
}

/** The byte-order mark at the start of `bytes`, if any. */
export function detectBom(bytes: Uint8Array): Bom | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf8', length: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf16le', length: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf16be', length: 2 };
  return undefined;
}

export interface Decoder {
  write(bytes: Uint8Array): string;
  end(): string;
}

/**
 * A streaming decoder. In UTF-8 input, each byte that is not part of a well-formed character comes out
 * as a lone surrogate U+DC80–U+DCFF (Python's "surrogateescape"): well-formed UTF-8 never decodes to
 * one (a literal U+FFFD, bytes EF BF BD, is a character like any other), so the marks say exactly
 * which bytes were bad, and each can be read back (`readBadBytes`). In windows-1252 input the five
 * bytes it leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are marked the same way: iconv-lite would
 * make them U+FFFD, and the row would import with it, silently.
 */
export function createDecoder(encoding: string): Decoder {
  if (encoding === 'utf8') return createUtf8Decoder();
  const decoder = iconv().getDecoder(encoding, { stripBOM: false });
  const marking = isWindows1252(encoding);
  return {
    write(bytes) {
      const text = decoder.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      // One character per byte, and U+FFFD only for an undefined byte: the byte at the same offset.
      return marking && text.includes('\ufffd') ? text.replace(/\ufffd/g, (_, offset: number) => String.fromCharCode(0xdc00 + bytes[offset]!)) : text;
    },
    end: () => decoder.end() ?? '',
  };
}

/** Whether `createDecoder(encoding)` marks bad bytes (see there): UTF-8's ill-formed bytes, windows-1252's undefined ones. */
export function marksBadBytes(encoding: string): boolean {
  return encoding === 'utf8' || isWindows1252(encoding);
}

/** Whether an encoding name iconv-lite knows is windows-1252 by another name (cp1252, win1252, …): it decodes every byte alike. */
function isWindows1252(encoding: string): boolean {
  if (encoding === 'utf8') return false;
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  return iconv().decode(allBytes, encoding, { stripBOM: false }) === iconv().decode(allBytes, 'windows-1252', { stripBOM: false });
}

/** A byte of UTF-8 input that was not valid, as `createDecoder('utf8')` marks it. */
export const BAD_BYTE = /[\udc80-\udcff]/u;
const BAD_BYTES = /[\udc80-\udcff]/gu;

/** Whether decoded UTF-8 text holds bytes that were not valid UTF-8. */
export function hasBadBytes(text: string): boolean {
  return BAD_BYTE.test(text);
}

/**
 * The text with each bad byte replaced by its windows-1252 character (`Jos\udce9` → `José`): readable,
 * and no byte lost. The five bytes windows-1252 leaves undefined become the C1 control of the same
 * value (as browsers decode them), not U+FFFD.
 */
export function readBadBytes(text: string): string {
  return text.replace(BAD_BYTES, (mark) => windows1252Character(mark.charCodeAt(0) - 0xdc00));
}

/** The byte values of the bad bytes marked in decoded texts, each once, in ascending order. */
export function markedBytes(texts: Iterable<string>): number[] {
  const bytes = new Set<number>();
  for (const text of texts) for (const mark of text.match(BAD_BYTES) ?? []) bytes.add(mark.charCodeAt(0) - 0xdc00);
  return [...bytes].sort((a, b) => a - b);
}

/**
 * The message of a row whose values hold bad bytes (`where` is `Line 3` or `Record 3`), naming those values as the
 * error report shows them (`values`: name and value, bad bytes read by `readBadBytes`). `encoding` is the one the
 * file was decoded with; for windows-1252, `bytes` are the undefined bytes the row held (`markedBytes`).
 */
export function badBytesMessage(where: string, values: ReadonlyArray<readonly [name: string, value: string]>, encoding = 'utf8', bytes: readonly number[] = []): string {
  const one = values.length === 1;
  const check = `${describeValues(values)}; check ${one ? 'that value' : 'those values'}, correct ${one ? 'it' : 'them'} if wrong, and import the report again (or pass --encoding with the file's real encoding)`;
  if (encoding === 'utf8') return `${where} holds bytes that are not valid UTF-8 (the rest of the file is UTF-8), read as windows-1252 in the error report: ${check}`;
  const hex = bytes.map((byte) => '0x' + byte.toString(16).toUpperCase().padStart(2, '0'));
  const named = hex.length === 1 ? `the byte ${hex[0]}, which windows-1252 does not define` : `the bytes ${hex.join(', ')}, which windows-1252 does not define`;
  return `${where} holds ${named} (the file was read as windows-1252), kept as the control character${hex.length === 1 ? '' : 's'} of the same value in the error report: ${check}`;
}

/**
 * A record whose text is UTF-8 though a single-byte `--encoding` was given (ROW_ENCODING): read as asked it would be
 * stored as mojibake (`RenÃ©e`). `values` are its suspect cells read as UTF-8, as the error report shows them. Shared
 * by every text reader (CSV, JSON, NDJSON), so the same bytes get the same message whatever the format.
 */
export function utf8UnderEncodingMessage(where: string, values: ReadonlyArray<readonly [name: string, value: string]>, encodingFlag: string): string {
  const check = `${describeValues(values)}; check ${values.length === 1 ? 'that value' : 'those values'} and import the report again`;
  return `${where} looks like UTF-8 though --encoding ${encodingFlag} was given (its text would be garbled), read as UTF-8 in the error report: ${check}, or pass --encoding utf8 if the file is UTF-8`;
}

/** The run's one warning about `utf8UnderEncodingMessage`'s records; `where` is the first of them (`line 3`, `record 3`). */
export function utf8UnderEncodingWarning(name: string, encodingFlag: string, where: string): string {
  return `${name} was read as ${encodingFlag} (--encoding), but ${where} holds UTF-8 text: the rows holding it fail with ROW_ENCODING rather than being stored garbled; pass --encoding utf8 (or leave --encoding out) if the file is UTF-8`;
}

/** `name "José Latin"`, for up to three values (a long value cut at 80 characters), and how many more. */
export function describeValues(values: ReadonlyArray<readonly [name: string, value: string]>): string {
  // C1 controls (bytes windows-1252 leaves undefined) are written out, or the message would hide them.
  const shown = (value: string) =>
    JSON.stringify(value.length > 80 ? value.slice(0, 79) + '…' : value).replace(/[\u0080-\u009f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  const named = values.slice(0, 3).map(([name, value]) => `${name} ${shown(value)}`);
  return named.join(', ') + (values.length > 3 ? ` and ${values.length - 3} more` : '');
}

let windows1252High: string[] | undefined;
function windows1252Character(byte: number): string {
  windows1252High ??= [...iconv().decode(Buffer.from(Array.from({ length: 128 }, (_, i) => 0x80 + i)), 'windows-1252')].map((c, i) =>
    c === '\ufffd' ? String.fromCharCode(0x80 + i) : c,
  );
  return windows1252High[byte - 0x80]!;
}

function createUtf8Decoder(): Decoder {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let carry: Uint8Array = new Uint8Array(0);
  return {
    write(chunk) {
      const bytes = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      // A character cut at the end of the chunk waits for the rest of its bytes.
      const cut = completeLength(bytes);
      carry = new Uint8Array(bytes.subarray(cut)); // a copy: a Buffer's slice() is a view of a chunk the stream may reuse
      const whole = bytes.subarray(0, cut);
      try {
        return strict.decode(whole);
      } catch {
        return decodeMarkingBadBytes(whole);
      }
    },
    end() {
      const rest = carry;
      carry = new Uint8Array(0);
      return decodeMarkingBadBytes(rest);
    },
  };
}

/** Length of `bytes` without a multi-byte character cut short at its end. */
function completeLength(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let i = length - 1; i >= Math.max(0, length - 3); i--) {
    const byte = bytes[i]!;
    if (byte < 0x80) return length;
    if (byte >= 0xc0) return i + (byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2) > length ? i : length;
  }
  return length;
}

/** UTF-8 → text, each byte of an ill-formed sequence marked as U+DC80–U+DCFF (the bounds are the Unicode standard's table 3-7). */
function decodeMarkingBadBytes(bytes: Uint8Array): string {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let text = '';
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    if (byte < 0x80) {
      i++;
      continue;
    }
    let follow = 0;
    let low = 0x80;
    let high = 0xbf;
    if (byte >= 0xc2 && byte <= 0xdf) follow = 1;
    else if (byte >= 0xe0 && byte <= 0xef) {
      follow = 2;
      if (byte === 0xe0) low = 0xa0;
      if (byte === 0xed) high = 0x9f;
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      follow = 3;
      if (byte === 0xf0) low = 0x90;
      if (byte === 0xf4) high = 0x8f;
    }
    let valid = follow > 0 && i + follow < bytes.length && bytes[i + 1]! >= low && bytes[i + 1]! <= high;
    for (let k = 2; valid && k <= follow; k++) valid = bytes[i + k]! >= 0x80 && bytes[i + k]! <= 0xbf;
    if (valid) {
      i += follow + 1;
      continue;
    }
    text += decoder.decode(bytes.subarray(start, i)) + String.fromCharCode(0xdc00 + byte);
    i++;
    start = i;
  }
  return text + decoder.decode(bytes.subarray(start));
}

/** Whether `bytes` is valid UTF-8, ignoring a multi-byte character cut at the end of a chunk. */
export function isValidUtf8(bytes: Uint8Array, complete: boolean): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/** Whether `bytes` holds at least one well-formed multi-byte UTF-8 character (a file that is UTF-8, bad bytes aside). */
export function hasUtf8Characters(bytes: Uint8Array): boolean {
  const decoder = createUtf8Decoder();
  return /[^\x00-\x7f]/.test(decoder.write(bytes).replace(BAD_BYTES, ''));
}

/** Whether text decoded as windows-1252 (or another single-byte encoding) is really UTF-8 (its bytes form valid multi-byte UTF-8 characters). */
export function looksLikeUtf8(decodedText: string, encoding = 'windows-1252'): boolean {
  const bytes = iconv().encode(decodedText, encoding);
  return isValidUtf8(bytes, true) && bytes.some((byte) => byte >= 0x80);
}

/** Text read as windows-1252 (or `encoding`) that `looksLikeUtf8`, read as the UTF-8 it is (`RenÃ©e` → `Renée`). */
export function readAsUtf8(decodedText: string, encoding = 'windows-1252'): string {
  return iconv().encode(decodedText, encoding).toString('utf8');
}

/**
 * Whether an encoding iconv-lite knows reads each byte as one character (windows-1252, latin1, Mac Roman, …):
 * in such a file, UTF-8 text decodes without an error, as mojibake (`RenÃ©e`), so it must be looked for.
 */
export function isSingleByte(encoding: string): boolean {
  if (encoding === 'utf8') return false;
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  return iconv().decode(allBytes, encoding, { stripBOM: false }).length === 256;
}

/** Zero-width characters, no-break spaces, soft hyphens and stray BOMs that make two headers look equal. */
export const INVISIBLE_CHARACTERS = /[\u00a0\u00ad\u180e\u2000-\u200f\u202f\u205f\u2060-\u2064\u3000\ufeff]/g;

export function describeInvisible(text: string): string[] {
  return [...new Set(text.match(INVISIBLE_CHARACTERS) ?? [])].map((c) => 'U+' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0'));
}
