/**
 * Keeping the undo rows of an interrupted update across `--resume`. The import
 * engine starts a fresh undo file on every run, so before a resumed run the rows
 * of the earlier run(s) are set aside (`<undo>.earlier`), and after it they are
 * merged in front of the new ones: one file still restores every contact.
 */
import { createReadStream, existsSync, openSync, readSync, closeSync, renameSync, rmSync, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { createDuplicateTracker } from '../import/dedupe.js';
import { openCsvFile } from '../output/csv-file.js';
import { deadPartials } from '../output/output-file.js';
import { idKey } from '../import/lookup-key.js';

/** Where the rows of the earlier run(s) wait while a resumed run writes its own. */
export const earlierUndoPath = (path: string) => `${path}.earlier`;

/**
 * Gathers the undo rows written before this run: a set-aside file, a committed
 * undo file, and the `.partial` of a run that was killed (cut at its last complete
 * line). Returns the set-aside path, or undefined when there are none.
 */
export async function setAsideEarlierUndo(path: string): Promise<string | undefined> {
  const aside = earlierUndoPath(path);
  const sources = [aside, path, ...deadPartials(path)].filter((p) => existsSync(p));
  if (sources.length === 0) return undefined;
  if (sources.length === 1 && sources[0] === aside) return aside;
  // One committed file is moved, not copied: a later phase of the run may meet a nearly full disk.
  if (sources.length === 1 && sources[0] === path) {
    renameSync(path, aside);
    return aside;
  }
  await mergeCsvFiles(sources, `${aside}.tmp`);
  for (const source of sources) rmSync(source, { force: true });
  renameSync(`${aside}.tmp`, aside);
  return aside;
}

/**
 * Puts the set-aside rows in front of this run's undo rows (if it wrote any) in `path`. Set-aside
 * rows that are only a header (a run killed before its first change left its file started) and no
 * rows of this run leave no undo file, as a run that changed nothing leaves none.
 */
export async function mergeEarlierUndo(aside: string, path: string): Promise<void> {
  if (!existsSync(path)) {
    if (await hasRows(aside)) renameSync(aside, path);
    else rmSync(aside, { force: true });
    return;
  }
  await mergeCsvFiles([aside, path], `${path}.merging`);
  renameSync(`${path}.merging`, path);
  rmSync(aside, { force: true });
}

/**
 * Concatenates CSV files by header name; the columns are the union, in order of
 * first appearance. A contact's first row wins: a resumed run can write again the
 * row of a PATCH whose outcome the killed run had not recorded.
 */
async function mergeCsvFiles(sources: string[], target: string): Promise<void> {
  const headers: string[][] = [];
  for (const source of sources) headers.push(await readHeader(source));
  const columns = [...new Set(headers.flat())];
  const out = await openCsvFile<string[]>(target, columns, (cells) => cells);
  const idColumn = columns.indexOf('id');
  const seen = createDuplicateTracker();
  let n = 0;
  try {
    for (const [i, source] of sources.entries()) {
      const index = headers[i].map((name) => columns.indexOf(name));
      for await (const record of readRecords(source)) {
        const cells = columns.map(() => '');
        (record as string[]).forEach((cell, j) => {
          if (index[j] !== undefined) cells[index[j]] = cell;
        });
        n++;
        if (idColumn >= 0 && cells[idColumn] && !seen.decide(n, idKey(cells[idColumn])).keep) continue;
        await out.write(cells);
      }
    }
    await out.commit();
  } catch (error) {
    await out.discard();
    throw error;
  }
}

function readRecords(source: string): AsyncIterable<unknown> | Iterable<unknown> {
  const end = source.endsWith('.partial') ? lastCompleteLineEnd(source) : undefined;
  if (end === 0) return [];
  const stream = end === undefined ? createReadStream(source) : createReadStream(source, { end: end - 1 });
  // A row cut short or malformed is dropped rather than applied half-written.
  return stream.pipe(parse({ from_line: 2, skip_records_with_error: true, skip_empty_lines: true }));
}

async function hasRows(source: string): Promise<boolean> {
  for await (const _record of readRecords(source)) return true;
  return false;
}

async function readHeader(source: string): Promise<string[]> {
  for await (const record of createReadStream(source).pipe(parse({ to_line: 1 }))) return record as string[];
  return [];
}

/** Byte length up to and including the last newline (a killed run's file may end mid-row). */
function lastCompleteLineEnd(source: string): number {
  const size = statSync(source).size;
  const fd = openSync(source, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (let pos = size; pos > 0; ) {
      const start = Math.max(0, pos - buffer.length);
      const read = readSync(fd, buffer, 0, pos - start, start);
      const at = buffer.subarray(0, read).lastIndexOf(10);
      if (at >= 0) return start + at + 1;
      pos = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}
