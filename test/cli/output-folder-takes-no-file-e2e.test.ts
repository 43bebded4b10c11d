/**
 * An output in a folder that exists but takes no new file, so creating one fails with ENOENT (/proc on Linux;
 * some FUSE mounts): the message said "its folder does not exist; create the folder (mkdir -p /proc)", sending the
 * user after a folder they have. It now says the folder exists and no file can be created in it. Exit 2, before
 * any call, as for every output that cannot be written; a folder that is really missing keeps its mkdir hint.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

const procTakesNoFile = process.platform === 'linux' && existsSync('/proc/self') && statSync('/proc').isDirectory();

(procTakesNoFile ? test : test.skip)('an output in a folder that exists but takes no file is not called a missing folder', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-no-file-folder-');
  writeFileSync(join(dir, 'contacts.csv'), 'name,email\nAda,ada.proc@example.com\n');
  const env = envFor(emulator);
  const cases: Array<[string[], RegExp]> = [
    [['export', '/proc/pylon-contacts-test.csv'], /^pylon-contacts: Cannot write \/proc\/pylon-contacts-test\.csv \(the output file\): its folder \/proc exists but no file can be created in it \(ENOENT\); pass a path on a disk you can write to\. Nothing was sent to Pylon\.\n/],
    [['import', 'contacts.csv', '--errors', '/proc/pylon-contacts-test.errors.csv'], /^pylon-contacts: Cannot write \/proc\/pylon-contacts-test\.errors\.csv \(--errors\): its folder \/proc exists but no file can be created in it/],
    [['export', 'nodir/x.csv'], /^pylon-contacts: Cannot write nodir\/x\.csv \(the output file\): its folder does not exist\. Nothing was sent to Pylon; create the folder \(mkdir -p nodir\)/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, { env, cwd: dir });
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message, args.join(' '));
    t.notRegex(run.stderr, /mkdir -p \/proc/);
    t.regex(run.stderr, /pylon-contacts: error OUTPUT_UNWRITABLE \(exit 2; see docs\/errors\.md\)\n$/);
  }
  t.is(writes(emulator), 0);
  t.is(emulator.stats().requests.list ?? 0, 0);
});
