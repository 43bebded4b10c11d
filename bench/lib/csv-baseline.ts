/** The local limit beside an export: csv-stringify writing every contact, already flattened in memory, to a file. */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { availableColumns, toCells } from '../../src/export/columns.js';
import type { Contact, CustomFieldDefinition } from '../../src/pylon/types.js';
import type { EmulatorProcess } from './processes.js';

async function getJson<T>(emulator: EmulatorProcess, path: string): Promise<T> {
  const res = await fetch(`${emulator.url}${path}`, { headers: { authorization: `Bearer ${emulator.token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** Every contact flattened to cells, held in memory (the baseline's input). */
export async function loadCells(emulator: EmulatorProcess): Promise<{ header: string[]; rows: string[][] }> {
  const { data: fields } = await getJson<{ data: CustomFieldDefinition[] }>(emulator, '/custom-fields?object_type=contact');
  const columns = availableColumns(fields);
  const rows: string[][] = [];
  let cursor = '';
  for (;;) {
    const page = await getJson<{ data: Contact[]; pagination: { cursor?: string | null; has_next_page: boolean } }>(
      emulator,
      `/contacts?limit=999${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    for (const contact of page.data) rows.push(toCells(contact, columns));
    if (!page.pagination.has_next_page) break;
    cursor = page.pagination.cursor ?? '';
  }
  return { header: columns.map((c) => c.name), rows };
}

/** csv-stringify writing in-memory rows to a file: the best an export can do on this machine. Rows per second of wall time and of this process's CPU time. */
export async function csvStringifyMeasured(cells: { header: string[]; rows: string[][] }, path: string): Promise<{ rate: number; cpuRate: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await pipeline(Readable.from(cells.rows), stringify({ header: true, columns: cells.header }), createWriteStream(path));
  const used = process.cpuUsage(cpu);
  return { rate: cells.rows.length / ((performance.now() - started) / 1000), cpuRate: cells.rows.length / ((used.user + used.system) / 1e6) };
}

export async function csvStringifyRate(cells: { header: string[]; rows: string[][] }, path: string): Promise<number> {
  return (await csvStringifyMeasured(cells, path)).rate;
}

