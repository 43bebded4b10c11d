import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PylonCliError } from '../errors.js';
import type { Contact } from '../pylon/types.js';
import { hashString } from './hash.js';
import { createTempDir } from '../output/temp-dir.js';
import { keysOfContact } from './lookup-key.js';

export type SpoolMatch = { kind: 'none' } | { kind: 'one'; contact: Contact } | { kind: 'many'; ids: string[] };

/**
 * Every contact of an organisation, findable by email (and by id), in little memory.
 *
 * Contacts are written to a temporary file, one JSON line each. In memory there
 * is only, per contact, its place in the file (12 bytes) and, per key, a 32-bit
 * hash and the contact's number in an open-addressing table (8 bytes a slot, at
 * most half full). A hash match is confirmed by reading the contact back and
 * checking its keys, so a lookup is exact: a collision costs a read, never a wrong
 * answer. A key held by two contacts or more (a shared email) is kept apart,
 * with the contacts' ids, and always answers "many".
 *
 * At 1,000,000 contacts with one email each: 12 MB of places and 16–32 MB of slots.
 */
export class ContactSpool {
  /** The file is unlinked as soon as it is open: no contact stays on disk once the process is gone, kill -9 included. */
  private readonly fd: number;
  /** The temporary folder the file was made in (already removed): a failed write names it. */
  private readonly dir: string;
  private position = 0;
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private slots = new Int32Array(2048); // contact number + 1; 0 is empty
  private hashes = new Uint32Array(2048);
  private keys = 0;
  private readonly shared = new Map<string, Set<string>>();
  private closed = false;
  /** One buffer for every read back: a Buffer per read would come from Node's shared pool slabs. */
  private scratch = Buffer.allocUnsafe(16 * 1024);
  /** One buffer for every page written: a page's text is never built as a string and then copied. */
  private page: Buffer = Buffer.allocUnsafe(1 << 20);
  /** Contacts held. */
  count = 0;
  /** Contacts added again (a key they hold was already theirs): the list moved while it was read, and skipped others. */
  repeats = 0;

  /** @param byId also index `i:<id>` keys (rows with an `id` column). */
  constructor(private readonly byId: boolean) {
    ({ fd: this.fd, dir: this.dir } = openUnlinked());
  }

  /** Appends a page of contacts: each encoded once into a reused buffer, one write, then their keys are indexed. */
  add(contacts: readonly Contact[]): void {
    if (contacts.length === 0) return;
    const first = this.count;
    let used = 0;
    for (const contact of contacts) {
      const line = JSON.stringify(contact);
      // At most 3 bytes per UTF-16 unit, and the newline.
      const room = line.length * 3 + 1;
      if (used + room > this.page.length) this.page = grow(this.page, used, used + room);
      const length = this.page.write(line, used, 'utf8');
      this.page[used + length] = 10;
      const entry = this.count++;
      if (entry === this.offsets.length) this.growPlaces();
      this.offsets[entry] = this.position + used;
      this.lengths[entry] = length;
      used += length + 1;
    }
    try {
      for (let done = 0; done < used; ) {
        const written = writeSync(this.fd, this.page, done, used - done, this.position + done);
        // A full disk may make write(2) return short: writing the rest then fails with the real error (ENOSPC, EFBIG…).
        if (written === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        done += written;
      }
    } catch (error) {
      throw spoolWriteError(this.dir, error);
    }
    this.position += used;
    for (let i = 0; i < contacts.length; i++) {
      let repeated = false;
      for (const key of keysOfContact(contacts[i]!, this.byId)) repeated = this.index(key, first + i, contacts[i]!.id) || repeated;
      if (repeated) this.repeats++;
    }
  }

  /** The contacts holding `key` (`e:<lower-cased email>` or `i:<id>`). */
  find(key: string): SpoolMatch {
    const ids = this.shared.get(key);
    if (ids) return { kind: 'many', ids: [...ids] };
    const found = this.locate(key);
    return found ? { kind: 'one', contact: found.contact } : { kind: 'none' };
  }

  /** Number of table slots: every key held has its own slot below this, fixed once the contacts are all added. */
  get slotCount(): number {
    return this.slots.length;
  }

  /** Keys held. */
  get held(): number {
    return this.keys;
  }

  /** The slot of `key`, or -1 when no contact holds it. */
  slotOf(key: string): number {
    return this.locate(key)?.slot ?? -1;
  }

  private locate(key: string): { slot: number; contact: Contact } | undefined {
    const hash = hashString(key);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; this.slots[slot] !== 0; slot = (slot + 1) & mask) {
      if (this.hashes[slot] !== hash) continue;
      const contact = this.read(this.slots[slot]! - 1);
      if (keysOfContact(contact, this.byId).includes(key)) return { slot, contact };
    }
    return undefined;
  }

  /** Bytes held in memory by the index. */
  get bytes(): number {
    return this.offsets.byteLength + this.lengths.byteLength + this.slots.byteLength + this.hashes.byteLength;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Indexes `key` for the contact at `entry`; true when that contact already held it (listed a second time). */
  private index(key: string, entry: number, id: string): boolean {
    const known = this.shared.get(key);
    if (known) {
      const again = known.has(id);
      known.add(id);
      return again;
    }
    const hash = hashString(key);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (; this.slots[slot] !== 0; slot = (slot + 1) & mask) {
      if (this.hashes[slot] !== hash) continue;
      const other = this.read(this.slots[slot]! - 1);
      if (!keysOfContact(other, this.byId).includes(key)) continue; // a hash collision
      // The same contact listed twice (a list that moved while being read) is not a
      // second holder; its later copy is the fresher one.
      if (other.id === id) {
        this.slots[slot] = entry + 1;
        return true;
      }
      this.shared.set(key, new Set([other.id, id]));
      return false;
    }
    this.slots[slot] = entry + 1;
    this.hashes[slot] = hash;
    if (++this.keys * 2 > this.slots.length) this.growSlots();
    return false;
  }

  private read(entry: number): Contact {
    const length = this.lengths[entry]!;
    if (length > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(length, this.scratch.length * 2));
    readSync(this.fd, this.scratch, 0, length, this.offsets[entry]!);
    return JSON.parse(this.scratch.toString('utf8', 0, length)) as Contact;
  }

  private growPlaces(): void {
    const offsets = new Float64Array(this.offsets.length * 2);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const lengths = new Uint32Array(this.lengths.length * 2);
    lengths.set(this.lengths);
    this.lengths = lengths;
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const hashes = new Uint32Array(this.hashes.length * 2);
    const mask = slots.length - 1;
    for (let i = 0; i < this.slots.length; i++) {
      if (this.slots[i] === 0) continue;
      let slot = this.hashes[i]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = this.slots[i]!;
      hashes[slot] = this.hashes[i]!;
    }
    this.slots = slots;
    this.hashes = hashes;
  }
}

/** A buffer of at least `size` bytes holding the first `used` bytes of `from`. */
function grow(from: Buffer, used: number, size: number): Buffer {
  const to = Buffer.allocUnsafe(Math.max(size, from.length * 2));
  from.copy(to, 0, 0, used);
  return to;
}

/**
 * The contact list could not be written to its temporary file (a full disk, a file size limit): the run stops before
 * its first write (OUTPUT_WRITE), naming the folder and what to do. The folder itself is already gone (see openUnlinked).
 */
function spoolWriteError(dir: string, error: unknown): PylonCliError {
  const reason = error instanceof Error ? error.message : String(error);
  return new PylonCliError(
    'OUTPUT_WRITE',
    `Cannot write the contact list (--lookup list keeps it in a temporary file) in ${dir}: ${reason}. Free space on the disk holding ${dirname(dir)}, or set TMPDIR to a folder on another disk, and run again; nothing was sent to Pylon (the temporary folder was removed)`,
    { cause: error },
  );
}

function openUnlinked(): { fd: number; dir: string } {
  const dir = createTempDir('lookup');
  try {
    return { fd: openSync(join(dir, 'contacts.jsonl'), 'w+'), dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
