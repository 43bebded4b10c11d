/**
 * Every file the tool writes goes through here: error reports, results, undo
 * files, export data and its sidecars, manifests.
 *
 * - `checkWritable()` proves, before a run's first API write, that each output
 *   can be created where it is asked for (a coded usage error naming the path
 *   and the flag otherwise: exit 2, nothing sent).
 * - `openOutput()` writes a regular file under a temporary sibling
 *   (`.<name>.<pid>.partial`) and renames it into place on `commit()`, after an
 *   fsync: readers see the old file or the whole new one. A target that exists and
 *   is not a regular file (a FIFO, a character device such as /dev/null or
 *   /dev/stdout) is written in place, never renamed over.
 * - Every failure, at open, write or commit, is one `OUTPUT_WRITE` error naming
 *   the path; no promise here waits for an event that a failed stream never emits.
 * - Temporary siblings left by processes that no longer run (a `.partial`, a
 *   `.previous`, the `.probe` of `checkWritable()`) are swept by the next run
 *   that checks or writes the same target. An export also records its files in
 *   a journal (publish-journal.ts), so its next run settles a killed run's
 *   files wherever they are (names with `{date}` or `{run_id}` are never
 *   written again).
 */
import { createWriteStream, readdirSync, statSync, type Stats, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, PylonCliError } from '../errors.js';
import { processAlive } from './process-alive.js';
import type { PublishRecorder } from './publish-journal.js';

/** An output and the flag that named it (for messages). */
export interface OutputTarget {
  path: string;
  option: string;
  /** How messages name the output when not by its option (`the output file` for a positional). */
  label?: string;
}

export interface OutputFile {
  readonly path: string;
  /** The file being written: the temporary sibling, or the target itself when written in place. */
  readonly writingPath: string;
  /** The underlying stream, for `pipeline()`; its errors surface through `commit()`. */
  readonly stream: WriteStream;
  /** Writes with backpressure; rejects with OUTPUT_WRITE once the file has failed. */
  write(chunk: string | Buffer): Promise<void>;
  /** Ends the file, fsyncs it and renames it into place. */
  commit(): Promise<void>;
  /** Ends the file and fsyncs it, leaving it under its temporary name (`publishTogether` renames it). */
  prepare(): Promise<void>;
  /** True when written in place (a special file): there is nothing to rename. */
  readonly inPlace: boolean;
  /** A file in one of the run's scratch folders (not an output): the journal never lists it, and the scratch sweep removes what a killed run left of it. */
  readonly scratch?: boolean;
  /** Removes the temporary file (a file written in place is left as it is). */
  discard(): Promise<void>;
}

const SIBLING = /^\.(.+)\.(\d+)\.(partial|previous|probe)$/;

/** Where `publishTogether` keeps the file a target replaced until the whole set is committed. */
export function previousPathFor(target: string, pid = process.pid): string {
  return join(dirname(target), `.${basename(target)}.${pid}.previous`);
}

/** The file `checkWritable` creates and removes beside `target` to prove it can be written. */
export function probePathFor(target: string, pid = process.pid): string {
  return join(dirname(target), `.${basename(target)}.${pid}.probe`);
}

/** The temporary sibling a process writes `target` under. */
export function partialPathFor(target: string, pid = process.pid): string {
  return join(dirname(target), `.${basename(target)}.${pid}.partial`);
}

export function outputWriteError(path: string, error: unknown, label?: string): PylonCliError {
  if (error instanceof PylonCliError && error.code === 'OUTPUT_WRITE') return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new PylonCliError('OUTPUT_WRITE', `Cannot write ${label ? `${label} ` : ''}${path}: ${reason}`, { cause: error });
}

/**
 * A failed write of the temporary copy `openOutput` stages `target` under. The
 * target itself is replaced only by the rename at commit, so a full disk (or
 * quota) says that the file was left as it was and which folder is full:
 * `Cannot write small/lk/contacts.state: …` read as if the state were damaged.
 * `label` names what the file is (`the state file`). Other failures keep
 * outputWriteError's message.
 */
export function stagedWriteError(target: string, error: unknown, label?: string): PylonCliError {
  if (error instanceof PylonCliError && error.code === 'OUTPUT_WRITE') return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return outputWriteError(target, error);
  const reason = error instanceof Error ? error.message : String(error);
  const name = label ? `${label} ${target}` : target;
  const full = code === 'ENOSPC' ? 'is full' : 'has used up its disk quota';
  return new PylonCliError(
    'OUTPUT_WRITE',
    `Cannot write ${name}: the disk holding ${dirname(target)} ${full} (${reason}). Only its temporary copy was being written, so ${name} was left as it was; free space in ${dirname(target)} (or name a folder on another disk) and run again`,
    { cause: error },
  );
}

/**
 * True when `path` exists and is not a regular file (a FIFO, a device, a
 * socket), or is under /dev or /proc: /dev/stdout redirected to a regular file
 * stats as one, and renaming over it fails (or replaces the link).
 */
/**
 * What a special file writes to, so that two names of one device or pipe
 * compare equal: a device by its device number (`/dev/stderr` and
 * `/dev/pts/3` are one terminal), anything else by its file system and inode
 * (a FIFO and a link to it). `/dev/null` is `null`; undefined when the path
 * cannot be stat'ed.
 */
export function specialFileIdentity(path: string): string | undefined {
  let s: Stats;
  try {
    s = statSync(path);
  } catch {
    return undefined;
  }
  if (!s.isCharacterDevice() && !s.isBlockDevice()) return `${s.dev}:${s.ino}`;
  const devNull = (() => {
    try {
      return statSync('/dev/null').rdev;
    } catch {
      return undefined;
    }
  })();
  return s.isCharacterDevice() && s.rdev === devNull ? 'null' : `device ${s.rdev}`;
}

/** One file under two names: the same path, or (when both exist) the same file system and inode (a link). */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  // A path that cannot be stat'ed (missing, under a file: ENOTDIR, unreadable) is no existing file; the output checks name why.
  const stat = (path: string) => {
    try {
      return statSync(path, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  };
  const [x, y] = [stat(a), stat(b)];
  return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino;
}

/**
 * Refuses (CONFIG_INVALID_OPTION, exit 2, before any call) an output that is the file the run reads
 * (`described`, e.g. "the input file this run reads"): each output here replaces its file, and an error
 * report is removed by a run with nothing to report (`import f.csv --errors f.csv` replaced f.csv).
 */
export function refuseOutputsOn(file: string, described: string, outputs: ReadonlyArray<readonly [option: string, path: string | undefined, what: string]>): void {
  for (const [option, path, what] of outputs) {
    if (path !== undefined && sameFile(path, file)) {
      throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: ${path} is ${described}, which the ${what} would replace; give ${option} another path. Nothing was sent.`, { option });
    }
  }
}

/** The names of this process's stdout, whatever it is connected to. */
const STDOUT_NAMES = new Set(['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1', `/proc/${process.pid}/fd/1`]);

/**
 * True when `path` names this process's stdout. By name only: where stdout
 * and stderr are one terminal or one pipe (`2>&1`), `/dev/stderr` is the
 * same device, but the user named another stream and may redirect it.
 */
export function isStdout(path: string): boolean {
  return STDOUT_NAMES.has(resolve(path));
}

export function isSpecialFile(path: string): boolean {
  const absolute = resolve(path);
  if (absolute.startsWith('/dev/') || absolute.startsWith('/proc/')) return true;
  try {
    const s = statSync(path);
    return !s.isFile() && !s.isDirectory();
  } catch {
    return false;
  }
}


/**
 * Temporary siblings of `target` left by processes that no longer run: their
 * `.partial` files, and the `.previous` copy a publish kept (the set it belonged
 * to was never committed).
 */
export function deadPartials(target: string, skip?: ReadonlySet<number>): string[] {
  return deadSiblings(target, ['partial', 'previous'], skip);
}

/** The siblings of `target` of these kinds whose process no longer runs (and is not in `skip`). */
function deadSiblings(target: string, kinds: readonly string[], skip?: ReadonlySet<number>): string[] {
  const name = basename(target);
  return deadSiblingsIn(dirname(target), (of, kind) => of === name && kinds.includes(kind), skip);
}

/** The temporary siblings in `dir` (`.<name>.<pid>.<kind>`) that `accepts` takes, whose process no longer runs (and is not in `skip`). */
function deadSiblingsIn(dir: string, accepts: (name: string, kind: string) => boolean, skip?: ReadonlySet<number>): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    const m = SIBLING.exec(entry);
    if (m && accepts(m[1]!, m[3]!) && !skip?.has(Number(m[2])) && !processAlive(Number(m[2]))) found.push(join(dir, entry));
  }
  return found;
}

/**
 * Removes the `.partial` files that processes no longer running left in `dir` for
 * the outputs whose name `match` accepts: outputs named anew by each run (an update
 * of stdin or `--where` stamps its error report with its start time), which the
 * sweep by target (`sweepDeadPartials`) never meets again. Returns them.
 */
export async function sweepDeadPartialsIn(dir: string, match: RegExp): Promise<string[]> {
  const stale = deadSiblingsIn(dir, (name, kind) => kind === 'partial' && match.test(name));
  for (const path of stale) await unlink(path).catch(() => undefined);
  return stale;
}

/**
 * The probes of `checkWritable` that a killed process left (a kill -9 between
 * creating one and removing it): they hold one byte and nothing to recover.
 */
async function sweepDeadProbes(target: string): Promise<void> {
  for (const path of deadSiblings(target, ['probe'])) await unlink(path).catch(() => undefined);
}

/**
 * Removes the temporary siblings of `target` that dead processes left; returns
 * the `.partial` and `.previous` ones. A `.previous` copy is put back in place:
 * the process died while publishing a set of files, so its target goes back to
 * what it was. An export's run settles its killed runs from their journals
 * first (publish-journal.ts), wherever their files are; this catches what a
 * version without the journal left. `skip`: processes whose siblings stay.
 */
export async function sweepDeadPartials(target: string, skip?: ReadonlySet<number>): Promise<string[]> {
  const stale = deadPartials(target, skip);
  for (const path of stale) {
    if (path.endsWith('.previous')) await rename(path, target).catch(() => undefined);
    else await unlink(path).catch(() => undefined);
  }
  await sweepDeadProbes(target);
  return stale;
}

/** Why a file or folder cannot be written, in words (`its folder does not exist`, `permission denied`). */
export function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'its folder does not exist';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'the disk is full';
    case 'EISDIR':
      return 'it is a folder';
    default:
      return e instanceof Error ? e.message : String(error);
  }
}

/**
 * The journal (or its lock) could not be created or given its first line, before the run's first call: a usage error
 * (exit 2) as for any output that cannot be written, naming the path and what to do, never a bare errno.
 */
export function journalUnwritable(path: string, error: unknown, what = '--journal'): ConfigError {
  const reason = describe(error);
  const fix =
    (error as NodeJS.ErrnoException)?.code === 'ENOSPC'
      ? 'Free space on that disk, or pass --journal <file> on another one'
      : 'Pass --journal <file> somewhere that can be written';
  return new ConfigError('OUTPUT_UNWRITABLE', `Cannot write ${path} (${what}): ${reason}. ${fix}. Nothing was sent to Pylon.`, { option: '--journal', cause: error });
}

function unwritable(target: OutputTarget, reason: string, cause?: unknown): ConfigError {
  // A full disk is not fixed by the path: say what is (more space, or the output elsewhere).
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const fix = code === 'ENOSPC' ? ` Free space on that disk, or ${target.label ? `write ${target.label}` : `pass ${target.option} <file>`} on another one.` : '';
  // A missing folder is the common slip (a typo, or a folder not made yet): say how to make it.
  const next = code === 'ENOENT' ? `; create the folder (mkdir -p ${dirname(target.path)}), or ${target.label ? 'name a file' : `pass ${target.option} a file`} in a folder that exists` : '';
  return new ConfigError('OUTPUT_UNWRITABLE', `Cannot write ${target.path} (${target.label ?? target.option}): ${reason}.${fix} Nothing was sent to Pylon${next}.`, {
    option: target.option,
    cause,
  });
}

/**
 * Proves each target can be written: it is not a folder, its folder exists, and a
 * file can be created there (a real probe: permission bits say nothing for root,
 * nor for read-only mounts). Special files are opened for writing as they are.
 * Throws a ConfigError (OUTPUT_UNWRITABLE, exit 2) for the first that cannot.
 */
export async function checkWritable(targets: readonly OutputTarget[]): Promise<void> {
  const seen = new Set<string>();
  for (const target of targets) {
    if (seen.has(target.path)) continue;
    seen.add(target.path);
    const existing = await stat(target.path).catch(() => undefined);
    if (existing?.isDirectory()) throw unwritable(target, 'it is a folder');
    if (existing && (!existing.isFile() || isSpecialFile(target.path))) {
      // Written in place: a FIFO without a reader would block, so only the permission is checked.
      const { access, constants } = await import('node:fs/promises');
      await access(target.path, constants.W_OK).catch((error) => {
        throw unwritable(target, describe(error), error);
      });
      continue;
    }
    await sweepDeadProbes(target.path);
    const probe = probePathFor(target.path);
    try {
      const handle = await open(probe, 'wx');
      try {
        await handle.write('x');
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      await unlink(probe).catch(() => undefined);
      // ENOENT from a folder that exists (/proc, some FUSE mounts): the folder is there but takes no new file, and
      // "its folder does not exist; create the folder" would send the user after a folder they already have.
      const folder = dirname(target.path);
      if ((error as NodeJS.ErrnoException)?.code === 'ENOENT' && (await stat(folder).catch(() => undefined))?.isDirectory()) {
        throw unwritable(target, `its folder ${folder} exists but no file can be created in it (ENOENT); pass a path on a disk you can write to`);
      }
      throw unwritable(target, describe(error), error);
    }
    await unlink(probe).catch(() => undefined);
    if (existing) {
      const handle = await open(target.path, 'r+').catch((error) => {
        throw unwritable(target, describe(error), error);
      });
      await handle.close();
    }
  }
}

/** Resolves when `stream` drains; rejects as soon as it fails (a failed stream never drains). */
function drained(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', done);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(stream.errored ?? new Error('closed before the data was written'));
    stream.on('drain', onDrain);
    stream.on('error', done);
    stream.on('close', onClose);
  });
}

/** Opens `target` for writing (see the module's comment). Rejects with OUTPUT_WRITE. */
export interface OpenOutputOptions {
  /** A failed commit leaves the partial where it is (an undo file's rows are worth more than a clean folder: `--resume` reads them). */
  keepPartialOnFailure?: boolean;
  /** Bytes the stream buffers before `write` waits for the disk (Node's default, 16 KiB, when absent): a file written a page at a time waits once a page otherwise. */
  highWaterMark?: number;
  /** The run's journal (publish-journal.ts): told of the temporary file before it is created, so the next run removes it if this one is killed. */
  journal?: PublishRecorder;
  /** What the file is, for a full disk's message (`the state file`): stagedWriteError. */
  label?: string;
  /** A file in a scratch folder of the run (OutputFile.scratch): not recorded in the journal. */
  scratch?: boolean;
}

export async function openOutput(target: string, options: OpenOutputOptions = {}): Promise<OutputFile> {
  const inPlace = isSpecialFile(target);
  if (!inPlace) await sweepDeadPartials(target);
  const writingPath = inPlace ? target : partialPathFor(target);
  if (!inPlace && !options.scratch) await options.journal?.recordPartial(writingPath).catch((error: unknown) => {
    throw outputWriteError(target, error);
  });
  // A write to the temporary copy leaves the target as it was: a full disk says so (stagedWriteError); a special file is written in place.
  const writeError = (error: unknown) => (inPlace ? outputWriteError(target, error, options.label) : stagedWriteError(target, error, options.label));
  const highWaterMark = options.highWaterMark;
  const stream = createWriteStream(writingPath, inPlace ? { flags: 'w', highWaterMark } : { flags: 'w', flush: true, highWaterMark });
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure ??= error;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
  } catch (error) {
    throw writeError(error);
  }
  let settled = false;
  let prepared = false;
  const check = () => {
    const error = failure ?? stream.errored;
    if (error) throw writeError(error);
  };
  const prepare = async () => {
    if (prepared) return;
    try {
      if (!stream.writableEnded) stream.end();
      await finished(stream);
      check();
    } catch (error) {
      throw writeError(failure ?? error);
    }
    prepared = true;
  };
  return {
    path: target,
    writingPath,
    stream,
    inPlace,
    scratch: options.scratch,
    prepare,
    async write(chunk) {
      check();
      if (!stream.write(chunk)) {
        try {
          await drained(stream);
        } catch (error) {
          throw writeError(failure ?? error);
        }
      }
    },
    async commit() {
      if (settled) return;
      settled = true;
      try {
        await prepare();
        if (!inPlace) await rename(writingPath, target);
      } catch (error) {
        if (!inPlace && !options.keepPartialOnFailure) await unlink(writingPath).catch(() => undefined);
        throw outputWriteError(target, failure ?? error);
      }
      if (!inPlace) await syncDirectory(dirname(target));
    },
    async discard() {
      if (settled && !prepared) return;
      settled = true;
      if (!stream.closed) {
        stream.destroy();
        await finished(stream).catch(() => undefined);
      }
      if (!inPlace) await unlink(writingPath).catch(() => undefined);
    },
  };
}

/**
 * Writes a small file whole (manifests, sidecars). `journal`: the run's (openOutput), so a kill before the rename leaves a temporary
 * file the next run removes; `killAt`: the test hook's point (killPoint) between the write and the rename.
 */
export async function writeFileAtomic(target: string, text: string, options: { journal?: PublishRecorder; killAt?: string } = {}): Promise<void> {
  const file = await openOutput(target, { journal: options.journal });
  try {
    await file.write(text);
    if (options.killAt !== undefined) killPoint(options.killAt);
    await file.commit();
  } catch (error) {
    await file.discard();
    throw outputWriteError(target, error);
  }
}

/** Makes a rename durable. Some platforms cannot open a directory: best effort. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => {});
  await handle.close().catch(() => {});
}

/**
 * Test hook: `PYLON_TEST_KILL_AT=<point>` makes the process SIGKILL itself at
 * that point of a publish, so a test can kill a run at an exact step:
 * `rename:<n>` once `publishTogether` has renamed n files into place
 * (`rename:0`: just before the first rename, every file staged), `commit`
 * right after the load's COMMIT (before the run records it), `failed-manifest`
 * once a failed run's manifest is written to its temporary file (before its
 * rename). Unset: nothing.
 */
export function killPoint(point: string): void {
  if (process.env.PYLON_TEST_KILL_AT === point) process.kill(process.pid, 'SIGKILL');
}

/** A set of files put in place by `publishTogether`, not yet final. */
export interface PublishedSet {
  /** Puts every target back as it was (the old file, or no file); returns the targets it could not restore. */
  rollback(): Promise<string[]>;
  /** Drops the kept copies: the set is final. */
  finish(): Promise<void>;
}

/**
 * Renames prepared files into place one after the other, keeping each replaced
 * target as a hard-linked `.previous` sibling until `finish()`, so the whole set
 * can be put back (`rollback()`, or the next run's sweep after a kill) when a
 * later step fails. A failed rename puts back the ones already renamed and
 * rejects with OUTPUT_WRITE naming the file; every file not yet renamed is discarded.
 */
export async function publishTogether(files: readonly OutputFile[], journal?: PublishRecorder): Promise<PublishedSet> {
  const done: Array<{ target: string; previous: string | undefined }> = [];
  const rollback = async () => {
    const failed: string[] = [];
    for (const { target, previous } of done.reverse()) {
      try {
        if (previous) await rename(previous, target);
        else await unlink(target);
      } catch {
        failed.push(target);
      }
    }
    done.length = 0;
    return failed;
  };
  try {
    // Every file the set renames, recorded before the first rename: a run killed from here on is undone (or kept, if it committed) by the next (publish-journal.ts).
    await journal?.recordPublish(files.filter((f) => !f.inPlace && !f.scratch).map((f) => ({ target: f.path, writing: f.writingPath, previous: previousPathFor(f.path) })));
  } catch (error) {
    await Promise.all(files.map((f) => f.discard()));
    throw outputWriteError(files[0]?.path ?? 'the publish journal', error);
  }
  killPoint('rename:0');
  for (const [i, file] of files.entries()) {
    if (file.inPlace) continue;
    try {
      await file.prepare();
      const previous = previousPathFor(file.path);
      const kept = await link(file.path, previous).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return false;
          throw error;
        },
      );
      done.push({ target: file.path, previous: kept ? previous : undefined });
      await rename(file.writingPath, file.path);
      killPoint(`rename:${done.length}`);
    } catch (error) {
      const last = done.at(-1);
      if (last?.target === file.path) {
        // The rename failed: this target is still the old file.
        if (last.previous) await unlink(last.previous).catch(() => undefined);
        done.pop();
      }
      const failed = await rollback();
      await Promise.all(files.slice(i).map((f) => f.discard()));
      const reason = error instanceof PylonCliError ? error.message : outputWriteError(file.path, error).message;
      const left = failed.length > 0 ? ` Could not put back: ${failed.join(', ')}.` : '';
      throw new PylonCliError('OUTPUT_WRITE', `${reason}.${left}`, { cause: error });
    }
  }
  for (const dir of new Set(done.map((d) => dirname(d.target)))) await syncDirectory(dir);
  return {
    rollback,
    async finish() {
      for (const { previous } of done) if (previous) await unlink(previous).catch(() => undefined);
      done.length = 0;
    },
  };
}
