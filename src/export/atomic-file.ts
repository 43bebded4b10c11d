import { createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import type { Writable } from 'node:stream';
import { PylonCliError } from '../errors.js';

/**
 * A file written under a temporary name beside its target and renamed over it
 * only by `commit()`, after an fsync: readers see the old file or the whole new
 * one, never a short one. `discard()` removes the temporary file.
 */
export interface AtomicFile {
  readonly target: string;
  readonly tempPath: string;
  /** Ended by the writer (e.g. by `pipeline`); it fsyncs the file before it closes. */
  readonly stream: Writable;
  /** True when the target is not a regular file (a FIFO, a device, /dev/stdout): written in place, never renamed over. */
  readonly inPlace: boolean;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
}

function writeError(path: string, error: unknown): PylonCliError {
  const reason = error instanceof Error ? error.message : String(error);
  return new PylonCliError('OUTPUT_WRITE', `Cannot write ${path}: ${reason}`, { cause: error });
}

/**
 * Is `path` something other than a regular file or nothing: a FIFO, a
 * character device, a socket, or anything under /dev or /proc (/dev/stdout is
 * a regular file when stdout is redirected to one, and must still not be renamed over).
 */
export function isSpecialFile(path: string): boolean {
  const absolute = resolvePath(path);
  if (absolute.startsWith('/dev/') || absolute.startsWith('/proc/')) return true;
  const info = statSync(path, { throwIfNoEntry: false });
  return info !== undefined && !info.isFile() && !info.isDirectory();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.<name>.<pid>.partial` files beside `target` left by processes that no longer run (kill -9). Returns their paths. */
export async function removeStalePartials(target: string): Promise<string[]> {
  const dir = dirname(target);
  const prefix = `.${basename(target)}.`;
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix) || !name.endsWith('.partial')) continue;
    const pid = Number(name.slice(prefix.length, -'.partial'.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    const path = join(dir, name);
    if (await unlink(path).then(() => true, () => false)) removed.push(path);
  }
  return removed;
}

/** A target that is not a regular file is opened and written as it is: renaming a file over a FIFO or /dev/null would replace it. */
async function openInPlace(target: string): Promise<AtomicFile> {
  const stream = createWriteStream(target, { flags: 'w' });
  try {
    await once(stream, 'open');
  } catch (error) {
    throw writeError(target, error);
  }
  let settled = false;
  return {
    target,
    tempPath: target,
    stream,
    inPlace: true,
    async commit() {
      if (settled) return;
      settled = true;
      if (!stream.closed) {
        stream.end();
        await once(stream, 'close');
      }
    },
    async discard() {
      if (settled) return;
      settled = true;
      if (!stream.closed) {
        stream.destroy();
        await once(stream, 'close').catch(() => {});
      }
    },
  };
}

export async function openAtomic(target: string): Promise<AtomicFile> {
  if (isSpecialFile(target)) return openInPlace(target);
  const tempPath = tempPathFor(target);
  const stream = createWriteStream(tempPath, { flush: true });
  try {
    await once(stream, 'open');
  } catch (error) {
    throw writeError(target, error);
  }
  let settled = false;
  return {
    target,
    tempPath,
    stream,
    inPlace: false,
    async commit() {
      if (settled) return;
      settled = true;
      try {
        if (!stream.closed) {
          stream.end();
          await once(stream, 'close');
        }
        await rename(tempPath, target);
      } catch (error) {
        await unlink(tempPath).catch(() => {});
        throw writeError(target, error);
      }
      await syncDirectory(dirname(target));
    },
    async discard() {
      if (settled) return;
      settled = true;
      if (!stream.closed) {
        stream.destroy();
        await once(stream, 'close').catch(() => {});
      }
      await unlink(tempPath).catch(() => {});
    },
  };
}

/** Writes a small file atomically (manifests). */
export async function writeFileAtomic(target: string, text: string): Promise<void> {
  const file = await openAtomic(target);
  try {
    file.stream.end(text);
    await once(file.stream, 'close');
    await file.commit();
  } catch (error) {
    await file.discard();
    throw error instanceof PylonCliError ? error : writeError(target, error);
  }
}

/** Makes a rename durable. Some platforms cannot open a directory: best effort. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => {});
  await handle.close().catch(() => {});
}
