import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendAuditRecord, auditRecord, checkAuditLog, defaultAuditLogPath, redactCommand } from '../../src/audit/audit-log.js';
import { createImportStats } from '../../src/import/stats.js';
import { envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

const TOKEN = 'tok-SECRET-audit-0042';

test('the command line loses --token values and the token wherever it appears', (t) => {
  t.is(redactCommand(['apply', 'p.json', '--token', TOKEN, '--yes'], TOKEN), 'apply p.json --token [REDACTED] --yes');
  t.is(redactCommand(['apply', `--token=${TOKEN}`], TOKEN), 'apply --token=[REDACTED]');
  t.is(redactCommand(['update', `--where=email~${TOKEN}`], TOKEN), 'update --where=email~[REDACTED]');
  t.is(redactCommand(['update', 'my file.csv'], undefined), "update 'my file.csv'");
});

test('default path: PYLON_AUDIT_LOG, then XDG_STATE_HOME, then ~/.local/state', (t) => {
  t.is(defaultAuditLogPath({ PYLON_AUDIT_LOG: '/a/b.jsonl', XDG_STATE_HOME: '/s' }), '/a/b.jsonl');
  t.is(defaultAuditLogPath({ XDG_STATE_HOME: '/s' }), '/s/pylon-contacts/audit.jsonl');
  t.is(defaultAuditLogPath({ HOME: '/home/u' }), '/home/u/.local/state/pylon-contacts/audit.jsonl');
});

test('records append one line each, without the token; an unwritable log is refused before the run', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'nested', 'audit.jsonl');
  // A folder missing from a path the user named is refused, not created; the default path's folder is created.
  t.throws(() => checkAuditLog(path), { code: 'OUTPUT_UNWRITABLE', message: /\(--audit-log\): its folder does not exist\. Nothing was sent to Pylon; create the folder/ });
  t.false(existsSync(join(dir, 'nested')));
  checkAuditLog(path, { createFolder: true });
  const stats = { ...createImportStats({ calls: {} as never, dryRun: false, errorsPath: join(dir, 'none.csv') }), total: 3, updated: 2, failed: 1 };
  const target = { host: 'api.usepylon.com', baseUrl: 'https://api.usepylon.com', organization: { id: 'o', name: 'Acme' }, actor: { id: 'u' } };
  for (let i = 0; i < 2; i++) {
    appendAuditRecord(path, auditRecord({ args: ['update', 'a.csv', '--token', TOKEN], token: TOKEN, target, stats, exitCode: 3, startedAt: new Date() }));
  }
  const text = readFileSync(path, 'utf8');
  t.false(text.includes(TOKEN));
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  t.is(lines.length, 2);
  t.like(lines[0], { v: 1, host: 'api.usepylon.com', organization: { id: 'o' }, actor: { id: 'u' }, outcome: 'partial', exitCode: 3, counts: { rows: 3, updated: 2, failed: 1 }, files: {} });
  if (process.getuid?.() !== 0) {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    t.throws(() => checkAuditLog(join(locked, 'audit.jsonl')), { code: 'OUTPUT_UNWRITABLE', message: /--audit-log/ });
    chmodSync(locked, 0o700);
  }
});

test('an audit log that is a device or a pipe is refused before the run (/dev/full takes the open and loses every record); /dev/null is no record, as asked', (t) => {
  t.throws(() => checkAuditLog('/dev/full'), { code: 'OUTPUT_UNWRITABLE', message: /^Cannot write the audit log \/dev\/full \(--audit-log\): it is not a regular file \(a device or a pipe keeps no record\)\. Nothing was sent to Pylon/ });
  const dir = mkdtempSync(join(tmpdir(), 'pylon-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'audit.fifo');
  execFileSync('mkfifo', [fifo]);
  t.throws(() => checkAuditLog(fifo, { option: 'PYLON_AUDIT_LOG' }), { code: 'OUTPUT_UNWRITABLE', message: /\(PYLON_AUDIT_LOG\): it is not a regular file/ });
  t.notThrows(() => checkAuditLog('/dev/null'));
  const stats = createImportStats({ calls: {} as never, dryRun: false, errorsPath: join(dir, 'none.csv') });
  const target = { host: 'h', baseUrl: 'https://h', organization: { id: 'o', name: 'Acme' }, actor: { id: 'u' } };
  t.notThrows(() => appendAuditRecord('/dev/null', auditRecord({ args: ['import', 'a.csv'], token: TOKEN, target, stats, exitCode: 0, startedAt: new Date() })));
});

test('import --audit-log /dev/full: exit 2 before any write, not a warning after the run', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.csv'), 'email,name\nada@example.com,Ada\n');
  const run = await runCli(['import', 'a.csv', '--audit-log', '/dev/full'], { env: envFor(emulator), cwd: dir });
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /Cannot write the audit log \/dev\/full \(--audit-log\): it is not a regular file/);
  t.is(emulator.store.size, 0, 'nothing was written to Pylon');
});
