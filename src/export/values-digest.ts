/**
 * The values hash of a run: an order-independent hash of a set of rows, the
 * sum modulo 2^256 of the sha256 of each row's canonical JSON line (schema.ts
 * typedJsonLine). A loaded table gives the same value whatever order it
 * returns the rows in (test/export/warehouse/table-check.ts recomputes it
 * from a table).
 *
 * A sha256 per contact is a large part of what a load costs the main thread,
 * so the hashing runs on a worker thread. The main thread copies each line's
 * UTF-8 bytes into one of two slots of shared memory; a full slot is handed
 * to the worker by a flag (Atomics), not a message (a postMessage per batch,
 * even with the buffer transferred, measured about 1 ms in a process with a
 * large heap). When every slot is still held by the worker (it fell
 * behind on a busy machine), the main thread hashes the line itself: the sum
 * does not depend on who adds which line, memory stays bounded, and the walk
 * never waits. Where a worker cannot start, everything is hashed inline.
 */
import { hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** Two slots of 4 MiB (about 7,000 contacts each): each hand-over wakes the worker, which on a busy machine cost the main thread about 1 ms (measured), so hand-overs are few; with two, the worker never fell behind in a 300k-contact load on a machine at load 4.5. */
const SLOTS = 2;
const SLOT_BYTES = 1 << 22;
const SLOT_LINES = 65_536;
/** Control words: one state per slot (FREE, FULL or END), then each slot's line count, then DONE and STOP. */
const FREE = 0;
const FULL = 1;
const END = 2;
const COUNT = SLOTS;
const DONE = 2 * SLOTS;
const STOP = DONE + 1;
/** Rows after which lanes carry (each lane stays below 2^53: 2^20 sums of 32-bit words on top of one). */
const CARRY_EVERY = 1 << 20;
const WORD = 2 ** 32;

function addDigest(lanes: Float64Array, digest: Uint8Array): void {
  for (let i = 0; i < 8; i += 1) {
    const at = i * 4;
    lanes[i]! += digest[at]! * 0x1000000 + ((digest[at + 1]! << 16) | (digest[at + 2]! << 8) | digest[at + 3]!);
  }
}

/** Moves each lane's overflow into the next more significant lane (lane 0 is the most significant); the top lane's overflow is dropped (mod 2^256). */
function carry(lanes: Float64Array): void {
  let over = 0;
  for (let i = 7; i >= 0; i -= 1) {
    const value = lanes[i]! + over;
    over = Math.floor(value / WORD);
    lanes[i] = value - over * WORD;
  }
}

/** The worker's source (CommonJS, run with `eval`, so the bundle needs no entry file of its own). It repeats addDigest and carry above. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const { data, ends, control, result } = workerData;
const lanes = new Float64Array(8);
const WORD = 2 ** 32;
function carry() {
  let over = 0;
  for (let i = 7; i >= 0; i -= 1) {
    const value = lanes[i] + over;
    over = Math.floor(value / WORD);
    lanes[i] = value - over * WORD;
  }
}
let slot = 0;
let sinceCarry = 0;
for (;;) {
  Atomics.wait(control, slot, ${FREE});
  if (Atomics.load(control, ${STOP}) === 1) break;
  const state = Atomics.load(control, slot);
  if (state === ${FREE}) continue;
  if (state === ${END}) {
    carry();
    result.set(lanes);
    Atomics.store(control, ${DONE}, 1);
    Atomics.notify(control, ${DONE});
    break;
  }
  const base = slot * ${SLOT_BYTES};
  const endBase = slot * ${SLOT_LINES};
  const count = control[${COUNT} + slot];
  let start = base;
  for (let n = 0; n < count; n += 1) {
    const end = base + ends[endBase + n];
    const digest = hash('sha256', data.subarray(start, end), 'buffer');
    for (let i = 0; i < 8; i += 1) {
      const at = i * 4;
      lanes[i] += digest[at] * 0x1000000 + ((digest[at + 1] << 16) | (digest[at + 2] << 8) | digest[at + 3]);
    }
    start = end;
    if (++sinceCarry === ${CARRY_EVERY}) {
      carry();
      sinceCarry = 0;
    }
  }
  Atomics.store(control, slot, ${FREE});
  Atomics.notify(control, slot);
  slot = (slot + 1) % ${SLOTS};
}
`;

interface Shared {
  data: Uint8Array;
  ends: Int32Array;
  control: Int32Array;
  result: Float64Array;
}

export class ValuesDigest {
  /** Rows added. */
  rows = 0;
  /** Lines hashed on this thread (no worker, or every slot busy). */
  readonly #lanes = new Float64Array(8);
  #sinceCarry = 0;
  #worker: Worker | undefined;
  #shared: Shared | undefined;
  #buffer: Buffer | undefined;
  #failure: Error | undefined;
  /** The slot being filled (or next to fill), its bytes used and lines. */
  #slot = 0;
  #filling = false;
  #used = 0;
  #count = 0;
  #result: Promise<string> | undefined;
  #onFailure: ((error: Error) => void) | undefined;

  /** `threaded: false` hashes on the calling thread (as happens when a worker cannot start). */
  constructor(options: { threaded?: boolean } = {}) {
    if (options.threaded === false) return;
    try {
      const shared: Shared = {
        data: new Uint8Array(new SharedArrayBuffer(SLOTS * SLOT_BYTES)),
        ends: new Int32Array(new SharedArrayBuffer(SLOTS * SLOT_LINES * 4)),
        control: new Int32Array(new SharedArrayBuffer((STOP + 1) * 4)),
        result: new Float64Array(new SharedArrayBuffer(8 * 8)),
      };
      // A small young generation: the worker keeps nothing but its sum, and its heap adds to the load's peak RSS (DuckDB's target is 400 MB).
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: shared, resourceLimits: { maxYoungGenerationSizeMb: 1 } });
      worker.unref(); // ref'd only while the digest is awaited, so an abandoned run never waits on it
      const fail = (error: Error) => {
        this.#failure ??= error;
        this.#onFailure?.(this.#failure);
      };
      worker.on('error', fail);
      worker.on('exit', () => {
        // After writing its sum (DONE) the worker ends by itself, possibly before the awaiting side has woken up.
        if (this.#worker === worker && Atomics.load(shared.control, DONE) !== 1) fail(new Error('the worker hashing the values stopped before its sum was taken'));
      });
      this.#worker = worker;
      this.#shared = shared;
      this.#buffer = Buffer.from(shared.data.buffer);
    } catch {
      this.#worker = undefined;
    }
  }

  add(line: string): void {
    this.rows += 1;
    const shared = this.#shared;
    if (shared && !this.#failure) {
      const most = line.length * 3; // the UTF-8 bytes of a UTF-16 string, at most
      if (this.#filling && (this.#used + most > SLOT_BYTES || this.#count === SLOT_LINES)) this.#publish(shared);
      if (!this.#filling && most <= SLOT_BYTES && Atomics.load(shared.control, this.#slot) === FREE) this.#filling = true;
      if (this.#filling) {
        const base = this.#slot * SLOT_BYTES;
        this.#used += this.#buffer!.write(line, base + this.#used);
        shared.ends[this.#slot * SLOT_LINES + this.#count] = this.#used;
        this.#count += 1;
        return;
      }
    }
    this.#addHere(hash('sha256', line, 'buffer'));
  }

  /** The sum as 64 hex digits. Call once every row is added; it ends the worker. */
  digest(): Promise<string> {
    this.#result ??= this.#finish();
    return this.#result;
  }

  /** Ends the worker without a sum (an aborted run); a no-op once the digest is taken. */
  close(): void {
    if (!this.#worker) return;
    this.#stop();
    this.#result ??= Promise.reject(new Error('the values hash was closed before its sum was taken'));
    this.#result.catch(() => {});
  }

  #addHere(digest: Uint8Array): void {
    addDigest(this.#lanes, digest);
    if (++this.#sinceCarry === CARRY_EVERY) {
      carry(this.#lanes);
      this.#sinceCarry = 0;
    }
  }

  #publish(shared: Shared): void {
    shared.control[COUNT + this.#slot] = this.#count;
    Atomics.store(shared.control, this.#slot, FULL);
    Atomics.notify(shared.control, this.#slot);
    this.#slot = (this.#slot + 1) % SLOTS;
    this.#filling = false;
    this.#used = 0;
    this.#count = 0;
  }

  async #finish(): Promise<string> {
    const worker = this.#worker;
    const shared = this.#shared;
    if (!worker || !shared) return this.#hex(undefined);
    worker.ref();
    try {
      if (this.#filling && this.#count > 0) this.#publish(shared);
      const failed = new Promise<never>((_, reject) => {
        this.#onFailure = reject;
        if (this.#failure) reject(this.#failure);
      });
      // The slot after the last one published is freed by the worker in turn; it then reads END there and writes its sum.
      await Promise.race([failed, waitWhile(shared.control, this.#slot, FULL)]);
      Atomics.store(shared.control, this.#slot, END);
      Atomics.notify(shared.control, this.#slot);
      await Promise.race([failed, waitWhile(shared.control, DONE, 0)]);
      return this.#hex(shared.result);
    } finally {
      this.#stop();
    }
  }

  #hex(other: Float64Array | undefined): string {
    const sum = new Float64Array(this.#lanes);
    carry(sum);
    if (other) for (let i = 0; i < 8; i += 1) sum[i]! += other[i]!;
    carry(sum);
    let text = '';
    for (let i = 0; i < 8; i += 1) text += sum[i]!.toString(16).padStart(8, '0');
    return text;
  }

  #stop(): void {
    const worker = this.#worker;
    const shared = this.#shared;
    this.#worker = undefined;
    if (!worker || !shared) return;
    Atomics.store(shared.control, STOP, 1);
    for (let slot = 0; slot < SLOTS; slot += 1) Atomics.notify(shared.control, slot);
    void worker.terminate();
  }
}

/** Resolves once `control[index]` no longer holds `value` (Atomics.waitAsync, so the event loop runs meanwhile). */
async function waitWhile(control: Int32Array, index: number, value: number): Promise<void> {
  while (Atomics.load(control, index) === value) {
    // Atomics.waitAsync is in Node 16 and later; TypeScript lists it from lib es2024.
    const waited = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<unknown> | string } }).waitAsync(control, index, value);
    if (waited.async) await waited.value;
  }
}
