import { hash } from 'node:crypto';
import xxhash from 'xxhash-wasm';

// xxHash64 in WebAssembly: a stable, non-cryptographic 64-bit digest several
// times cheaper per short string than a sha256 call through node:crypto.
const { h64 } = await xxhash();

/** A 64-bit digest as two unsigned 32-bit halves (no BigInt, no strings kept). */
export interface Key64 {
  hi: number;
  lo: number;
}

/** The first 64 bits of sha256(text). */
export function key64(text: string): Key64 {
  const digest = hash('sha256', text, 'buffer');
  return { hi: digest.readUInt32BE(0), lo: digest.readUInt32BE(4) };
}

/** key64 with its 16-hex-digit form. */
export function key64WithHex(text: string): Key64 & { hex: string } {
  const digest = hash('sha256', text, 'buffer');
  return { hi: digest.readUInt32BE(0), lo: digest.readUInt32BE(4), hex: digest.toString('hex', 0, 8) };
}

/**
 * The in-memory key of a contact id: xxHash64 of the id. Never written to a
 * file (states hold the ids themselves), so it can change between versions.
 */
export function idKey(id: string): Key64 {
  const digest = h64(id);
  return { hi: Number(digest >> 32n), lo: Number(BigInt.asUintN(32, digest)) };
}

/** xxHash64 of a text (with a seed), with its 16-hex-digit form. */
export function xxh64WithHex(text: string, seed?: bigint): Key64 & { hex: string } {
  const digest = h64(text, seed);
  return { hi: Number(digest >> 32n), lo: Number(BigInt.asUintN(32, digest)), hex: digest.toString(16).padStart(16, '0') };
}

export function parseKey64Hex(text: string): Key64 | undefined {
  if (!/^[0-9a-f]{16}$/.test(text)) return undefined;
  return { hi: parseInt(text.slice(0, 8), 16), lo: parseInt(text.slice(8), 16) };
}

const MAX_LOAD = 0.75;
/** A table grows by half, not double: at 1M ids it holds ~1.42M slots, not 2^21 (a third less memory for the same load). */
const GROWTH = 1.5;
const grown = (capacity: number) => Math.ceil(capacity * GROWTH);

/**
 * An open-addressing hash table from a 64-bit id key to a 64-bit value, in typed
 * arrays: 17 bytes per slot (9 without values), at most 75 % full and grown by
 * half, so 1,000,000 ids take at most ~2M slots and usually ~1.4M = 24 MB (a Map of id strings would take ~100 MB). Ids are never stored, only
 * their 64-bit keys: two ids collide with probability ~n²/2^65 (3·10⁻⁸ at 1M).
 */
export class IdIndex {
  #keys: Uint32Array;
  #values: Uint32Array;
  /** 0 empty, 1 used, 2 used and marked. */
  #flags: Uint8Array;
  #size = 0;
  readonly #withValues: boolean;

  /** `expected` sizes the table up front; without `withValues` a slot takes 9 bytes. */
  constructor(options: { expected?: number; withValues?: boolean } = {}) {
    this.#withValues = options.withValues ?? true;
    let capacity = 1024;
    while ((options.expected ?? 0) > capacity * MAX_LOAD) capacity = grown(capacity);
    this.#keys = new Uint32Array(capacity * 2);
    this.#values = new Uint32Array(this.#withValues ? capacity * 2 : 0);
    this.#flags = new Uint8Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  #slot(key: Key64): number {
    const capacity = this.#flags.length;
    let i = ((key.lo ^ Math.imul(key.hi, 0x9e3779b1)) >>> 0) % capacity;
    while (this.#flags[i] !== 0 && (this.#keys[2 * i] !== key.hi || this.#keys[2 * i + 1] !== key.lo)) i = i + 1 === capacity ? 0 : i + 1;
    return i;
  }

  /** Adds a key (with a value); returns false, changing nothing, when the key is already there. */
  add(key: Key64, value: Key64 = { hi: 0, lo: 0 }): boolean {
    if ((this.#size + 1) > this.#flags.length * MAX_LOAD) this.#grow();
    const i = this.#slot(key);
    if (this.#flags[i] !== 0) return false;
    this.#flags[i] = 1;
    this.#keys[2 * i] = key.hi;
    this.#keys[2 * i + 1] = key.lo;
    if (this.#withValues) {
      this.#values[2 * i] = value.hi;
      this.#values[2 * i + 1] = value.lo;
    }
    this.#size += 1;
    return true;
  }

  /** The value stored for a key, or undefined. */
  get(key: Key64): Key64 | undefined {
    const i = this.#slot(key);
    if (this.#flags[i] === 0 || !this.#withValues) return undefined;
    return { hi: this.#values[2 * i]!, lo: this.#values[2 * i + 1]! };
  }

  /** Marks a present key (e.g. "seen in this run"); returns false when absent. */
  mark(key: Key64): boolean {
    const i = this.#slot(key);
    if (this.#flags[i] === 0) return false;
    this.#flags[i] = 2;
    return true;
  }

  isMarked(key: Key64): boolean {
    return this.#flags[this.#slot(key)] === 2;
  }

  #grow(): void {
    const keys = this.#keys;
    const values = this.#values;
    const flags = this.#flags;
    const capacity = grown(flags.length);
    this.#keys = new Uint32Array(capacity * 2);
    this.#values = new Uint32Array(this.#withValues ? capacity * 2 : 0);
    this.#flags = new Uint8Array(capacity);
    for (let j = 0; j < flags.length; j += 1) {
      if (flags[j] === 0) continue;
      const i = this.#slot({ hi: keys[2 * j]!, lo: keys[2 * j + 1]! });
      this.#flags[i] = flags[j]!;
      this.#keys[2 * i] = keys[2 * j]!;
      this.#keys[2 * i + 1] = keys[2 * j + 1]!;
      if (this.#withValues) {
        this.#values[2 * i] = values[2 * j]!;
        this.#values[2 * i + 1] = values[2 * j + 1]!;
      }
    }
  }
}

/**
 * A set of 64-bit keys (an IdIndex without values) in 16 parts chosen by the
 * key's top 4 bits. Each part grows on its own, so a growth holds one
 * sixteenth of the table twice, not the whole table: at 1M ids the parts hold
 * ~1.42M slots in all (13 MB), and a growth adds well under 1 MB.
 */
export class IdSet {
  readonly #parts = Array.from({ length: 16 }, () => new IdIndex({ withValues: false }));

  /** Returns false, changing nothing, when the key is already there. */
  add(key: Key64): boolean {
    return this.#parts[key.hi >>> 28]!.add(key);
  }

  get size(): number {
    let size = 0;
    for (const part of this.#parts) size += part.size;
    return size;
  }
}
