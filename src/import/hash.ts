/**
 * 32-bit hashes for the import's in-memory indexes (duplicates, the listed
 * contacts): FNV-1a, then murmur3's finaliser so that the low bits, which pick
 * a table slot, depend on every input bit. Never a proof of equality: callers
 * confirm a hash match against the real key.
 */

/** FNV-1a over `length` bytes from `start`. */
export function hashBytes(bytes: Buffer, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start, end = start + length; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return finish(h);
}

/** FNV-1a over a string's UTF-16 code units. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return finish(h);
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
