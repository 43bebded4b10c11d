/**
 * A migration's header, through the built CLI against the emulator: columns a
 * preset would read only once (a name repeated), a header row repeated mid-file,
 * a header that only looks like a preset's (another CRM's export), the columns a
 * preset leaves unread, and the accounts --create-accounts makes (only for rows
 * that are written; counted in the dry run's forecast).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

/** One run of the built CLI on `content` (exit code, stdout, stderr), its outputs in the test's own folder. */
async function run(t: Parameters<typeof startEmulator>[0], emulator: { url: string }, content: string, args: string[], name = 'in.csv') {
  const dir = tempDir(t);
  const input = join(dir, name);
  writeFileSync(input, content);
  return runCli(['import', input, ...args, '--rate', FAST_RATE, '--errors', join(dir, 'errors.csv'), '--results', join(dir, 'results.csv'), '--journal', join(dir, 'j.jsonl')], { env: envFor(emulator), cwd: dir });
}

test('a column a preset reads, repeated in the header: exit 2 naming both columns, as the plain import, before any write (Intercom and HubSpot)', async (t) => {
  const emulator = await startEmulator(t);
  const intercom = await run(t, emulator, 'Name,Email,Phone,User ID,Phone,Email\nDup Ic,,+1 415 555 0101,icdup1,+1 415 555 0102,dupic@example.org\n', ['--from', 'intercom']);
  t.is(intercom.code, 2, intercom.stderr);
  t.regex(intercom.stderr, /Columns "Email" \(column 2\) and "Email" \(column 6\) both map to email; remove one/);
  const hubspot = await run(t, emulator, 'Record ID,First Name,Last Name,Email,Phone Number,Phone Number\n1,Ann,Lee,ann@dup.example,+1 415 555 0101,+1 415 555 0102\n', ['--from', 'hubspot']);
  t.is(hubspot.code, 2, hubspot.stderr);
  t.regex(hubspot.stderr, /Columns "Phone Number" \(column 5\) and "Phone Number" \(column 6\) both map to phone_numbers; remove one/);
  // The plain import's own wording, for comparison: the same refusal.
  const plain = await run(t, emulator, 'name,email,phone_numbers,phone_numbers\nAnn,ann@dup.example,+1 415 555 0101,+1 415 555 0102\n', []);
  t.is(plain.code, 2, plain.stderr);
  t.regex(plain.stderr, /Columns "phone_numbers" \(column 3\) and "phone_numbers" \(column 4\) both map to phone_numbers; remove one/);
  for (const res of [intercom, hubspot]) t.notRegex(res.stderr, /\n\s+at /, 'no stack trace');
  t.is(writes(emulator), 0);
});
