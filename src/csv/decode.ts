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

/** A streaming decoder. UTF-8 input that is not valid comes out with U+FFFD in place of bad bytes. */
export function createDecoder(encoding: string): Decoder {
  if (encoding === 'utf8') {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    return { write: (bytes) => decoder.decode(bytes, { stream: true }), end: () => decoder.decode() };
  }
  const decoder = iconv().getDecoder(encoding, { stripBOM: false });
  return { write: (bytes) => decoder.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)), end: () => decoder.end() ?? '' };
}

/** Whether `bytes` is valid UTF-8, ignoring a multi-byte character cut at the end of a chunk. */
export function isValidUtf8(bytes: Uint8Array, complete: boolean): boolean {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes, { stream: !complete });
  return !text.includes('\uFFFD');
}

/** Whether `bytes` holds at least one well-formed multi-byte UTF-8 character (a file that is UTF-8, bad bytes aside). */
export function hasUtf8Characters(bytes: Uint8Array): boolean {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes, { stream: true });
  return /[\u0080-\ufffc\ufffe\uffff]|[\ud800-\udfff]/.test(text);
}

/** Whether text decoded as windows-1252 is really UTF-8 (its bytes form valid multi-byte UTF-8 characters). */
export function looksLikeUtf8(windows1252Text: string): boolean {
  const bytes = iconv().encode(windows1252Text, 'windows-1252');
  return isValidUtf8(bytes, true) && hasUtf8Characters(bytes);
}

/** Zero-width characters, no-break spaces, soft hyphens and stray BOMs that make two headers look equal. */
export const INVISIBLE_CHARACTERS = /[\u00a0\u00ad\u180e\u2000-\u200f\u202f\u205f\u2060-\u2064\u3000\ufeff]/g;

export function describeInvisible(text: string): string[] {
  return [...new Set(text.match(INVISIBLE_CHARACTERS) ?? [])].map((c) => 'U+' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0'));
}
