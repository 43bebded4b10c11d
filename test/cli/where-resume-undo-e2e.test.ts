/**
 * `update --where` killed mid-run and resumed: the resume appends to the interrupted run's undo
 * file (named by that run's start time) instead of starting another, and rebuilds none of the rows
 * that file already holds. The run is held at a known point by a proxy, then killed (never by time).
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';
import { seedContacts } from '../update/seed.js';

test('update --where killed after 5 PATCHes, then --resume: one undo file, the interrupted run’s, one row per contact changed, only the missing rows rebuilt', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 30);
  const dir = tempDir(t, 'pylon-where-resume-');
  let patches = 0;
  // The first 5 PATCHes go through; the 6th is held, and the run killed while it waits.
  const proxy = await stallProxy(t, emulator, (method) => method === 'PATCH' && ++patches > 5);
  const env = { ...envFor(proxy), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const args = ['update', '--where', 'email~person', '--set', 'custom.notes=resumed', '--yes', '--rate', FAST_RATE, '--concurrency', '1', '--timeout', '3000'];
  const first = spawnCli(args, { env, cwd: dir });
  await Promise.race([proxy.reached, first.result]);
  first.child.kill('SIGKILL');
  t.is((await first.result).signal, 'SIGKILL');
  proxy.release({ drop: true });
  t.is(emulator.stats().requests.patch, 5);

  // The undo rows the killed run had written (the rest of its 5 are in its journal only).
  const partials = readdirSync(dir).filter((f) => f.includes('.undo.csv.') && f.endsWith('.partial'));
  t.is(partials.length, 1);
  const written = (parse(readFileSync(join(dir, partials[0]), 'utf8'), { columns: true, bom: true }) as unknown[]).length;

  const resumed = await runCli([...args, '--resume'], { env, cwd: dir });
  t.is(resumed.code, 0, resumed.stderr);
  // Only the rows the file lacks are rebuilt.
  if (written === 5) t.notRegex(resumed.stderr, /rebuilt/);
  else t.regex(resumed.stderr, new RegExp(`resuming: ${5 - written} undo rows the interrupted run had not written were rebuilt`));
  const undoFiles = readdirSync(dir).filter((f) => f.endsWith('.undo.csv'));
  t.is(undoFiles.length, 1, `one undo file: ${undoFiles.join(', ')}`);
  t.deepEqual(readdirSync(dir).filter((f) => f.includes('.partial')), [], 'no partial left behind');
  t.regex(resumed.stderr, new RegExp(`undo file: .*${undoFiles[0].replace(/\./g, '\\.')}`));
  const rows = parse(readFileSync(join(dir, undoFiles[0]), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
  const changed = [...emulator.store.all()].filter((c) => c.email?.includes('person'));
  t.is(rows.length, changed.length, 'one undo row per contact changed');
  t.is(new Set(rows.map((r) => r.id)).size, rows.length, 'no contact twice');
  t.true(changed.every((c) => (c.custom_fields as Record<string, { value?: string }>).notes?.value === 'resumed'));
});
