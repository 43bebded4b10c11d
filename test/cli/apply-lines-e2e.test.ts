/**
 * What `apply` reports of a plan: each contact's `_line` is the line of the input
 * file the plan was made from (as `update --results` gives it), not its place in
 * the plan; and with `--only <report>` the plan header counts the contacts this
 * run applies, not the whole plan. The built CLI in child processes.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

test("apply --results and its error report give each contact the input file's line, as update --results does; --only's header counts what it applies", async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 12);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const input = join(dir, 'in.csv');
  const emails = [...emulator.store.all()].map((c) => c.email!);
  writeFileSync(input, ['email', ...emails].join('\n') + '\n');
  // The contacts already admin are unchanged, not in the plan: the plan's places and the file's lines differ.
  const lineOf = new Map(emails.map((e, i) => [e, String(i + 2)]));
  const plan = join(dir, 'p.json');
  const planned = await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', plan, ...FAST], { env });
  t.is(planned.code, 0, planned.stderr);
  const changing = [...emulator.store.all()].filter((c) => c.portal_role !== 'admin');
  t.true(changing.length < emails.length && changing.length >= 4, `${changing.length} of ${emails.length} change`);
  // Two contacts are edited meanwhile: apply leaves them (ROW_DRIFTED).
  const drifted = changing.slice(-2);
  for (const c of drifted) emulator.store.update(c.id, { portal_role: c.portal_role === 'member' ? 'no_access' : 'member' });

  const results = join(dir, 'res.csv');
  const applied = await runCli(['apply', plan, '--yes', '--results', results, ...FAST], { env });
  t.is(applied.code, 3, applied.stderr);
  const rows = readCsv(results);
  t.is(rows.length, changing.length);
  for (const r of rows) t.is(r._line, lineOf.get(r.email!) ?? '', `${r.email}: _line is its line in ${input}`);
  const report = readCsv(join(dir, 'p.errors.csv'));
  t.deepEqual(report.map((r) => [r.email, r._line]), drifted.map((c) => [c.email, lineOf.get(c.email!)]));

  const only = await runCli(['apply', plan, '--yes', '--force', '--only', join(dir, 'p.errors.csv'), '--undo', join(dir, 'forced.undo.csv'), ...FAST], { env });
  t.is(only.code, 0, only.stderr);
  t.true(only.stderr.includes(`\n  2 contacts change (--only: of the plan's ${changing.length})\n`), only.stderr);
});
