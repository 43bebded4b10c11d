import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { ConfigError } from '../errors.js';
import type { Filter } from '../pylon/types.js';
import { openOutput, type OutputFile } from '../output/output-file.js';
import type { PublishRecorder } from '../output/publish-journal.js';
import { IdIndex, idKey, parseKey64Hex, type Key64 } from './id-index.js';
import { readManifest, resolveFrom, type StateRef } from './manifest.js';
import type { SchemaRecord } from './schema.js';
import { RANK, type PageSink } from './sink.js';

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

import { isRowHashKind, type Change, type RowHashKind } from './row-hash.js';
export { columnsKey, recordHash, type Change } from './row-hash.js';

/**
 * The state file `--state PATH` reads and replaces (format 3): the header line,
 * one JSON line saying whose state it is, the `<hash> <id>` lines, and a
 * trailer `end <entries> <sha256>` over everything before it, so a truncated
 * or edited file is found before it is trusted. Format 3 is format 2 with the
 * kind of its record hashes in the meta line (`rowHash`, row-hash.ts); format
 * 2 states are `sha256`. A `--since` manifest's state (format 1) has no meta
 * and no trailer: its manifest holds the sha256 and the hash kind.
 */
export const STATE_FORMAT = 3;
export const STATE_HEADER_META = `pylon-contacts-state ${STATE_FORMAT}`;

/** Whose state a `--state` file is: checked against the run before it is used. */
export interface StateMeta {
  /** `host[:port]` of the API the contacts came from. */
  host: string;
  /** From `GET /me`; null when the run could not tell. */
  organization: { id: string; name: string } | null;
  /** `--columns` as given (null: every column); the columns it gave are in `columns`. */
  columnsOption: string[] | null;
  columns: string[];
  filter: Filter | null;
  runId: string;
  /** When the run that wrote it started: the next run covers changes after that. */
  startedAt: string;
  schema: SchemaRecord | null;
  /** How the record hashes were made (format 3; a format 2 state is `sha256`). */
  rowHash?: RowHashKind;
}

/** The previous committed run: a `--since` manifest, or the `--state` file. */
export interface Baseline {
  /** The path given, or what holds the state (for messages; the manifest's `delta.since` when the baseline is a file). */
  source: string;
  option: '--since' | '--state';
  /** A `--state` file's run: the run that wrote it. */
  runId?: string;
  /** Set when the baseline is the state kept in a loaded table: the target (its password hidden) and the run whose load kept it. */
  table?: { table: string; runId: string | null };
  startedAt: string;
  columns: string[];
  schema: SchemaRecord | null | undefined;
  /** How the state's record hashes were made: this run hashes the same way. */
  rowHash: RowHashKind;
  /** The state file (absolute path) and what it holds. */
  state: StateRef;
  /** Previous id key → record hash; ids seen in this run get marked. */
  index: IdIndex;
  /** Compares a current record with the previous run and marks it seen. */
  classify(idKey: Key64, hash: Key64): Change;
  /** Reads the state's entries again (for the deleted ids). */
  entries(): AsyncGenerator<StateEntry>;
}

export interface StateEntry {
  key: Key64;
  hash: Key64;
  hashHex: string;
  id: string;
}

function sameFilter(a: Filter | null | undefined, b: Filter | null | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function stateError(option: string, path: string, problem: string): ConfigError {
  return new ConfigError('INPUT_UNREADABLE', `Invalid option \`${option}\`: the state file ${path} ${problem}`, { option });
}

/**
 * Reads a state file line by line (format 1 or 2). Format 1 is checked against
 * the sha256 its manifest recorded; format 2 against its own trailer. Calls
 * `onMeta` with format 2's meta line before the first entry.
 */
async function* readState(path: string, check: { option: string; sha256?: string; onMeta?: (meta: StateMeta) => void; restart?: string }): AsyncGenerator<StateEntry> {
  const { option } = check;
  /** How to go on without the file (loadStateFile: a load's next run takes the table's kept state instead). */
  const restart = check.restart ?? 'delete it to start again with a full export';
  const digest = createHash('sha256');
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let format = 0;
  let lineNo = 0;
  let entries = 0;
  let trailer: string | undefined;
  try {
    for await (const line of lines) {
      lineNo += 1;
      if (trailer !== undefined) throw stateError(option, path, `has lines after its end line (corrupt); ${restart}`);
      if (lineNo === 1) {
        const m = /^pylon-contacts-state (\d+)$/.exec(line);
        if (!m) throw stateError(option, path, 'is not a pylon-contacts state file');
        format = Number(m[1]);
        if (format > STATE_FORMAT) throw stateError(option, path, `was written by a newer version of pylon-contacts (state format ${format}; this version reads 1 to ${STATE_FORMAT}); upgrade, or ${restart}`);
        if (format < 1) throw stateError(option, path, 'is not a pylon-contacts state file');
        digest.update(line + '\n');
        continue;
      }
      if (format >= 2 && lineNo === 2) {
        let meta: StateMeta;
        try {
          meta = JSON.parse(line) as StateMeta;
        } catch {
          throw stateError(option, path, `has a corrupt header (not JSON); ${restart}`);
        }
        if (typeof meta?.host !== 'string' || !Array.isArray(meta.columns) || typeof meta.startedAt !== 'string') throw stateError(option, path, `has a corrupt header; ${restart}`);
        if (format === 2) meta.rowHash = 'sha256';
        else if (!isRowHashKind(meta.rowHash)) throw stateError(option, path, `names a record hash this version does not know (${JSON.stringify(meta.rowHash)}); upgrade, or ${restart}`);
        digest.update(line + '\n');
        check.onMeta?.(meta);
        continue;
      }
      if (format >= 2 && line.startsWith('end ')) {
        trailer = line;
        continue;
      }
      const hash = parseKey64Hex(line.slice(0, 16));
      const id = line.slice(17);
      if (!hash || line[16] !== ' ' || id === '') throw stateError(option, path, `has a malformed line ${lineNo} (corrupt)`);
      digest.update(line + '\n');
      entries += 1;
      yield { key: idKey(id), hash, hashHex: line.slice(0, 16), id };
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw stateError(option, path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (lineNo === 0) throw stateError(option, path, `is empty (a run replaces it whole, so something else emptied it); ${restart}`);
  if (format >= 2) {
    const expected = `end ${entries} ${digest.digest('hex')}`;
    if (trailer !== expected) throw stateError(option, path, `is truncated or was changed since it was written (its end line does not match); ${restart}`);
    return;
  }
  if (digest.digest('hex') !== check.sha256) {
    throw stateError(option, path, 'does not match the sha256 in the manifest (changed or truncated since that run); run a full export');
  }
}

function baselineOf(source: string, option: Baseline['option'], found: Omit<Baseline, 'source' | 'option' | 'index' | 'classify' | 'entries'>, read: () => AsyncGenerator<StateEntry>, index: IdIndex): Baseline {
  return {
    source,
    option,
    ...found,
    index,
    classify(idKey, hash) {
      const previous = index.get(idKey);
      if (previous === undefined) return 'new';
      index.mark(idKey);
      return previous.hi === hash.hi && previous.lo === hash.lo ? 'unchanged' : 'changed';
    },
    entries: read,
  };
}

/** The baseline of `--since`: the manifest of an earlier run and the state it names. */
export async function loadBaseline(manifestPath: string, current: { filter: Filter | undefined }): Promise<Baseline> {
  const manifest = await readManifest(manifestPath);
  if (!sameFilter(manifest.filter, current.filter)) {
    throw new ConfigError(
      'CONFIG_INVALID_OPTION',
      `Invalid option \`--since\`: ${manifestPath} was made with ${manifest.filter ? `--filter ${JSON.stringify(manifest.filter)}` : 'no --filter'}; a delta needs the same filter (otherwise the deleted ids would be wrong)`,
      { option: '--since' },
    );
  }
  const rowHash = manifest.state.rowHash ?? 'sha256';
  if (!isRowHashKind(rowHash)) {
    throw new ConfigError('INPUT_UNREADABLE', `Invalid option \`--since\`: ${manifestPath} names a record hash this version does not know (${JSON.stringify(rowHash)}); upgrade, or run a full export`, { option: '--since' });
  }
  const statePath = resolveFrom(manifestPath, manifest.state.path);
  const read = () => readState(statePath, { option: '--since', sha256: manifest.state.sha256 });
  const index = new IdIndex({ expected: manifest.state.entries });
  for await (const entry of read()) index.add(entry.key, entry.hash);
  return baselineOf(manifestPath, '--since', { startedAt: manifest.startedAt, columns: manifest.columns, schema: manifest.schema, rowHash, state: { ...manifest.state, path: statePath } }, read, index);
}

/** Who is asking for a `--state` file: it must be the run that wrote it (same API host, organisation, --columns and --filter). */
export interface StateOwner {
  host: string;
  organization: { id: string; name: string } | null;
  columnsOption: string[] | null;
  filter: Filter | null;
}

/** Reads `--state PATH` (or a table's state staged at PATH, named `label`): undefined on the first run (no file yet); a ConfigError (exit 2) for someone else's, corrupt or newer state. */
export async function loadStateFile(path: string, owner: StateOwner, label?: string, options: { checkHost?: boolean; withTable?: boolean } = {}): Promise<Baseline | undefined> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw stateError('--state', path, `cannot be read (${error.code ?? String(error)})`);
  });
  if (!info) return undefined;
  if (!info.isFile()) throw stateError('--state', path, 'is not a regular file');
  let meta: StateMeta | undefined;
  const sha = createHash('sha256');
  sha.setEncoding('hex');
  // A load's next run takes the state kept in the table as its baseline when the file is gone (not when the file is that state).
  const restart = options.withTable && label === undefined ? 'delete it: the next run then takes the state kept in the table as its baseline, so its change log holds only the changes, and writes a new state file' : undefined;
  const read = () => readState(path, { option: '--state', onMeta: (m) => (meta = m), restart });
  const index = new IdIndex({ expected: Math.max(1, Math.round(info.size / 40)) });
  let entries = 0;
  for await (const entry of read()) {
    if (entries === 0) checkOwner(path, meta, owner, options.checkHost ?? true, options.withTable ?? false);
    entries += 1;
    index.add(entry.key, entry.hash);
  }
  if (entries === 0) checkOwner(path, meta, owner, options.checkHost ?? true, options.withTable ?? false);
  await pipeline(createReadStream(path), sha);
  return baselineOf(label ?? path, '--state', { runId: meta!.runId, startedAt: meta!.startedAt, columns: meta!.columns, schema: meta!.schema, rowHash: meta!.rowHash ?? 'sha256', state: { path, sha256: sha.read() as string, entries, rowHash: meta!.rowHash ?? 'sha256' } }, read, index);
}

/** The record-hash kind a state's bytes name (format 3's meta line; format 2 is `sha256`), or undefined when they are no `--state` file. Reads the first two lines only. */
export function stateRowHash(bytes: Uint8Array): RowHashKind | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 64 * 1024)).toString('utf8');
  const [header, metaLine] = text.split('\n', 2);
  if (header === 'pylon-contacts-state 2') return 'sha256';
  if (header !== STATE_HEADER_META || metaLine === undefined) return undefined;
  try {
    const kind = (JSON.parse(metaLine) as { rowHash?: unknown }).rowHash;
    return isRowHashKind(kind) ? kind : undefined;
  } catch {
    return undefined;
  }
}

/** `withTable`: the run loads a table (`--to`), whose kept state becomes the baseline when the --state file is gone (same organisation, columns and filter; any host). */
function checkOwner(path: string, meta: StateMeta | undefined, owner: StateOwner, checkHost: boolean, withTable: boolean): void {
  if (!meta) throw stateError('--state', path, 'is a --since state (format 1), not a --state file; give its manifest to --since, or use a new --state path');
  const start = 'belongs to another run';
  const sameOrganization = meta.organization && owner.organization && meta.organization.id === owner.organization.id;
  if (checkHost && meta.host !== owner.host) {
    // The same organisation at another address (a proxy, another spelling of the host, a new region) is still this pipeline's: say how to go on from here.
    const moveAside = sameOrganization
      ? `, or, as both are the organisation ${owner.organization!.name} (reached another way: a proxy, another name for the host), move the state file aside: ${
          withTable ? 'the next run then takes the state kept in the table as its baseline, so its change log holds only the changes, and writes a new state file' : 'the next run is then a full export (its change log lists every contact as an insert)'
        }`
      : '';
    throw stateError('--state', path, `${start}: it holds contacts from ${meta.host}, this run reads ${owner.host}; run with the address that wrote it (--base-url or PYLON_BASE_URL)${moveAside}`);
  }
  if (meta.organization && owner.organization && meta.organization.id !== owner.organization.id) {
    throw stateError(
      '--state',
      path,
      `${start}: it holds contacts of the organisation ${meta.organization.name} (${meta.organization.id}), the token belongs to ${owner.organization.name} (${owner.organization.id}); use a token of ${meta.organization.name}, or give ${owner.organization.name}'s contacts a --state file${withTable ? ' and table' : ''} of their own`,
    );
  }
  if (JSON.stringify(meta.columnsOption) !== JSON.stringify(owner.columnsOption)) {
    const say = (c: string[] | null) => (c ? `--columns ${c.join(',')}` : 'every column');
    throw stateError('--state', path, `${start}: it was written with ${say(meta.columnsOption)}, this run asks for ${say(owner.columnsOption)}; use one state file per column set`);
  }
  if (!sameFilter(meta.filter, owner.filter)) {
    throw stateError('--state', path, `${start}: it was written with ${meta.filter ? `--filter ${JSON.stringify(meta.filter)}` : 'no --filter'}; a delta needs the same filter (otherwise the deleted ids would be wrong)`);
  }
}

/** Streams the ids of the previous state not seen in this run into a CSV (header `id`), and to `onDeleted` with their last hash. Returns their count. */
export async function writeDeleted(baseline: Baseline, file: OutputFile | undefined, onDeleted?: (id: string, hashHex: string) => Promise<void>): Promise<number> {
  let deleted = 0;
  const write = async (text: string) => {
    if (file) await file.write(text);
  };
  await write('id\n');
  for await (const entry of baseline.entries()) {
    if (baseline.index.isMarked(entry.key)) continue;
    deleted += 1;
    await onDeleted?.(entry.id, entry.hashHex);
    await write(/[",\r\n]/.test(entry.id) ? `"${entry.id.replaceAll('"', '""')}"\n` : `${entry.id}\n`);
  }
  return deleted;
}

/** Writes this run's state, one line per contact, with backpressure; hashes it for the manifest. A sink of the run (sink.ts). */
export interface StateWriter extends PageSink {
  /** What the manifest records, once prepared. */
  readonly ref: StateRef | undefined;
  /** Where the prepared state sits until it is published (a load copies it into its table). */
  readonly stagedPath: string | undefined;
  /** The copy's path (StateCopy), once prepared. */
  readonly copyPath: string | undefined;
}

/** A second destination for the state's text as it is written (a load's gzip-compressed copy, load/common.ts stateGzipCopy). */
export interface StateCopy {
  readonly path: string;
  /** Adds text with backpressure; rejects once the copy has failed. */
  write(text: string): Promise<void>;
  /** Ends the copy and waits until its file is closed. */
  end(): Promise<void>;
  /** Stops the copy. */
  abort(): void;
}

/**
 * Bytes of state the file stream holds before a page waits for the disk: a
 * page's lines (about 55 KB) went over Node's 16 KiB default, so the walk
 * stopped once a page until the write was done. Gathering the text instead
 * kept thousands of small strings alive across pages (more garbage collection).
 */
const STATE_BUFFER_BYTES = 1 << 20;

/** Format 1 (beside a `--since` manifest) without `meta`; format 3 (`--state`) with it. `rowHash`: how the records' hashes were made (in the meta, or in the manifest's state). */
export async function createStateWriter(path: string, meta: Omit<StateMeta, 'rowHash'> | undefined, rowHash: RowHashKind, copy?: StateCopy, journal?: PublishRecorder, options: { scratch?: boolean } = {}): Promise<StateWriter> {
  const file = await openOutput(path, { highWaterMark: STATE_BUFFER_BYTES, journal, label: 'the state file', scratch: options.scratch });
  const digest = createHash('sha256');
  // Format 2's trailer hashes everything before it; the manifest's sha256 covers the whole file.
  const body = meta ? createHash('sha256') : undefined;
  let entries = 0;
  let pending = meta ? `${STATE_HEADER_META}\n${JSON.stringify({ ...meta, rowHash })}\n` : STATE_HEADER + '\n';
  const flush = async () => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    digest.update(text);
    body?.update(text);
    await Promise.all([file.write(text), copy?.write(text)]);
  };
  let ref: StateRef | undefined;
  return {
    rank: RANK.state,
    get ref() {
      return ref;
    },
    get stagedPath() {
      return ref ? file.writingPath : undefined;
    },
    get copyPath() {
      return ref ? copy?.path : undefined;
    },
    async page(records) {
      for (const record of records) {
        entries += 1;
        pending += `${record.hash!.hex} ${record.id}\n`;
      }
      await flush();
    },
    async prepare() {
      if (body) pending += `end ${entries} ${body.copy().update(pending).digest('hex')}\n`;
      await flush();
      await Promise.all([file.prepare(), copy?.end()]);
      ref = { path, sha256: digest.digest('hex'), entries, rowHash };
      return [file];
    },
    abort: () => {
      copy?.abort();
      return file.discard();
    },
  };
}
