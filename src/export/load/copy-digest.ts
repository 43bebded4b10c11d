/**
 * The values hash of a PostgreSQL load that stages every row, taken on a
 * worker thread from the COPY text the load sends.
 *
 * A row's COPY text line (copy-text.ts) holds each value in the canonical
 * text its typed JSON line holds it in (dates, timestamps, decimals, id
 * lists), so the worker turns each line back into the typed JSON line
 * (schema.ts typedJsonLine) and adds its sha256 to the sum: the main thread,
 * which reads Pylon and writes the COPY text, makes no JSON line and no
 * sha256 per contact.
 *
 * Measured on 2 cores with the API server and the database on them too
 * (300,000 contacts, PostgreSQL first loads): making the lines and hashing
 * them on the main thread took 1.5 s of a 5.7 s load. At 1M contacts, this
 * way against that, alternating: 15.4-15.6 s against 17.0-17.4 s (the merge
 * unchanged). A DuckDB load, which stages Parquet, would have to write the
 * COPY text for the hash alone: at 1M, 16.8-18.4 s against 17.5-17.8 s
 * without the worker, and peak RSS 379-408 MB against 359-382 MB (its
 * target is 400 MB), so DuckDB loads hash on the main thread.
 *
 * The main thread never waits for the worker: when the worker is MAX_PENDING
 * batches behind, or could not start, a text is hashed on the main thread, by
 * the same function. The sum does not depend on who adds which line.
 */
import { Worker } from 'node:worker_threads';
import { InternalError } from '../../errors.js';
import { jsonLineKeys, type TypedColumn } from '../schema.js';
import type { ValuesDigest } from '../values-digest.js';
import { KIND_CODES } from './copy-text.js';

/** Batches the worker may have yet to hash before the main thread hashes the next text itself. */
const MAX_PENDING = 3;
/** Texts go to the worker in batches of about this many bytes (5 pages of 999 contacts): each message wakes the worker, which costs the main thread too. */
const BATCH_BYTES = 1 << 20;

/**
 * Each line of COPY text (copy-text.ts copyRows: the columns' values, then
 * `_row_hash`, tab-separated), given as its UTF-8 bytes, as the row's typed
 * JSON line, also as UTF-8 bytes: handed to `each` as a view of `out.buffer`
 * (valid until the next call of `each`). `keys` are jsonLineKeys' texts as
 * UTF-8. The bytes are rewritten as they are read: COPY's escapes undone
 * (`\t`, `\n`, `\r`, `\\`), a text quoted and escaped as JSON.stringify
 * escapes it (`"`, `\`, and the control characters; every other byte, UTF-8
 * sequences included, as it is), an array literal's elements as a JSON list.
 * No string is made per value and the sha256 is taken of the bytes: a JS
 * string per line cost the worker about three times the CPU (300,000
 * contacts: 1.5 s of worker CPU, most of it the line's concatenation,
 * flattening and UTF-8 encoding for the hash). Self-contained (no import, no
 * outer name): the worker runs its source.
 */
export function copyBytesToJson(kinds: readonly number[], keys: readonly Uint8Array[], bytes: Uint8Array, out: { buffer: Uint8Array }, each: (line: Uint8Array) => void): void {
  const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];
  /** Writes byte `c` of a text as JSON.stringify writes it, at `w`, when it is not written as it is (the callers' fast path); returns the next position. */
  const escaped = (o: Uint8Array, w: number, c: number): number => {
    if (c >= 0x20 && c !== 34 && c !== 92) {
      o[w] = c;
      return w + 1;
    }
    o[w] = 92;
    if (c === 34 || c === 92) o[w + 1] = c;
    else if (c === 10) o[w + 1] = 110;
    else if (c === 9) o[w + 1] = 116;
    else if (c === 13) o[w + 1] = 114;
    else if (c === 8) o[w + 1] = 98;
    else if (c === 12) o[w + 1] = 102;
    else {
      o[w + 1] = 117;
      o[w + 2] = 48;
      o[w + 3] = 48;
      o[w + 4] = HEX[c >> 4]!;
      o[w + 5] = HEX[c & 15]!;
      return w + 6;
    }
    return w + 2;
  };
  /** The byte COPY's escape `\c` stands for. */
  const unescaped = (c: number) => (c === 116 ? 9 : c === 110 ? 10 : c === 114 ? 13 : c);
  const count = kinds.length;
  let keyBytes = 1;
  for (let i = 0; i < count; i += 1) keyBytes += keys[i]!.length;
  /** An array literal with COPY's escapes undone. */
  let literal = new Uint8Array(256);
  const n = bytes.length;
  let at = 0;
  while (at < n) {
    let end = bytes.indexOf(10, at);
    if (end < 0) end = n;
    // Each byte becomes at most six (`\u001f`).
    const need = keyBytes + 6 * (end - at) + 8;
    if (out.buffer.length < need) out.buffer = new Uint8Array(Math.max(need, 2 * out.buffer.length));
    const o = out.buffer;
    let w = 0;
    // Each value is read up to the tab that ends it (the row's hash follows the last one).
    for (let i = 0; i < count; i += 1) {
      const key = keys[i]!;
      for (let k = 0; k < key.length; k += 1) o[w++] = key[k]!;
      if (bytes[at] === 92 && bytes[at + 1] === 78 && bytes[at + 2] === 9) {
        // \N: null
        o[w] = 110;
        o[w + 1] = 117;
        o[w + 2] = 108;
        o[w + 3] = 108;
        w += 4;
        at += 3;
        continue;
      }
      let c: number;
      switch (kinds[i]) {
        case 0:
          o[w++] = 34;
          while ((c = bytes[at++]!) !== 9 && at <= n) {
            if (c >= 0x20 && c !== 34 && c !== 92) o[w++] = c;
            else w = escaped(o, w, c === 92 ? unescaped(bytes[at++]!) : c);
          }
          o[w++] = 34;
          break;
        case 1: {
          // An array literal whose elements are all double-quoted, `"` and `\` escaped by a backslash (inside COPY's escapes).
          let size = 0;
          while ((c = bytes[at++]!) !== 9 && at <= n) {
            if (size === literal.length) {
              const grown = new Uint8Array(2 * size);
              grown.set(literal);
              literal = grown;
            }
            literal[size++] = c === 92 ? unescaped(bytes[at++]!) : c;
          }
          o[w++] = 91;
          let k = 1;
          while (k < size - 1) {
            if (k > 1) o[w++] = 44;
            o[w++] = 34;
            k += 1; // the opening quote
            while ((c = literal[k]!) !== 34) {
              if (c === 92) c = literal[++k]!;
              if (c >= 0x20 && c !== 34 && c !== 92) o[w++] = c;
              else w = escaped(o, w, c);
              k += 1;
            }
            o[w++] = 34;
            k += 2; // the closing quote and the comma (or the closing brace)
          }
          o[w++] = 93;
          break;
        }
        case 4:
          if (bytes[at] === 116) {
            o[w] = 116;
            o[w + 1] = 114;
            o[w + 2] = 117;
            o[w + 3] = 101;
            w += 4;
          } else {
            o[w] = 102;
            o[w + 1] = 97;
            o[w + 2] = 108;
            o[w + 3] = 115;
            o[w + 4] = 101;
            w += 5;
          }
          at += 2;
          break;
        case 5:
        case 6:
          o[w++] = 34;
          while ((c = bytes[at++]!) !== 9 && at <= n) o[w++] = c;
          o[w++] = 34;
          break;
        case 7:
          while ((c = bytes[at++]!) !== 9 && at <= n) o[w++] = c === 92 ? unescaped(bytes[at++]!) : c;
          break;
        default:
          while ((c = bytes[at++]!) !== 9 && at <= n) o[w++] = c;
      }
    }
    // A line short of a value (never written by copyRows) would run into the next: stopped, not hashed wrong.
    if (at > end) throw new Error(`the COPY text has a line without ${count} values`);
    o[w++] = 125;
    each(o.subarray(0, w));
    at = end + 1;
  }
}

/** The worker's source (CommonJS, run with `eval`, so the bundle needs no entry file of its own); it repeats ValuesDigest's add and carry. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const { kinds, keys, done } = workerData;
const out = { buffer: new Uint8Array(1 << 16) };
// A transpiler that keeps function names (tsx, under which the tests can run) wraps inner functions in __name().
const __name = (fn) => fn;
const copyBytesToJson = ${copyBytesToJson.toString()};
const words = new Float64Array(8);
const WORD = 2 ** 32;
let rows = 0;
let sinceCarry = 0;
function carry() {
  let over = 0;
  for (let i = 7; i >= 0; i -= 1) {
    const value = words[i] + over;
    over = Math.floor(value / WORD);
    words[i] = value - over * WORD;
  }
}
function add(line) {
  const digest = hash('sha256', line, 'binary');
  for (let i = 0; i < 8; i += 1) {
    const at = i * 4;
    words[i] += digest.charCodeAt(at) * 0x1000000 + ((digest.charCodeAt(at + 1) << 16) | (digest.charCodeAt(at + 2) << 8) | digest.charCodeAt(at + 3));
  }
  rows += 1;
  if (++sinceCarry === ${1 << 20}) {
    carry();
    sinceCarry = 0;
  }
}
parentPort.on('message', (batch) => {
  if (batch === null) {
    carry();
    parentPort.postMessage({ words, rows });
    parentPort.close();
    return;
  }
  for (const bytes of batch) copyBytesToJson(kinds, keys, bytes, out, add);
  Atomics.add(done, 0, 1);
});
`;

const STOPPED = 'the worker thread hashing the values stopped before its sum was taken';

/**
 * Feeds the COPY text of a load to a ValuesDigest: on a worker thread, or on
 * this one when the worker is behind or cannot start. `finish()` adds the
 * worker's sum to the digest's own.
 */
export class CopyTextDigest {
  readonly #values: ValuesDigest;
  readonly #kinds: number[];
  readonly #keys: Uint8Array[];
  /** The inline path's line buffer (copyBytesToJson). */
  readonly #out = { buffer: new Uint8Array(1 << 16) };
  readonly #maxPending: number;
  #worker: Worker | undefined;
  /** Batches posted to the worker; `#done[0]` (written by the worker): batches it has hashed. */
  #posted = 0;
  #done: Int32Array | undefined;
  /** Texts (their bytes) not yet posted. */
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #failure: Error | undefined;
  #exited = false;
  /** The worker's sum was added to the digest. */
  #taken = false;
  /** Texts hashed on this thread (the worker behind, or a lone surrogate). */
  inline = 0;

  /** Called with the id of a row whose text held a lone surrogate, stored (and hashed) as U+FFFD. */
  readonly #onReplaced: ((id: string) => void) | undefined;

  /** `threaded: false` hashes every text on this thread (as when a worker cannot start); `maxPending` (tests): batches the worker may be behind by. */
  constructor(values: ValuesDigest, columns: readonly TypedColumn[], options: { threaded?: boolean; maxPending?: number; onReplaced?: (id: string) => void } = {}) {
    this.#values = values;
    this.#onReplaced = options.onReplaced;
    this.#kinds = columns.map((c) => KIND_CODES[c.kind]);
    this.#keys = jsonLineKeys(columns).map((key) => new Uint8Array(Buffer.from(key, 'utf8')));
    this.#maxPending = options.maxPending ?? MAX_PENDING;
    if (options.threaded === false) return;
    try {
      const done = new Int32Array(new SharedArrayBuffer(4));
      // A small young generation: the worker keeps nothing but its sum.
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { kinds: this.#kinds, keys: this.#keys, done }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      worker.unref(); // an abandoned run never waits on it
      worker.on('error', (error) => void (this.#failure ??= error));
      worker.on('exit', () => void (this.#exited = true));
      this.#worker = worker;
      this.#done = done;
    } catch {
      this.#worker = undefined;
    }
  }

  /**
   * Adds the rows of one piece of COPY text (whole lines), with its UTF-8
   * bytes (those the load sends): the worker gets a copy of the bytes, which
   * costs the main thread less than a string message. The bytes are hashed,
   * not the text: text holding a lone surrogate is hashed as its bytes hold
   * it, and as the table stores it, with U+FFFD in its place (UTF-8 cannot
   * hold the half); onReplaced names the row.
   */
  add(text: string, bytes: Uint8Array): void {
    if (text === '') return;
    const checked = text as unknown as { isWellFormed(): boolean };
    if (!checked.isWellFormed()) {
      const line = text.split('\n').find((l) => !(l as unknown as typeof checked).isWellFormed()) ?? '';
      this.#onReplaced?.(line.slice(0, Math.max(0, line.indexOf('\t'))));
    }
    const worker = this.#worker;
    if (worker && !this.#failure && this.#posted - Atomics.load(this.#done!, 0) < this.#maxPending) {
      this.#batch.push(bytes);
      this.#batchBytes += bytes.byteLength;
      if (this.#batchBytes >= BATCH_BYTES) this.#post(worker);
      return;
    }
    this.inline += 1;
    copyBytesToJson(this.#kinds, this.#keys, bytes, this.#out, (line) => this.#values.add(line));
  }

  /** Waits for the worker's sum and adds it to the ValuesDigest; call once, when every text is added. */
  async finish(): Promise<void> {
    const worker = this.#worker;
    if (!worker) {
      if (this.#failure) throw new InternalError(`the values hash could not be taken: ${this.#failure.message}`);
      return;
    }
    try {
      if (this.#failure || this.#exited) throw this.#failure ?? new Error(STOPPED);
      const { words, rows } = await new Promise<{ words: Float64Array; rows: number }>((resolve, reject) => {
        worker.ref();
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', () => reject(this.#failure ?? new Error(STOPPED)));
        if (this.#batch.length > 0) this.#post(worker);
        worker.postMessage(null);
      });
      this.#values.merge(words, rows);
      this.#taken = true;
    } catch (error) {
      // The texts the worker held are not in the sum: the run cannot say what it loaded.
      throw new InternalError(`the values hash could not be taken: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.close();
    }
  }

  #post(worker: Worker): void {
    worker.postMessage(this.#batch);
    this.#posted += 1;
    this.#batch = [];
    this.#batchBytes = 0;
  }

  /** Ends the worker (an aborted run, or once its sum is taken); a later finish() fails if the worker had rows. */
  close(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    if (!this.#taken && (this.#posted > 0 || this.#batch.length > 0)) this.#failure ??= new Error('it was closed before its sum was taken');
    void worker.terminate();
  }
}
