/** A small seedable PRNG (mulberry32): repeatable faults, jitter, ids and random seeds. */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex8(n: number): string {
  return HEX[n >>> 24] + HEX[(n >>> 16) & 255] + HEX[(n >>> 8) & 255] + HEX[n & 255];
}

/** A UUID v4-shaped id drawn from the PRNG (deterministic for a given seed). */
export function uuidFrom(prng: Prng): string {
  const a = hex8(Math.floor(prng.next() * 4294967296));
  const b = hex8(Math.floor(prng.next() * 4294967296));
  const c = hex8(Math.floor(prng.next() * 4294967296));
  const d = hex8(Math.floor(prng.next() * 4294967296));
  const variant = '89ab'[parseInt(c[0], 16) & 3];
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4, 8)}${d}`;
}
