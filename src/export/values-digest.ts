/**
 * The values hash of a run: an order-independent hash of a set of rows, the
 * sum modulo 2^256 of the sha256 of each row's canonical JSON line (schema.ts
 * typedJsonLine). A loaded table gives the same value whatever order it
 * returns the rows in (test/export/warehouse/table-check.ts recomputes it
 * from a table).
 *
 * The sum is kept in eight 32-bit words held as Numbers, carried every 2^20
 * rows, instead of a 256-bit BigInt, and each digest is read as a latin1
 * string. A micro-benchmark of 300,000 typed lines (one process, building the
 * lines included, 387-398 ms of it): 878-900 ms this way, 975-986 ms with a
 * hex digest and a BigInt sum, 1,091-1,113 ms with a Buffer digest.
 *
 * Handing the lines to a worker thread to hash was tried and measured at 1M
 * contacts (DuckDB first loads, three pairs alternating): no gain in wall
 * time (the second core is busy with DuckDB's inserts and the API server)
 * and 40 MB more peak RSS. A PostgreSQL load that stages every row makes no
 * lines here at all: a worker rebuilds them from the COPY text the load sends
 * anyway, and its sum comes in through merge() (load/copy-digest.ts).
 */
import { hash } from 'node:crypto';

/** Rows after which the words carry (each stays below 2^53: 2^20 sums of 32-bit words on top of one). */
const CARRY_EVERY = 1 << 20;
const WORD = 2 ** 32;

/** Moves each word's overflow into the next more significant word (word 0 is the most significant); the top word's overflow is dropped (mod 2^256). */
function carry(words: Float64Array): void {
  let over = 0;
  for (let i = 7; i >= 0; i -= 1) {
    const value = words[i]! + over;
    over = Math.floor(value / WORD);
    words[i] = value - over * WORD;
  }
}

export class ValuesDigest {
  /** Rows added. */
  rows = 0;
  readonly #words = new Float64Array(8);
  #sinceCarry = 0;

  /** Adds one row: its typed JSON line, as text or as UTF-8 bytes (the same digest). */
  add(line: string | Uint8Array): void {
    // The digest as a 'binary' (latin1) string, one char per byte: measured cheaper per call than a Buffer or hex.
    const digest = hash('sha256', line, 'binary');
    const words = this.#words;
    for (let i = 0; i < 8; i += 1) {
      const at = i * 4;
      words[i]! += digest.charCodeAt(at) * 0x1000000 + ((digest.charCodeAt(at + 1) << 16) | (digest.charCodeAt(at + 2) << 8) | digest.charCodeAt(at + 3));
    }
    this.rows += 1;
    if (++this.#sinceCarry === CARRY_EVERY) {
      carry(words);
      this.#sinceCarry = 0;
    }
  }

  /** Adds a sum of other rows' digests (eight words, carried) and their count: rows hashed elsewhere (copy-digest.ts). */
  merge(words: Float64Array, rows: number): void {
    carry(this.#words);
    for (let i = 0; i < 8; i += 1) this.#words[i]! += words[i]!;
    carry(this.#words);
    this.#sinceCarry = 0;
    this.rows += rows;
  }

  /** The sum as 64 hex digits. */
  get hex(): string {
    const sum = new Float64Array(this.#words);
    carry(sum);
    let text = '';
    for (let i = 0; i < 8; i += 1) text += sum[i]!.toString(16).padStart(8, '0');
    return text;
  }
}
