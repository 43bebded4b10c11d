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
 * `_row_hash`, tab-separated) as the row's typed JSON line, handed to `each`.
 * Self-contained (no import, no outer name): the worker runs its source.
 */
export function copyLinesToJson(kinds: readonly number[], keys: readonly string[], text: string, each: (line: string) => void): void {
  const plain = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
  const unescape = (field: string) => (field.indexOf('\\') < 0 ? field : field.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c)));
  const quote = (value: string) => (plain.test(value) ? '"' + value + '"' : JSON.stringify(value));
  const count = kinds.length;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = '';
    let at = start;
    for (let i = 0; i < count; i += 1) {
      const stop = text.indexOf('\t', at);
      const field = text.slice(at, stop);
      at = stop + 1;
      let value: string;
      if (field === '\\N') value = 'null';
      else {
        switch (kinds[i]) {
          case 0:
            value = quote(unescape(field));
            break;
          case 1: {
            // An array literal whose elements are all double-quoted, `"` and `\` escaped by a backslash.
            const literal = unescape(field);
            if (literal === '{}') {
              value = '[]';
              break;
            }
            value = '[';
            let k = 1;
            while (k < literal.length - 1) {
              let element = '';
              k += 1; // the opening quote
              while (literal[k] !== '"') {
                if (literal[k] === '\\') k += 1;
                element += literal[k];
                k += 1;
              }
              k += 2; // the closing quote and the comma (or the closing brace)
              value += (value.length > 1 ? ',' : '') + quote(element);
            }
            value += ']';
            break;
          }
          case 4:
            value = field === 't' ? 'true' : 'false';
            break;
          case 5:
          case 6:
            value = '"' + field + '"';
            break;
          case 7:
            value = unescape(field);
            break;
          default:
            value = field;
        }
      }
      line += keys[i] + value;
    }
    each(line + '}');
    start = end + 1;
  }
}

/** The worker's source (CommonJS, run with `eval`, so the bundle needs no entry file of its own); it repeats ValuesDigest's add and carry. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const { kinds, keys, done } = workerData;
// A transpiler that keeps function names (tsx, under which the tests can run) wraps inner functions in __name().
const __name = (fn) => fn;
const copyLinesToJson = ${copyLinesToJson.toString()};
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
  for (const bytes of batch) copyLinesToJson(kinds, keys, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), add);
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
  readonly #keys: string[];
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
    this.#keys = jsonLineKeys(columns);
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
   * costs the main thread less than a string message. Text holding a lone
   * surrogate is hashed as its bytes hold it, and as the table stores it:
   * with U+FFFD in its place (UTF-8 cannot hold the half); onReplaced names
   * the row.
   */
  add(text: string, bytes: Uint8Array): void {
    if (text === '') return;
    const checked = text as unknown as { isWellFormed(): boolean; toWellFormed(): string };
    if (!checked.isWellFormed()) {
      const line = text.split('\n').find((l) => !(l as unknown as typeof checked).isWellFormed()) ?? '';
      this.#onReplaced?.(line.slice(0, Math.max(0, line.indexOf('\t'))));
      text = checked.toWellFormed();
    }
    const worker = this.#worker;
    if (worker && !this.#failure && this.#posted - Atomics.load(this.#done!, 0) < this.#maxPending) {
      this.#batch.push(bytes);
      this.#batchBytes += bytes.byteLength;
      if (this.#batchBytes >= BATCH_BYTES) this.#post(worker);
      return;
    }
    this.inline += 1;
    copyLinesToJson(this.#kinds, this.#keys, text, (line) => this.#values.add(line));
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
