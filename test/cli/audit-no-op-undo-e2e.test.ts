/**
 * The audit record of a run that changed nothing names no undo file: the file at its undo path
 * is an earlier run's, and the run's summary says it wrote none.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditRecord } from '../../src/audit/audit-log.js';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE];

test('a no-op update (and a no-op undo) records no undo file in the audit log, though an earlier run left one at that path', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 20);
  const dir = tempDir(t, 'pylon-audit-noop-');
  const auditLog = join(dir, 'audit.jsonl');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: auditLog };
  const input = join(dir, 'admins.csv');
  writeFileSync(input, ['email', ...[...emulator.store.all()].slice(0, 5).map((c) => c.email)].join('\n') + '\n');
  const records = () => readFileSync(auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);

  const first = await runCli(['update', input, '--set', 'custom.tier=gold', '--yes', ...FAST], { env });
  t.is(first.code, 0, first.stderr);
  const undo = join(dir, 'admins.undo.csv');
  t.is(records()[0].files.undo, undo);

  const again = await runCli(['update', input, '--set', 'custom.tier=gold', '--yes', ...FAST], { env });
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /undo file: none written, since no contact was changed/);
  t.like(records()[1], { counts: { updated: 0, unchanged: 5 } });
  t.false('undo' in records()[1].files, 'the undo file at that path is the first run’s');

  // The undo file applied twice: the second run changes nothing and names no undo file either.
  const back = await runCli(['update', undo, '--yes', ...FAST], { env });
  t.is(back.code, 0, back.stderr);
  t.is(records()[2].files.undo, join(dir, 'admins.undo.undo.csv'));
  const backAgain = await runCli(['update', undo, '--yes', ...FAST], { env });
  t.is(backAgain.code, 0, backAgain.stderr);
  t.regex(backAgain.stderr, /undo file: none written, since no contact was changed/);
  t.false('undo' in records()[3].files);
});
