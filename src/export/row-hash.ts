import { key64WithHex, xxh64WithHex, type Key64 } from './id-index.js';

/**
 * How a state's record hashes were made. States name theirs (format 3's meta
 * line, a `--since` manifest's `state.rowHash`); older ones, which do not, are
 * `sha256`. A run compares with a state in the state's own kind and writes its
 * next state in that kind, so no contact looks changed because the hash did;
 * a run without a state (the first, or after a reset) uses ROW_HASH.
 * - `sha256`: the first 64 bits of sha256(columns key + JSON of the cells);
 * - `xxh64`: xxHash64, seeded with the columns key, of the cells joined by
 *   U+001F (of the JSON of the cells, under the next seed, when a cell holds
 *   U+001F itself), so the input still tells every list of cells apart.
 */
export type RowHashKind = 'sha256' | 'xxh64';
export const ROW_HASH_KINDS: readonly RowHashKind[] = ['sha256', 'xxh64'];
/** The kind new states get. */
export const ROW_HASH: RowHashKind = 'xxh64';

export function isRowHashKind(value: unknown): value is RowHashKind {
  return (ROW_HASH_KINDS as readonly unknown[]).includes(value);
}

/** A short digest of the column list, mixed into every record hash: a change of columns changes every hash. */
export function columnsKey(columns: readonly string[]): string {
  return key64WithHex(JSON.stringify(columns)).hex;
}

/** The `sha256` record hash: its cells and the columns key. */
export function recordHash(columnsKey: string, cells: readonly string[]): Key64 & { hex: string } {
  return key64WithHex(columnsKey + JSON.stringify(cells));
}

/** Hashes the cells of one record. */
export type RowHasher = (cells: readonly string[]) => Key64 & { hex: string };

const UNIT = '\u001f';

/** The record hash of one kind for one column list. */
export function rowHasher(kind: RowHashKind, columnsKey: string): RowHasher {
  if (kind === 'sha256') return (cells) => recordHash(columnsKey, cells);
  // The columns key is the seed (one more for the JSON form), so the cells are hashed as they are joined, with nothing prepended.
  const joined = BigInt(`0x${columnsKey}`);
  const json = BigInt.asUintN(64, joined + 1n);
  return (cells) => {
    for (let i = 0; i < cells.length; i += 1) if (cells[i]!.includes(UNIT)) return xxh64WithHex(JSON.stringify(cells), json);
    return xxh64WithHex(cells.join(UNIT), joined);
  };
}

export type Change = 'new' | 'changed' | 'unchanged';
