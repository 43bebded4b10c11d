/**
 * `--lookup list` spools the whole contact list to a temporary file before the first write. A disk that
 * fills there (here `ulimit -f`, which makes write(2) fail with EFBIG as a full disk fails with ENOSPC) is
 * an OUTPUT_WRITE naming the temporary folder and what to do (free space, or TMPDIR on another disk):
 * never an unexpected error. Nothing is sent, and no temporary folder is left behind.
 * The built CLI in a child shell with the limit (bash -c 'ulimit -f …; exec node …').
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, FAST_RATE, envFor, startEmulator, tempDir, writes } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';

/** Runs the CLI under `ulimit -f <blocks>` (1 KiB blocks): every file it writes is capped at that size. */
function runCapped(blocks: number, args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-c', `ulimit -f ${blocks}; exec "$@"`, 'bash', process.execPath, BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const command of ['import', 'update'] as const) {
  test(`${command} --lookup list: the contact list does not fit in the temporary folder (EFBIG) → OUTPUT_WRITE naming it, nothing sent, no folder left`, async (t) => {
    const emulator = await startEmulator(t);
    seedContacts(emulator.store, 3000);
    const dir = tempDir(t);
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const input = join(dir, 'k.csv');
    const contacts = [...emulator.store.all()].slice(0, 5);
    writeFileSync(input, command === 'import' ? ['email,name', ...contacts.map((c) => `${c.email},Renamed`)].join('\n') + '\n' : ['email', ...contacts.map((c) => c.email)].join('\n') + '\n');
    const args = command === 'import' ? ['import', input] : ['update', input, '--set', 'name=Renamed'];
    const env = { ...envFor(emulator), TMPDIR: tmp, XDG_STATE_HOME: join(dir, 'state') };
    const result = await runCapped(200, [...args, '--lookup', 'list', '--json', '--rate', FAST_RATE], env);
    t.is(result.code, 1, result.stderr);
    t.notRegex(result.stderr, /unexpected error|This is a bug/);
    t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
    t.regex(result.stderr, /OUTPUT_WRITE/);
    t.regex(result.stderr, new RegExp(`${tmp}/pylon-contacts-lookup-`), 'the message names the temporary folder');
    t.regex(result.stderr, /TMPDIR/);
    t.regex(result.stderr, /EFBIG/, 'the real error is named');
    t.is(writes(emulator), 0, 'nothing was sent');
    t.deepEqual(readdirSync(tmp), [], 'no temporary folder is left');
  });
}

test('a journal write cut short by a file size limit names the real error (EFBIG), not a full disk', async (t) => {
  const emulator = await startEmulator(t);
  seedContacts(emulator.store, 400);
  const dir = tempDir(t);
  const input = join(dir, 'k.csv');
  writeFileSync(input, ['id,name', ...[...emulator.store.all()].map((c) => `${c.id},Renamed ${c.id}`)].join('\n') + '\n');
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  // The journal (a sent and an outcome entry per row) outgrows 48 KiB first.
  const result = await runCapped(48, ['import', input, '--lookup', 'search', '--no-undo', '--rate', FAST_RATE, '--concurrency', '1'], env);
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /fatal \(OUTPUT_WRITE\): Cannot write .*\.k\.journal\.jsonl: EFBIG/);
  t.notRegex(result.stderr, /ENOSPC|no space left/);
});
