import type { RecordItem } from '../csv/read.js';
import type { ColumnPlan } from './columns.js';
import { hashBytes } from './hash.js';
import { splitMulti } from '../columns.js';
import { duplicateKeysFor, heldExternalIdKey, keyFor, type HeldKeySlots, type KeyedRow, type LookupKey } from './lookup-key.js';

/**
 * Rows of one file that target the same contact: same id, or (without an id) the
 * same email, trimmed and lower-cased (a secondary email counts as one of the
 * row's emails), or the same external id under the same label (`duplicateKeysFor`): one email, one row, whatever the external ids, so
 * two source records sharing an address never overwrite each other in turn. A
 * row with an email and an external id has both keys, and is a duplicate when
 * either one is (the caller asks about each key).
 *
 * Policies (`--on-duplicate`): `first` keeps the first row of a group, `last` the
 * last one, `error` none; every other row of the group is reported as a duplicate
 * of the kept line (for `error`, of the group's first line; the first line itself
 * points at the group's last line). `first` works streaming with
 * `createDuplicateTracker()`; `last` and `error` need the whole file first:
 * `scanDuplicates()` makes a pre-pass over a fresh record source.
 *
 * Memory: keys are stored exactly (no false duplicates, ever), as UTF-8 in 1 MB
 * chunks that are never copied (growing never holds two copies), indexed by an
 * open-addressing table of typed arrays — nothing in V8's heap. Per key: its
 * bytes + 10 (offset, length, first line; × up to 1.5 for growth) + 4 for the
 * last line (pre-pass only) + 11–21 for 1.33–2.67 table slots of 8 bytes (at most
 * three quarters full); `summary.memoryBytes` reports it. Keys the list lookup
 * already holds cost 4–8 bytes a slot instead (`HeldKeySlots`). A row's bare
 * external id (`claimExternalId`) costs as much again, in a table of its own that
 * the summary does not count: it is no duplicate key.
 */

export type DuplicatePolicy = 'first' | 'last' | 'error';

export type DuplicateDecision = { keep: true } | { keep: false; duplicateOf: number };

export interface DuplicateIndex {
  /** What to do with the row at `line` whose key is `key` (from `keyFor(desired)`). */
  decide(line: number, key: string): DuplicateDecision;
  /** What `decide` answers for a row decided already (a row replayed from the journal), recording nothing. */
  peek(line: number, key: string): DuplicateDecision;
  /** The first line of the file that carried `key` (of the rows decided so far; after a pre-pass, of the whole file), or undefined. */
  firstLine(key: string): number | undefined;
  /**
   * Records that the row at `line` carries external id `externalId` (under any label): never a duplicate by itself, but
   * Pylon keeps an external id once per contact, so the first row carrying it decides its label (see prepare-row.ts).
   */
  claimExternalId(line: number, externalId: string): void;
  /** The first line of the file carrying `externalId` under any label (as `firstLine`), or undefined. */
  firstLineOfExternalId(externalId: string): number | undefined;
}

export interface DuplicateSummary {
  /** Distinct keys seen. */
  keys: number;
  /** Keys shared by two rows or more. */
  groups: number;
  /** Rows the policy rejects as duplicates (counted per key: a row with an email and an external id may count twice). */
  duplicateRows: number;
  /** Memory held by the index, in bytes. */
  memoryBytes: number;
}

export interface ScannedDuplicates extends DuplicateIndex {
  readonly policy: DuplicatePolicy;
  readonly summary: DuplicateSummary;
  /** The rows the pre-scan read (every one, failed ones too): the rows pass reads as many. */
  readonly rows: number;
}


/**
 * The streaming `first` policy: decide rows in file order; the first row of each key is kept.
 * `expectedKeys` (an estimate of the rows) sizes the table up front, so it need not grow.
 */
export function createDuplicateTracker(expectedKeys = 0, route?: HeldKeySlots): DuplicateIndex {
  const index = new LineIndex(false, expectedKeys, route);
  // Apart from the duplicate keys: a bare id is no duplicate, and the summary counts duplicate keys only.
  const held = new LineIndex(false, 0);
  return {
    decide(line, key) {
      const first = index.add(key, line);
      return first === line ? { keep: true } : { keep: false, duplicateOf: first };
    },
    peek(line, key) {
      const first = index.firstLine(key);
      return first === undefined || first === line ? { keep: true } : { keep: false, duplicateOf: first };
    },
    firstLine: (key) => index.firstLine(key),
    claimExternalId: (line, externalId) => void held.add(heldExternalIdKey(externalId), line),
    firstLineOfExternalId: (externalId) => held.firstLine(heldExternalIdKey(externalId)),
  };
}

/**
 * Pre-pass for `last` and `error` (works for `first` too): reads every record of
 * `source` (rows with a CSV error are skipped) and indexes their keys; the result
 * decides each row of the second pass. Rows later failing validation still count.
 */
export async function scanDuplicates(
  source: AsyncIterable<RecordItem>,
  plan: ColumnPlan,
  policy: DuplicatePolicy,
  expectedKeys = 0,
  route?: HeldKeySlots,
): Promise<ScannedDuplicates> {
  const index = new LineIndex(true, expectedKeys, route);
  const held = new LineIndex(false, 0);
  let rowsWithKey = 0;
  let rows = 0;
  for await (const item of source) {
    rows++;
    if (item.error) continue;
    for (const { key } of duplicateKeysOfCells(item.cells, plan)) {
      index.add(key, item.line);
      rowsWithKey++;
    }
    const externalId = externalIdOfCells(item.cells, plan);
    if (externalId) held.add(heldExternalIdKey(externalId), item.line);
  }
  const singles = index.singles();
  const summary: DuplicateSummary = {
    keys: index.keys,
    groups: index.keys - singles,
    duplicateRows: policy === 'error' ? rowsWithKey - singles : rowsWithKey - index.keys,
    memoryBytes: index.bytes,
  };
  const scanned: ScannedDuplicates = {
    policy,
    summary,
    rows,
    // The pre-pass decided every line already: deciding records nothing.
    peek: (line, key) => scanned.decide(line, key),
    decide(line, key) {
      const lines = index.lines(key);
      if (!lines) return { keep: true };
      const [first, last] = lines;
      if (first === last) return { keep: true };
      switch (policy) {
        case 'first':
          return line === first ? { keep: true } : { keep: false, duplicateOf: first };
        case 'last':
          return line === last ? { keep: true } : { keep: false, duplicateOf: last };
        case 'error':
          return { keep: false, duplicateOf: line === first ? last : first };
      }
    },
    firstLine: (key) => index.firstLine(key),
    // The pre-pass has read every row.
    claimExternalId: () => undefined,
    firstLineOfExternalId: (externalId) => held.firstLine(heldExternalIdKey(externalId)),
  };
  return scanned;
}

/** First (and last) line per key: by slot for keys the route holds, in a KeyTable for the others. Line 0 means unseen. */
class LineIndex {
  private readonly table: KeyTable;
  private readonly firsts: Uint32Array | undefined;
  private readonly lasts: Uint32Array | undefined;
  private routed = 0;

  constructor(trackLast: boolean, expectedKeys: number, private readonly route?: HeldKeySlots) {
    this.table = new KeyTable(trackLast, route ? Math.max(0, expectedKeys - route.held) : expectedKeys);
    if (route) {
      this.firsts = new Uint32Array(route.slots);
      if (trackLast) this.lasts = new Uint32Array(route.slots);
    }
  }

  /** Adds an occurrence of `key` at `line`; returns the key's first line. */
  add(key: string, line: number): number {
    const slot = this.route ? this.route.slotOf(key) : -1;
    if (slot < 0) return this.table.first(this.table.add(key, line));
    const firsts = this.firsts!;
    if (firsts[slot] === 0) {
      firsts[slot] = line;
      this.routed++;
    }
    if (this.lasts) this.lasts[slot] = line;
    return firsts[slot]!;
  }

  /** The key's first line, or undefined when it was never added (no last lines needed). */
  firstLine(key: string): number | undefined {
    const slot = this.route ? this.route.slotOf(key) : -1;
    if (slot >= 0) return this.firsts![slot] || undefined;
    const k = this.table.find(key);
    return k < 0 ? undefined : this.table.first(k);
  }

  /** The key's first and last line, or undefined when it was never added. */
  lines(key: string): [number, number] | undefined {
    const slot = this.route ? this.route.slotOf(key) : -1;
    if (slot >= 0) return this.firsts![slot] ? [this.firsts![slot]!, this.lasts![slot]!] : undefined;
    const k = this.table.find(key);
    return k < 0 ? undefined : [this.table.first(k), this.table.last(k)];
  }

  get keys(): number {
    return this.table.size + this.routed;
  }

  /** Keys added once only (needs last lines). */
  singles(): number {
    let n = 0;
    for (let k = 0; k < this.table.size; k++) if (this.table.first(k) === this.table.last(k)) n++;
    if (this.firsts) for (let s = 0; s < this.firsts.length; s++) if (this.firsts[s] !== 0 && this.firsts[s] === this.lasts![s]) n++;
    return n;
  }

  get bytes(): number {
    return this.table.bytes + (this.firsts?.byteLength ?? 0) + (this.lasts?.byteLength ?? 0);
  }
}

/** The row's lookup key from its cells, the same as `keyFor(desired)` after validation. */
export function keyOfCells(cells: readonly string[], plan: ColumnPlan): string | undefined {
  return keyFor(keyedCells(cells, plan));
}

/** The row's duplicate keys from its cells, the same as `duplicateKeysFor(desired)` after validation. */
export function duplicateKeysOfCells(cells: readonly string[], plan: ColumnPlan): Array<{ key: LookupKey; by: string }> {
  return duplicateKeysFor(keyedCells(cells, plan));
}

/** The row's external id from its cells (any label), as validation reads it. */
export function externalIdOfCells(cells: readonly string[], plan: ColumnPlan): string | undefined {
  return keyedCells(cells, plan).external_id;
}

function keyedCells(cells: readonly string[], plan: ColumnPlan): KeyedRow {
  const cell = (index: number | undefined) => (index === undefined ? undefined : cells[index]?.trim() || undefined);
  const { id, email, emails, external_id: externalId, external_id_label: label } = plan.indexOf;
  const secondary = cell(emails);
  return { id: cell(id), email: cell(email), ...(secondary ? { emails: splitMulti(secondary) } : {}), external_id: cell(externalId), external_id_label: cell(label) ?? plan.defaultExternalIdLabel };
}

const CHUNK = 1 << 20;
const LONG_KEY = 1024;
const MAX_PRESIZED_KEYS = 1 << 24;

/**
 * Exact string set with a first (and optionally last) line per key, in typed
 * arrays: open addressing with linear probing on a 32-bit FNV-1a hash; a hash
 * match is confirmed by comparing the key's bytes in the arena.
 */
class KeyTable {
  /** Key bytes, in chunks that are never copied or freed: growing costs no transient double. */
  private chunks: Buffer[] = [Buffer.allocUnsafe(CHUNK)];
  private used = 0; // bytes used in the last chunk
  private offsets: Uint32Array; // chunk × CHUNK + position
  private lengths: Uint16Array;
  private firsts: Uint32Array;
  private lasts: Uint32Array | undefined;
  private slots: Int32Array;
  private hashes: Uint32Array;
  /** Keys longer than LONG_KEY characters (never a valid email), kept as they are. */
  private readonly long = new Map<string, number>();
  size = 0;

  /** Bytes allocated by the table (all of it outside V8's heap but the rare long keys). */
  get bytes(): number {
    const arrays = [this.offsets, this.lengths, this.firsts, this.lasts, this.slots, this.hashes];
    return this.chunks.length * CHUNK + arrays.reduce((sum, a) => sum + (a?.byteLength ?? 0), 0);
  }

  /**
   * Sized for `expectedKeys` up front: growing copies every array and leaves the old
   * ones to the garbage collector. Over-reserving costs address space only (the
   * arrays are zero-filled by the system, and a page is resident once written).
   */
  constructor(trackLast: boolean, expectedKeys = 0) {
    const keys = Math.max(1024, Math.ceil(Math.min(expectedKeys, MAX_PRESIZED_KEYS) * 1.05));
    this.offsets = new Uint32Array(keys);
    this.lengths = new Uint16Array(keys);
    this.firsts = new Uint32Array(keys);
    if (trackLast) this.lasts = new Uint32Array(keys);
    const slots = 2 ** Math.ceil(Math.log2(Math.max(2048, (keys * 4) / 3)));
    this.slots = new Int32Array(slots);
    this.hashes = new Uint32Array(slots);
  }

  first(k: number): number {
    return this.firsts[k]!;
  }

  last(k: number): number {
    return this.lasts![k]!;
  }

  /** Key index, or -1. */
  find(key: string): number {
    if (key.length > LONG_KEY) return this.long.get(key) ?? -1;
    const length = this.stage(key);
    const slot = this.probe(hashBytes(this.current, this.used, length), length);
    return slot >= 0 ? this.slots[slot]! - 1 : -1;
  }

  /** Adds an occurrence of `key` at `line`; returns the key index. */
  add(key: string, line: number): number {
    if (key.length > LONG_KEY) {
      const known = this.long.get(key);
      if (known !== undefined) return this.seenAgain(known, line);
      const k = this.newKey(line);
      this.long.set(key, k);
      return k;
    }
    const length = this.stage(key);
    const hash = hashBytes(this.current, this.used, length);
    const slot = this.probe(hash, length);
    if (slot >= 0) return this.seenAgain(this.slots[slot]! - 1, line);
    const k = this.newKey(line);
    this.offsets[k] = (this.chunks.length - 1) * CHUNK + this.used;
    this.lengths[k] = length;
    this.used += length;
    const free = ~slot;
    this.slots[free] = k + 1;
    this.hashes[free] = hash;
    if (this.size * 4 > this.slots.length * 3) this.growSlots();
    return k;
  }

  private seenAgain(k: number, line: number): number {
    if (this.lasts) this.lasts[k] = line;
    return k;
  }

  private newKey(line: number): number {
    const k = this.size++;
    if (k >= this.offsets.length) this.growKeys();
    this.firsts[k] = line;
    if (this.lasts) this.lasts[k] = line;
    return k;
  }

  private get current(): Buffer {
    return this.chunks[this.chunks.length - 1]!;
  }

  /** Writes the key's UTF-8 bytes after the last stored key (not yet kept); returns their length. */
  private stage(key: string): number {
    if (this.used + key.length * 3 > CHUNK) {
      this.chunks.push(Buffer.allocUnsafe(CHUNK));
      this.used = 0;
    }
    return this.current.write(key, this.used, 'utf8');
  }

  /** The slot holding the staged key, or ~(the free slot where it would go). */
  private probe(hash: number, length: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return ~slot;
      if (this.hashes[slot] === hash && this.sameBytes(entry - 1, length)) return slot;
    }
  }

  private sameBytes(k: number, length: number): boolean {
    if (this.lengths[k] !== length) return false;
    const offset = this.offsets[k]!;
    const chunk = this.chunks[Math.floor(offset / CHUNK)]!;
    const start = offset % CHUNK;
    return chunk.compare(this.current, this.used, this.used + length, start, start + length) === 0;
  }

  private growKeys(): void {
    const grow = <T extends Uint32Array | Uint16Array>(from: T): T => {
      const to = new (from.constructor as new (n: number) => T)(Math.ceil(from.length * 1.5));
      to.set(from);
      return to;
    };
    this.offsets = grow(this.offsets);
    this.lengths = grow(this.lengths);
    this.firsts = grow(this.firsts);
    if (this.lasts) this.lasts = grow(this.lasts);
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const hashes = new Uint32Array(this.hashes.length * 2);
    const mask = slots.length - 1;
    for (let i = 0; i < this.slots.length; i++) {
      const entry = this.slots[i]!;
      if (entry === 0) continue;
      let slot = this.hashes[i]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry;
      hashes[slot] = this.hashes[i]!;
    }
    this.slots = slots;
    this.hashes = hashes;
  }
}
