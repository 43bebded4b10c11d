/**
 * Issue 11, findings 4 and 5: a revoked token stops the run and leaves the row to
 * --resume; `--resume` after every PATCH landed still writes the undo file; an
 * existing undo file is never overwritten; `--where` runs keep a journal.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createPylonClient } from '../../src/pylon/client.js';
import { resolveImportOptions, type ImportOptionsInput } from '../../src/import/options.js';
import { runUpdate } from '../../src/update/run-update.js';
import { ENDPOINTS } from '../../src/config.js';
import type { Contact } from '../../src/pylon/types.js';
import { TOKEN, startEmulator, startFaultProxy, tempDir } from '../helpers/cli.js';
import { seedContacts } from './seed.js';

const FAST = Object.fromEntries(ENDPOINTS.map((e) => [e, 1_000_000]));
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>;

function update(url: string, input: Omit<ImportOptionsInput, 'baseUrl' | 'token'>, extra: { signal?: AbortSignal } = {}) {
  const client = createPylonClient({ baseUrl: url, token: TOKEN, rates: FAST, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  const options = resolveImportOptions({ baseUrl: url, token: TOKEN, rate: FAST, concurrency: 4, ...input });
  return runUpdate({ import: options }, { client, signal: extra.signal }).finally(() => client.close?.());
}

test('a PATCH that meets a 503 and then a 401 stops the run (PYLON_AUTH), is not a failed row, and --resume applies it', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 40);
  const dir = tempDir(t);
  const chosen = [...emulator.store.all()].filter((c) => c.portal_role !== 'no_access').slice(0, 12) as Contact[];
  const victim = chosen[5];
  let victimPatches = 0;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (method !== 'PATCH' || !path.endsWith(`/contacts/${victim.id}`)) return undefined;
    victimPatches++;
    // The first send meets a transient error; the retry finds the token revoked.
    return victimPatches === 1 ? 'status=503' : victimPatches === 2 ? 'status=401' : undefined;
  });
  const input = join(dir, 'revoked.csv');
  writeFileSync(input, ['email', ...chosen.map((c) => c.email)].join('\n') + '\n');
  const common = { input, set: { portal_role: 'no_access' }, undo: join(dir, 'revoked.undo.csv'), errors: join(dir, 'revoked.errors.csv'), lookup: 'list' };

  const first = await update(proxy.url, common);
  t.is(first.stats?.fatal?.code, 'PYLON_AUTH');
  t.is(first.stats?.failed, 0, 'the row is not recorded as failed');
  t.true(first.stats!.notProcessed >= 1);
  t.true(existsSync(join(dir, '.revoked.journal.jsonl')), 'the journal is kept for --resume');

  const resumed = await update(emulator.url, { ...common, resume: true });
  t.is(resumed.stats?.fatal, undefined);
  t.is(resumed.stats?.failed, 0);
  t.is(resumed.stats?.updated, 12);
  t.is(emulator.store.get(victim.id)?.portal_role, 'no_access', 'the row is applied on resume');
  t.deepEqual(readCsv(join(dir, 'revoked.undo.csv')).map((r) => r.id).sort(), chosen.map((c) => c.id).sort());
});
