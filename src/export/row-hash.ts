import { key64WithHex, type Key64 } from './id-index.js';

/** A short digest of the column list, mixed into every record hash: a change of columns changes every hash. */
export function columnsKey(columns: readonly string[]): string {
  return key64WithHex(JSON.stringify(columns)).hex;
}

/** The hash of one exported record: its cells and the columns key. */
export function recordHash(columnsKey: string, cells: readonly string[]): Key64 & { hex: string } {
  return key64WithHex(columnsKey + JSON.stringify(cells));
}

export type Change = 'new' | 'changed' | 'unchanged';
