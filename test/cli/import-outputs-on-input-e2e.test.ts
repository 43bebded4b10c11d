/**
 * An import's error report, results file and journal are files the
 * run writes or replaces: none may be the input it reads. Black-box testing
 * found `import in.csv --errors in.csv` replacing the input with its error
 * report (the rows that imported were gone from the file), `--results in.csv`
 * likewise, and `--journal in.csv` refused with advice to delete the input.
 * Each is refused before any call, exit 2, the input byte for byte as it was.
 */
import { linkSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, FAST_RATE, runCli, startEmulator, tempDir } from '../helpers/cli.js';

const CSV = 'name,email\nAda One,ada@outputs.example\nBad Row,not-an-email\n';

for (const option of ['--errors', '--results', '--journal'] as const) {
  test(`import in.csv ${option} in.csv (and a hard link to it) is refused before any call; the input is untouched`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const input = join(dir, 'in.csv');
    writeFileSync(input, CSV);
    const link = join(dir, 'same.csv');
    linkSync(input, link);
    for (const path of [input, link]) {
      const result = await runCli(['import', input, '--rate', FAST_RATE, option, path], { env: envFor(emulator), cwd: dir });
      t.is(result.code, 2, result.stderr);
      t.regex(result.stderr, new RegExp(`Invalid option \`${option}\`: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is the input file this run reads`));
      t.is(readFileSync(input, 'utf8'), CSV, 'the input is as it was');
      t.is(Object.values(emulator.stats().requests).reduce((a, b) => a + b, 0), 0, 'nothing was sent');
    }
  });
}
