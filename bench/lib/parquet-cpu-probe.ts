/**
 * The Parquet export's own CPU without HTTP, in one process, for side-by-side
 * runs of two source trees (issue 19, bench/RESULTS.md `bench:warehouse-parquet-speed`):
 *
 *   node --import=tsx bench/lib/parquet-cpu-probe.ts fetch <pages.json> <count>   (emulator in PYLON_BASE_URL / PYLON_API_TOKEN)
 *   node --import=tsx bench/lib/parquet-cpu-probe.ts run <src root> <pages.json> csv|typed|parquet
 *
 * `run` parses the saved API pages one at a time (as the client does), makes
 * each page's records as the export does (`csv`: cells and hash; `typed`: the
 * typed rows too; `parquet`: and encodes them with a scratch file), twice
 * over, and prints the process's CPU (user + system, every thread: the
 * collector's included). Add --trace-gc to count scavenges.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const [command, ...args] = process.argv.slice(2);

if (command === 'fetch') {
  const [file, count] = args as [string, string];
  const url = process.env.PYLON_BASE_URL!;
  const headers = { authorization: `Bearer ${process.env.PYLON_API_TOKEN}` };
  const definitions = ((await (await fetch(`${url}/custom-fields?object_type=contact`, { headers })).json()) as { data: unknown[] }).data;
  const pages: string[] = [];
  let cursor: string | undefined;
  for (let read = 0; read < Number(count); ) {
    const text = await (await fetch(`${url}/contacts?limit=999${cursor ? `&cursor=${cursor}` : ''}`, { headers })).text();
    const page = JSON.parse(text) as { data: unknown[]; pagination?: { cursor?: string; has_next_page?: boolean } };
    pages.push(text);
    read += page.data.length;
    cursor = page.pagination?.cursor;
    if (!page.pagination?.has_next_page) break;
  }
  writeFileSync(file, JSON.stringify({ definitions, pages }));
  process.stdout.write(`${pages.length} pages\n`);
} else if (command === 'run') {
  const [root, file, mode] = args as [string, string, 'csv' | 'typed' | 'parquet'];
  const src = (path: string) => import(join(resolve(root), 'src', 'export', path));
  const { availableColumns } = await src('columns.ts');
  const { typedColumns } = await src('schema.ts');
  const { recordMaker } = await src('record.ts');
  const { rowHasher, ROW_HASH } = await src('row-hash.ts');
  const { createParquetEncoder } = await src('parquet.ts');
  const { definitions, pages } = JSON.parse(readFileSync(file, 'utf8')) as { definitions: unknown[]; pages: string[] };
  const columns = availableColumns(definitions);
  const typed = typedColumns(columns);
  const cpu = () => {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  };
  const started = cpu();
  const digest = createHash('sha256');
  for (let round = 0; round < 2; round += 1) {
    const make = recordMaker(columns, typed, rowHasher(ROW_HASH, '0123456789abcdef'), { typed: mode !== 'csv', line: false, json: false, hash: true });
    const encoder = mode === 'parquet' ? createParquetEncoder(typed, { spill: join(tmpdir(), `parquet-cpu-probe-${process.pid}`) }) : undefined;
    for (const text of pages) {
      const records = (JSON.parse(text) as { data: unknown[] }).data.map(make) as Array<{ cells: string[]; typed: unknown[] }>;
      if (encoder) for (const piece of encoder.pageParts(records.map((r) => r.typed))) digest.update(piece);
      else for (const record of records) digest.update(record.cells.join(','));
    }
    if (encoder) {
      for (const piece of encoder.endParts()) digest.update(piece);
      encoder.close();
    }
  }
  process.stdout.write(`${mode} cpu ${(cpu() - started).toFixed(0)} ms output ${digest.digest('hex').slice(0, 12)}\n`);
} else {
  process.stderr.write('usage: parquet-cpu-probe.ts fetch <pages.json> <count> | run <src root> <pages.json> csv|typed|parquet\n');
  process.exitCode = 2;
}
