import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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

export async function openAtomic(target: string): Promise<AtomicFile> {
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
