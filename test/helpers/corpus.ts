/**
 * Helpers of the migration corpus tests (issue 18): one import of an export file
 * through the built CLI with its results and error report read back, and the
 * stored contacts in the terms a test compares.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { parse } from 'csv-parse/sync';
import type { Emulator } from '../../src/emulator/index.js';
import type { Contact } from '../../src/pylon/types.js';
import { FAST_RATE, envFor, runCli, tempDir } from './cli.js';

export type Row = Record<string, string>;

export function readCsv(path: string): Row[] {
  try {
    return parse(readFileSync(path), { columns: true, bom: true }) as Row[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export interface Run {
  code: number | null;
  stats: { total: number; created: number; updated: number; unchanged: number; skipped: number; failed: number };
  results: Row[];
  errors: Row[];
  /** The error report's path (in the run's own temporary directory). */
  errorsPath: string;
  stderr: string;
}

/** One import through the built CLI, with its results and error report (exit 0 or 3 expected); `from` is a preset name, or the arguments that choose the map (`['--map', path]`). */
export async function importFile(t: ExecutionContext, emulator: Emulator, input: string, from: string | string[], extra: string[] = []): Promise<Run> {
  const dir = tempDir(t);
  const results = join(dir, 'results.csv');
  const errors = join(dir, 'errors.csv');
  // The journal and any default file go to the test's own directory: tests of one file run at once.
  const journal = join(dir, 'journal.jsonl');
  const res = await runCli(['import', input, ...(typeof from === 'string' ? ['--from', from] : from), '--rate', FAST_RATE, '--results', results, '--errors', errors, '--journal', journal, '--json', ...extra], { env: envFor(emulator), cwd: dir });
  t.true(res.code === 0 || res.code === 3, `exit ${res.code}: ${res.stderr}`);
  const stats = JSON.parse(res.stdout) as Run['stats'];
  return { code: res.code, stats, results: readCsv(results), errors: readCsv(errors), errorsPath: errors, stderr: res.stderr };
}

export const counts = (s: Run['stats']) => ({ total: s.total, created: s.created, updated: s.updated, unchanged: s.unchanged, skipped: s.skipped, failed: s.failed });

/** The fields compared on each stored contact (account by name). */
export interface StoredFields {
  name: string;
  email: string;
  emails?: string[];
  phones: string[];
  externalIds: Array<[label: string, id: string]>;
  account?: string;
}

export function accountName(emulator: Emulator, contact: Contact): string | undefined {
  const id = contact.account?.id;
  return id === undefined ? undefined : emulator.store.org.findAccount(id)?.name;
}

/** The stored contact in the terms of the expectations. */
export function storedFields(emulator: Emulator, contact: Contact): StoredFields {
  const fields: StoredFields = {
    name: contact.name ?? '',
    email: contact.email ?? '',
    phones: [...(contact.phone_numbers ?? [])],
    externalIds: (contact.external_ids ?? []).map((e) => [e.label ?? '', e.external_id]),
  };
  if ((contact.emails ?? []).length > 1) fields.emails = [...contact.emails!];
  const account = accountName(emulator, contact);
  if (account !== undefined) fields.account = account;
  return fields;
}

/** Every contact as Pylon serves it (its JSON), by id. */
export function snapshot(emulator: Emulator): Map<string, string> {
  return new Map([...emulator.store.all()].map((c) => [c.id, JSON.stringify(c)]));
}
