/**
 * Writes hubspot-contacts.xlsx from hubspot-contacts.csv the way HubSpot's XLSX
 * export holds it: Record ID and Associated Company IDs as numbers, phone numbers
 * and everything else as text. Run: npx tsx samples/migrations/make-hubspot-xlsx.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import * as XLSX from '@e965/xlsx';

const here = dirname(fileURLToPath(import.meta.url));
const rows = parse(readFileSync(join(here, 'hubspot-contacts.csv')), { bom: true }) as string[][];
const numeric = new Set(['Record ID', 'Associated Company IDs']);
const header = rows[0]!;
const data = rows.map((row, r) => row.map((cell, c) => (r > 0 && numeric.has(header[c]!) && /^\d+$/.test(cell) ? Number(cell) : cell)));
const wb = XLSX.utils.book_new();
XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(data), 'Contacts');
writeFileSync(join(here, 'hubspot-contacts.xlsx'), XLSX.write(wb, { type: 'buffer', bookType: 'xlsx', compression: true }) as Buffer);
