/**
 * A disk that fills while the error report is written (not the journal), end to end: the built CLI
 * against the emulator, the report on a real, nearly full tmpfs.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir, type CliResult } from '../helpers/cli.js';
import type { Emulator } from '../../src/emulator/index.js';
import { canMountTmpfs, mountTmpfs, tmpfsSkipNote } from '../helpers/tmpfs.js';

const tmpfsTest = canMountTmpfs ? test : test.skip;
const skipped = tmpfsSkipNote;

/** A 64 KiB tmpfs with only `free` bytes left. */
function nearlyFullDisk(t: ExecutionContext, free: number): string {
  const disk = mountTmpfs(t, '64k', free);
  if (!disk) throw new Error('the tmpfs mounted in the probe but not for the test');
  return disk;
}

/** 150 rows: 50 updates of existing contacts, 50 creates, 50 invalid emails (each with a long name, so the error report is large). */
function mixedFile(t: ExecutionContext, emulator: Emulator): string {
  const lines = ['name,email'];
  for (let i = 0; i < 150; i++) {
    if (i % 3 === 0) {
      emulator.store.insert({ name: `Old ${i}`, email: `p${i}@ex.example` } as never);
      lines.push(`Renamed ${i} ${'x'.repeat(100)},p${i}@ex.example`);
    } else if (i % 3 === 1) lines.push(`Mix ${i} ${'y'.repeat(100)},m${i}@mix.example`);
    else lines.push(`Bad ${i} ${'z'.repeat(100)},bad${i}@@nowhere`);
  }
  const path = join(tempDir(t), 'mixed.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

const importArgs = (file: string, ...args: string[]) => ['import', file, '--json', '--rate', FAST_RATE, '--concurrency', '2', ...args];

/** Every path the summary names as an output exists. */
function namedOutputsExist(t: ExecutionContext, result: CliResult): void {
  for (const m of result.stderr.matchAll(/^ {2}(?:error report|results): (?!not written)(\S+)/gm)) t.true(existsSync(m[1]!), `the summary names ${m[1]}, which does not exist:\n${result.stderr}`);
}

tmpfsTest(`an error report on a disk that fills: the summary, the --resume hint and which outputs are incomplete; --resume finishes${skipped}`, async (t) => {
  const emulator = await startEmulator(t);
  const file = mixedFile(t, emulator);
  const disk = nearlyFullDisk(t, 4096);
  const results = join(file, '..', 'res.csv');
  const first = await runCli(importArgs(file, '--errors', join(disk, 'e.csv'), '--results', results), { env: envFor(emulator) });
  t.is(first.code, 1, first.stderr);
  t.regex(first.stderr, /Cannot write .*e\.csv.*(no space|ENOSPC)/i);
  t.regex(first.stderr, /Import of .*: stopped/);
  // The error report holds its rows back to write them in line order (up to 10,000 of them), so the full disk is met when
  // they are written: at the end of this run, every row processed. Nothing is lost: --resume writes the report from the journal.
  t.regex(first.stderr, /error report: not written \(the run stopped before it could write .*e\.csv\); run the same command with --resume/);
  t.notRegex(first.stderr, /bug in pylon-contacts|\n\s+at /);
  namedOutputsExist(t, first);
  const stats = statsOf(first);
  t.is(stats.created + stats.updated + stats.unchanged + stats.failed + stats.skipped + stats.notProcessed, 150);
  // Room again: the same command with the report where there is space, and --resume.
  const resumed = await runCli(importArgs(file, '--errors', join(file, '..', 'e.csv'), '--results', results, '--resume'), { env: envFor(emulator) });
  t.is(resumed.code, 3, resumed.stderr);
  // The counts are an uninterrupted run's: a PATCH that landed before the stop is an update, whichever run confirms it.
  t.like(statsOf(resumed), { total: 150, created: 50, updated: 50, unchanged: 0, failed: 50, notProcessed: 0 });
  const doneBefore = stats.created + stats.updated + stats.unchanged + stats.failed + stats.skipped;
  t.regex(resumed.stderr, new RegExp(`of these, ${doneBefore} rows were done by the earlier run`));
  t.is(readFileSync(results, 'utf8').trim().split('\n').length, 151);
  t.is(readFileSync(join(file, '..', 'e.csv'), 'utf8').trim().split('\n').length, 51);
  t.is(emulator.store.size, 100);
});

tmpfsTest(`a journal on a disk that fills, with rows failing: the summary names no report that is not there${skipped}`, async (t) => {
  const emulator = await startEmulator(t);
  const file = mixedFile(t, emulator);
  const disk = nearlyFullDisk(t, 16384);
  const first = await runCli(importArgs(file, '--journal', join(disk, 'j.jsonl'), '--results', join(file, '..', 'res.csv')), { env: envFor(emulator) });
  t.is(first.code, 1, first.stderr);
  t.regex(first.stderr, /Cannot write .*j\.jsonl/);
  t.regex(first.stderr, /not processed: \d+ rows — run the same command with --resume to finish/);
  t.regex(first.stderr, /results: .*res\.csv \(incomplete: the \d+ rows not processed are not in it; run the same command with --resume/);
  namedOutputsExist(t, first);
  const stats = statsOf(first);
  t.is(stats.created + stats.updated + stats.unchanged + stats.failed + stats.skipped + stats.notProcessed, 150);
});

tmpfsTest(`a journal entry cut short by a full disk stops the run before its PATCH is sent: --resume counts every change as updated${skipped}`, async (t) => {
  const emulator = await startEmulator(t);
  // Long names: each journaled PATCH (its changes, with the previous values) is about 4 KB, so the disk's last
  // page cannot hold a whole one, and the write of that entry is cut short rather than refused.
  const rows = 8;
  for (let i = 0; i < rows; i++) emulator.store.insert({ name: `Old ${i} ${'o'.repeat(1800)}`, email: `u${i}@ex.example` } as never);
  const lines = ['name,email', ...Array.from({ length: rows }, (_, i) => `New ${i} ${'n'.repeat(1800)},u${i}@ex.example`)];
  const file = join(tempDir(t), 'long.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  const disk = nearlyFullDisk(t, 16384);
  const journal = join(disk, 'j.jsonl');
  const first = await runCli(importArgs(file, '--journal', journal, '--concurrency', '1'), { env: envFor(emulator) });
  t.is(first.code, 1, first.stderr);
  t.regex(first.stderr, /Cannot write .*j\.jsonl/);
  const stats = statsOf(first);
  t.true(stats.notProcessed > 0);
  const roomy = join(file, '..', 'j.jsonl');
  writeFileSync(roomy, readFileSync(journal));
  const resumed = await runCli(importArgs(file, '--journal', roomy, '--resume'), { env: envFor(emulator) });
  t.is(resumed.code, 0, resumed.stderr);
  // Every PATCH sent was journaled whole: the resumed run tells a change the stopped run sent from a contact that already held the values.
  t.like(statsOf(resumed), { total: rows, updated: rows, unchanged: 0, notProcessed: 0 });
});

test('a dry run whose results cannot be written says so, and its call count is the one of every row it planned', async (t) => {
  const emulator = await startEmulator(t);
  const file = join(tempDir(t), 'new50.csv');
  writeFileSync(file, ['name,email', ...Array.from({ length: 50 }, (_, i) => `New ${i},n${i}@new.example`)].join('\n') + '\n');
  const result = await runCli(importArgs(file, '--dry-run', '--results', '/dev/full'), { env: envFor(emulator) });
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /Cannot write \/dev\/full/);
  t.regex(result.stderr, /results: not written/);
  t.notRegex(result.stderr, /journal|stdin/);
  // The results hold rows back to write them in line order (a window of 10,000): the write fails once every row is
  // planned, and the real run's count is the one of all 50 rows (a count from a part of them would say fewer).
  t.regex(result.stderr, /the real run: .*create 50/);
  t.is(emulator.store.size, 0);
});

for (const command of ['import', 'update', 'apply'] as const) {
  tmpfsTest(`${command} whose journal cannot be written (its folder on a full disk): exit 2, a message naming the journal and what to do, nothing sent, nothing left there${skipped}`, async (t) => {
    const emulator = await startEmulator(t);
    for (let i = 0; i < 5; i++) emulator.store.insert({ name: `Person ${i}`, email: `p${i}@full.example`, portal_role: 'member' } as never);
    const dir = tempDir(t);
    const input = join(dir, 'in.csv');
    writeFileSync(input, ['name,email', ...Array.from({ length: 5 }, (_, i) => `Renamed ${i},p${i}@full.example`)].join('\n') + '\n');
    const env = envFor(emulator);
    const fast = ['--rate', FAST_RATE];
    let args: string[];
    if (command === 'apply') {
      const plan = join(dir, 'plan.json');
      t.is((await runCli(['update', input, '--set', 'portal_role=admin', '--plan-out', plan, ...fast], { env })).code, 0);
      args = ['apply', plan, '--yes'];
    } else args = command === 'import' ? ['import', input] : ['update', input, '--set', 'portal_role=admin'];
    // One page free: the output probe fits (and goes), then the journal's lock takes it, and the journal's start entry finds none.
    const disk = mountTmpfs(t, '8k', 4096)!;
    const journal = join(disk, 'j.jsonl');
    const before = emulator.stats().requests;
    const result = await runCli([...args, '--journal', journal, ...fast], { env });
    t.is(result.code, 2, result.stderr);
    t.true(
      result.stderr.includes(`Cannot write ${journal} (--journal): the disk is full. Free space on that disk, or pass --journal <file> on another one. Nothing was sent to Pylon.`),
      result.stderr,
    );
    t.notRegex(result.stderr, /ENOSPC|\n\s+at /);
    const after = emulator.stats().requests;
    t.is(after.create + after.patch, before.create + before.patch, 'nothing written to Pylon');
    t.deepEqual(
      readdirSync(disk).filter((f) => f !== 'filler'),
      [],
      'no journal, lock or probe left on the disk',
    );
  });
}
