import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ConfigError } from '../errors.js';
import type { Filter } from '../pylon/types.js';
import { openOutput, type OutputFile } from '../output/output-file.js';
import { IdIndex, key64, key64WithHex, parseKey64Hex, type Key64 } from './id-index.js';
import { readManifest, resolveFrom, type ExportManifest, type StateRef } from './manifest.js';

/**
 * Delta exports. Contacts carry no timestamps, so each run records a 64-bit hash
 * of every exported record in a state file (one line per contact:
 * `<16 hex digits> <id>`, in export order). The next run with --since loads the
 * previous state into an IdIndex (ids as 64-bit keys, ~36 MB at 1M contacts),
 * writes only records whose hash is new or different, and lists the ids of the
 * previous state it did not see again (re-reading the state file, so no id
 * strings are kept in memory).
 */
export const STATE_HEADER = 'pylon-contacts-state 1';

/** A short digest of the column list, mixed into every record hash: a change of columns changes every hash. */
export function columnsKey(columns: readonly string[]): string {
  return key64WithHex(JSON.stringify(columns)).hex;
}

/** The hash of one exported record: its cells and the columns key. */
export function recordHash(columnsKey: string, cells: readonly string[]): Key64 & { hex: string } {
  return key64WithHex(columnsKey + JSON.stringify(cells));
}

export type Change = 'new' | 'changed' | 'unchanged';

/** The previous run, loaded for --since. */
export interface Baseline {
  manifestPath: string;
  manifest: ExportManifest & { state: StateRef };
  /** Absolute path of the previous state file. */
  statePath: string;
  /** Previous id key → record hash; ids seen in this run get marked. */
  index: IdIndex;
  /** Compares a current record with the previous run and marks it seen. */
  classify(idKey: Key64, hash: Key64): Change;
}

function sameFilter(a: Filter | null | undefined, b: Filter | null | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Reads the state file line by line, checking its header and sha256 against the manifest. */
async function* readState(path: string, expected: StateRef, since: string): AsyncGenerator<{ key: Key64; hash: Key64; id: string }> {
  const digest = createHash('sha256');
  const stream = createReadStream(path);
  stream.on('data', (chunk) => digest.update(chunk));
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let first = true;
  try {
    for await (const line of lines) {
      if (first) {
        first = false;
        if (line !== STATE_HEADER) throw stateError(since, path, 'is not a pylon-contacts state file');
        continue;
      }
      const hash = parseKey64Hex(line.slice(0, 16));
      const id = line.slice(17);
      if (!hash || line[16] !== ' ' || id === '') throw stateError(since, path, 'has a malformed line');
      yield { key: key64(id), hash, id };
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw stateError(since, path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (first || digest.digest('hex') !== expected.sha256) {
    throw stateError(since, path, 'does not match the sha256 in the manifest (changed or truncated since that run); run a full export');
  }
}

function stateError(since: string, path: string, problem: string): ConfigError {
  return new ConfigError('INPUT_UNREADABLE', `Invalid option \`--since\`: the state file ${path} of ${since} ${problem}`, { option: '--since' });
}

export async function loadBaseline(manifestPath: string, current: { filter: Filter | undefined }): Promise<Baseline> {
  const manifest = await readManifest(manifestPath);
  if (!sameFilter(manifest.filter, current.filter)) {
    throw new ConfigError(
      'CONFIG_INVALID_OPTION',
      `Invalid option \`--since\`: ${manifestPath} was made with ${manifest.filter ? `--filter ${JSON.stringify(manifest.filter)}` : 'no --filter'}; a delta needs the same filter (otherwise the deleted ids would be wrong)`,
      { option: '--since' },
    );
  }
  const statePath = resolveFrom(manifestPath, manifest.state.path);
  const index = new IdIndex({ expected: manifest.state.entries });
  for await (const entry of readState(statePath, manifest.state, manifestPath)) index.add(entry.key, entry.hash);
  return {
    manifestPath,
    manifest,
    statePath,
    index,
    classify(idKey, hash) {
      const previous = index.get(idKey);
      if (previous === undefined) return 'new';
      index.mark(idKey);
      return previous.hi === hash.hi && previous.lo === hash.lo ? 'unchanged' : 'changed';
    },
  };
}

/** Streams the ids of the previous state not seen in this run into a CSV (header `id`). Returns their count. */
export async function writeDeleted(baseline: Baseline, file: OutputFile): Promise<number> {
  let deleted = 0;
  const write = (text: string) => file.write(text);
  await write('id\n');
  for await (const entry of readState(baseline.statePath, baseline.manifest.state, baseline.manifestPath)) {
    if (baseline.index.isMarked(entry.key)) continue;
    deleted += 1;
    await write(/[",\r\n]/.test(entry.id) ? `"${entry.id.replaceAll('"', '""')}"\n` : `${entry.id}\n`);
  }
  return deleted;
}

/** Writes this run's state, one line per contact, with backpressure; hashes it for the manifest. */
export interface StateWriter {
  /** Buffers one line; `flush` writes the buffered lines. */
  add(id: string, hash: { hex: string }): void;
  flush(): Promise<void>;
  /** Ends, fsyncs and renames the file into place. */
  commit(): Promise<Omit<StateRef, 'path'>>;
  discard(): Promise<void>;
}

export async function createStateWriter(path: string): Promise<StateWriter> {
  const file = await openOutput(path);
  const digest = createHash('sha256');
  let entries = 0;
  let pending = STATE_HEADER + '\n';
  const flush = async () => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    digest.update(text);
    await file.write(text);
  };
  return {
    add(id, hash) {
      entries += 1;
      pending += `${hash.hex} ${id}\n`;
    },
    flush,
    async commit() {
      await flush();
      await file.commit();
      return { sha256: digest.digest('hex'), entries };
    },
    discard: () => file.discard(),
  };
}
