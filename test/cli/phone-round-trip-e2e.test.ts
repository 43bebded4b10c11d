/**
 * Phone numbers in the form Pylon stores them (digits only, as the export writes them) through JSON and
 * NDJSON input, as through a CSV: kept, so an export imported again writes nothing and an edited number
 * is an update; a number that is dropped gets one warning, even when it is also the primary number.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir, writes } from '../helpers/cli.js';

const importArgs = (file: string, ...args: string[]) => ['import', file, '--json', '-q', '--rate', FAST_RATE, ...args];

test('digits as Pylon stores them are kept from NDJSON and JSON; the export imports again with no write, and an edited number is an update', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = envFor(emulator);
  writeFileSync(join(dir, 'p.ndjson'), '{"name":"P Json","email":"pjson@x.example","phone_numbers":"4155550142"}\n');
  writeFileSync(join(dir, 'q.json'), '[{"name":"Q Json","email":"qjson@x.example","phone_numbers":"4155550143","primary_phone_number":"4155550143"}]');
  for (const file of ['p.ndjson', 'q.json']) {
    const run = await runCli(importArgs(file), { env, cwd: dir });
    t.is(run.code, 0, run.stderr);
    t.notRegex(run.stderr, /phone number dropped/, file);
  }
  const phones = () => Object.fromEntries([...emulator.store.all()].map((c) => [c.email, c.phone_numbers ?? []]));
  t.deepEqual(phones(), { 'pjson@x.example': ['4155550142'], 'qjson@x.example': ['4155550143'] });

  const exported = await runCli(['export', 'c.ndjson', '-q'], { env, cwd: dir });
  t.is(exported.code, 0, exported.stderr);
  const before = writes(emulator);
  const again = await runCli(importArgs('c.ndjson'), { env, cwd: dir });
  t.is(again.code, 0, again.stderr);
  t.like(statsOf(again), { created: 0, updated: 0, unchanged: 2 });
  t.is(writes(emulator), before, 'the round trip writes nothing');
  t.deepEqual(phones(), { 'pjson@x.example': ['4155550142'], 'qjson@x.example': ['4155550143'] });

  writeFileSync(join(dir, 'c.ndjson'), readFileSync(join(dir, 'c.ndjson'), 'utf8').replaceAll('4155550142', '4155550199'));
  const plan = await runCli(importArgs('c.ndjson', '--dry-run'), { env, cwd: dir });
  t.is(plan.code, 0, plan.stderr);
  t.like(statsOf(plan), { updated: 1, unchanged: 1 });
  const edited = await runCli(importArgs('c.ndjson'), { env, cwd: dir });
  t.is(edited.code, 0, edited.stderr);
  t.like(statsOf(edited), { updated: 1, unchanged: 1 });
  t.deepEqual(phones()['pjson@x.example'], ['4155550199']);
});

test('a number that is dropped is warned about once, though it is also the primary number', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'd.ndjson'), '{"name":"D Json","email":"djson@x.example","phone_numbers":"(415) 555-01","primary_phone_number":"(415) 555-01"}\n');
  const run = await runCli(['import', 'd.ndjson', '--rate', FAST_RATE], { env: envFor(emulator), cwd: dir });
  t.is(run.code, 0, run.stderr);
  t.is(run.stderr.split('phone number dropped: Phone number "(415) 555-01"').length - 1 + run.stdout.split('phone number dropped: Phone number "(415) 555-01"').length - 1, 1, run.stdout + run.stderr);
  t.regex(run.stdout + run.stderr, /phone numbers dropped: 1 /);
});
